"""Prints a Coach training line every --interval seconds for --episodes episodes (a job to watch live); with
--stamp true each line ends with the time it was printed (benchmarks/server.py)."""
import argparse
import time

parser = argparse.ArgumentParser()
parser.add_argument("--episodes", type=int, default=40)
parser.add_argument("--interval", type=float, default=0.25)
parser.add_argument("--stamp", default="false", help="end each training line with the time it was printed")
args = parser.parse_args()

for episode in range(args.episodes):
    stamp = f", printed={time.time():.6f}" if args.stamp == "true" else ""
    print(f"Training> Name=main_level/agent, Worker=0, Episode={episode}, Total reward={float(episode):.2f}, "
          f"Exploration=0.1, Steps={10 * (episode + 1)}, Training iteration={episode}{stamp}", flush=True)
    print(f"custom: loss={1.0 / (episode + 1):.4f} done", flush=True)
    time.sleep(args.interval)
print("finished")
