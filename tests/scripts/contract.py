"""Records what a training script sees: argv, every SM_* variable, config files, channel contents."""
import json
import os
import sys

model_dir = os.environ["SM_MODEL_DIR"]
config_dir = os.environ["SM_INPUT_CONFIG_DIR"]
channels = {}
for name in json.loads(os.environ["SM_CHANNELS"]):
    root = os.environ[f"SM_CHANNEL_{name.upper()}"]
    channels[name] = sorted(
        os.path.relpath(os.path.join(dp, f), root) for dp, _, files in os.walk(root) for f in files
    )
record = {
    "argv": sys.argv[1:],
    "executable": sys.executable,
    "cwd": os.getcwd(),
    "env": {k: v for k, v in os.environ.items() if k.startswith(("SM_", "TRAINING_JOB_NAME", "SAGEMAKER_JOB_NAME", "CURRENT_HOST", "MY_"))},
    "config": {f: json.load(open(os.path.join(config_dir, f))) for f in os.listdir(config_dir)},
    "channels": channels,
    "code": sorted(os.listdir(os.environ["SM_MODULE_DIR"])),
    "pythonunbuffered": os.environ.get("PYTHONUNBUFFERED"),
}
with open(os.path.join(model_dir, f"contract-{os.environ['SM_CURRENT_HOST']}.json"), "w") as f:
    json.dump(record, f)
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "note.txt"), "w") as f:
    f.write("output data")
print("contract recorded on", os.environ["SM_CURRENT_HOST"])
