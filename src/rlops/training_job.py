"""A handle on one training job: ``estimator.latest_training_job`` (``describe``, ``wait``, ``stop``).

This is where the runtime service's records are spelled the SageMaker way (``DescribeTrainingJob`` keys).
"""

from __future__ import annotations

import logging
import re
import shutil
import sys
import time
from datetime import datetime, timezone
from typing import Any

from rlops.exceptions import UnexpectedStatusException
from rlops.records import JobRecord, JobStatus, MetricPoint
from rlops.runtime.spec import JobSpec

log = logging.getLogger("rlops")


def _time(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=timezone.utc) if value is not None else None


def describe_job(job: JobRecord, final_metrics: list[MetricPoint]) -> dict[str, Any]:
    """A job as ``DescribeTrainingJob`` shows it."""
    spec = JobSpec.from_dict(job.spec)
    transitions = []
    for i, t in enumerate(job.transitions):
        entry = {"Status": t["status"], "StartTime": _time(t["start_time"]), "StatusMessage": t["message"] or ""}
        end = job.transitions[i + 1]["start_time"] if i + 1 < len(job.transitions) else (job.ended_at if job.is_terminal else None)
        if end is not None:
            entry["EndTime"] = _time(end)
        transitions.append(entry)
    description: dict[str, Any] = {
        "TrainingJobName": job.name,
        "TrainingJobArn": f"arn:rlops:local:training-job/{job.name}",
        "TrainingJobStatus": job.status,
        "SecondaryStatus": job.secondary_status,
        "SecondaryStatusTransitions": transitions,
        "HyperParameters": dict(spec.hyperparameters),
        "AlgorithmSpecification": {
            "TrainingImage": spec.python,
            "TrainingInputMode": "File",
            "MetricDefinitions": list(spec.metric_definitions),
            "EnableSageMakerMetricsTimeSeries": True,
        },
        "RoleArn": "",
        "InputDataConfig": [
            {"ChannelName": name, "DataSource": {"S3DataSource": {"S3Uri": c.uri}},
             **({"ContentType": c.content_type} if c.content_type else {}), "InputMode": c.input_mode}
            for name, c in sorted(spec.channels.items())
        ],
        "OutputDataConfig": {"S3OutputPath": spec.output_path},
        "ResourceConfig": _resource_config(spec),
        "StoppingCondition": {"MaxRuntimeInSeconds": spec.max_run,
                              **({"MaxWaitTimeInSeconds": spec.max_wait} if spec.max_wait else {})},
        "EnableManagedSpotTraining": spec.use_spot,
        "CreationTime": _time(job.created_at),
        "TrainingStartTime": _time(job.started_at),
        "TrainingEndTime": _time(job.ended_at),
        "LastModifiedTime": _time(job.ended_at or job.heartbeat_at or job.created_at),
        "FinalMetricDataList": [
            {"MetricName": p.name, "Value": p.value, "Timestamp": _time(p.timestamp)} for p in final_metrics
        ],
        "Environment": dict(spec.environment),
        "rlops": {"WorkDir": job.work_dir, "LogPath": job.log_path, "SupervisorPid": job.supervisor_pid},
    }
    if job.failure_reason:
        description["FailureReason"] = job.failure_reason
    if job.model_artifacts:
        description["ModelArtifacts"] = {"S3ModelArtifacts": job.model_artifacts}
    if spec.checkpoint_uri:
        description["CheckpointConfig"] = {"S3Uri": spec.checkpoint_uri, "LocalPath": spec.checkpoint_local_path or "/opt/ml/checkpoints"}
    if job.started_at and job.ended_at:
        description.update(spot_times(job))
    if spec.use_spot:
        description["rlops"]["Interruptions"] = [{"Time": _time(i["time"]), "Reason": i["reason"]}
                                                 for i in job.interruptions]
        description["rlops"]["SupervisorRestarts"] = job.restarts
    return description


#: The phases a job's instances are up in: what a spot-style job is billed for. Not while it starts or waits after
#: an interruption for its machine to come back.
BILLED_PHASES = ("Downloading", "Training", "Uploading")


def spot_times(job: JobRecord) -> dict[str, int]:
    """An ended job's ``TrainingTimeInSeconds`` (from start to end, waiting included) and ``BillableTimeInSeconds``
    (the time its instances were up; the same for a job that is not spot-style, as SageMaker reports it)."""
    training = job.ended_at - job.started_at
    billable = sum(job.phase_seconds(p) for p in BILLED_PHASES) if job.spec.get("use_spot") else training
    return {"TrainingTimeInSeconds": int(round(training)), "BillableTimeInSeconds": int(round(min(billable, training)))}


def savings_lines(job: JobRecord) -> str | None:
    """SageMaker's closing lines for an ended job: training and billable seconds, and a spot-style job's savings."""
    if not (job.is_terminal and job.started_at and job.ended_at):
        return None
    times = spot_times(job)
    training, billable = times["TrainingTimeInSeconds"], times["BillableTimeInSeconds"]
    lines = [f"Training seconds: {training}", f"Billable seconds: {billable}"]
    if job.spec.get("use_spot") and training:
        lines.append(f"Managed Spot Training savings: {(1 - billable / training) * 100:.1f}%")
    return "\n".join(lines) + "\n"


def _resource_config(spec: JobSpec) -> dict[str, Any]:
    """SageMaker's ``ResourceConfig``: instance type and count, or the instance groups of a heterogeneous job."""
    if spec.instance_groups:
        return {"InstanceGroups": [{"InstanceGroupName": g["instance_group_name"], "InstanceType": g["instance_type"],
                                    "InstanceCount": g["instance_count"]} for g in spec.instance_groups],
                "VolumeSizeInGB": 0}
    return {"InstanceType": spec.instance_type, "InstanceCount": spec.instance_count, "VolumeSizeInGB": 0}


def check_status(job: JobRecord) -> None:
    """Raise for a job that did not complete; warn for one that was stopped (as SageMaker does)."""
    if job.status == JobStatus.STOPPED:
        reason = f": {job.failure_reason}" if job.failure_reason else ""
        log.warning("Training job %s was stopped (%s)%s", job.name, job.secondary_status, reason)
    elif job.status != JobStatus.COMPLETED:
        reason = job.failure_reason or "(No reason provided)"
        raise UnexpectedStatusException(
            f"Error for Training job {job.name}: {job.status}. Reason: {reason}",
            allowed_statuses=[JobStatus.COMPLETED.value, JobStatus.STOPPED.value], actual_status=job.status.value,
        )


class TrainingJob:
    """``estimator.latest_training_job``: ``describe()``, ``wait()``, ``stop()``."""

    def __init__(self, sagemaker_session: Any, job_name: str):  # an rlops.session.Session
        self.sagemaker_session = sagemaker_session
        self.job_name = job_name

    name = property(lambda self: self.job_name)

    @property
    def _jobs(self):
        return self.sagemaker_session.service.jobs

    def describe(self) -> dict[str, Any]:
        return self.sagemaker_session.describe_training_job(self.job_name)

    def wait(self, logs: Any = "All") -> None:
        """Block until the job ends (streaming its log unless ``logs`` is off, else showing a progress bar on a
        terminal when the job reports its progress); raise if it failed."""
        if logs and logs != "None":
            stream_logs(self.sagemaker_session.service, self.job_name, follow=True)
        elif sys.stderr.isatty():
            show_progress(self.sagemaker_session.service, self.job_name)
        check_status(self._jobs.wait(self.job_name))

    def stop(self) -> None:
        """Ask the job to stop; returns at once (``wait()`` to see it end)."""
        self._jobs.stop(self.job_name)

    def interrupt(self, reason: str | None = None, pause: float = 0.0) -> None:
        """Interrupt a spot-style job as a reclaimed machine would (``rlops jobs interrupt``): its hosts are killed at
        once and it resumes from its latest checkpoint after ``pause`` seconds. Returns at once."""
        self._jobs.interrupt(self.job_name, reason, pause)

    def interrupt_during(self, shares: list[float], pause: float = 0.0, poll: float = 0.5) -> int:
        """Interrupt a running spot-style job when its training reaches each share of its steps in turn (``[1/3,
        2/3]``: twice), to see that it survives; blocks until done or the job has ended. Returns the interruptions
        made. Each share is counted in the attempt running then (after a restart, from the checkpoint's step)."""
        made = 0
        for share in sorted(shares):
            while True:
                job = self._jobs.describe(self.job_name)
                if job.is_terminal:
                    return made
                progress = self.progress() if len(job.interruptions) == made else None
                if progress and progress[0] >= share * progress[1] and job.secondary_status == "Training":
                    self.interrupt(f"Interrupted: interrupt_during, at {share:.0%} of the steps", pause)
                    made += 1
                    break
                time.sleep(poll)
        return made

    def progress(self) -> tuple[int, int] | None:
        """``(steps done, steps in all)`` from the job's latest ``Progress>`` line in its current attempt (a
        spot-style job that restarted counts from its checkpoint), or None before the first."""
        text = "".join(self._jobs.logs(self.job_name)).rpartition("Restarting - ")[2]
        found = PROGRESS.search(text, max(0, text.rfind("\nProgress> ") + 1))
        return (int(found[1]), int(found[2])) if found else None

    def __repr__(self) -> str:
        return f"TrainingJob({self.job_name!r})"


#: The line a launcher prints after each update: steps done of the total, and the recent mean return.
PROGRESS = re.compile(r"^Progress> steps=(\d+)/(\d+)(?:, recent return=([^,\s]+))?(?:, reward per step=(\S+))?", re.M)


def show_progress(service, job_name: str, out=None) -> None:
    """Follow a job's log until it ends, drawing its ``Progress>`` lines as one updating progress bar (tqdm): steps
    done, recent return, rate and time left. Jobs that print no such line show nothing."""
    from tqdm import tqdm

    bar, pending = None, ""
    try:
        for chunk in service.jobs.logs(job_name, follow=True):
            *lines, pending = (pending + chunk).split("\n")
            for line in lines:
                match = PROGRESS.match(line)
                if not match:
                    continue
                steps, total = int(match[1]), int(match[2])
                if bar is None:
                    size = shutil.get_terminal_size((100, 20))  # a terminal of unknown size says 0 x 0, and tqdm
                    bar = tqdm(total=total, initial=steps, unit="step", unit_scale=True, desc="training",  # hides
                               file=out or sys.stderr, ncols=size.columns or 100, nrows=size.lines or 20,  # its bar
                               smoothing=0.1)
                bar.update(steps - bar.n)
                shown = [f"recent return {float(match[3]):,.1f}" if match[3] else None,
                         f"reward/step {float(match[4]):.3g}" if match[4] else None]
                if any(shown):
                    bar.set_postfix_str(", ".join(filter(None, shown)))
    finally:
        if bar is not None:
            bar.close()


def stream_logs(service, job_name: str, follow: bool = True, out=None) -> None:
    """Copy a job's log to ``out`` (stdout), following it while the job runs."""
    out = out or sys.stdout
    for chunk in service.jobs.logs(job_name, follow=follow):
        out.write(chunk)
        out.flush()
    closing = savings_lines(service.jobs.describe(job_name)) if follow else None
    if closing:
        out.write(closing)
        out.flush()
