"""Fails: by raising, or (with --reason) by writing output/failure first."""
import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--reason", default=None)
args = parser.parse_args()
print("about to fail")
if args.reason:
    with open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w") as f:
        f.write(args.reason)
    raise SystemExit(3)


def load_data():
    raise ValueError("the data set has no column named 'reward'")


load_data()
