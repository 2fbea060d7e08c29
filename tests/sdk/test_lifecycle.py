"""Jobs that outlive their caller: stop and attach from other processes, several hosts, several jobs."""

from __future__ import annotations

import pytest

import json
import tarfile
import time
from pathlib import Path

from rlops.rl import RLEstimator
from rlops.storage import resolve_uri
from rlops.store import JobStore
from tests.conftest import run_python

# every test here starts job or server processes; each runs on the local store and through an rlops server
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("service_mode")]


def wait_until_training(name: str, timeout: float = 30) -> None:
    store = JobStore()
    deadline = time.time() + timeout
    while time.time() < deadline:
        record = store.get(name)
        if record.secondary_status == "Training" and Path(record.log_path).read_text().count("step ") >= 3:
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} did not start training")


def model_files(model_data: str) -> dict[str, str]:
    with tarfile.open(resolve_uri(model_data)) as archive:
        return {m.name: archive.extractfile(m).read().decode() for m in archive.getmembers() if m.isfile()}


def test_stop_from_another_process_keeps_model_and_checkpoints(estimator_factory, rlops_home, tmp_path):
    checkpoints = tmp_path / "ckpt"
    estimator = estimator_factory("long_run.py", checkpoint_s3_uri=checkpoints.as_uri())
    estimator.fit(wait=False)
    name = estimator.latest_training_job.name
    wait_until_training(name)

    result = run_python(
        "from rlops.cli.main import main; import sys; sys.argv=['rlops','jobs','stop','%s']; main()" % name, rlops_home)
    assert f"Stop requested for {name}" in result.stdout and "Stopped" in result.stdout

    description = estimator.latest_training_job.describe()
    assert (description["TrainingJobStatus"], description["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert model_files(estimator.model_data)["model.txt"].startswith("stopped at step")
    assert sorted(p.name for p in checkpoints.iterdir())[0] == "step-00000"
    log = Path(JobStore().get(name).log_path).read_text()
    assert "SIGTERM: model saved" in log


def test_stop_escalates_to_sigkill_after_the_grace_period(estimator_factory):
    estimator = estimator_factory("long_run.py", hyperparameters={"ignore-term": "true"}, stop_grace_period=0.5)
    estimator.fit(wait=False)
    job = estimator.latest_training_job
    wait_until_training(job.name)
    job.stop()
    job.wait(logs=False)
    log = Path(JobStore().get(job.name).log_path).read_text()
    assert "ignoring SIGTERM" in log and "SIGKILL" in log
    assert job.describe()["TrainingJobStatus"] == "Stopped"


def test_restarted_job_resumes_from_checkpoint_uri(estimator_factory, tmp_path):
    checkpoints = tmp_path / "ckpt"
    first = estimator_factory("long_run.py", checkpoint_s3_uri=str(checkpoints), hyperparameters={"steps": 5, "step-seconds": 0})
    first.fit(logs=False)
    second = estimator_factory("long_run.py", checkpoint_s3_uri=str(checkpoints), hyperparameters={"steps": 5, "step-seconds": 0})
    second.fit(logs=False)
    log = Path(JobStore().get(second.latest_training_job.name).log_path).read_text()
    assert "Restored 5 checkpoint file(s)" in log and "resuming from step 5" in log
    assert model_files(second.model_data)["model.txt"] == "finished at step 9"


def test_attach_from_a_fresh_process_during_and_after(estimator_factory, rlops_home):
    estimator = estimator_factory("long_run.py", hyperparameters={"steps": 30, "step-seconds": 0.05})
    estimator.fit(wait=False)
    name = estimator.latest_training_job.name
    code = (
        "from rlops.rl import RLEstimator\n"
        f"e = RLEstimator.attach({name!r})\n"
        "d = e.latest_training_job.describe()\n"
        "print('STATUS', d['TrainingJobStatus'], e.model_data, e.toolkit.value, e.hyperparameters()['steps'])\n"
    )
    during = run_python(code, rlops_home)  # blocks, streaming the log, until the job ends
    assert "step 29" in during.stdout
    assert f"STATUS Completed {estimator.model_data} sb3 30" in during.stdout
    after = run_python(code, rlops_home)
    assert "STATUS Completed" in after.stdout and "step 29" not in after.stdout


def test_fit_streams_the_log(estimator_factory, capsys):
    estimator = estimator_factory("emit_metrics.py")
    estimator.fit()
    out = capsys.readouterr().out
    assert "Training - Training in progress" in out
    assert out.index("Training> Name=main_level/agent, Worker=0, Episode=0") < out.index("finished")
    assert "Completed - Training job completed" in out


def test_two_hosts_run_as_separate_processes(estimator_factory):
    estimator = estimator_factory("contract.py", instance_count=2)
    estimator.fit(logs=False)
    files = model_files(estimator.model_data)
    hosts = {h: json.loads(files[f"contract-{h}.json"]) for h in ("algo-1", "algo-2")}
    assert hosts["algo-1"]["env"]["SM_HOSTS"] == hosts["algo-2"]["env"]["SM_HOSTS"] == '["algo-1","algo-2"]'
    assert hosts["algo-2"]["env"]["SM_CURRENT_HOST"] == "algo-2"
    assert hosts["algo-2"]["config"]["resourceconfig.json"]["current_host"] == "algo-2"
    assert hosts["algo-1"]["env"]["SM_MODEL_DIR"] != hosts["algo-2"]["env"]["SM_MODEL_DIR"]
    assert json.loads(hosts["algo-2"]["env"]["SM_TRAINING_ENV"])["is_master"] is False
    log = Path(JobStore().get(estimator.latest_training_job.name).log_path).read_text()
    assert "algo-1 | contract recorded on algo-1" in log and "algo-2 | contract recorded on algo-2" in log


def test_several_jobs_at_once(estimator_factory):
    estimators = [estimator_factory("long_run.py", hyperparameters={"steps": 10, "step-seconds": 0.02})
                  for _ in range(4)]
    for estimator in estimators:
        estimator.fit(wait=False)
    names = [e.latest_training_job.name for e in estimators]
    assert len(set(names)) == 4
    for estimator in estimators:
        estimator.latest_training_job.wait(logs=False)
    store = JobStore()
    assert [store.get(n).status for n in names] == ["Completed"] * 4
    for estimator in estimators:
        assert model_files(estimator.model_data)["model.txt"] == "finished at step 9"


def test_intermediate_output_and_custom_checkpoint_path(estimator_factory, tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(
        "import json, os\n"
        "env = json.loads(os.environ['SM_TRAINING_ENV'])\n"
        "open(os.path.join(os.environ['SM_OUTPUT_INTERMEDIATE_DIR'], 'events.txt'), 'w').write('tb')\n"
        "open(os.path.join(env['checkpoint_dir'], 'ckpt.txt'), 'w').write(env['checkpoint_dir'])\n")
    estimator = RLEstimator(entry_point="train.py", source_dir=str(source), toolkit="sb3",
                            output_path=str(tmp_path / "out"), checkpoint_s3_uri=str(tmp_path / "ckpt"),
                            checkpoint_local_path="/opt/ml/checkpoints/custom")
    estimator.fit(logs=False, job_name="intermediate-job")
    assert (tmp_path / "out" / "intermediate-job" / "output" / "intermediate" / "events.txt").read_text() == "tb"
    assert (tmp_path / "ckpt" / "ckpt.txt").read_text().endswith("/hosts/algo-1/checkpoints/custom")


def test_toolkit_version_mismatch_is_reported_with_both_versions(estimator_factory, caplog):
    import importlib.metadata

    installed = importlib.metadata.version("stable-baselines3")
    with caplog.at_level("WARNING", logger="rlops"):
        estimator_factory("contract.py", toolkit="sb3", toolkit_version="1.8.0")
    assert f"toolkit_version 1.8.0 was asked for, but stable-baselines3 {installed} is installed" in caplog.text
