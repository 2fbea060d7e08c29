"""rlops's sample environments, registered with Gymnasium under the ``rlops/`` namespace.

``import rlops.envs`` registers them::

    import gymnasium as gym
    import rlops.envs

    env = gym.make("rlops/AutoScaling-v0")

Environments know only Gymnasium and NumPy.
"""

import gymnasium as gym

ENVIRONMENTS = {
    "rlops/AutoScaling-v0": dict(entry_point="rlops.envs.autoscaling:AutoScalingEnv"),
    "rlops/Knapsack-v0": dict(entry_point="rlops.envs.knapsack:KnapsackEnv", kwargs={"horizon": 20}),
    "rlops/KnapsackMedium-v0": dict(entry_point="rlops.envs.knapsack:KnapsackEnv",
                                    kwargs={"horizon": 50, "volume": True}),
    "rlops/KnapsackHard-v0": dict(entry_point="rlops.envs.knapsack:KnapsackEnv",
                                  kwargs={"horizon": 100, "volume": True, "stay": 5}),
    # The "patient" mountain cars of the SageMaker examples: Gymnasium's physics, 10,000 steps.
    "rlops/PatientMountainCar-v0": dict(entry_point="gymnasium.envs.classic_control.mountain_car:MountainCarEnv",
                                        max_episode_steps=10_000, reward_threshold=-110.0),
    "rlops/PatientMountainCarContinuous-v0": dict(
        entry_point="gymnasium.envs.classic_control.continuous_mountain_car:Continuous_MountainCarEnv",
        max_episode_steps=10_000, reward_threshold=90.0),
}

for _id, _spec in ENVIRONMENTS.items():
    if _id not in gym.registry:
        gym.register(id=_id, **_spec)
