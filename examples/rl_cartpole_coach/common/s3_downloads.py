"""Waiting for a job's S3 objects and downloading them, as SageMaker RL's notebooks do (their common/misc.py;
written here for rlops). They use boto3, which rlops points at its own S3 endpoint."""
import os
import tarfile
import time

import boto3


def wait_for_s3_object(s3_bucket, key, local_dir, local_prefix="", timeout=600, fetch_only=None):
    """Wait until objects exist under s3://s3_bucket/key, download them into local_dir; returns the local paths."""
    s3 = boto3.resource("s3")
    bucket = s3.Bucket(s3_bucket)
    deadline = time.time() + timeout
    while True:
        objects = [o for o in bucket.objects.filter(Prefix=key) if fetch_only is None or fetch_only(o)]
        if objects:
            break
        if time.time() > deadline:
            raise TimeoutError("s3://{}/{} did not appear within {} s".format(s3_bucket, key, timeout))
        time.sleep(2)
    paths = []
    for obj in objects:
        target = os.path.join(local_dir, local_prefix, os.path.basename(obj.key))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        bucket.download_file(obj.key, target)
        paths.append(target)
    return paths


def extract_tar(path, target):
    with tarfile.open(path) as archive:
        archive.extractall(target, filter="data")
