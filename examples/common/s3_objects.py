"""Waiting for a job's S3 objects and downloading them with boto3, as SageMaker RL's notebooks do (boto3 reaches
rlops's own S3 endpoint, or yours when AWS_ENDPOINT_URL_S3 names one). Written here for rlops."""
import os
import tarfile
import time

import boto3

import rlops


def wait_for_s3_object(s3_bucket, key, local_dir, local_prefix="", timeout=600, limit=20, fetch_only=None,
                       training_job_name=None):
    """Wait until objects exist under s3://s3_bucket/key and download the last ``limit`` of them into
    local_dir; returns the local paths. With ``training_job_name``, stop waiting if that job failed."""
    s3 = boto3.resource("s3")
    bucket = s3.Bucket(s3_bucket)
    deadline = time.time() + timeout
    while True:
        objects = [o for o in bucket.objects.filter(Prefix=key) if fetch_only is None or fetch_only(o)]
        if objects:
            break
        if training_job_name and _failed(training_job_name):
            raise RuntimeError("Training job {} failed while waiting for s3://{}/{}".format(training_job_name, s3_bucket, key))
        if time.time() > deadline:
            raise TimeoutError("s3://{}/{} did not appear within {} s".format(s3_bucket, key, timeout))
        time.sleep(2)
    paths = []
    for obj in sorted(objects, key=lambda o: o.last_modified)[-limit:]:
        target = os.path.join(local_dir, local_prefix, os.path.basename(obj.key))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        bucket.download_file(obj.key, target)
        paths.append(target)
    return paths


def _failed(training_job_name):
    status = rlops.Session().describe_training_job(training_job_name)["TrainingJobStatus"]
    return status in ("Failed", "Stopped")


def extract_tar(path, target):
    with tarfile.open(path) as archive:
        archive.extractall(target, filter="data")
