"""A custom environment as SageMaker RL users wrote them for gym 0.21: written here, in that style."""
import gym
import numpy as np
from gym import spaces
from gym.utils import seeding


class Corridor(gym.Env):
    """Walk right along a corridor of ``length`` cells; -0.1 a step, +1 at the end."""

    metadata = {"render.modes": ["human"]}

    def __init__(self, length=6):
        self.length = length
        self.action_space = spaces.Discrete(2)  # 0: left, 1: right
        self.observation_space = spaces.Box(low=0, high=np.inf, shape=(2,), dtype=np.int32)
        self.seed()

    def seed(self, seed=None):
        self.np_random, seed = seeding.np_random(seed)
        return [seed]

    def reset(self):
        self.position = int(self.np_random.randint(0, 2))
        self.steps = 0
        return self._obs()

    def step(self, action):
        assert self.action_space.contains(action), action
        self.position = max(0, self.position + (1 if action == 1 else -1))
        self.steps += 1
        done = self.position >= self.length - 1
        info = {}
        if self.steps >= 50 and not done:
            done, info["TimeLimit.truncated"] = True, True
        return self._obs(), 1.0 if done and not info else -0.1, done, info

    def _obs(self):
        return np.array([self.position, self.length - 1 - self.position], dtype=np.int32)

    def render(self, mode="human"):
        print("." * self.position + "A" + "." * (self.length - 1 - self.position))
