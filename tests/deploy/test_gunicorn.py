"""Real gunicorns started with deploy/gunicorn.conf.py, as production starts them.

Two on one host never share a control socket: gunicorn 25+ opens one for gunicornc at one
default path per user ($XDG_RUNTIME_DIR/gunicorn.ctl), and a second gunicorn deletes the first
one's socket and binds its own there, so commands meant for one (reload, shutdown) reach the
other. They run under an XDG_RUNTIME_DIR of the test's own.

A production worker boots on collected static files with nothing to warn about.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from gunicorn.ctl.client import ControlClient

from tests.disposable.redis import free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")

pytestmark = pytest.mark.skipif(GUNICORN is None, reason="gunicorn is not installed")


class Gunicorn:
    def __init__(self, directory: Path, runtime_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.log_path = directory / f"gunicorn-{self.port}.log"
        keep = {key: value for key, value in os.environ.items() if not key.startswith(("TRIAD_", "GUNICORN_"))}
        self.env = {
            **keep,
            "XDG_RUNTIME_DIR": str(runtime_dir),
            "HOME": str(runtime_dir),
            "TRIAD_BIND": f"127.0.0.1:{self.port}",
            "TRIAD_WEB_WORKERS": "1",
            # Debug: gunicorn says "Control socket disabled" only at that level.
            "GUNICORN_CMD_ARGS": "--log-level debug",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Gunicorn:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [GUNICORN, "--config", "deploy/gunicorn.conf.py", "config.wsgi:application"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            assert self.process is not None and self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, f"no {text!r} in gunicorn's log:\n{self.log()}"
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def runtime_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "xdg"
    directory.mkdir(mode=0o700)
    return directory


@pytest.fixture
def gunicorns(tmp_path: Path) -> Iterator[list[Gunicorn]]:
    started: list[Gunicorn] = []
    yield started
    for server in started:
        server.stop()


def start_two(
    started: list[Gunicorn], tmp_path: Path, runtime_dir: Path, envs: list[dict[str, str]], *, ready: str
) -> None:
    """Start both at once, then wait for each to log `ready` (it comes after its workers are spawned)."""
    started += [Gunicorn(tmp_path, runtime_dir, **env) for env in envs]
    for server in started:
        server.start()
    for server in started:
        server.wait_for_log(ready)


def test_two_gunicorns_on_one_host_open_no_control_socket_at_the_shared_default_path(
    tmp_path: Path, runtime_dir: Path, gunicorns: list[Gunicorn]
) -> None:
    start_two(gunicorns, tmp_path, runtime_dir, [{}, {}], ready="Control socket disabled")
    assert not (runtime_dir / "gunicorn.ctl").exists()
    assert not (runtime_dir / ".gunicorn").exists()
    for server in gunicorns:
        assert server.process is not None and server.process.poll() is None
        assert f"Listening at: http://127.0.0.1:{server.port}" in server.log()


def test_two_gunicorns_given_control_sockets_each_answer_on_their_own(
    tmp_path: Path, runtime_dir: Path, gunicorns: list[Gunicorn]
) -> None:
    sockets = [tmp_path / "a.ctl", tmp_path / "b.ctl"]
    envs = [{"TRIAD_GUNICORN_CONTROL_SOCKET": str(path)} for path in sockets]
    start_two(gunicorns, tmp_path, runtime_dir, envs, ready="Control socket listening at")
    assert not (runtime_dir / "gunicorn.ctl").exists()
    for server, path in zip(gunicorns, sockets, strict=True):
        with ControlClient(str(path), timeout=10) as client:
            assert client.send_command("show stats")["pid"] == server.process.pid


def test_a_production_worker_boots_on_collected_static_files_without_a_warning(
    tmp_path: Path, runtime_dir: Path, gunicorns: list[Gunicorn]
) -> None:
    production = {
        "TRIAD_ENV": "production",
        "DJANGO_SECRET_KEY": "gunicorn-static-check-" + "0123456789abcdef" * 3,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "SECURE_SSL_REDIRECT": "false",
    }
    server = Gunicorn(tmp_path, runtime_dir, **production)
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    gunicorns.append(server.start())
    server.wait_for_log("Booting worker")
    base = f"http://127.0.0.1:{server.port}/static/"
    # A request is answered only once the worker has loaded the app, WhiteNoise's scan included.
    deadline = time.monotonic() + 60
    while True:
        try:
            hashed = requests.get(base + manifest["triad/triad.css"], timeout=10)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.2)
    plain = requests.get(base + "rest_framework/css/bootstrap.min.css", timeout=10)
    server.stop()

    # DRF's and Swagger's "x.min.css" made WhiteNoise look up "x.css": 16 warnings per worker.
    assert "has no hashed name" not in server.log(), server.log()
    assert "Booting worker" in server.log()
    assert hashed.status_code == 200 and "immutable" in hashed.headers["Cache-Control"]
    assert plain.status_code == 200 and "immutable" not in plain.headers.get("Cache-Control", "")
