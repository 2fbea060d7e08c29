"""Training jobs on an existing Ray cluster, through Ray's Jobs API.

``instance_type="ray"`` (the cluster's address in ``RLOPS_RAY_ADDRESS``) or
``instance_type="ray:http://head:8265"`` runs a job on a cluster that is already up. The SDK checks
that the address answers before it records anything; the supervisor lays the job out as for a local
job and, instead of starting the entry point itself, starts ``python -m rlops.runtime.ray_jobs`` as
the job's one host. That process:

1. submits the entry point to the cluster under the job's name, with the job's code folder as Ray's
   working directory, the host's ``SM_*`` variables as the Ray job's environment, and rlops itself
   shipped along (``py_modules``), so the cluster needs Ray and the job's libraries, not rlops;
2. prints the Ray job's log as it comes, so the supervisor extracts metrics and keeps the log as for
   any job;
3. turns SIGTERM (a stop request, ``max_run``) into a stop of the Ray job, and exits with the Ray
   job's outcome: 0 when it succeeded, the driver's exit code when the script failed, and a reason in
   the host's ``output/failure`` file when the cluster did.

The script writes its model, checkpoints and output by the absolute paths in its ``SM_*`` variables,
as on a local job, so the node that runs the driver must see rlops's home: a cluster on this machine,
or one that mounts the same shared filesystem (Ray Train asks the same of multi-node outputs). A node
that does not see it fails the job at once, saying so. Inside the job, ``RLOPS_RAY_CLUSTER`` tells the
RLlib launcher to connect to the cluster rather than start a Ray of its own.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

from rlops.exceptions import UsageError

#: Where a job with ``instance_type="ray"`` is submitted: the cluster's dashboard (Jobs API) address.
ADDRESS_ENV = "RLOPS_RAY_ADDRESS"
#: Set in a Ray-cluster job's environment to the cluster's address.
CLUSTER_ENV = "RLOPS_RAY_CLUSTER"
RAY_INSTANCE_TYPE = "ray"
CONNECT_TIMEOUT_S = 5.0
#: Variables of a host's environment that the Ray job gets (besides the job's own ``environment``).
FORWARDED_PREFIXES = ("SM_", "TRAINING_JOB_NAME", "SAGEMAKER_JOB_NAME", "CURRENT_HOST", "PYTHONUNBUFFERED")


def is_ray_instance(instance_type: str) -> bool:
    """``ray`` or ``ray:<address>``: the job runs on an existing Ray cluster."""
    return instance_type == RAY_INSTANCE_TYPE or instance_type.startswith(RAY_INSTANCE_TYPE + ":")


def cluster_address(instance_type: str) -> str:
    """The Jobs API address a ``ray`` instance type names, checked to answer within seconds."""
    address = instance_type.partition(":")[2] or os.environ.get(ADDRESS_ENV, "")
    if not address:
        raise UsageError(f"instance_type={instance_type!r} runs the job on an existing Ray cluster, but no address "
                         f"is set: set {ADDRESS_ENV} to the cluster's dashboard address (e.g. http://head:8265), or "
                         "name it in the instance type (instance_type='ray:http://head:8265').")
    if "://" not in address:
        address = f"http://{address}"
    parsed = urlparse(address)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UsageError(f"The Ray cluster address {address!r} is not an http(s) address of a Ray dashboard such as "
                         "http://head:8265 (Ray Client addresses, ray://..., are not the Jobs API).")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        socket.create_connection((parsed.hostname, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise UsageError(f"The Ray cluster at {address} does not answer ({exc}). Start one with `ray start --head` "
                         f"(its Jobs API listens on port 8265), or point {ADDRESS_ENV} at a running one.") from None
    return address


def entrypoint(command: list[str], job_folder: Path) -> str:
    """The shell command the cluster runs: a check that its node sees the job's folders, then the entry point."""
    missing = (f"rlops: this Ray node does not see the job's folder {job_folder}; a job on a Ray cluster writes its "
               "model and checkpoints there, so the cluster must share rlops's home (RLOPS_HOME) with this machine")
    return (f"if [ ! -d {shlex.quote(str(job_folder))} ]; then echo {shlex.quote(missing)} >&2; exit 3; fi; "
            f"exec {shlex.join(command)}")


def runtime_env(working_dir: Path, environment: dict[str, str], address: str, grace_s: float,
                also: list[str] = ()) -> dict:
    import rlops

    env_vars = {k: v for k, v in environment.items() if k.startswith(FORWARDED_PREFIXES) or k in also}
    env_vars.update({CLUSTER_ENV: address, "RAY_JOB_STOP_WAIT_TIME_S": str(int(grace_s))})
    return {"working_dir": str(working_dir), "env_vars": env_vars, "py_modules": [str(Path(rlops.__file__).parent)],
            "excludes": ["__pycache__"]}


class RayJob:
    """One submitted Ray job, followed from this process."""

    def __init__(self, address: str, submission_id: str, failure_file: Path):
        from ray.job_submission import JobSubmissionClient

        self.address, self.submission_id, self.failure_file = address, submission_id, failure_file
        self.client = JobSubmissionClient(address)
        self.stop_requested = False

    def submit(self, entry: str, env: dict) -> None:
        self.client.submit_job(entrypoint=entry, runtime_env=env, submission_id=self.submission_id,
                               metadata={"rlops_job": self.submission_id})
        print(f"rlops: submitted Ray job {self.submission_id} to {self.address}", flush=True)

    async def follow(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        async for chunk in self.client.tail_job_logs(self.submission_id):
            sys.stdout.write(chunk)
            sys.stdout.flush()

    def request_stop(self) -> None:
        if not self.stop_requested:
            self.stop_requested = True
            print(f"rlops: stopping Ray job {self.submission_id}", flush=True)
            self.client.stop_job(self.submission_id)

    def outcome(self) -> int:
        """The exit code that tells the supervisor how the Ray job ended (and why, in the failure file)."""
        from ray.job_submission import JobStatus

        info = self.client.get_job_info(self.submission_id)
        print(f"rlops: Ray job {self.submission_id} {info.status.value}", flush=True)
        if info.status == JobStatus.SUCCEEDED:
            return 0
        if info.status == JobStatus.STOPPED:
            if not self.stop_requested:
                self.fail(f"the Ray job {self.submission_id} was stopped on the cluster at {self.address}.")
            return 143
        if info.driver_exit_code and getattr(info.error_type, "value", info.error_type) == "JOB_ENTRYPOINT_COMMAND_ERROR":
            return info.driver_exit_code  # the script failed: its traceback is in the log
        self.fail(f"the Ray job {self.submission_id} on {self.address} failed: {info.message}")
        return 1

    def fail(self, reason: str) -> None:
        self.failure_file.parent.mkdir(parents=True, exist_ok=True)
        self.failure_file.write_text(f"AlgorithmError: {reason}")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rlops.runtime.ray_jobs",
                                     description="Run one host of an rlops job as a Ray job on an existing cluster, "
                                                 "printing its log, until it ends.")
    parser.add_argument("--address", required=True, help="the cluster's Jobs API address, e.g. http://head:8265")
    parser.add_argument("--submission-id", required=True, help="the Ray job's id: the rlops job's name")
    parser.add_argument("--working-dir", required=True, type=Path, help="the code folder Ray uploads")
    parser.add_argument("--job-folder", required=True, type=Path, help="the folder the driver's node must see")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL on a stop")
    parser.add_argument("--env", action="append", default=[], metavar="NAME",
                        help="a variable of this process's environment the Ray job gets too (the job's own)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the entry point's command line")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    failure = Path(os.environ.get("SM_OUTPUT_DIR", ".")) / "failure"
    try:
        job = RayJob(args.address, args.submission_id, failure)
        job.submit(entrypoint(command, args.job_folder),
                   runtime_env(args.working_dir, dict(os.environ), args.address, args.grace, args.env))
    except Exception as exc:  # the cluster refused or could not be reached: nothing runs there
        failure.parent.mkdir(parents=True, exist_ok=True)
        failure.write_text(f"ClientError: could not submit the job to the Ray cluster at {args.address}: {exc}")
        print(failure.read_text(), flush=True)
        return 2
    asyncio.run(job.follow())
    return job.outcome()


if __name__ == "__main__":
    sys.exit(main())
