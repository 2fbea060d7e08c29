"""A throwaway PostgreSQL cluster from Debian's postgresql package, for the server's tests and benchmarks/server.py."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path


def postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


class Postgres:
    """A throwaway Postgres cluster on 127.0.0.1 (trust authentication, no fsync): ``database()`` makes a fresh
    database and returns its SQLAlchemy URL."""

    def __init__(self, bin_dir: Path):
        from rlops.runtime.endpoints import free_port

        self.bin = bin_dir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="rlops-postgres-"))  # not under pytest's 0700 folders
        self.data = self.folder / "data"
        # Postgres refuses to run as root: as root, the cluster belongs to Debian's postgres user
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.folder, self.user)
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "rlops", "--no-sync", "-E", "UTF8")
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "postgres.log"), "-w", "-t", "60", "-o",
                 f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                 "-c synchronous_commit=off -c full_page_writes=off", "start")

    def run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def database(self) -> str:
        name = f"rlops_{uuid.uuid4().hex[:12]}"
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "rlops", name)
        return f"postgresql+psycopg://rlops@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
