"""A private, throwaway PostgreSQL cluster that tests may stop, restart and break.

The machine's own server (127.0.0.1:5432) serves every other test run at the same time, so a
test that takes PostgreSQL down starts its own cluster with the machine's binaries, on a free
port, with its data directory and unix socket in a temporary directory, and removes it all
afterwards. PostgreSQL refuses to run as root, so the binaries run as the postgres user when
the tests run as root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

BIN = Path(os.environ.get("TRIAD_PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVICE_USER = "postgres"


def available() -> str | None:
    """Why a private cluster cannot be started here, or None when it can."""
    if not (BIN / "initdb").exists() or not (BIN / "pg_ctl").exists():
        return f"no PostgreSQL binaries in {BIN} (set TRIAD_PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            return f"running as root and there is no {SERVICE_USER!r} user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PrivatePostgres:
    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://{SERVICE_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        argv = [str(BIN / command[0]), *command[1:]]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVICE_USER, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}\n{log}")
        return result

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", SERVICE_USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.directory}'",
            # A scratch cluster: losing it on a power cut is fine, and it starts faster.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "32MB",
            "max_connections": "50",
        }
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in options.items())

    def start(self) -> None:
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "30")

    def running(self) -> bool:
        argv = [str(BIN / "pg_ctl"), "status", "-D", str(self.data)]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVICE_USER, "--", *argv]
        return subprocess.run(argv, capture_output=True, check=False).returncode == 0

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """Start a private cluster; stop it and delete its files however the test ends."""
    directory = Path(tempfile.mkdtemp(prefix="triad-pg-"))
    if os.geteuid() == 0:
        service = pwd.getpwnam(SERVICE_USER)
        os.chown(directory, service.pw_uid, service.pw_gid)
    directory.chmod(0o700)
    cluster = PrivatePostgres(directory=directory, port=_free_port())
    try:
        cluster.init()
        cluster.start()
        cluster.wait_ready()
        yield cluster
    finally:
        if cluster.data.exists() and cluster.running():
            cluster.stop(mode="immediate")
        shutil.rmtree(directory, ignore_errors=True)
