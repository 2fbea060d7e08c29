"""What a training script sees: SPEC section 2, through a real job in real processes."""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path

import pytest

from rlops.inputs import TrainingInput
from rlops.storage import resolve_uri

pytestmark = pytest.mark.slow  # every test here starts job or server processes

SM_VARIABLES = {
    "SM_MODEL_DIR", "SM_OUTPUT_DIR", "SM_OUTPUT_DATA_DIR", "SM_OUTPUT_INTERMEDIATE_DIR", "SM_INPUT_DIR",
    "SM_INPUT_CONFIG_DIR", "SM_CHANNELS", "SM_HPS", "SM_USER_ARGS", "SM_HOSTS", "SM_CURRENT_HOST",
    "SM_CURRENT_INSTANCE_TYPE", "SM_NUM_CPUS", "SM_NUM_GPUS", "SM_NETWORK_INTERFACE_NAME", "SM_MODULE_NAME",
    "SM_USER_ENTRY_POINT", "SM_MODULE_DIR", "SM_LOG_LEVEL", "SM_RESOURCE_CONFIG", "SM_INPUT_DATA_CONFIG",
    "SM_TRAINING_ENV", "SM_FRAMEWORK_PARAMS", "TRAINING_JOB_NAME", "SAGEMAKER_JOB_NAME", "CURRENT_HOST",
    # SPEC section 7: instance groups
    "SM_CURRENT_INSTANCE_GROUP", "SM_CURRENT_INSTANCE_GROUP_HOSTS", "SM_INSTANCE_GROUPS", "SM_INSTANCE_GROUPS_DICT",
    "SM_DISTRIBUTION_INSTANCE_GROUPS", "SM_IS_HETERO",
}
HYPERPARAMETERS = {
    "learning_rate": 0.001, "n": 3, "flag": True, "name": "ppo", "layers": [64, 64],
    "opts": {"b": 2, "a": "x"}, "rl.training.config.kl_coeff": 0.73, "nothing": None,
}


def read_model(estimator) -> dict[str, str]:
    path = resolve_uri(estimator.model_data)
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read().decode() for m in archive.getmembers() if m.isfile()}


def channel_inputs(tmp_path: Path) -> dict:
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("1,2\n")
    (folder / "sub" / "b.csv").write_text("3,4\n")
    archive_src = tmp_path / "archive-src"
    archive_src.mkdir()
    (archive_src / "policy.bin").write_text("weights")
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(archive_src / "policy.bin", arcname="policy.bin")
    single = tmp_path / "single.json"
    single.write_text("{}")
    return {
        "training": str(folder),
        "uri": folder.as_uri(),
        "model": archive.as_uri(),
        "single": str(single),
        "typed": TrainingInput(str(folder), content_type="text/csv"),
    }


def test_every_variable_and_exact_argv(estimator_factory, tmp_path):
    estimator = estimator_factory("contract.py", hyperparameters=HYPERPARAMETERS, environment={"MY_SETTING": "on"})
    estimator.fit(channel_inputs(tmp_path), logs=False, job_name="contract-job")

    record = json.loads(read_model(estimator)["contract-algo-1.json"])
    env = record["env"]
    assert SM_VARIABLES <= set(env), f"missing: {SM_VARIABLES - set(env)}"
    assert record["argv"] == [
        "--flag", "True", "--layers", "[64, 64]", "--learning_rate", "0.001", "-n", "3", "--name", "ppo",
        "--nothing", "None", "--opts", "a=x,b=2", "--rl.training.config.kl_coeff", "0.73",
    ]
    assert json.loads(env["SM_USER_ARGS"]) == record["argv"]
    assert json.loads(env["SM_HPS"]) == HYPERPARAMETERS  # types kept: 0.73 stays a float
    assert env["SM_HP_LEARNING_RATE"] == "0.001" and env["SM_HP_NAME"] == "ppo"
    assert env["SM_HP_LAYERS"] == "[64,64]" and env["SM_HP_OPTS"] == '{"a":"x","b":2}'
    assert env["SM_HP_RL.TRAINING.CONFIG.KL_COEFF"] == "0.73"
    assert env["SM_CHANNELS"] == '["model","single","training","typed","uri"]'
    assert env["SM_HOSTS"] == '["algo-1"]' and env["SM_CURRENT_HOST"] == env["CURRENT_HOST"] == "algo-1"
    assert env["TRAINING_JOB_NAME"] == env["SAGEMAKER_JOB_NAME"] == "contract-job"
    assert env["SM_MODULE_NAME"] == "contract" and env["SM_USER_ENTRY_POINT"] == "contract.py"
    assert env["SM_CURRENT_INSTANCE_TYPE"] == "local" and env["SM_NUM_GPUS"] == "0" and int(env["SM_NUM_CPUS"]) >= 1
    assert env["SM_NETWORK_INTERFACE_NAME"] == "lo" and env["SM_LOG_LEVEL"] == "20"
    assert env["MY_SETTING"] == "on" and record["pythonunbuffered"] == "1"
    base = Path(env["SM_MODEL_DIR"]).parent
    assert env["SM_OUTPUT_DATA_DIR"] == str(base / "output" / "data")
    assert env["SM_OUTPUT_INTERMEDIATE_DIR"] == str(base / "output" / "intermediate")
    assert env["SM_INPUT_CONFIG_DIR"] == str(base / "input" / "config")
    assert env["SM_CHANNEL_TRAINING"] == str(base / "input" / "data" / "training")
    assert record["cwd"] == env["SM_MODULE_DIR"] == str(base / "code")
    assert record["executable"] == sys.executable  # a toolkit script runs in rlops's own environment
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert training_env["job_name"] == "contract-job" and training_env["hosts"] == ["algo-1"]
    assert training_env["channel_input_dirs"]["uri"] == str(base / "input" / "data" / "uri")
    assert training_env["hyperparameters"] == HYPERPARAMETERS
    assert json.loads(env["SM_RESOURCE_CONFIG"])["current_host"] == "algo-1"
    assert env["SM_CURRENT_INSTANCE_GROUP"] == "homogeneousCluster" and env["SM_IS_HETERO"] == "false"
    assert json.loads(env["SM_INSTANCE_GROUPS"]) == ["homogeneousCluster"]
    # non-string values are compact JSON with sorted keys
    assert env["SM_INPUT_DATA_CONFIG"] == json.dumps(json.loads(env["SM_INPUT_DATA_CONFIG"]), sort_keys=True,
                                                      separators=(",", ":"))

    config = record["config"]
    assert config["hyperparameters.json"]["learning_rate"] == "0.001"
    assert config["hyperparameters.json"]["sagemaker_program"] == '"contract.py"'
    assert config["resourceconfig.json"]["hosts"] == ["algo-1"]
    assert config["inputdataconfig.json"]["typed"]["ContentType"] == "text/csv"
    assert config["inputdataconfig.json"]["training"]["TrainingInputMode"] == "File"

    assert record["channels"]["training"] == ["a.csv", "sub/b.csv"]
    assert record["channels"]["uri"] == ["a.csv", "sub/b.csv"]
    assert record["channels"]["model"] == ["policy.bin"]  # a .tar.gz is unpacked
    assert record["channels"]["single"] == ["single.json"]

    output = resolve_uri(estimator.model_data).parent
    assert estimator.model_data == (tmp_path / "output" / "contract-job" / "output" / "model.tar.gz").as_uri()
    with tarfile.open(output / "output.tar.gz") as archive:
        assert archive.getnames() == ["note.txt"]
    assert not [p for p in output.iterdir() if p.name.startswith(".")], "no temporary archive left behind"


def test_instance_groups_give_each_host_its_group(estimator_factory, tmp_path):
    from rlops.instance_group import InstanceGroup

    estimator = estimator_factory("contract.py", instance_type=None, instance_groups=[
        InstanceGroup("learner", "ml.g5.xlarge", 1), InstanceGroup("rollouts", "ml.c5.4xlarge", 2)])
    estimator.fit(logs=False)

    model = read_model(estimator)
    records = {host: json.loads(model[f"contract-{host}.json"]) for host in ("algo-1", "algo-2", "algo-3")}
    learner, rollout = records["algo-1"]["env"], records["algo-3"]["env"]
    assert learner["SM_CURRENT_INSTANCE_GROUP"] == "learner" and rollout["SM_CURRENT_INSTANCE_GROUP"] == "rollouts"
    assert learner["SM_CURRENT_INSTANCE_TYPE"] == "ml.g5.xlarge" and rollout["SM_CURRENT_INSTANCE_TYPE"] == "ml.c5.4xlarge"
    assert json.loads(rollout["SM_CURRENT_INSTANCE_GROUP_HOSTS"]) == ["algo-2", "algo-3"]
    assert json.loads(rollout["SM_INSTANCE_GROUPS"]) == ["learner", "rollouts"] and rollout["SM_IS_HETERO"] == "true"
    assert json.loads(rollout["SM_INSTANCE_GROUPS_DICT"])["learner"] == {
        "hosts": ["algo-1"], "instance_group_name": "learner", "instance_type": "ml.g5.xlarge"}
    assert json.loads(rollout["SM_DISTRIBUTION_INSTANCE_GROUPS"]) == []
    assert json.loads(rollout["SM_HOSTS"]) == ["algo-1", "algo-2", "algo-3"]
    resource = records["algo-2"]["config"]["resourceconfig.json"]
    assert resource["current_group_name"] == "rollouts" and resource["current_instance_type"] == "ml.c5.4xlarge"
    assert resource["instance_groups"] == [
        {"instance_group_name": "learner", "instance_type": "ml.g5.xlarge", "hosts": ["algo-1"]},
        {"instance_group_name": "rollouts", "instance_type": "ml.c5.4xlarge", "hosts": ["algo-2", "algo-3"]}]
    training_env = json.loads(rollout["SM_TRAINING_ENV"])
    assert training_env["current_instance_group"] == "rollouts" and training_env["is_hetero"] is True
    assert estimator.latest_training_job.describe()["ResourceConfig"]["InstanceGroups"] == [
        {"InstanceGroupName": "learner", "InstanceType": "ml.g5.xlarge", "InstanceCount": 1},
        {"InstanceGroupName": "rollouts", "InstanceType": "ml.c5.4xlarge", "InstanceCount": 2}]


def test_dependencies_and_requirements_are_installed(estimator_factory, tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    package = tmp_path / "localpkg"
    (package / "localpkg").mkdir(parents=True)
    (package / "localpkg" / "__init__.py").write_text("VALUE = 42\n")
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "localpkg"\nversion = "0.1"\n')
    helper = tmp_path / "helpers"
    helper.mkdir()
    (helper / "shared_lib.py").write_text("NAME = 'shared'\n")
    (source / "requirements.txt").write_text(f"{package}\n")
    (source / "train.py").write_text(
        "import os, localpkg, helpers.shared_lib as s\n"
        "open(os.path.join(os.environ['SM_MODEL_DIR'], 'out.txt'), 'w').write(f'{localpkg.VALUE} {s.NAME}')\n")
    from rlops.rl import RLEstimator

    estimator = RLEstimator(entry_point="train.py", source_dir=str(source), toolkit="sb3", dependencies=[str(helper)],
                            output_path=str(tmp_path / "out"))
    estimator.fit(logs=False)
    assert read_model(estimator)["out.txt"] == "42 shared"


@pytest.mark.parametrize("interpreter", ["file", "venv-folder"])
def test_image_uri_names_the_python_environment(estimator_factory, tmp_path, interpreter):
    venv = Path(sys.executable).parent.parent
    image = sys.executable if interpreter == "file" else str(venv)
    estimator = estimator_factory("contract.py", toolkit=None, image_uri=image)
    estimator.fit(logs=False)
    record = json.loads(read_model(estimator)["contract-algo-1.json"])
    assert Path(record["executable"]).parent == Path(sys.executable).parent
