"""A notebook's evaluate-coach.py, in SageMaker's style (written for rlops)."""
import argparse
import os

import rl_coach
from rl_coach.base_parameters import Frameworks
from rl_coach.core_types import EnvironmentSteps
from sagemaker_rl.coach_launcher import CoachConfigurationList, SageMakerCoachPresetLauncher


class MyLauncher(SageMakerCoachPresetLauncher):
    def default_preset_name(self):
        return "preset-cartpole-clippedppo"

    def start_single_threaded(self, task_parameters, graph_manager, args):
        graph_manager.agent_params.visualization.dump_csv = False
        graph_manager.create_graph(task_parameters)
        graph_manager.evaluate(EnvironmentSteps(args.evaluate_steps))
        graph_manager.close()

    def get_config_args(self, parser):
        args, _ = parser.parse_known_args(args=[])
        sage_args, _ = self.sagemaker_argparser().parse_known_args()
        args.preset = sage_args.RLCOACH_PRESET
        backend = os.getenv("COACH_BACKEND", "tensorflow")
        args.framework = Frameworks[backend]
        args.checkpoint_save_dir = None
        args.checkpoint_restore_dir = "/opt/ml/input/data/checkpoint"
        args.experiment_path = "/opt/ml/output/intermediate"
        rl_coach.logger.experiment_path = "/opt/ml/output/intermediate"
        args.evaluate = True
        args.evaluate_steps = sage_args.evaluate_steps
        args.no_summary = True
        self.hyperparameters = CoachConfigurationList()
        return args

    def sagemaker_argparser(self):
        parser = argparse.ArgumentParser()
        parser.add_argument("-p", "--RLCOACH_PRESET", default=self.default_preset_name(), type=str)
        parser.add_argument("--evaluate_steps", default=1000, type=int)
        return parser

    @classmethod
    def evaluate_main(cls):
        cls().launch()


if __name__ == "__main__":
    MyLauncher.evaluate_main()
