"""A SageMaker-style training script: a tiny policy-gradient agent on Gymnasium's CartPole-v1.

It reads its settings from the command line (the estimator's hyperparameters), prints Coach's
episode lines so the default metric regexes draw the reward curve, writes checkpoints to the
checkpoint folder (so a restarted job resumes) and saves its policy to SM_MODEL_DIR.
"""

import argparse
import json
import os

import gymnasium as gym
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--episodes", type=int, default=200)
parser.add_argument("--learning_rate", type=float, default=0.02)
parser.add_argument("--discount", type=float, default=0.99)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

model_dir = os.environ["SM_MODEL_DIR"]
checkpoint_dir = json.loads(os.environ["SM_TRAINING_ENV"])["checkpoint_dir"]
checkpoint = os.path.join(checkpoint_dir, "policy.npz")

env = gym.make("CartPole-v1")
rng = np.random.default_rng(args.seed)
weights = np.zeros((4, 2))
start = 0
if os.path.exists(checkpoint):  # resume where an earlier job on the same checkpoint_uri stopped
    saved = np.load(checkpoint)
    weights, start = saved["weights"], int(saved["episode"]) + 1
    print(f"Resuming from checkpoint at episode {start}")


def policy(obs):
    logits = obs @ weights
    probs = np.exp(logits - logits.max())
    return probs / probs.sum()


steps = 0
for episode in range(start, start + args.episodes):
    obs, _ = env.reset(seed=args.seed + episode)
    grads, rewards = [], []
    done = False
    while not done:
        probs = policy(obs)
        action = rng.choice(2, p=probs)
        grad = -np.outer(obs, probs)
        grad[:, action] += obs
        grads.append(grad)
        obs, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
        done = terminated or truncated
        steps += 1
    returns = np.cumsum(np.array(rewards)[::-1] * args.discount ** np.arange(len(rewards)))[::-1]
    returns = (returns - returns.mean()) / (returns.std() + 1e-8)
    for grad, ret in zip(grads, returns):
        weights += args.learning_rate * ret * grad
    print(f"Training> Name=main_level/agent, Worker=0, Episode={episode}, Total reward={sum(rewards):.2f}, "
          f"Exploration=0.0, Steps={steps}, Training iteration={episode}")
    if episode % 50 == 49:
        np.savez(checkpoint, weights=weights, episode=episode)

np.save(os.path.join(model_dir, "policy.npy"), weights)
