"""A training script to tune: prints ``score=S`` once per step, S rising towards a quality that peaks at x = 0.3.

Hyperparameters: ``x`` (the tuned value), ``steps`` (data points), ``sleep`` (seconds between them),
``fail_above`` (fail when x is above it). The hyperparameters it received are written to
``received.json`` in the model folder, with their JSON types.
"""
import json
import os
import sys
import time
from pathlib import Path

hps = json.loads(os.environ["SM_HPS"])
Path(os.environ["SM_MODEL_DIR"], "received.json").write_text(json.dumps(hps))
x = float(hps.get("x", 0.0))
if x > float(hps.get("fail_above", float("inf"))):
    sys.exit(f"x={x} is above fail_above")
quality = 100.0 - 1000.0 * (x - 0.3) ** 2
steps = int(hps.get("steps", 5))
for step in range(1, steps + 1):
    print(f"score={quality * step / steps:.6f}", flush=True)
    time.sleep(float(hps.get("sleep", 0.02)))
