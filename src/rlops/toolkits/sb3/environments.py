"""Building a preset's environments: training (vectorised, normalised) and evaluation."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecNormalize

from rlops.exceptions import UsageError, did_you_mean
from rlops.toolkits.sb3.presets import Preset


def register_rlops_environments() -> None:
    """Make the ``rlops/...`` environments known to Gymnasium, when they are installed."""
    try:
        importlib.import_module("rlops.envs")
    except ModuleNotFoundError:
        pass


def env_factory(preset: Preset) -> str | Callable[..., gym.Env]:
    """A Gymnasium id, or a callable for ``module:Class`` (imported from the job's code)."""
    register_rlops_environments()
    env_id = preset.env.id
    if env_id in gym.registry:
        return env_id
    if ":" in env_id:
        module_name, _, attr = env_id.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            if getattr(exc, "name", None) in _parents(module_name):  # the module itself is not there
                raise UsageError(f"Environment {env_id!r}: there is no module {module_name!r} in the job's code "
                                 "(source_dir) or its Python. Put its file in source_dir, or use a registered "
                                 "Gymnasium id.") from None
            raise UsageError(f"Environment {env_id!r}: the module {module_name!r} is there, but importing it failed: "
                             f"{type(exc).__name__}: {exc}. Install what it imports (a requirements.txt in "
                             "source_dir), or add the file to source_dir.") from None
        if attr in gym.registry:
            return attr
        target = getattr(module, attr, None)
        if target is None:
            raise UsageError(f"Environment {env_id!r}: module {module_name!r} has no attribute {attr!r}.")
        return target
    raise UsageError(f"Unknown environment {env_id!r}: not a registered Gymnasium id and not 'module:Class'."
                     f"{did_you_mean(env_id, list(gym.registry))}")


def _parents(module_name: str) -> set[str]:
    """``a.b.c`` -> ``{"a", "a.b", "a.b.c"}``: the names whose absence means the module itself is missing."""
    parts = module_name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def env_builder(preset: Preset) -> tuple[str | Callable[..., gym.Env], dict[str, Any]]:
    """What ``gym.make``/``make_vec_env`` take: an id or a callable, and the keywords to pass it."""
    factory = env_factory(preset)
    limit = preset.env.max_episode_steps
    if isinstance(factory, str):
        return factory, {**preset.env.kwargs, **({"max_episode_steps": limit} if limit else {})}

    def build(**kwargs) -> gym.Env:
        render_mode = kwargs.pop("render_mode", None)
        try:
            env = factory(**kwargs, **({"render_mode": render_mode} if render_mode else {}))
        except TypeError:  # a gym 0.x class takes no render_mode: it renders with render(mode=...) instead
            if not render_mode:
                raise
            env = factory(**kwargs)
            env.render_mode = render_mode
        return gym.wrappers.TimeLimit(env, limit) if limit else env

    return build, dict(preset.env.kwargs)


def make_single(preset: Preset) -> gym.Env:
    factory, kwargs = env_builder(preset)
    return gym.make(factory, **kwargs) if isinstance(factory, str) else factory(**kwargs)


def check_environment(preset: Preset) -> None:
    """Run Gymnasium's checker on one instance; a failure says which check failed."""
    from gymnasium.utils.env_checker import check_env

    env = make_single(preset)
    try:
        check_env(env.unwrapped, skip_render_check=True)
    except Exception as exc:  # the checker raises assertion and type errors alike
        raise UsageError(f"Environment {preset.env.id!r} fails Gymnasium's environment checker: "
                         f"{type(exc).__name__}: {exc}") from None
    finally:
        env.close()


def vec_env_class(preset: Preset, num_cpus: int) -> type[VecEnv]:
    choice = preset.env.vec_env
    if choice == "auto":
        choice = "subproc" if preset.env.n_envs > 1 and num_cpus > 1 else "dummy"
    return SubprocVecEnv if choice == "subproc" else DummyVecEnv


def make_training_env(preset: Preset, num_cpus: int, seed: int | None, gamma: float,
                      normalizer_path: Path | None = None) -> VecEnv:
    """``n_envs`` copies (subprocesses when the job has more than one CPU), normalised if asked.

    ``normalizer_path`` restores normalisation statistics saved with a checkpoint.
    """
    venv = _vec_env(preset, preset.env.n_envs, seed, vec_env_class(preset, num_cpus))
    if normalizer_path is not None:
        return VecNormalize.load(str(normalizer_path), venv)
    norm = preset.env.normalize
    if norm.obs or norm.reward:
        venv = VecNormalize(venv, norm_obs=norm.obs, norm_reward=norm.reward, clip_obs=norm.clip_obs,
                            clip_reward=norm.clip_reward, gamma=gamma)
    return venv


def make_eval_env(preset: Preset, seed: int | None, training_env: VecEnv | None = None,
                  normalizer_path: Path | None = None) -> VecEnv:
    """One environment for deterministic evaluation, normalised with the training statistics (frozen); rendering
    to images when the preset dumps GIFs."""
    render = {"render_mode": "rgb_array"} if preset.visualization.dump_gifs else {}
    venv = _vec_env(preset, 1, None if seed is None else seed + 10_000, DummyVecEnv, render)
    if normalizer_path:
        venv = VecNormalize.load(str(normalizer_path), venv)
    elif isinstance(training_env, VecNormalize):
        venv = VecNormalize(venv, norm_obs=training_env.norm_obs, norm_reward=False, clip_obs=training_env.clip_obs)
        venv.obs_rms = training_env.obs_rms
    if isinstance(venv, VecNormalize):
        venv.training = False
        venv.norm_reward = False
    return venv


def _vec_env(preset: Preset, n_envs: int, seed: int | None, cls: type[VecEnv], extra: dict | None = None) -> VecEnv:
    factory, kwargs = env_builder(preset)
    return make_vec_env(factory, n_envs=n_envs, seed=seed, vec_env_cls=cls, env_kwargs={**kwargs, **(extra or {})})
