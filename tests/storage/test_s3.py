"""s3:// paths and boto3 on rlops's buckets, as SageMaker RL notebooks use them (SPEC section 7's layout)."""

from __future__ import annotations

import shutil
import tarfile

import boto3
import pytest

from rlops.exceptions import UsageError
from rlops.rl import RLEstimator, RLToolkit
from rlops.s3 import S3Downloader, S3Uploader
from rlops.session import Session
from tests.conftest import SCRIPTS


def test_a_notebook_uses_boto3_and_s3_paths_on_the_default_bucket(tmp_path):
    # the first cells of a SageMaker RL notebook, with only `sagemaker` changed to `rlops`
    sage_session = Session()
    s3_bucket = sage_session.default_bucket()
    s3_output_path = "s3://{}/".format(s3_bucket)
    s3 = boto3.client("s3")  # no endpoint or keys given: rlops pointed boto3 at its own
    s3.put_object(Bucket=s3_bucket, Key="inputs/data.csv", Body=b"1,2\n")
    assert S3Downloader.read_file(f"s3://{s3_bucket}/inputs/data.csv") == "1,2\n"

    estimator = RLEstimator(entry_point="contract.py", source_dir=str(SCRIPTS), toolkit=RLToolkit.SB3,
                            instance_type="local", output_path=s3_output_path,
                            checkpoint_s3_uri=f"{s3_output_path}checkpoints")
    estimator.fit({"training": f"s3://{s3_bucket}/inputs"}, logs=False, job_name="s3-job")
    # SageMaker's local mode: an s3:// output gets <prefix>/<job>/model.tar.gz and output.tar.gz
    assert estimator.model_data == f"s3://{s3_bucket}/s3-job/model.tar.gz"
    job = estimator.latest_training_job.describe()
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == estimator.model_data

    # the notebook's own helpers: wait for the object, download it, open it
    s3.get_waiter("object_exists").wait(Bucket=s3_bucket, Key="s3-job/output.tar.gz")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket, Prefix="s3-job/")["Contents"]]
    assert {"s3-job/model.tar.gz", "s3-job/output.tar.gz"} <= set(keys)
    s3.download_file(s3_bucket, "s3-job/model.tar.gz", str(tmp_path / "model.tar.gz"))
    with tarfile.open(tmp_path / "model.tar.gz") as archive:
        record = archive.extractfile("contract-algo-1.json").read().decode()
    assert '"training": ["data.csv"]' in record  # the s3:// channel reached the job

    uploaded = S3Uploader.upload(str(tmp_path / "model.tar.gz"), f"s3://{s3_bucket}/copies")
    assert uploaded == f"s3://{s3_bucket}/copies/model.tar.gz"
    assert f"s3://{s3_bucket}/copies/model.tar.gz" in S3Downloader.list(f"s3://{s3_bucket}/copies")
    assert sage_session.upload_data(str(tmp_path / "model.tar.gz"), key_prefix="up") == f"s3://{s3_bucket}/up/model.tar.gz"


def test_a_bucket_boto3_created_is_usable_and_an_unknown_one_is_refused(tmp_path):
    Session().default_bucket()
    boto3.client("s3").create_bucket(Bucket="my-rl-data")
    assert S3Uploader.upload_string_as_file_body("x", "s3://my-rl-data/a.txt") == "s3://my-rl-data/a.txt"
    with pytest.raises(UsageError, match=r"bucket 'nobody-s-bucket', which is not one of rlops's buckets \(.*my-rl-data"):
        RLEstimator(entry_point="contract.py", source_dir=str(SCRIPTS), toolkit="sb3",
                    output_path="s3://nobody-s-bucket/out")
    with pytest.raises(UsageError, match="leaves its bucket"):
        S3Downloader.read_file("s3://my-rl-data/../rlops.db")


CHECKPOINTING = '''
import json, os, pathlib
checkpoints = pathlib.Path(json.loads(os.environ["SM_TRAINING_ENV"])["checkpoint_dir"])
found = sorted(p.name for p in checkpoints.glob("*.ckpt"))
(checkpoints / f"step-{len(found)}.ckpt").write_text("weights")
pathlib.Path(os.environ["SM_MODEL_DIR"], "resumed-from.json").write_text(json.dumps(found))
'''


@pytest.fixture
def users_s3_endpoint(tmp_path, monkeypatch, rlops_home):
    """An S3 endpoint of the user's own, as MinIO would be: another S3 server on loopback with its own keys and
    its own files (rlops's S3 server started for another home), set in boto3's variables."""
    from rlops.runtime.s3 import ensure_endpoint, stop_endpoint

    monkeypatch.setenv("RLOPS_HOME", str(tmp_path / "team-minio"))
    remote = ensure_endpoint()
    monkeypatch.setenv("RLOPS_HOME", str(rlops_home))
    for name, value in (("AWS_ENDPOINT_URL_S3", remote["url"]), ("AWS_ACCESS_KEY_ID", remote["access_key"]),
                        ("AWS_SECRET_ACCESS_KEY", remote["secret_key"]), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    yield remote
    monkeypatch.setenv("RLOPS_HOME", str(tmp_path / "team-minio"))
    stop_endpoint()
    monkeypatch.setenv("RLOPS_HOME", str(rlops_home))


def test_s3_paths_reach_an_s3_endpoint_the_user_configured(users_s3_endpoint, rlops_home, tmp_path):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="team-rl")
    s3.put_object(Bucket="team-rl", Key="inputs/data.csv", Body=b"1,2\n")
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "train.py").write_text(CHECKPOINTING)

    def train(job_name):
        estimator = RLEstimator(entry_point="train.py", source_dir=str(tmp_path / "code"), toolkit=RLToolkit.SB3,
                                instance_type="local", output_path="s3://team-rl/runs",
                                checkpoint_s3_uri="s3://team-rl/checkpoints")
        estimator.fit({"training": "s3://team-rl/inputs"}, logs=False, job_name=job_name)
        return estimator

    first = train("remote-1")
    assert first.model_data == "s3://team-rl/runs/remote-1/model.tar.gz"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="team-rl")["Contents"]}
    assert {"runs/remote-1/model.tar.gz", "runs/remote-1/output.tar.gz", "checkpoints/step-0.ckpt"} <= keys

    # a second job resumes from the checkpoints on the endpoint, not from files rlops kept
    shutil.rmtree(rlops_home / "s3-mirror")
    second = train("remote-2")
    s3.download_file("team-rl", "runs/remote-2/model.tar.gz", str(tmp_path / "model.tar.gz"))
    with tarfile.open(tmp_path / "model.tar.gz") as archive:
        assert archive.extractfile("resumed-from.json").read() == b'["step-0.ckpt"]'
    assert "s3://team-rl/runs/remote-2/model.tar.gz" in S3Downloader.list("s3://team-rl/runs")
    assert second.model_data.startswith("s3://team-rl/")

    # rlops served nothing of its own, and the default bucket is made on the user's endpoint
    assert not (rlops_home / "s3-endpoint.json").exists()
    assert Session().default_bucket() == "rlops-default-bucket"
    s3.head_bucket(Bucket="rlops-default-bucket")
    assert S3Uploader.upload_string_as_file_body("x", "s3://rlops-default-bucket/a.txt") == "s3://rlops-default-bucket/a.txt"
    assert s3.get_object(Bucket="rlops-default-bucket", Key="a.txt")["Body"].read() == b"x"

    with pytest.raises(UsageError, match=r"bucket 'nobody-s-bucket' of the S3 endpoint http://127\.0\.0\.1:\d+ .*answered"):
        RLEstimator(entry_point="train.py", source_dir=str(tmp_path / "code"), toolkit="sb3",
                    output_path="s3://nobody-s-bucket/out")
