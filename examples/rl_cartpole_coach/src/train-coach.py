"""A notebook's train-coach.py, in SageMaker's style (written for rlops)."""
from sagemaker_rl.coach_launcher import SageMakerCoachPresetLauncher


class MyLauncher(SageMakerCoachPresetLauncher):
    def default_preset_name(self):
        return "preset-cartpole-clippedppo"

    def map_hyperparameter(self, name, value):
        if name == "discount":
            return self.apply_hyperparameter("rl.agent_params.algorithm.discount", value)
        if name == "improve_steps":
            return self.apply_hyperparameter("rl.improve_steps:TrainingSteps", value)
        super().map_hyperparameter(name, value)


if __name__ == "__main__":
    MyLauncher.train_main()
