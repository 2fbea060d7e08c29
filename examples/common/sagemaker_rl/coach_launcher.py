"""Written for rlops in the shape of sagemaker_rl/coach_launcher.py that SageMaker RL notebooks
ship beside their scripts: it imports Coach, hard-codes the container's paths and exports a model when
``save_model`` is 1 (TensorFlow or MXNet, chosen by COACH_BACKEND)."""
import argparse
import os
import sys

import rl_coach.core_types
from rl_coach import logger
from rl_coach.base_parameters import Frameworks
from rl_coach.coach import CoachLauncher
from rl_coach.logger import screen
from rl_coach.utils import short_dynamic_import

from .configuration_list import ConfigurationList

screen.set_use_colors(False)


class CoachConfigurationList(ConfigurationList):
    ALLOWED_TYPES = {
        "Frames": rl_coach.core_types.Frames,
        "EnvironmentSteps": rl_coach.core_types.EnvironmentSteps,
        "EnvironmentEpisodes": rl_coach.core_types.EnvironmentEpisodes,
        "TrainingSteps": rl_coach.core_types.TrainingSteps,
        "Time": rl_coach.core_types.Time,
    }


class SageMakerCoachPresetLauncher(CoachLauncher):
    def __init__(self):
        super().__init__()
        self.hyperparameters = None

    def get_config_args(self, parser):
        args, _ = parser.parse_known_args(args=[])
        sage_args, unknown = self.sagemaker_argparser().parse_known_args()
        args.experiment_name = logger.get_experiment_name(os.environ.get("sagemaker_job_name", "sagemaker-experiment"))
        args.experiment_path = "/opt/ml/output/intermediate"
        rl_coach.logger.experiment_path = "/opt/ml/output/intermediate"
        args.checkpoint_save_dir = "/opt/ml/output/data/checkpoint"
        args.checkpoint_save_secs = 10
        backend = os.getenv("COACH_BACKEND", "tensorflow")
        if sage_args.save_model == 1 and backend == "mxnet":
            args.export_onnx_graph = True
        args.no_summary = True
        args.num_workers = sage_args.num_workers
        args.framework = Frameworks[backend]
        args.preset = sage_args.RLCOACH_PRESET
        self.hyperparameters = CoachConfigurationList()
        if len(unknown) % 2 == 1:
            raise ValueError("Odd number of command-line arguments specified. Key without value.")
        for i in range(0, len(unknown), 2):
            name = unknown[i]
            if not name.startswith("--"):
                raise ValueError("Unknown command-line argument %s" % name)
            self.map_hyperparameter(name[2:], unknown[i + 1])
        return args

    def map_hyperparameter(self, name, value):
        if name.startswith("rl."):
            self.apply_hyperparameter(name, value)
        else:
            raise ValueError("Unknown hyperparameter %s" % name)

    def apply_hyperparameter(self, name, value):
        print("Applying RL hyperparameter %s=%s" % (name, value))
        self.hyperparameters.store(name, value)

    def default_preset_name(self):
        raise NotImplementedError("Sub-classes must name their default preset")

    def sagemaker_argparser(self):
        parser = argparse.ArgumentParser()
        parser.add_argument("-n", "--num_workers", default=1, type=int)
        parser.add_argument("-p", "--RLCOACH_PRESET", default=self.default_preset_name(), type=str)
        parser.add_argument("--save_model", default=0, type=int)
        return parser

    def path_of_main_launcher(self):
        return os.path.dirname(os.path.abspath(sys.modules["__main__"].__file__))

    def get_graph_manager_from_args(self, args):
        path = os.path.join(self.path_of_main_launcher(), args.preset) + ".py:graph_manager"
        graph_manager = short_dynamic_import(path, ignore_module_case=True)
        self.hyperparameters.apply_subset(graph_manager, "rl.")
        for network in graph_manager.agent_params.network_wrappers.values():
            network.framework = args.framework
        return graph_manager

    def _save_tf_model(self):
        import tensorflow  # noqa: F401  (only with COACH_BACKEND=tensorflow, as on SageMaker)

    def _save_onnx_model(self):
        import glob
        import shutil
        files = sorted(glob.glob("/opt/ml/output/data/checkpoint/*.onnx"))
        if files:
            shutil.move(files[-1], "/opt/ml/model/model.onnx")

    @classmethod
    def train_main(cls):
        trainer = cls()
        trainer.launch()
        sage_args, _ = trainer.sagemaker_argparser().parse_known_args()
        if sage_args.save_model == 1:
            backend = os.getenv("COACH_BACKEND", "tensorflow")
            if backend == "tensorflow":
                trainer._save_tf_model()
            if backend == "mxnet":
                trainer._save_onnx_model()
