"""A Ray cluster across a job's hosts, on loopback, with a token of the job's own.

``instance_count=N`` runs the entry point once per host. Host ``algo-1`` starts the Ray head and
publishes its address and the cluster's token in the job's rendezvous folder
(``RLOPS_RENDEZVOUS_DIR``); every other host waits for that file, joins the head with its share of
the machine's CPUs and a ``host:<name>`` resource, says so in the folder, and keeps its node up
until the driver on ``algo-1`` writes ``done``. The rendezvous is files, not sleeps; each wait has
a deadline and ends with an error that names the host that did not come.

Ray advertises its nodes on the machine's network address even when every node is on this
machine; :func:`use_loopback` makes the Ray code in a process use 127.0.0.1 instead, and
``python -m rlops.toolkits.rllib.cluster start ...`` is ``ray start`` with that applied (tests start
an "existing" loopback cluster with it too).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rlops.exceptions import UsageError
from rlops.storage import write_text

RENDEZVOUS_ENV = "RLOPS_RENDEZVOUS_DIR"  # set by the runtime (rlops.runtime.layout), read here
JOIN_TIMEOUT_S = 120.0
#: What ``ray start`` prints once its node has registered with the head.
STARTED = "Ray runtime started."
POLL_S = 0.2
LOOPBACK = "127.0.0.1"


def use_loopback() -> None:
    """Make Ray in this process, and the processes Ray starts from it, advertise and connect on 127.0.0.1.

    In this process two functions of Ray's are replaced. The processes a node starts (its raylet's
    workers, the dashboard's agent) get Ray's own single-machine switch through the environment: it
    keeps them on loopback, and is read only where it cannot forbid this node's joining a cluster.
    """
    import ray._private.ray_constants as ray_constants
    import ray._private.services as services

    services.resolve_ip_for_localhost = lambda host: host
    services.get_node_ip_address = lambda address=None: LOOPBACK
    os.environ[ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR] = "0"


def single_node_loopback() -> None:
    """Keep a one-host Ray instance on 127.0.0.1.

    Ray advertises a node on the machine's network address even when it runs alone; its switch for
    single-node use (named for Windows and macOS, where multi-node is off) makes every process it
    starts use loopback instead. The constant is read at call time, so setting it works even when
    the script imported Ray first; the environment variable carries it to Ray's worker processes.
    """
    import ray._private.ray_constants as ray_constants

    os.environ[ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False


def use_token(token: str) -> None:
    """Authenticate this process (and the processes it starts) to the job's cluster with ``token``."""
    from ray._raylet import AuthenticationTokenLoader, Config

    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    Config.initialize("")  # Ray read its settings when it was imported: make it read them again
    AuthenticationTokenLoader.instance().reset_cache()


def host_resource(host: str) -> str:
    return f"host:{host}"


#: Custom Ray resources of a heterogeneous job's nodes: the learner group's offer ``LEARNER``, the other
#: groups' ``ROLLOUT``; the learner and the env runners ask for one unit each, so Ray places them by group.
LEARNER, ROLLOUT = "rlops_learner", "rlops_rollout"
ROLE_UNITS = 1000


def node_resources(host: str, role: str | None = None) -> dict[str, float]:
    """The custom resources a host's node offers: its name, and its role in a heterogeneous job."""
    return {host_resource(host): 1, **({role: ROLE_UNITS} if role else {})}


class Rendezvous:
    """The files through which a job's hosts find the head and tell each other they are there."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def head_file(self) -> Path:
        return self.folder / "head.json"

    def publish_head(self, address: str, token: str) -> None:
        write_text(self.head_file, json.dumps({"address": address, "token": token}))
        self.head_file.chmod(0o600)

    def wait_for_head(self, host: str, timeout: float = JOIN_TIMEOUT_S) -> dict:
        deadline = time.monotonic() + timeout
        while not self.head_file.is_file():
            if time.monotonic() > deadline:
                raise UsageError(f"{host}: the Ray head did not start within {timeout:.0f} s.")
            time.sleep(POLL_S)
        return json.loads(self.head_file.read_text())

    def wait_for(self, name: str, host: str, timeout: float = JOIN_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not self.marked(name):
            if time.monotonic() > deadline:
                raise UsageError(f"{host}: waited {timeout:.0f} s for {name!r} in {self.folder}.")
            time.sleep(POLL_S)

    def mark(self, name: str) -> None:
        write_text(self.folder / name, "")

    def marked(self, name: str) -> bool:
        return (self.folder / name).exists()


def start_node(args: list[str], token: str, log: Path) -> subprocess.Popen:
    """``ray start ... --block`` (on loopback, with the job's token) as a child of this host's process."""
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "rlops.toolkits.rllib.cluster", "start", *args, "--block",
                                 f"--node-ip-address={LOOPBACK}", "--disable-usage-stats",
                                 "--include-log-monitor=false"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def start_head(num_cpus: int, num_gpus: int, host: str, rendezvous: Rendezvous,
               resources: dict[str, float]) -> tuple[subprocess.Popen, str, str]:
    """Start the head node on ``host``; returns its process, address and token once it accepts connections."""
    token = secrets.token_hex(32)
    port = _free_port()
    temp_dir = tempfile.mkdtemp(prefix="rlops-ray-")
    process = start_node(["--head", f"--port={port}", f"--num-cpus={num_cpus}", f"--num-gpus={num_gpus}",
                          f"--temp-dir={temp_dir}", "--include-dashboard=false",
                          f"--resources={json.dumps(resources)}"], token, rendezvous.folder / f"ray-{host}.log")
    address = f"{LOOPBACK}:{port}"
    _wait_listening(port, process, host)
    rendezvous.publish_head(address, token)
    return process, address, token


def join(host: str, num_cpus: int, num_gpus: int, rendezvous: Rendezvous, resources: dict[str, float],
         previous: str | None = None) -> None:
    """A worker host: join the head, say so, and keep the node up until the driver is done.

    Hosts join one after another (after ``previous``): Ray gives a starting node 30 s to register, which
    several nodes starting at once on a small machine can miss.
    """
    head = rendezvous.wait_for_head(host)
    if previous is not None:
        rendezvous.wait_for(f"joined-{previous}", host)
    log = rendezvous.folder / f"ray-{host}.log"
    process = start_node([f"--address={head['address']}", f"--num-cpus={num_cpus}", f"--num-gpus={num_gpus}",
                          f"--resources={json.dumps(resources)}"], head["token"], log)
    _wait_started(process, log, host)
    rendezvous.mark(f"joined-{host}")
    print(f"{host}: joined the Ray cluster at {head['address']} with {num_cpus} CPU(s)", flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not rendezvous.marked("done") and not stopping:
            if process.poll() is not None:
                raise UsageError(f"{host}: its Ray node stopped (exit code {process.returncode}); see {log}.")
            time.sleep(POLL_S)
    finally:
        stop_node(process)
    print(f"{host}: the driver is done; node stopped", flush=True)


def _wait_started(process: subprocess.Popen, log: Path, host: str, timeout: float = JOIN_TIMEOUT_S) -> None:
    """Until ``ray start`` says the node runs (it has registered with the head)."""
    deadline = time.monotonic() + timeout
    while STARTED not in log.read_text(errors="replace"):
        if process.poll() is not None:
            raise UsageError(f"{host}: its Ray node did not start (exit code {process.returncode}); see {log}.")
        if time.monotonic() > deadline:
            raise UsageError(f"{host}: its Ray node did not start within {timeout:.0f} s; see {log}.")
        time.sleep(POLL_S)


def wait_for_hosts(hosts: list[str], rendezvous: Rendezvous, head: subprocess.Popen,
                   timeout: float = JOIN_TIMEOUT_S) -> None:
    """On algo-1: wait until every other host has joined, and Ray sees each one's node."""
    import ray

    deadline = time.monotonic() + timeout
    for host in hosts:
        while host_resource(host) not in ray.cluster_resources():
            if head.poll() is not None:
                raise UsageError(f"The Ray head stopped (exit code {head.returncode}) while waiting for {host}.")
            if time.monotonic() > deadline:
                joined = rendezvous.marked(f"joined-{host}")
                raise UsageError(f"Host {host} did not join the Ray cluster within {timeout:.0f} s"
                                 + (" (it started its node, but Ray does not see it)." if joined else "."))
            time.sleep(POLL_S)


def stop_node(process: subprocess.Popen, grace: float = 15.0) -> None:
    """End a ``ray start --block`` node: SIGTERM (it stops its Ray processes), then SIGKILL after ``grace``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen, host: str, timeout: float = JOIN_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise UsageError(f"{host}: the Ray head did not start (exit code {process.returncode}).")
        with socket.socket() as probe:
            if probe.connect_ex((LOOPBACK, port)) == 0:
                return
        if time.monotonic() > deadline:
            raise UsageError(f"{host}: the Ray head did not listen on port {port} within {timeout:.0f} s.")
        time.sleep(POLL_S)


def main() -> None:
    """``ray``'s command line, on loopback."""
    import ray._private.ray_constants as ray_constants

    use_loopback()
    ray_constants.ENABLE_RAY_CLUSTER = True  # this node may join a cluster; the processes it starts stay on loopback
    from ray.scripts.scripts import main as ray_main

    sys.argv = ["ray", *sys.argv[1:]]
    ray_main()


if __name__ == "__main__":
    main()
