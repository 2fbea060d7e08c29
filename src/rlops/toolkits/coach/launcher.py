"""Coach's ``CoachLauncher`` (``rl_coach.coach``), running presets on the SB3 toolkit.

SageMaker's ``sagemaker_rl.coach_launcher.SageMakerCoachPresetLauncher`` subclasses it and
overrides ``get_config_args`` (parsing job hyperparameters), ``get_graph_manager_from_args`` or
``start_single_threaded``; ``launch()`` calls them in Coach's order, with Coach's command-line
defaults, and maps the container paths the scripts hard-code (``/opt/ml/...``) to the job's folders.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from pathlib import Path

from rlops.exceptions import UsageError
from rlops.toolkits.coach.params import EnvironmentSteps, Frameworks, TaskParameters
from rlops.toolkits.coach.run import host_path


def short_dynamic_import(module_path_and_attribute: str, ignore_module_case: bool = False):
    """``path/to/preset.py:graph_manager`` or ``package.module:name``: the named object (Coach's ``rl_coach.utils``)."""
    location, _, attribute = module_path_and_attribute.partition(":")
    if location.endswith(".py"):
        path = Path(location)
        if not path.is_file() and ignore_module_case and path.parent.is_dir():
            path = next((p for p in path.parent.iterdir() if p.name.lower() == path.name.lower()), path)
        if not path.is_file():
            raise UsageError(f"No preset file {path} (the preset is a .py file beside the training script, named "
                             "without .py by RLCOACH_PRESET).")
        spec = importlib.util.spec_from_file_location(path.stem.replace("-", "_"), path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(location)
    if not hasattr(module, attribute):
        raise UsageError(f"{location} defines no {attribute!r} (a Coach preset sets graph_manager = "
                         "BasicRLGraphManager(...)).")
    return getattr(module, attribute)


def start_graph(graph_manager, task_parameters) -> None:
    graph_manager.create_graph(task_parameters)
    if task_parameters.evaluate_only is not None:
        graph_manager.evaluate(EnvironmentSteps(task_parameters.evaluate_only or sys.maxsize))
    else:
        graph_manager.improve()
    graph_manager.close()


class CoachLauncher:
    """``launch()``: parse arguments, load the preset's graph manager, run it (train, or evaluate)."""

    def launch(self) -> None:
        parser = self.get_argument_parser()
        args = self.get_config_args(parser)
        graph_manager = self.get_graph_manager_from_args(args)
        self.run_graph_manager(graph_manager, args)

    def get_argument_parser(self) -> argparse.ArgumentParser:
        """Coach's command line (every ``dest`` SageMaker's launchers read, with Coach's defaults)."""
        parser = argparse.ArgumentParser()
        add = parser.add_argument
        add("-p", "--preset", default=None)
        add("-l", "--list", action="store_true")
        add("-e", "--experiment_name", default=None)
        add("-r", "--render", action="store_true")
        add("-f", "--framework", default="tensorflow")
        add("-n", "--num_workers", type=int, default=1)
        add("-c", "--use_cpu", action="store_true")
        add("-ew", "--evaluation_worker", action="store_true")
        add("--play", action="store_true")
        add("--evaluate", nargs="?", const=0, type=int, default=None)
        add("-v", "--verbosity", default="low")
        add("-tfv", "--tf_verbosity", type=int, default=3)
        add("--nocolor", action="store_true")
        add("-s", "--checkpoint_save_secs", type=int, default=None)
        add("-crd", "--checkpoint_restore_dir", default=None)
        add("-crf", "--checkpoint_restore_file", default=None)
        add("-dg", "--dump_gifs", action="store_true")
        add("-dm", "--dump_mp4", action="store_true")
        add("-et", "--environment_type", default=None)
        add("-lvl", "--level", default=None)
        add("-cp", "--custom_parameter", default=None)
        add("--print_networks_summary", action="store_true")
        add("-tb", "--tensorboard", action="store_true")
        add("-ns", "--no_summary", action="store_true")
        add("-d", "--open_dashboard", action="store_true")
        add("--seed", type=int, default=None)
        add("-onnx", "--export_onnx_graph", action="store_true")
        add("-dc", "--distributed_coach", action="store_true")
        add("-dcp", "--distributed_coach_config_path", default=None)
        add("--memory_backend_params", default=None)
        add("--data_store_params", default=None)
        add("--distributed_coach_run_type", default="orchestrator")
        add("-asc", "--apply_stop_condition", action="store_true")
        add("--dump_worker_logs", action="store_true")
        add("--is_multi_node_test", action="store_true")
        return parser

    def get_config_args(self, parser: argparse.ArgumentParser, arguments=None) -> argparse.Namespace:
        args, _ = parser.parse_known_args(arguments)
        if isinstance(args.framework, str):
            args.framework = Frameworks[args.framework.lower()]
        args.experiment_name = args.experiment_name or get_experiment_name()
        args.experiment_path = getattr(args, "experiment_path", None) or "/opt/ml/output/intermediate"
        args.checkpoint_save_dir = getattr(args, "checkpoint_save_dir", None)
        return args

    def get_graph_manager_from_args(self, args):
        if not args.preset:
            raise UsageError("No Coach preset: pass the RLCOACH_PRESET hyperparameter (a .py file beside the script).")
        path = args.preset if ":" in args.preset else f"{args.preset}.py:graph_manager"
        return short_dynamic_import(path, ignore_module_case=True)

    def run_graph_manager(self, graph_manager, args) -> None:
        if getattr(args, "num_workers", 1) not in (1, None):
            print(f"rlops: Coach num_workers={args.num_workers}: training runs in one process "
                  "(SB3 uses vectorised environments instead of Coach's workers)", flush=True)
        task_parameters = self.create_task_parameters(graph_manager, args)
        self.start_single_threaded(task_parameters, graph_manager, args)

    @staticmethod
    def create_task_parameters(graph_manager, args) -> TaskParameters:
        restore = getattr(args, "checkpoint_restore_dir", None) or getattr(args, "checkpoint_restore_file", None)
        evaluate = getattr(args, "evaluate", None)
        if evaluate is True:  # SageMaker's evaluation launcher sets True and gives evaluate_steps itself
            evaluate = 0
        return TaskParameters(
            framework_type=args.framework, evaluate_only=evaluate, use_cpu=getattr(args, "use_cpu", False),
            experiment_path=str(host_path(args.experiment_path)), seed=getattr(args, "seed", None),
            checkpoint_save_secs=getattr(args, "checkpoint_save_secs", None),
            checkpoint_restore_path=str(host_path(restore)) if restore else None,
            checkpoint_save_dir=str(host_path(args.checkpoint_save_dir)) if args.checkpoint_save_dir else None,
            export_onnx_graph=getattr(args, "export_onnx_graph", False),
            apply_stop_condition=getattr(args, "apply_stop_condition", False))

    @staticmethod
    def start_single_threaded(task_parameters, graph_manager, args) -> None:
        start_graph(graph_manager, task_parameters)


def get_experiment_name(initial_experiment_name: str = "") -> str:
    stamp = time.strftime("%d_%m_%Y-%H_%M")
    return f"{initial_experiment_name}_{stamp}" if initial_experiment_name else stamp
