"""s3:// paths and boto3 on rlops's buckets, as SageMaker RL notebooks use them (SPEC section 7's layout)."""

from __future__ import annotations

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
