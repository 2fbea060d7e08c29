"""``SageMakerRayLauncher``: SageMaker's Ray launcher, on RLlib 2.x (new API stack, PyTorch).

A SageMaker ``train-*.py`` that subclasses ``sagemaker_rl.ray_launcher.SageMakerRayLauncher``
runs unchanged once its import line names rlops::

    from rlops.toolkits.rllib import SageMakerRayLauncher

    class MyLauncher(SageMakerRayLauncher):
        def register_env_creator(self):
            register_env("CartPole-v1", lambda env_config: gymnasium.make("CartPole-v1"))

        def get_experiment_config(self):
            return {"training": {"env": "CartPole-v1", "run": "PPO", "stop": {"episode_reward_mean": 450},
                                 "config": {"num_workers": self.num_cpus - 1, "lr": 3e-4}}}

    if __name__ == "__main__":
        MyLauncher.train_main()

Inside the job it starts a Ray instance of its own (every CPU of the host for env runners by
default; with several hosts, one cluster across them: :mod:`rlops.toolkits.rllib.cluster`), translates the old config keys (:mod:`rlops.toolkits.rllib.config`), applies
``rl.training.config.*`` hyperparameters (the user's values win), trains until a stop criterion
or ``max_run``, and prints, once per iteration, SageMaker's Ray lines (``episode_reward_mean: X``
...) and a Coach ``Training>`` line per finished episode. Checkpoints go to ``checkpoints/``
every ``checkpoint_freq`` iterations (a job restarted on the same ``checkpoint_uri``, or given a
``checkpoint`` channel, resumes); the model folder gets the RLlib checkpoint, ``params.json`` and
the portable ``policy.onnx`` + ``policy.json``, played deterministically at the end for
``rl.evaluation_episodes`` episodes (10 unless set).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

from rlops.exceptions import UsageError, did_you_mean
from rlops.storage import write_text
from rlops.toolkits.coach_lines import emit, episode_line
from rlops.toolkits.rllib.callbacks import EPISODES_KEY, EpisodeReturns
from rlops.toolkits.rllib.environments import make_env, register_gymnasium_id
from rlops.toolkits.rllib.evaluation import evaluate
from rlops.toolkits.rllib.config import (
    apply_overrides, config_keys, result_value, stop_reached, translate_config, translate_stop,
)

#: Lines printed once per iteration: SageMaker's Ray metric names and where RLlib 2.x reports each.
RAY_LINES = {
    "episode_reward_mean": "env_runners/episode_return_mean",
    "episode_reward_max": "env_runners/episode_return_max",
    "episode_reward_min": "env_runners/episode_return_min",
    "episode_len_mean": "env_runners/episode_len_mean",
    "training_iteration": "training_iteration",
    "timesteps_total": "num_env_steps_sampled_lifetime",
}
LATEST = "latest.json"
#: Set by rlops's runtime in a job submitted to an existing Ray cluster (rlops.runtime.ray_jobs): its address.
CLUSTER_ENV = "RLOPS_RAY_CLUSTER"
EVALUATION_EPISODES = 10


class SageMakerRayLauncher:
    """Subclass it, fill in :meth:`register_env_creator` and :meth:`get_experiment_config`, call :meth:`train_main`."""

    def __init__(self):
        env = os.environ
        self.num_cpus = int(env.get("SM_NUM_CPUS") or os.cpu_count() or 1)
        self.num_gpus = int(env.get("SM_NUM_GPUS") or 0)
        self.host_name = env.get("SM_CURRENT_HOST", "algo-1")
        self.hosts = json.loads(env.get("SM_HOSTS") or '["algo-1"]')
        self.hyperparameters = json.loads(env.get("SM_HPS") or "{}")
        #: Instance groups (SPEC section 7): name -> {"hosts", "instance_type", ...}; several make a heterogeneous job.
        self.instance_groups = json.loads(env.get("SM_INSTANCE_GROUPS_DICT") or "{}")
        self.is_master_node = self.host_name == self.head_host
        training_env = json.loads(env.get("SM_TRAINING_ENV") or "{}")
        self.model_dir = Path(env.get("SM_MODEL_DIR") or "model")
        self.output_data_dir = Path(env.get("SM_OUTPUT_DATA_DIR") or "output/data")
        self.checkpoint_dir = Path(training_env.get("checkpoint_dir") or "checkpoints")
        self.checkpoint_channel = Path(env["SM_CHANNEL_CHECKPOINT"]) if env.get("SM_CHANNEL_CHECKPOINT") else None
        self._stop_signal = False
        self.runner_cpus = self.num_cpus  # env runners by default: every CPU the job's Ray has
        self.on_existing_cluster = False  # a cluster rlops did not start: its GPUs may be on other nodes

    # -- what a subclass fills in -----------------------------------------------------------------

    def register_env_creator(self) -> None:
        """Register the environment with ``ray.tune.registry.register_env`` (nothing to do for a Gymnasium id)."""

    def get_experiment_config(self) -> dict[str, Any]:
        raise NotImplementedError("Subclasses return {'training': {'env': ..., 'run': ..., 'config': {...}, 'stop': {...}}}.")

    def customize_experiment_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Apply the job's ``rl.``-prefixed hyperparameters to the experiment (the user's values win)."""
        return apply_overrides(config, self.hyperparameters)

    # -- where things run ------------------------------------------------------------------------

    @property
    def learner_group(self) -> str | None:
        """A heterogeneous job's group for the learner: ``rl.learner_group`` if set, else the first group with a
        GPU instance type, else the first group. ``None`` when the job has one group."""
        from rlops.contract import is_gpu_instance

        if len(self.instance_groups) < 2:
            return None
        chosen = self.hyperparameters.get("rl.learner_group")
        if chosen is not None:
            if chosen not in self.instance_groups:
                raise UsageError(f"rl.learner_group names no instance group of this job: {chosen!r}; the groups are "
                                 f"{', '.join(self.instance_groups)}.")
            return chosen
        return next((name for name, group in self.instance_groups.items() if is_gpu_instance(group["instance_type"])),
                    next(iter(self.instance_groups)))

    @property
    def head_host(self) -> str:
        """The host that runs the Ray head and the driver: the learner group's first, else ``algo-1``."""
        group = self.learner_group
        return self.instance_groups[group]["hosts"][0] if group else self.hosts[0]

    def role(self, host: str) -> str | None:
        """``LEARNER`` or ``ROLLOUT`` for a host of a heterogeneous job, ``None`` otherwise."""
        from rlops.toolkits.rllib.cluster import LEARNER, ROLLOUT

        group = self.learner_group
        if group is None:
            return None
        return LEARNER if host in self.instance_groups[group]["hosts"] else ROLLOUT

    # -- running ---------------------------------------------------------------------------------

    @classmethod
    def train_main(cls) -> None:
        cls().launch()

    def launch(self) -> None:
        self.register_env_creator()
        if "evaluate_episodes" in self.hyperparameters:
            self.evaluate_only(self.hyperparameters["evaluate_episodes"])
            return
        if len(self.hosts) > 1 and not self.is_master_node:
            self.join_cluster()  # a worker host serves env runners until the driver on the head host is done
            return
        experiment = self.customize_experiment_config(self.get_experiment_config())
        training = experiment.get("training") if isinstance(experiment, dict) else None
        if not isinstance(training, dict) or "run" not in training:
            raise UsageError("get_experiment_config() must return {'training': {'run': 'PPO', 'env': ..., 'config': "
                             f"{{...}}, 'stop': {{...}}}}; got {experiment!r}.")
        episodes = experiment.get("evaluation_episodes", EVALUATION_EPISODES)
        if not isinstance(episodes, int) or isinstance(episodes, bool) or episodes < 1:
            raise UsageError(f"evaluation_episodes (rl.evaluation_episodes) must be a positive integer; got {episodes!r}.")
        signal.signal(signal.SIGTERM, self._on_term)
        if os.environ.get(CLUSTER_ENV):
            self.drive_existing(training, episodes)
        elif len(self.hosts) > 1:
            self.drive_cluster(training, episodes)
        else:
            self.drive_local(training, episodes)

    def drive_local(self, training: dict[str, Any], episodes: int) -> None:
        """One host: a Ray instance of the job's own, every CPU of the host for env runners."""
        import ray

        from rlops.toolkits.rllib.cluster import single_node_loopback

        temp_dir = tempfile.mkdtemp(prefix="rlops-ray-")  # short (socket paths), and no stale cluster to join
        single_node_loopback()
        ray.init(address="local", num_cpus=self.num_cpus, num_gpus=self.num_gpus, include_dashboard=False,
                 _temp_dir=temp_dir, log_to_driver=False, configure_logging=False)
        emit(f"rlops: Ray {ray.__version__} started on {ray.get_runtime_context().gcs_address} with "
             f"{self.num_cpus} CPU(s) and {self.num_gpus} GPU(s)")
        try:
            self.train(training, episodes)
        finally:
            ray.shutdown()
            shutil.rmtree(temp_dir, ignore_errors=True)

    def drive_existing(self, training: dict[str, Any], episodes: int) -> None:
        """A job submitted to an existing Ray cluster: join it as a driver (Ray gives a job's driver the
        cluster's address) and use every CPU it has for env runners, its GPUs for the learner."""
        import ray

        ray.init(log_to_driver=False, configure_logging=False)
        try:
            resources = ray.cluster_resources()
            self.runner_cpus = max(1, int(resources.get("CPU", 1)))
            self.num_gpus = int(resources.get("GPU", 0))
            self.on_existing_cluster = True
            nodes = [node for node in ray.nodes() if node["Alive"]]
            emit(f"rlops: Ray {ray.__version__} cluster at {os.environ[CLUSTER_ENV]}: {len(nodes)} node(s), "
                 f"{self.runner_cpus} CPU(s) for env runners, {self.num_gpus} GPU(s)")
            self.train(training, episodes)
        finally:
            ray.shutdown()

    def _rendezvous(self):
        from rlops.toolkits.rllib.cluster import RENDEZVOUS_ENV, Rendezvous

        folder = os.environ.get(RENDEZVOUS_ENV)
        if not folder:
            raise UsageError(f"A RAY job on several hosts needs {RENDEZVOUS_ENV}, which rlops's runtime sets; run the "
                             "script as an rlops job.")
        return Rendezvous(Path(folder))

    @property
    def cpus_per_host(self) -> int:
        """CPUs each host's node offers Ray: ``rl.cpus_per_host`` if set, else its share of this machine's
        (locally the hosts are processes on one machine)."""
        chosen = self.hyperparameters.get("rl.cpus_per_host")
        if chosen is not None:
            if not isinstance(chosen, int) or isinstance(chosen, bool) or chosen < 1:
                raise UsageError(f"rl.cpus_per_host must be a positive integer; got {chosen!r}.")
            return chosen
        return max(1, self.num_cpus // len(self.hosts))

    def join_cluster(self) -> None:
        from rlops.toolkits.rllib.cluster import join, node_resources

        workers = [h for h in self.hosts if h != self.head_host]
        index = workers.index(self.host_name)
        previous = workers[index - 1] if index else None  # one after the other, in host order
        join(self.host_name, self.cpus_per_host, self.num_gpus, self._rendezvous(),
             node_resources(self.host_name, self.role(self.host_name)), previous)

    def drive_cluster(self, training: dict[str, Any], episodes: int) -> None:
        """The head host: start the head, wait for every host's node, train across them, then release the hosts."""
        import ray

        from rlops.toolkits.rllib.cluster import (
            ROLLOUT, node_resources, start_head, stop_node, use_loopback, use_token, wait_for_hosts,
        )

        rendezvous = self._rendezvous()
        use_loopback()
        head, address, token = start_head(self.cpus_per_host, self.num_gpus, self.host_name, rendezvous,
                                          node_resources(self.host_name, self.role(self.host_name)))
        use_token(token)
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
            wait_for_hosts([h for h in self.hosts if h != self.host_name], rendezvous, head)
            nodes = [node for node in ray.nodes() if node["Alive"]]
            runners = [n for n in nodes if ROLLOUT in n["Resources"]] if self.learner_group else nodes
            self.runner_cpus = int(sum(node["Resources"].get("CPU", 0) for node in runners))
            addresses = sorted({node["NodeManagerAddress"] for node in nodes})
            groups = (" in groups " + ", ".join(f"{name}: {', '.join(g['hosts'])}" for name, g in self.instance_groups.items())
                      + f" (learner on {self.learner_group})") if self.learner_group else ""
            emit(f"rlops: Ray {ray.__version__} cluster at {address}: {len(self.hosts)} nodes "
                 f"({', '.join(self.hosts)}) on {', '.join(addresses)}{groups}, {self.runner_cpus} CPU(s) for env runners")
            self.train(training, episodes)
        finally:
            rendezvous.mark("done")
            ray.shutdown()
            stop_node(head)

    def evaluate_only(self, episodes: Any) -> None:
        """Evaluation mode: play the policy of the ``model`` channel (or the ``checkpoint`` channel's latest
        checkpoint, on the experiment's environment) for ``episodes`` deterministic episodes; train nothing."""
        from rlops.policies.manifest import read_manifest
        from rlops.policies.portable import policy_folder
        from rlops.toolkits.rllib.export import export_checkpoint

        if not isinstance(episodes, int) or isinstance(episodes, bool) or episodes < 1:
            raise UsageError(f"evaluate_episodes must be a positive integer; got {episodes!r}.")
        model = os.environ.get("SM_CHANNEL_MODEL")
        with contextlib.ExitStack() as stack:
            if model:  # a model/ folder or its model.tar.gz, unpacked for the block's duration
                folder = stack.enter_context(policy_folder(model))
                env_name = read_manifest(folder).get("env_id")
            elif self.checkpoint_channel and (self.checkpoint_channel / LATEST).is_file():
                training = self.customize_experiment_config(self.get_experiment_config())["training"]
                env_name = training.get("env") or (training.get("config") or {}).get("env")
                latest = json.loads((self.checkpoint_channel / LATEST).read_text())["checkpoint"]
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rlops-eval-")))
                export_checkpoint(self.checkpoint_channel / latest, str(training["run"]), env_name,
                                  (training.get("config") or {}).get("env_config") or {}, folder)
            else:
                raise UsageError("Evaluation needs a policy: give the job a 'model' channel (a RAY job's model.tar.gz, "
                                 "e.g. estimator.model_data) or a 'checkpoint' channel (a RAY job's checkpoints).")
            if not env_name:
                raise UsageError("The policy does not name its environment; evaluate it from a 'checkpoint' channel "
                                 "with the experiment (script or preset) that trained it.")
            register_gymnasium_id(env_name)
            emit(f"Evaluating the policy in {folder} on {env_name} ({episodes} episodes, deterministic)")
            summary = evaluate(folder, make_env(env_name, {}), episodes, 0)
        write_text(self.output_data_dir / "evaluation.json", json.dumps(summary, indent=2))

    def _on_term(self, *_):
        self._stop_signal = True  # finish the iteration, save the model, exit cleanly

    def build_config(self, training: dict[str, Any]):
        """The RLlib 2.x ``AlgorithmConfig`` for SageMaker's ``training`` section."""
        from ray.tune.registry import get_trainable_cls

        from ray.rllib.algorithms.registry import ALGORITHMS

        algorithm = str(training["run"])
        if algorithm not in ALGORITHMS:
            raise UsageError(f"Unknown RLlib algorithm {algorithm!r} (training.run). RLlib {ray_version()} has: "
                             f"{', '.join(sorted(ALGORITHMS))}.{did_you_mean(algorithm, ALGORITHMS)}")
        config = get_trainable_cls(algorithm).get_default_config()
        old = dict(training.get("config") or {})
        env = training.get("env") or old.get("env")
        if not env:
            raise UsageError("The experiment names no environment: set training.env (or training.config.env).")
        masking = training.get("action_masking", False)
        if not isinstance(masking, bool):
            raise UsageError(f"training.action_masking is true or false; got {masking!r}.")
        translation = translate_config(old, known=config_keys(config))
        for note in translation.notes:
            emit(f"rlops: {note}")
        settings = dict(translation.settings)
        model = settings.pop("model_config", None)
        settings.setdefault("num_env_runners", self.runner_cpus)
        settings.update({k: v for k, v in self.placement_settings().items() if k not in settings})
        register_gymnasium_id(env, masked=masking)
        config.environment(env=env, env_config=old.get("env_config") or {}).framework("torch")
        config.update_from_dict(settings)
        if masking:  # RLlib's own action-masking PPO module, reading {"action_mask", "observations"}
            from ray.rllib.core.rl_module.rl_module import RLModuleSpec
            from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule

            if algorithm != "PPO":
                raise UsageError(f"training.action_masking works with PPO (RLlib's action-masking module); got {algorithm!r}.")
            config.rl_module(rl_module_spec=RLModuleSpec(module_class=ActionMaskingTorchRLModule,
                                                         model_config=model or {}))
        elif model:
            config.rl_module(model_config=model)
        config.callbacks(EpisodeReturns)
        return algorithm, env, config

    def placement_settings(self) -> dict[str, Any]:
        """Where the learner and the env runners go, as RLlib settings (the experiment's own settings win).

        A heterogeneous job asks Ray for one learner per host of the learner group, each on a node offering
        ``LEARNER`` (with a GPU when the group's hosts have one), and puts the env runners on nodes offering
        ``ROLLOUT``. On an existing cluster with GPUs, one learner asks for a GPU, wherever Ray finds it.
        Elsewhere the learner runs in the driver, on the GPU when the host has one.
        """
        from rlops.toolkits.rllib.cluster import LEARNER, ROLLOUT

        gpu = 1 if self.num_gpus else 0
        group = self.learner_group
        if self.on_existing_cluster and gpu:  # a remote learner, which Ray places on a node with a GPU
            return {"num_learners": 1, "num_gpus_per_learner": 1}
        if group is None:
            return {"num_gpus_per_learner": gpu} if gpu else {}
        return {"num_learners": len(self.instance_groups[group]["hosts"]), "num_gpus_per_learner": gpu,
                "custom_resources_per_learner": {LEARNER: 1}, "custom_resources_per_env_runner": {ROLLOUT: 1}}

    def train(self, training: dict[str, Any], evaluation_episodes: int = EVALUATION_EPISODES) -> None:
        algorithm, env_name, config = self.build_config(training)
        stop = translate_stop(training.get("stop") or {})
        every = int(training.get("checkpoint_freq") or 10)
        algo = config.build_algo()
        self.record_placement(algo)
        self.restore(algo)
        episodes = 0
        while True:
            result = algo.train()
            iteration = int(result["training_iteration"])
            for ret, length in _episodes(result):
                emit(episode_line("Training", episodes, ret, 0.0, length, iteration))
                episodes += 1
            for name, path in RAY_LINES.items():
                value = result_value(result, path)
                if value is not None:
                    emit(f"{name}: {value}")
            emit(f"time_this_iter_s: {result['time_this_iter_s']:.3f}")
            if iteration % every == 0:
                self.save_checkpoint(algo, iteration)
            reached = stop_reached(result, stop)
            if reached or self._stop_signal:
                emit(f"rlops: stopping after iteration {iteration}: {reached or 'SIGTERM'}")
                break
        self.save_checkpoint(algo, iteration)
        self.save_model(algo, algorithm, env_name, config, evaluation_episodes)

    def record_placement(self, algo) -> None:
        """Which host each env runner and each learner is on, as Ray placed them (``output/data/placement.json``)."""
        import ray

        from rlops.toolkits.rllib.cluster import host_resource

        def name(node) -> str:  # a job's host, or an existing cluster's node by address and id
            if self.on_existing_cluster:
                return f"{node['NodeManagerAddress']}/{node['NodeID'][:8]}"
            if len(self.hosts) == 1:  # its node has no host resource
                return self.host_name
            return next((h for h in self.hosts if host_resource(h) in node["Resources"]), node["NodeID"])

        hosts = {node["NodeID"]: name(node) for node in ray.nodes() if node["Alive"]}
        nodes = algo.env_runner_group.foreach_env_runner(lambda runner: ray.get_runtime_context().get_node_id(),
                                                         local_env_runner=False)
        counts: dict[str, int] = {}
        for node in nodes:
            counts[hosts.get(node, node)] = counts.get(hosts.get(node, node), 0) + 1
        learners = [r.get() for r in algo.learner_group.foreach_learner(
            lambda learner: (ray.get_runtime_context().get_node_id(), str(learner.device)))]
        placement = {"env_runners": counts,
                     "learners": [{"host": hosts.get(node, node), "device": device} for node, device in learners]}
        write_text(self.output_data_dir / "placement.json", json.dumps(placement, indent=2))
        emit(f"rlops: {len(nodes)} env runner(s) on " + ", ".join(f"{h}: {n}" for h, n in sorted(counts.items()))
             + "; learner(s) on " + ", ".join(f"{hosts.get(node, node)} ({device})" for node, device in learners))

    # -- checkpoints and model -------------------------------------------------------------------

    def restore(self, algo) -> None:
        for folder in (self.checkpoint_dir, self.checkpoint_channel):
            latest = folder / LATEST if folder else None
            if latest and latest.is_file():
                path = folder / json.loads(latest.read_text())["checkpoint"]
                algo.restore_from_path(str(path))
                emit(f"Resuming from checkpoint {path} (iteration {algo.iteration})")
                return

    def save_checkpoint(self, algo, iteration: int) -> None:
        name = f"checkpoint_{iteration:06d}"
        algo.save_to_path(str(self.checkpoint_dir / name))
        write_text(self.checkpoint_dir / LATEST, json.dumps({"checkpoint": name, "iteration": iteration}))
        for old in sorted(self.checkpoint_dir.glob("checkpoint_*"))[:-2]:  # keep the last two
            shutil.rmtree(old, ignore_errors=True)

    def save_model(self, algo, algorithm: str, env_name: str, config, evaluation_episodes: int) -> None:
        """The RLlib checkpoint, ``params.json`` and the portable policy, evaluated deterministically."""
        from rlops.toolkits.rllib.export import export_checkpoint

        checkpoint = self.model_dir / "checkpoint"
        algo.save_to_path(str(checkpoint.resolve()))
        write_text(self.model_dir / "params.json", json.dumps(config.to_dict(), indent=2, default=repr))
        env = export_checkpoint(checkpoint, algorithm, env_name, config.env_config, self.model_dir)
        summary = evaluate(self.model_dir, env, evaluation_episodes, int(algo.iteration))
        write_text(self.output_data_dir / "evaluation.json", json.dumps(summary, indent=2))


class PresetLauncher(SageMakerRayLauncher):
    """Stands in for a user's launcher script: the experiment is the ``preset`` hyperparameter's."""

    def get_experiment_config(self) -> dict[str, Any]:
        from rlops.toolkits.rllib.presets import PRESETS, check_hyperparameters, load_experiment

        check_hyperparameters(self.hyperparameters)
        name = self.hyperparameters.get("preset")
        if not name:
            raise UsageError("A RAY job without an entry point needs hyperparameters={'preset': NAME}; built-in "
                             f"RLlib presets: {', '.join(PRESETS.names())}.")
        return load_experiment(str(name), [Path.cwd()])


def ray_version() -> str:
    import ray

    return ray.__version__


def _episodes(result: dict[str, Any]) -> list[tuple[float, int]]:
    """``(return, length)`` of every episode the env runners finished this iteration."""
    values = result_value(result, f"env_runners/{EPISODES_KEY}")
    return [(float(r), int(l)) for r, l in values] if isinstance(values, list) else []
