"""The process that runs one training job to its end, whoever started it.

``python -m rlops.runtime.supervisor JOB_NAME`` is started by :mod:`rlops.runtime.local` in a
session of its own, so it outlives the notebook or script that called ``fit()``. It:

1. lays out each host's base directory, copies code and dependencies, restores checkpoints,
   fills the channels and installs ``requirements.txt`` (``Downloading``);
2. starts the entry point once per host, each in its own process group, and merges their output
   into one unbuffered log, extracting metrics from each line as it arrives (``Training``);
3. heartbeats, honours stop requests and ``max_run`` (SIGTERM, a grace period, SIGKILL), and
   syncs ``checkpoints/`` and ``output/intermediate/`` while the job runs;
4. packages ``model.tar.gz`` and ``output.tar.gz`` atomically and records the outcome
   (``Uploading``, then ``Completed``, ``Failed`` or ``Stopped``).
"""

from __future__ import annotations

import collections
import ctypes
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

from rlops.exceptions import UsageError
from rlops.runtime.layout import (
    ENDED_MARKER, RENDEZVOUS_ENV, HostLayout, entry_command, job_environment, write_config,
)
from rlops.runtime.metrics import MetricExtractor
from rlops.runtime.s3 import boto3_environment
from rlops.runtime.spec import JobSpec
from rlops.runtime.standby import GO, standby_command
from rlops.runtime.transfer import fill_channel, sync_tree
from rlops.storage.remote import fetch, publish
from rlops.settings import rlops_home
from rlops.records import JobStatus, MetricPoint, SecondaryStatus
from rlops.storage import pack, resolve_uri, to_uri
from rlops.store import JobStore

log = logging.getLogger("rlops.supervisor")

POLL_S = 0.05
HEARTBEAT_S = 1.0
SYNC_S = 5.0
TAIL_LINES = 40
MAX_REASON = 1024


class SetupError(Exception):
    """The job could not start: a user-side problem reported as a ``ClientError``."""


@dataclass
class Host:
    name: str
    layout: HostLayout
    checkpoints: Path
    process: subprocess.Popen | None = None
    standby: subprocess.Popen | None = None  # a spot-style job's warm next attempt (:mod:`rlops.runtime.standby`)
    tail: collections.deque = field(default_factory=lambda: collections.deque(maxlen=TAIL_LINES))
    reader: threading.Thread | None = None


class Supervisor:
    def __init__(self, name: str, store: JobStore | None = None):
        self.store = store or JobStore()
        job = self.store.get(name)
        self.spec = JobSpec.from_dict(job.spec)
        self.work_dir = Path(job.work_dir)
        self.log_file = open(job.log_path, "ab", buffering=0)
        self.log_lock = threading.Lock()
        self.extractor = MetricExtractor(self.spec.metric_definitions)
        self.pending: queue.SimpleQueue[MetricPoint] = queue.SimpleQueue()
        self.output_dir = self.spec.output_dir
        self.checkpoint_target = resolve_uri(self.spec.checkpoint_uri, "checkpoint_uri") if self.spec.checkpoint_uri else None
        self.several_hosts = len(self.spec.hosts) > 1  # log lines, failure reasons and folders name their host
        self.site_packages: Path | None = None  # where requirements.txt was installed, if the job has one
        self.compat: list[Path] = []  # rlops.compat's folder, when the job needs a stand-in
        self.hosts = []
        for host in self.spec.hosts:
            layout = HostLayout(self.work_dir / "hosts" / host)
            self.hosts.append(Host(host, layout, layout.checkpoints(self.spec, host)))
        self.terminate_signal = threading.Event()
        self.own_folders = {rlops_home(), self.work_dir.resolve()}
        self.started_at = time.time()  # when the job started (run() reads it back for a job it resumes)
        self.trained_s = 0.0  # training time of earlier attempts (a spot-style job that was interrupted)
        self.pause = 0.0  # how long an asked-for interruption keeps the job waiting before it restarts

    # -- the job's life -------------------------------------------------------------------------

    def run(self, resumed: bool = False) -> None:
        """Run the job to its end. ``resumed``: this supervisor replaces one that was lost (a spot-style job), so
        the job is recorded as interrupted and restarted from its checkpoints."""
        name = self.spec.name
        signal.signal(signal.SIGTERM, lambda *_: self.terminate_signal.set())
        status, secondary, reason = JobStatus.FAILED, SecondaryStatus.FAILED, None
        if resumed:
            interruption = {"reason": "Interrupted: the job's supervisor was lost (the machine or the process died)",
                            "pause": 0.0}
            self.started_at = self.store.get(name).started_at or time.time()
        else:
            self.started_at = time.time()
            self.store.update(name, started_at=self.started_at)
            self.announce("Starting - Preparing the instances for training")
            interruption = None
        try:
            while True:
                if interruption is not None:
                    ended = self.interrupted(interruption)
                    if ended is not None:
                        status, secondary, reason = ended
                        break
                self.store.transition(name, SecondaryStatus.DOWNLOADING, "Downloading input data")
                self.announce("Downloading - Downloading input data and code")
                self.prepare()
                if self.spec.toolkit == "coach" and interruption is None:
                    self.announce(f"rlops: RLToolkit.COACH (toolkit_version {self.spec.toolkit_version or 'any'}, "
                                  f"framework {self.spec.framework or 'any'}) runs on the Stable-Baselines3 toolkit "
                                  "(PyTorch); Coach's presets and launchers are translated (rl_coach on the job's path)")
                self.store.transition(name, SecondaryStatus.TRAINING,
                                      "Training image download completed. Training in progress.")
                self.announce("Training - Training in progress")
                status, secondary, reason = self.train()
                if secondary != SecondaryStatus.INTERRUPTED:
                    break
                interruption = {"reason": reason, "pause": self.pause}
                self.pause = 0.0
                self.sync()  # the checkpoints the hosts wrote before they were killed
        except (SetupError, UsageError) as exc:  # the job's input, not rlops, is at fault
            status, secondary, reason = JobStatus.FAILED, SecondaryStatus.FAILED, f"ClientError: {exc}"
        except Exception as exc:  # the supervisor's own failure: record it rather than die silently
            log.exception("supervisor failed")
            status, secondary = JobStatus.FAILED, SecondaryStatus.FAILED
            reason = f"InternalServerError: {type(exc).__name__}: {exc}"
        finally:
            self.kill_all(standbys=True)
        fields = {"failure_reason": _truncate(reason)}
        try:
            self.store.transition(name, SecondaryStatus.UPLOADING, "Uploading generated training model")
            self.announce("Uploading - Uploading generated training model")
            fields.update(self.upload(keep_model=status != JobStatus.FAILED))
        except Exception as exc:
            log.exception("upload failed")
            status, secondary = JobStatus.FAILED, SecondaryStatus.FAILED
            fields["failure_reason"] = f"InternalServerError: could not package the job's artifacts: {exc}"
        self.flush_metrics()
        endings = {JobStatus.COMPLETED: "Training job completed", JobStatus.STOPPED: "Training job stopped"}
        message = endings.get(status, fields["failure_reason"])
        self.announce(f"{secondary} - {message}")
        self.store.finish(name, status, secondary, message, **fields)
        self.log_file.close()
        (self.work_dir / ENDED_MARKER).touch()  # lets followers notice the end without polling the store

    def interrupted(self, interruption: dict) -> tuple[JobStatus, SecondaryStatus, str] | None:
        """Record an interruption of a spot-style job, wait out its pause (the machine coming back), and record the
        restart; or the job's end when ``max_wait`` has passed or a stop was asked for meanwhile."""
        name, spec = self.spec.name, self.spec
        self.store.transition(name, SecondaryStatus.INTERRUPTED, interruption["reason"])
        self.announce(f"Interrupted - {interruption['reason']}")
        resume_at = time.monotonic() + float(interruption.get("pause") or 0)
        while True:
            if self.terminate_signal.is_set():
                return JobStatus.STOPPED, SecondaryStatus.STOPPED, None
            if self.max_wait_passed():
                return (JobStatus.FAILED, SecondaryStatus.MAX_WAIT_TIME_EXCEEDED,
                        f"MaxWaitTimeExceeded: the job did not complete within max_wait={spec.max_wait} s of "
                        f"starting (training and waiting after {len(self.store.get(name).interruptions)} "
                        "interruption(s)).")
            if time.monotonic() >= resume_at:
                break
            if self.store.heartbeat(name).stop:
                self.terminate_signal.set()
            time.sleep(min(HEARTBEAT_S, max(POLL_S, resume_at - time.monotonic())))
        self.store.transition(name, SecondaryStatus.RESTARTING, "Restarting the job from its latest checkpoint")
        self.announce("Restarting - Restarting the job from its latest checkpoint")
        return None

    def max_wait_passed(self) -> bool:
        return bool(self.spec.use_spot and self.spec.max_wait and time.time() - self.started_at > self.spec.max_wait)

    def prepare(self) -> None:
        spec = self.spec
        for host in self.hosts:
            layout = host.layout
            if self.checkpoint_target:  # a restarted job: what an earlier attempt wrote, before its folder goes
                sync_tree(host.checkpoints, self.checkpoint_target)
            if layout.base.exists():
                shutil.rmtree(layout.base)
            layout.make_dirs()
            shutil.copytree(spec.source_dir, layout.code, dirs_exist_ok=True, symlinks=True,
                            ignore=self._ignore_own_folders)
            for dependency in spec.dependencies:
                dep = Path(dependency)
                if dep.is_dir():
                    shutil.copytree(dep, layout.code / dep.name, dirs_exist_ok=True, symlinks=True)
                else:
                    shutil.copy2(dep, layout.code / dep.name)
            if not (layout.code / spec.entry_point).is_file():
                raise SetupError(f"The entry point {spec.entry_point!r} is not in the code folder {spec.source_dir}.")
            write_config(spec, host.name, layout)
            for channel_name, channel in spec.channels.items():
                source = resolve_uri(channel.uri, f"channel {channel_name!r}")
                if not source.exists():
                    raise SetupError(f"The input of channel {channel_name!r} ({channel.uri}) no longer exists.")
                fill_channel(source, layout.channel(channel_name))
            host.checkpoints.mkdir(parents=True, exist_ok=True)
            if self.checkpoint_target and host is self.hosts[0]:
                fetch(self.checkpoint_target)  # from the user's S3 endpoint, when it is there
            if self.checkpoint_target and self.checkpoint_target.is_dir():
                restored = sync_tree(self.checkpoint_target, host.checkpoints)
                if restored and host is self.hosts[0]:
                    self.announce(f"Restored {restored} checkpoint file(s) from {spec.checkpoint_uri}")
        requirements = self.hosts[0].layout.code / "requirements.txt"
        if requirements.is_file():
            self.install_requirements(requirements)
        self.use_compat()

    def _ignore_own_folders(self, folder: str, names: list[str]) -> list[str]:
        """Skip rlops's own state when a source folder contains it (``RLOPS_HOME`` inside a project)."""
        return [n for n in names if Path(folder, n).resolve() in self.own_folders]

    def install_requirements(self, requirements: Path) -> None:
        target = self.work_dir / "site-packages"
        self.announce(f"Installing {requirements.name} into {target}")
        command = [self.spec.python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                   "--target", str(target), "-r", str(requirements)]
        proc = subprocess.Popen(command, cwd=requirements.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        tail: collections.deque = collections.deque(maxlen=TAIL_LINES)
        self.pump(proc.stdout, None, tail, extract=False)
        if proc.wait() != 0:
            raise SetupError(f"Installing requirements.txt failed (pip exit code {proc.returncode}):\n" + "".join(tail))
        self.site_packages = target

    def train(self) -> tuple[JobStatus, SecondaryStatus, str | None]:
        spec = self.spec
        for host in self.hosts:  # start every host before any reader thread (fork safety)
            env = {**os.environ, **boto3_environment(start=False), **spec.environment,
                   **job_environment(spec, host.name, host.layout, host.checkpoints), "PYTHONUNBUFFERED": "1",
                   RENDEZVOUS_ENV: str(self.work_dir / "rendezvous")}
            extra = [p for p in (self.site_packages, host.layout.code, *self.compat) if p]
            env["PYTHONPATH"] = os.pathsep.join([*map(str, extra), *filter(None, [env.get("PYTHONPATH")])])
            command = entry_command(spec, host.layout)
            if host.standby is not None and host.standby.poll() is None:  # a restart: the warm one takes over
                host.process, host.standby = host.standby, None
                host.process.stdin.write(GO)
                host.process.stdin.close()
            else:
                host.process = self.start_host(command, host, env, stdin=subprocess.DEVNULL)
            if self.warm_restarts(command):
                argv, standby_env = standby_command(command, spec.toolkit, host.layout.code, env)
                host.standby = self.start_host(argv, host, standby_env, stdin=subprocess.PIPE)
        for host in self.hosts:
            host.reader = threading.Thread(target=self.pump, args=(host.process.stdout, host.name, host.tail), daemon=True)
            host.reader.start()
        began = time.monotonic()
        deadline = began + spec.max_run - self.trained_s  # max_run counts training time over every attempt
        next_beat = next_sync = 0.0
        outcome = None
        interrupt = None
        while outcome is None:
            time.sleep(POLL_S)
            now = time.monotonic()
            failed = next((h for h in self.hosts if h.process.poll() not in (None, 0)), None)
            if interrupt is not None:  # asked for: its hosts were killed at the heartbeat that read it
                self.pause = float(interrupt.get("pause") or 0)
                outcome = (JobStatus.IN_PROGRESS, SecondaryStatus.INTERRUPTED, interrupt["reason"])
            elif failed and spec.use_spot and failed.process.returncode == -signal.SIGKILL:
                outcome = (JobStatus.IN_PROGRESS, SecondaryStatus.INTERRUPTED,
                           f"Interrupted: the host {failed.name} was killed (SIGKILL) by the system")
            elif failed:
                outcome = (JobStatus.FAILED, SecondaryStatus.FAILED, self.failure_reason(failed))
            elif all(h.process.poll() == 0 for h in self.hosts):
                outcome = (JobStatus.COMPLETED, SecondaryStatus.COMPLETED, None)
            elif self.terminate_signal.is_set():
                outcome = (JobStatus.STOPPED, SecondaryStatus.STOPPED, None)
            elif now >= deadline:
                outcome = (JobStatus.STOPPED, SecondaryStatus.MAX_RUNTIME_EXCEEDED,
                           f"MaxRuntimeExceeded: the job ran longer than max_run={spec.max_run} s and was stopped.")
            elif self.max_wait_passed():
                outcome = (JobStatus.FAILED, SecondaryStatus.MAX_WAIT_TIME_EXCEEDED,
                           f"MaxWaitTimeExceeded: the job did not complete within max_wait={spec.max_wait} s of "
                           "starting.")
            if now >= next_beat:
                next_beat = now + HEARTBEAT_S
                requests = self.store.heartbeat(spec.name)
                if requests.stop:
                    self.terminate_signal.set()
                if requests.interrupt is not None and spec.use_spot:
                    interrupt = requests.interrupt
                    self.store.update(spec.name, interrupt_requested=None)
                    for host in self.hosts:  # a reclaimed machine does not wait: no grace period
                        _kill_session(host.process.pid)
                self.flush_metrics()
            if now >= next_sync:
                next_sync = now + SYNC_S
                self.sync()
        self.trained_s += time.monotonic() - began
        if outcome[1] == SecondaryStatus.INTERRUPTED:
            self.kill_all()
        elif outcome[0] != JobStatus.COMPLETED:
            self.stop_hosts()
        for host in self.hosts:
            host.reader.join(timeout=5)
        return outcome

    @staticmethod
    def start_host(command: list[str], host: Host, env: dict[str, str], stdin) -> subprocess.Popen:
        """A host process in a session of its own (what it starts stays in it), killed if the supervisor dies."""
        return subprocess.Popen(command, cwd=host.layout.code, env=env, stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)

    def warm_restarts(self, command: list[str]) -> bool:
        """Whether a spot-style job keeps a warm stand-in for its next attempt: a Python script run by rlops's own
        interpreter (another interpreter may not have rlops)."""
        return (self.spec.use_spot and len(command) >= 2 and command[0] == sys.executable
                and command[1].endswith(".py"))

    def use_compat(self) -> None:
        """rlops's stand-ins (:mod:`rlops.compat`: ``gym``, ``rl_coach``) go on the job's path when its
        Python lacks the real packages, and its ``sagemaker_rl.ray_launcher`` always; last, after the job's own
        code and requirements."""
        from rlops.compat import COMPAT_PATH, PROVIDES, STARTUP_PATH

        self.compat = [STARTUP_PATH]
        missing = _missing_modules(self.spec.python, PROVIDES)
        if missing:
            self.compat = [COMPAT_PATH, STARTUP_PATH]
            what = {"gym": "gym 0.x environments on Gymnasium", "rl_coach": "Coach presets on Stable-Baselines3"}
            self.announce(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed for the job: "
                          f"using rlops's compatibility layer ({'; '.join(what[m] for m in missing)})")

    def failure_reason(self, host: Host) -> str:
        written = host.layout.failure_file
        if written.is_file() and written.read_text().strip():
            return written.read_text().strip()
        tail = list(host.tail)
        start = max((i for i, line in enumerate(tail) if line.startswith("Traceback")), default=max(0, len(tail) - 10))
        message = "".join(tail[start:]).strip()
        where = f" on {host.name}" if self.several_hosts else ""
        return f"AlgorithmError: ExecuteUserScriptError: exit code {host.process.returncode}{where}\n{message}".strip()

    def stop_hosts(self) -> None:
        """SIGTERM every host's process group, wait the grace period, then SIGKILL."""
        running = [h for h in self.hosts if h.process and h.process.poll() is None]
        if not running:
            return
        self.announce(f"Stopping - sending SIGTERM; grace period {self.spec.stop_grace_s:g} s")
        for host in running:
            _signal_group(host.process, signal.SIGTERM)
        deadline = time.monotonic() + self.spec.stop_grace_s
        while time.monotonic() < deadline and any(h.process.poll() is None for h in running):
            time.sleep(POLL_S)
        for host in running:
            if host.process.poll() is None:
                self.announce(f"Killing {host.name} (SIGKILL) after the grace period")
            _signal_group(host.process, signal.SIGKILL)
            host.process.wait()

    def kill_all(self, standbys: bool = False) -> None:
        """SIGKILL every host and whatever it started (a Ray node, say), even after the host itself died; with
        ``standbys``, the warm stand-ins for a next attempt too (the job has ended)."""
        for host in self.hosts:
            if host.process:
                _kill_session(host.process.pid)
                host.process.wait()
            if standbys and host.standby is not None:
                _kill_session(host.standby.pid)
                host.standby.wait()
                host.standby = None

    # -- output -------------------------------------------------------------------------------

    def pump(self, stream: IO[bytes], host: str | None, tail: collections.deque, extract: bool = True) -> None:
        """Copy a process's output into the job log line by line, extracting metrics."""
        prefix = f"{host} | ".encode() if host and self.several_hosts else b""
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            tail.append(line)
            with self.log_lock:
                self.log_file.write(prefix + raw if raw.endswith(b"\n") else prefix + raw + b"\n")
            if extract:
                for point in self.extractor.extract(line.rstrip("\n"), host):
                    self.pending.put(point)
        stream.close()

    def announce(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with self.log_lock:
            self.log_file.write(f"{stamp} {message}\n".encode())

    def flush_metrics(self) -> None:
        points = []
        while True:
            try:
                points.append(self.pending.get_nowait())
            except queue.Empty:
                break
        self.store.add_metrics(self.spec.name, points)

    def sync(self) -> None:
        """Copy new checkpoints to ``checkpoint_uri`` and intermediate output to the job's output."""
        for host in self.hosts:
            if self.checkpoint_target and sync_tree(host.checkpoints, self.checkpoint_target):
                publish(self.checkpoint_target)
            target = self.spec.intermediate_dir
            if sync_tree(host.layout.output_intermediate, target / host.name if self.several_hosts else target):
                publish(target)

    def upload(self, keep_model: bool) -> dict[str, str]:
        self.sync()
        fields = {}
        layouts = [h.layout for h in self.hosts]
        if keep_model:
            pack([l.model for l in layouts], self.spec.model_archive)
            fields["model_artifacts"] = to_uri(self.spec.model_archive)
        # SageMaker's local mode archived the output folder itself (data/...), the cloud its data folder's contents
        pack([l.output_data for l in layouts], self.output_dir / "output.tar.gz",
             prefix="data" if self.spec.output_layout == "local" else "")
        fields["output_artifacts"] = to_uri(self.output_dir / "output.tar.gz")
        for archive in (self.spec.model_archive, self.output_dir / "output.tar.gz"):
            if archive.is_file():
                publish(archive)  # to the user's S3 endpoint, when the output path is there
        return fields


def _missing_modules(python: str, names: tuple[str, ...]) -> list[str]:
    """The modules of ``names`` that ``python`` cannot import (asked of it, as it may be another environment)."""
    code = ("import importlib.util, sys; "
            f"print(' '.join(n for n in {list(names)!r} if importlib.util.find_spec(n) is None))")
    if python == sys.executable:
        import importlib.util

        return [n for n in names if importlib.util.find_spec(n) is None]
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=False).stdout
    return out.split()


def _truncate(reason: str | None) -> str | None:
    """SageMaker's 1,024-character limit on ``FailureReason``, keeping the end (the error itself)."""
    if reason is None or len(reason) <= MAX_REASON:
        return reason
    head = reason.split("\n", 1)[0][:200]
    return f"{head}\n...\n{reason[-(MAX_REASON - len(head) - 5):]}"


def _kill_session(sid: int) -> None:
    """SIGKILL every process of session ``sid``: each host runs in a session of its own, and what it starts
    stays in it whatever process group it makes for itself."""
    for pid in psutil.pids():
        try:
            if os.getsid(pid) == sid:
                os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGKILL if the supervisor dies, so no host outlives its job (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rlops.runtime.supervisor",
                                     description="Run one recorded training job to its end.")
    parser.add_argument("job_name")
    parser.add_argument("--store", help="the job store's database URL (default: RLOPS_DATABASE_URL or RLOPS_HOME's)")
    parser.add_argument("--resume", action="store_true",
                        help="take over a spot-style job whose supervisor was lost: resume it from its checkpoints")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    Supervisor(args.job_name, JobStore(args.store)).run(resumed=args.resume)
    return 0


if __name__ == "__main__":
    sys.exit(main())
