"""A real `celery -A config worker` subprocess on the test database and a private Redis.

The worker is a separate process with its own database connections, so it sees only what
the test has committed: use it from tests with `transactional_db`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

CELERY = shutil.which("celery", path=str(Path(settings.BASE_DIR) / ".venv" / "bin")) or shutil.which("celery")


def committed_database_url() -> str:
    """The database the test runs on (pytest-django's test_<name>), as a DATABASE_URL."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class DisposableWorker:
    """One worker with one pool process (prefork), so "the process running the task" is well defined."""

    def __init__(self, *, redis_url: str, log_path: Path, env: dict[str, str] | None = None) -> None:
        if CELERY is None:
            raise RuntimeError("the celery command is not installed in the virtualenv")
        self.name = f"e1-{uuid.uuid4().hex[:8]}"
        self.hostname = f"{self.name}@{os.uname().nodename}"
        self.log_path = log_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": committed_database_url(),
            "REDIS_URL": redis_url,
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 30.0) -> DisposableWorker:
        self.launch()
        self.wait_ready(timeout=timeout)
        return self

    def wait_ready(self, *, timeout: float = 30.0) -> None:
        self.wait_for_log(f"{self.hostname} ready.", timeout=timeout)

    def launch(self) -> None:
        """Start the process without waiting for it to be ready (start several at once)."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                CELERY,
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--hostname",
                self.hostname,
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, *, timeout: float = 30.0, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while self.log().count(text) < count:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"the worker exited waiting for {text!r}:\n{self.log()[-4000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {text!r} in the worker's log after {timeout:.0f} s:\n{self.log()[-4000:]}")
            time.sleep(0.05)

    def pool_pids(self) -> list[int]:
        """The pool's child processes, which run the tasks (the parent only hands them out)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def kill_pool_process(self) -> int:
        """SIGKILL the child running the task, as the OOM killer would; the parent lives on."""
        [pid] = self.pool_pids()
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill(self) -> None:
        """SIGKILL the parent first, so it cannot hand anything back, then its pool."""
        if self.process is None:
            return
        pool = self.pool_pids() if self.process.poll() is None else []
        self.process.kill()
        self.process.wait(timeout=10)
        for pid in pool:
            with contextlib.suppress(ProcessLookupError):  # it died with its parent
                os.kill(pid, signal.SIGKILL)
        self.process = None

    def stop(self, *, timeout: float = 15.0) -> None:
        """A warm shutdown (SIGTERM); SIGKILL if it takes longer than timeout."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def __enter__(self) -> DisposableWorker:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class DisposableBeat:
    """`celery -A config beat` with the real schedule, its schedule file in the test's directory."""

    def __init__(self, *, redis_url: str, directory: Path, env: dict[str, str] | None = None) -> None:
        if CELERY is None:
            raise RuntimeError("the celery command is not installed in the virtualenv")
        self.log_path = directory / "beat.log"
        self.schedule = directory / "celerybeat-schedule"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": committed_database_url(),
            "REDIS_URL": redis_url,
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> DisposableBeat:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [CELERY, "-A", "config", "beat", "--loglevel", "INFO", "--schedule", str(self.schedule)],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
