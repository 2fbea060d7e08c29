"""Every algorithm trains a few hundred steps, saves, reloads and exports a portable policy whose
actions equal SB3's deterministic ``predict``."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
from stable_baselines3.common.vec_env import VecNormalize

from rlops.toolkits.sb3.algorithms import get_algorithm
from tests.toolkits.sb3_helpers import context, run

SHORT = {"training_steps": 512, "evaluation_every": 0, "evaluation_episodes": 1, "checkpoint_every": 128}
CASES = {
    "PPO": ("CartPole-v1", {"n_steps": 64, "batch_size": 32, "n_epochs": 2}),
    "PPO-continuous": ("Pendulum-v1", {"n_steps": 64, "batch_size": 32, "n_epochs": 2}),
    "A2C": ("CartPole-v1", {"n_steps": 8}),
    "DQN": ("CartPole-v1", {"learning_starts": 64, "buffer_size": 1000}),
    "QRDQN": ("CartPole-v1", {"learning_starts": 64, "buffer_size": 1000}),
    "SAC": ("Pendulum-v1", {"learning_starts": 64, "buffer_size": 1000}),
    "TD3": ("Pendulum-v1", {"learning_starts": 64, "buffer_size": 1000}),
    "DDPG": ("Pendulum-v1", {"learning_starts": 64, "buffer_size": 1000}),
    "TRPO": ("Pendulum-v1", {"n_steps": 64, "batch_size": 32}),
    "MaskablePPO": ("masked_env:LineWorld", {"n_steps": 64, "batch_size": 32, "n_epochs": 2}),
    "RecurrentPPO": ("CartPole-v1", {"n_steps": 64, "batch_size": 32, "n_epochs": 2}),
}


def observations(env_id: str, n: int, rng) -> np.ndarray:
    import gymnasium as gym

    if ":" in env_id:
        from masked_env import LineWorld

        env = LineWorld()
    else:
        env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    rows = []
    for _ in range(n):
        rows.append(obs)
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            obs, _ = env.reset()
    rows = np.array(rows, dtype=np.float32)
    return rows + rng.normal(0, 0.05, rows.shape).astype(np.float32)


@pytest.mark.parametrize("case", list(CASES))
def test_train_save_reload_export(tmp_path, case):
    env_id, hyperparameters = CASES[case]
    name = case.split("-")[0]
    normalize = case in ("PPO-continuous", "SAC")  # exercise folding normalisation into the graph
    hps = {
        "preset": "cartpole-ppo",
        "rl.env": {"id": env_id, "n_envs": 2 if name != "DQN" else 1, "normalize": normalize},
        "rl.algorithm": {"name": name, "hyperparameters": hyperparameters},
        "rl.schedule": SHORT,
    }
    ctx = context(tmp_path, hps)
    log = run(ctx)
    assert "Training> Name=main_level/agent" in log and "Evaluation summary> episodes=1" in log

    files = {p.name for p in ctx.model_dir.iterdir()}
    assert {"model.zip", "policy.onnx", "policy.json", "preset.yaml"} <= files
    manifest = json.loads((ctx.model_dir / "policy.json").read_text())
    assert manifest["algorithm"] == name and manifest["toolkit"] == "sb3"
    assert manifest["observation_space"]["type"] == "Box" and manifest["rlops_version"]

    algorithm = get_algorithm(name)
    model = algorithm.load_class().load(ctx.model_dir / "model.zip", device="cpu")
    assert model.num_timesteps >= 512
    obs = observations(env_id, 1000, np.random.default_rng(0))
    normalized = obs
    if normalize:
        vecnorm = VecNormalize.load(str(ctx.model_dir / "vecnormalize.pkl"), _dummy(env_id))
        normalized = vecnorm.normalize_obs(obs)
    session = ort.InferenceSession(str(ctx.model_dir / "policy.onnx"))
    if algorithm.recurrent:
        _compare_recurrent(model, session, obs)
        return
    feeds = {"observation": obs}
    kwargs = {}
    if algorithm.masked:
        masks = np.random.default_rng(1).random((1000, 3)) > 0.3
        masks[:, 2] = True
        feeds["action_mask"] = masks.astype(np.float32)
        kwargs["action_masks"] = masks
    onnx_actions = session.run(["action"], feeds)[0]
    sb3_actions, _ = model.predict(normalized, deterministic=True, **kwargs)
    if onnx_actions.dtype.kind == "f":
        np.testing.assert_allclose(onnx_actions, sb3_actions, rtol=1e-4, atol=1e-5)
    else:
        np.testing.assert_array_equal(onnx_actions, sb3_actions)


def _dummy(env_id):
    import gymnasium as gym
    from stable_baselines3.common.vec_env import DummyVecEnv

    return DummyVecEnv([lambda: gym.make(env_id)])


def _compare_recurrent(model, session, obs):
    lstm = model.policy.lstm_actor
    h = np.zeros((lstm.num_layers, 1, lstm.hidden_size), np.float32)
    c = np.zeros_like(h)
    state = None
    start = np.ones((1,), dtype=bool)
    for i, row in enumerate(obs):
        expected, state = model.predict(row[None], state=state, episode_start=start, deterministic=True)
        action, _, h, c = session.run(None, {"observation": row[None], "state_h": h, "state_c": c,
                                             "episode_start": start.astype(np.float32)})
        assert action[0] == expected[0], f"step {i}"
        start = np.array([i % 50 == 49])
