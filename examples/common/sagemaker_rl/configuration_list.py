"""Written for rlops in the shape of the sagemaker_rl package SageMaker RL notebooks ship:
hyperparameters such as ``rl.agent_params.algorithm.discount`` set fields of Coach's objects, and a
``:Type`` suffix wraps the value in one of Coach's step types."""


class ConfigurationList:
    ALLOWED_TYPES = {}

    def __init__(self):
        self.hp_dict = {}

    def store(self, name, value):
        self.hp_dict[name] = value

    def apply_subset(self, config_object, prefix):
        for key, value in list(self.hp_dict.items()):
            if key.startswith(prefix):
                self._set(config_object, key[len(prefix):], value)
                del self.hp_dict[key]

    def _set(self, obj, key, value):
        head, _, rest = key.partition(".")
        if head.startswith("__"):
            raise ValueError("Attempting to set unsafe property name %s" % head)
        if rest:
            child = obj[head] if isinstance(obj, dict) else obj.__dict__[head]
            return self._set(child, rest, value)
        name, _, type_name = head.partition(":")
        value = self._autotype(value)
        if type_name:
            if type_name not in self.ALLOWED_TYPES:
                raise ValueError("Unrecognized object type %s" % type_name)
            value = self.ALLOWED_TYPES[type_name](value)
        if isinstance(obj, dict):
            obj[name] = value
        else:
            obj.__dict__[name] = value

    @staticmethod
    def _autotype(value):
        for cast in (int, float):
            try:
                return cast(value)
            except (TypeError, ValueError):
                pass
        return value
