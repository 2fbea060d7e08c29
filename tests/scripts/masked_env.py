"""A small environment with action masks, for MaskablePPO: walk to the goal on a line of cells.

Actions 0 (left), 1 (right), 2 (stay); moving off either end is masked out.
"""
import gymnasium as gym
import numpy as np


class LineWorld(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, size: int = 6):
        self.size = size
        self.observation_space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(3)
        self.position = 0
        self.steps = 0

    def _obs(self):
        return np.array([self.position / (self.size - 1), self.steps / 50], dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = int(self.np_random.integers(0, self.size - 1))
        self.steps = 0
        return self._obs(), {}

    def action_masks(self):
        return np.array([self.position > 0, self.position < self.size - 1, True])

    def step(self, action):
        self.position += {0: -1, 1: 1, 2: 0}[int(action)]
        self.position = int(np.clip(self.position, 0, self.size - 1))
        self.steps += 1
        done = self.position == self.size - 1
        return self._obs(), (1.0 if done else -0.1), done, self.steps >= 50, {}


class BrokenEnv(LineWorld):
    """Returns observations outside its observation space: Gymnasium's checker refuses it."""

    def _obs(self):
        return np.array([5.0, 5.0], dtype=np.float32)
