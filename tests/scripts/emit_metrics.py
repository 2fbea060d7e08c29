"""Prints Coach, Ray and custom metric lines; with --gate FILE waits for that file before ending."""
import argparse
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("--gate", default=None)
parser.add_argument("--episodes", type=int, default=3)
args = parser.parse_args()

for episode in range(args.episodes):
    reward = -100.0 + 10 * episode
    print(f"Training> Name=main_level/agent, Worker=0, Episode={episode}, Total reward={reward:.2f}, "
          f"Exploration=0.1, Steps={100 * (episode + 1)}, Training iteration={episode}")
    print(f"Testing> Name=main_level/agent, Worker=0, Episode={episode}, Total reward={reward + 5:.2f}, "
          f"Exploration=0.0, Steps={100 * (episode + 1)}, Training iteration={episode}")
    print(f"  episode_reward_mean: {reward / 2}")
    print(f"  episode_reward_max: {reward + 1e-3:.6e}")
    print(f"custom: loss={1.0 / (episode + 1):.4f} done")
print("gate-waiting", flush=True)
if args.gate:
    deadline = time.time() + 60
    while not os.path.exists(args.gate) and time.time() < deadline:
        time.sleep(0.05)
print("finished")
