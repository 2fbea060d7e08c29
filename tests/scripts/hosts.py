"""Each host writes its own model file and a shared one; --fail-on HOST makes that host raise,
while the others keep running until they are stopped."""
import argparse
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("--fail-on", default="")
args = parser.parse_args()
host = os.environ["SM_CURRENT_HOST"]
model_dir, data_dir = os.environ["SM_MODEL_DIR"], os.environ["SM_OUTPUT_DATA_DIR"]
print(f"hello from {host}", flush=True)
with open(os.path.join(model_dir, f"{host}.txt"), "w") as f:
    f.write(host)
with open(os.path.join(model_dir, "shared.txt"), "w") as f:
    f.write(host)
with open(os.path.join(data_dir, f"data-{host}.txt"), "w") as f:
    f.write(host)
if args.fail_on == host:
    raise RuntimeError(f"{host} could not reach its parameter server")
if args.fail_on:
    time.sleep(60)  # another host fails: this one runs until the supervisor stops it
