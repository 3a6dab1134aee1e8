"""deploy/run-local-stack.sh, smoke-tested over HTTP, and the container files checked against it.

The stack runs as production runs it (TRIAD_ENV=production over plain HTTP: gunicorn with two
workers, a Celery worker and Celery beat, each started by deploy/entrypoint.sh) on a fresh
uniquely named database on the local PostgreSQL and a private redis-server. Through it: the
accounts are created and the demo file imported and drawn into a study with the management
commands; the lead chooses reviewers, starts the study and makes an API token in the lead pages;
three reviewers each review one item through the login form and the review pages; the worker
computes agreement, which the API then shows; the labels export streams; the worker and beat,
killed with SIGKILL, are started again by their supervisors and the new worker computes agreement;
and `stop` leaves no process behind. The database is dropped afterwards.

There is no container engine here, so deploy/compose.yaml is checked by reading it: its services,
commands and healthchecks must match what the entrypoint and the healthcheck script provide.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from django.db import connection
from gunicorn.ctl.client import ControlClient
from psycopg import sql

from config.health import WORKER_HEARTBEAT_PREFIX
from tests.disposable.redis import REDIS_SERVER, DisposableRedis, free_port
from tests.web_client import claim_next, form_login

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
STACK = DEPLOY / "run-local-stack.sh"
PASSWORD = "local-stack-smoke-password"
HTTP_TIMEOUT = 30.0
ROLES = ("web", "worker", "beat")
SLOT_PATH = re.compile(r"/review/slots/(\d+)/")
LEASE_FIELD = re.compile(r'name="lease" value="([^"]*)"')
NEW_TOKEN = re.compile(r'data-testid="new-token">([^<]+)<')
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')

SETUP_SCRIPT = """
import json
from django.core.management import call_command
from review.models import Study
from accounts.services import account_ensure

password = {password!r}
lead = account_ensure(username="stack-lead", password=password, roles=["lead"])
reviewers = [
    account_ensure(username=f"stack-reviewer-{{number}}", password=password, roles=["reviewer"]) for number in (1, 2, 3)
]
call_command("import_transcripts", "demo/red_team_attempts_demo.json", user="stack-lead")
call_command("create_study", "Stack smoke", stratum=["all:3"], seed=8, user="stack-lead")
study = Study.objects.get(name="Stack smoke")
print("SETUP " + json.dumps({{"study": study.pk, "reviewers": {{user.username: user.pk for user in reviewers}}}}))
"""


def _server_url(database: str) -> str | None:
    """A URL for `database` on the PostgreSQL the suite runs on; None when that is not PostgreSQL."""
    settings = connection.settings_dict
    if settings["ENGINE"] != "django.db.backends.postgresql":
        return None
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    return f"postgres://{settings['USER']}{password}@{host}:{port}/{database}"


def _why_not() -> str | None:
    if REDIS_SERVER is None:
        return "redis-server is not installed"
    if _server_url("postgres") is None:
        return "the local stack needs PostgreSQL (set DATABASE_URL)"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=_why_not() or "")


@dataclass
class Observed:
    start: subprocess.CompletedProcess[str]
    healthz: dict
    study_id: int
    submits: list[str] = field(default_factory=list)  # where each reviewer's submit redirected
    item_ids: set[int] = field(default_factory=set)
    agreement: dict = field(default_factory=dict)
    export: requests.Response | None = None
    export_lines: list[dict] = field(default_factory=list)
    stylesheet: requests.Response | None = None
    page: requests.Response | None = None
    status_while_running: subprocess.CompletedProcess[str] | None = None
    processes_before_stop: dict[int, str] = field(default_factory=dict)
    stop: subprocess.CompletedProcess[str] | None = None
    status_after_stop: subprocess.CompletedProcess[str] | None = None
    alive_after_stop: list[str] = field(default_factory=list)
    # role: (the pid killed with SIGKILL, the pid its supervisor started in its place)
    restarts: dict[str, tuple[int, int]] = field(default_factory=dict)
    agreement_after_restart: dict = field(default_factory=dict)
    # The gunicorn master pid: as recorded by the supervisor, and as its control socket reports it.
    web_pid: int = 0
    control_socket_pid: int = 0
    worker_log: str = ""


def _stack_env(database_url: str, redis_url: str, run_dir: Path, port: int) -> dict[str, str]:
    prefixes = ("TRIAD_", "DJANGO_", "SECURE_", "SESSION_", "CSRF_", "DATABASE_", "REDIS_", "GUNICORN_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        TRIAD_ENV="production",
        DJANGO_SECRET_KEY="local-stack-smoke-" + uuid.uuid4().hex * 2,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # Production settings over plain HTTP on the loopback interface, with no proxy in front.
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        TRIAD_TRUSTED_PROXIES="0",
        TRIAD_AGREEMENT_DEBOUNCE_SECONDS="1",
        TRIAD_BIND=f"127.0.0.1:{port}",
        TRIAD_WEB_WORKERS="2",
        TRIAD_WORKER_CONCURRENCY="1",
        TRIAD_WORKER_NAME=f"stack-{uuid.uuid4().hex[:8]}@%h",
        TRIAD_RUN_DIR=str(run_dir),
        DJANGO_STATIC_ROOT=str(run_dir / "static"),
        TRIAD_STOP_TIMEOUT="20",
    )
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


def _stack(command: str, env: dict[str, str], timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(STACK), command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _manage_shell(script: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _group_processes(leaders: list[int]) -> dict[int, str]:
    """Every live process in the leaders' process groups (each role runs as its own group)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, group = fields[0], int(fields[2])
        if group in leaders and state not in {"Z", "X"}:
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            found[int(stat.parent.name)] = cmdline.strip()
    return found


def _still_running(processes: dict[int, str]) -> list[str]:
    alive = []
    for pid, command in processes.items():
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in {"Z", "X"}:
            alive.append(f"{pid} {command}")
    return alive


def _post(session: requests.Session, url: str, data: dict[str, str] | list[tuple[str, str]]) -> requests.Response:
    token = session.cookies["csrftoken"]
    payload = (
        [*data, ("csrfmiddlewaretoken", token)] if isinstance(data, list) else {**data, "csrfmiddlewaretoken": token}
    )
    return session.post(url, data=payload, allow_redirects=False, timeout=HTTP_TIMEOUT)


def _lead_prepares_study(base: str, study_id: int, reviewer_ids: list[int]) -> str:
    """As the lead, in the lead pages: choose the reviewers, start the study, make an API token."""
    lead = form_login(base, "stack-lead", PASSWORD, timeout=HTTP_TIMEOUT)
    members = _post(lead, f"{base}/lead/studies/{study_id}/members", [("reviewers", str(pk)) for pk in reviewer_ids])
    assert members.status_code == 302, members.text[:500]
    started = _post(lead, f"{base}/lead/studies/{study_id}/status", {"action": "start"})
    assert started.status_code == 302, started.text[:500]
    tokens = _post(
        lead,
        f"{base}/lead/tokens/",
        [("name", "stack smoke"), ("scopes", "read:labels"), ("scopes", "read:agreement"), ("expires_in_days", "1")],
    )
    assert tokens.status_code == 200, tokens.text[:500]
    return NEW_TOKEN.search(tokens.text).group(1)


def _review_one_item(base: str, username: str, study_id: int, rating: int) -> tuple[int, str]:
    """Log in, open the queue, claim, pass the content warning, rate and submit: (slot, redirect path)."""
    session = form_login(base, username, PASSWORD, timeout=HTTP_TIMEOUT)
    queue = session.get(f"{base}/review/", timeout=HTTP_TIMEOUT)
    assert queue.status_code == 200 and "Stack smoke" in queue.text
    claim = claim_next(session, base, study_id, timeout=HTTP_TIMEOUT)
    assert claim.status_code == 302, claim.text[:500]
    slot_id = int(SLOT_PATH.fullmatch(urlsplit(claim.headers["Location"]).path).group(1))
    preview = session.get(f"{base}/review/slots/{slot_id}/", timeout=HTTP_TIMEOUT)
    assert preview.status_code == 200 and "Content warning" in preview.text
    page = session.get(f"{base}/review/slots/{slot_id}/review", timeout=HTTP_TIMEOUT)
    assert page.status_code == 200, page.text[:500]
    lease = LEASE_FIELD.search(page.text).group(1)
    submit = _post(session, f"{base}/review/slots/{slot_id}/review", {"rating": str(rating), "lease": lease})
    assert submit.status_code == 302, submit.text[:500]
    return slot_id, urlsplit(submit.headers["Location"]).path


def _wait_for_agreement(base: str, token: str, study_id: int, reviews: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {token}"}
    body: dict = {}
    while time.monotonic() < deadline:
        answer = requests.get(f"{base}/api/v1/studies/{study_id}/agreement/", headers=headers, timeout=HTTP_TIMEOUT)
        assert answer.status_code == 200, answer.text[:500]
        body = answer.json()
        if body["computed_at"] and body["review_count"] == reviews:
            return body
        time.sleep(0.5)
    raise AssertionError(f"agreement not computed from {reviews} reviews within {timeout:.0f} s: {body}")


def _kill_and_wait_for_restart(run_dir: Path, role: str, timeout: float = 60) -> tuple[int, int]:
    """SIGKILL the role's process, as the OOM killer would (not its supervisor); wait for its successor."""
    pid_file = run_dir / f"{role}.child.pid"
    killed = int(pid_file.read_text())
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            successor = int(pid_file.read_text())
        except (OSError, ValueError):  # between the two: the supervisor is waiting to restart it
            successor = 0
        if successor and successor != killed and _still_running({successor: role}):
            return killed, successor
        time.sleep(0.2)
    log = (run_dir / f"{role}.log").read_text(errors="replace")[-3000:]
    raise AssertionError(f"{role} was not restarted within {timeout:.0f} s of kill -9:\n{log}")


def _wait_for_log(path: Path, text: str, *, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while path.read_text(errors="replace").count(text) < count:
        assert time.monotonic() < deadline, f"{text!r} not {count} times in {path}:\n{path.read_text()[-3000:]}"
        time.sleep(0.2)


def _exercise(base: str, env: dict[str, str], start: subprocess.CompletedProcess[str]) -> Observed:
    healthz = requests.get(f"{base}/healthz", timeout=HTTP_TIMEOUT).json()
    run_dir = Path(env["TRIAD_RUN_DIR"])
    with ControlClient(str(run_dir / "gunicorn.ctl"), timeout=10) as control:
        control_socket_pid = control.send_command("show stats")["pid"]
    setup = _manage_shell(SETUP_SCRIPT.format(password=PASSWORD), env)
    data = json.loads(next(line for line in setup.splitlines() if line.startswith("SETUP "))[len("SETUP ") :])
    observed = Observed(start=start, healthz=healthz, study_id=data["study"])
    observed.web_pid = int((run_dir / "web.child.pid").read_text())
    observed.control_socket_pid = control_socket_pid
    token = _lead_prepares_study(base, observed.study_id, list(data["reviewers"].values()))

    # One after another: a claim offers the fullest item first, so the three meet on one item.
    with psycopg.connect(env["DATABASE_URL"]) as db:
        for rating, username in enumerate(data["reviewers"], start=2):
            slot_id, where = _review_one_item(base, username, observed.study_id, rating)
            observed.submits.append(where)
            observed.item_ids.add(db.execute("SELECT item_id FROM review_slot WHERE id = %s", [slot_id]).fetchone()[0])
    observed.agreement = _wait_for_agreement(base, token, observed.study_id, reviews=3)

    export = requests.get(
        f"{base}/api/v1/studies/{observed.study_id}/labels/export",
        params={"format": "jsonl"},
        headers={"Authorization": f"Bearer {token}"},
        stream=True,
        timeout=HTTP_TIMEOUT,
    )
    observed.export = export
    observed.export_lines = [json.loads(line) for line in export.iter_lines() if line]

    observed.page = requests.get(f"{base}/accounts/login/", timeout=HTTP_TIMEOUT)
    observed.stylesheet = requests.get(
        base + STYLESHEET.search(observed.page.text).group(1),
        headers={"Accept-Encoding": "gzip"},
        timeout=HTTP_TIMEOUT,
    )

    # kill -9 the worker and beat: their supervisors start them again, and the new worker works.
    for role in ("worker", "beat"):
        observed.restarts[role] = _kill_and_wait_for_restart(run_dir, role)
    _wait_for_log(run_dir / "worker.log", " ready.", count=2)
    _review_one_item(base, next(iter(data["reviewers"])), observed.study_id, rating=1)
    observed.agreement_after_restart = _wait_for_agreement(base, token, observed.study_id, reviews=4)
    observed.worker_log = (run_dir / "worker.log").read_text(errors="replace")
    return observed


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    directory = tmp_path_factory.mktemp("local-stack")
    database = f"triad_stack_{uuid.uuid4().hex[:10]}"
    admin_url = _server_url("postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    redis_server = DisposableRedis(directory)
    env = _stack_env(_server_url(database), redis_server.url(0), directory / "run", free_port())
    base = f"http://{env['TRIAD_BIND']}"
    leaders: list[int] = []
    try:
        redis_server.start()
        start = _stack("start", env)
        assert start.returncode == 0, start.stdout + start.stderr
        leaders = [int((directory / "run" / f"{role}.pid").read_text()) for role in ROLES]
        observed = _exercise(base, env, start)
        observed.status_while_running = _stack("status", env)
        observed.processes_before_stop = _group_processes(leaders)
        observed.stop = _stack("stop", env)
        observed.alive_after_stop = _still_running(observed.processes_before_stop)
        observed.status_after_stop = _stack("status", env)
        yield observed
    finally:
        _stack("stop", env)  # a no-op when the test stopped it; otherwise nothing is left running
        for pid in _group_processes(leaders):  # only if stop itself failed
            os.kill(pid, 9)
        redis_server.stop()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


def test_the_stack_starts_healthy_with_a_worker_heartbeat(stack: Observed) -> None:
    assert "healthy on" in stack.start.stdout
    assert stack.healthz["status"] == "ok", stack.healthz
    assert stack.healthz["workers"]["count"] == 1
    assert next(iter(stack.healthz["workers"]["heartbeats"])).startswith("stack-")


def test_three_reviewers_review_the_same_item_through_the_web_flow(stack: Observed) -> None:
    assert len(stack.submits) == 3
    # Each submit claims the reviewer's next item itself and goes on to its content warning.
    assert all(SLOT_PATH.fullmatch(where) for where in stack.submits), stack.submits
    assert len(stack.item_ids) == 1


def test_the_worker_computes_agreement_and_the_api_shows_it(stack: Observed) -> None:
    assert stack.agreement["study"] == stack.study_id
    assert stack.agreement["computed_at"]
    assert stack.agreement["review_count"] == 3
    assert stack.agreement["rows"]


def test_the_labels_export_streams_the_three_reviews(stack: Observed) -> None:
    assert stack.export is not None and stack.export.status_code == 200
    assert "attachment" in stack.export.headers["Content-Disposition"]
    assert stack.export.headers["ETag"]
    assert len(stack.export_lines) == 3
    assert {line["rating"] for line in stack.export_lines} == {2, 3, 4}
    assert len({line["item"] for line in stack.export_lines}) == 1


def test_static_files_are_served_hashed_compressed_and_cached_for_a_year_under_the_csp(stack: Observed) -> None:
    assert stack.stylesheet is not None and stack.stylesheet.status_code == 200
    assert re.search(r"/static/triad/triad\.[0-9a-f]{12}\.css$", stack.stylesheet.url)
    assert "immutable" in stack.stylesheet.headers["Cache-Control"]
    assert stack.stylesheet.headers["Content-Encoding"] == "gzip"
    assert "default-src 'self'" in stack.stylesheet.headers["Content-Security-Policy"]
    assert stack.page is not None and "default-src 'self'" in stack.page.headers["Content-Security-Policy"]


def test_a_worker_or_beat_killed_with_sigkill_is_restarted_and_the_new_worker_computes_agreement(
    stack: Observed,
) -> None:
    assert set(stack.restarts) == {"worker", "beat"}
    for killed, successor in stack.restarts.values():
        assert successor != killed
    assert "worker (pid " in stack.worker_log and "exited with status 137" in stack.worker_log
    assert stack.agreement_after_restart["review_count"] == 4


def test_the_stacks_gunicorn_answers_on_a_control_socket_of_its_own(stack: Observed) -> None:
    assert stack.control_socket_pid == stack.web_pid != 0


def test_status_reports_all_three_running_and_healthy(stack: Observed) -> None:
    status = stack.status_while_running
    assert status is not None and status.returncode == 0, status.stdout + status.stderr
    for role in ROLES:
        assert f"{role} running" in status.stdout
    assert "answers 200" in status.stdout


def test_stop_ends_every_process_of_the_stack(stack: Observed) -> None:
    commands = " ".join(stack.processes_before_stop.values())
    # gunicorn's master and its 2 workers, Celery's worker and its pool process, beat.
    assert len(stack.processes_before_stop) >= 6, stack.processes_before_stop
    assert "gunicorn" in commands and " worker " in commands and " beat " in commands
    assert stack.stop is not None and stack.stop.returncode == 0, stack.stop.stdout + stack.stop.stderr
    assert stack.alive_after_stop == []
    assert stack.status_after_stop is not None and stack.status_after_stop.returncode == 3


# --- the container files, read -----------------------------------------------------------------


def _compose() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _entrypoint_roles() -> set[str]:
    text = (DEPLOY / "entrypoint.sh").read_text()
    return set(re.findall(r"^(\w+)\)$", text, flags=re.MULTILINE))


def test_compose_runs_each_role_of_the_entrypoint_from_the_one_image() -> None:
    services = _compose()["services"]
    app = {name: service for name, service in services.items() if service.get("build")}
    assert set(app) == {"migrate", "web", "worker", "beat"}
    assert {tuple(service["command"]) for service in app.values()} == {(role,) for role in _entrypoint_roles()}
    for name, service in app.items():
        assert service["command"] == [name]
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert service["env_file"] == "triad.env"
        assert service["environment"]["DATABASE_URL"].endswith("@db:5432/triad")
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["deploy/entrypoint.sh"]' in dockerfile
    assert "FROM python:3.11-slim" in dockerfile and "\nUSER triad\n" in dockerfile
    assert "collectstatic --no-input" in dockerfile


def test_compose_starts_the_app_only_once_its_services_are_healthy_and_migrated() -> None:
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["proxy"]["depends_on"] == {"web": {"condition": "service_healthy"}}
    assert services["beat"]["deploy"]["replicas"] == 1


def test_compose_restarts_every_long_running_process_whatever_ends_it() -> None:
    services = _compose()["services"]
    for name in ("web", "worker", "beat", "db", "redis", "proxy"):
        assert services[name]["restart"] == "unless-stopped", name
    assert services["migrate"]["restart"] == "no"


def test_compose_healthchecks_use_healthz_and_the_worker_heartbeat() -> None:
    services = _compose()["services"]
    assert services["web"]["healthcheck"]["test"] == ["CMD", "python", "deploy/healthcheck.py", "web"]
    assert services["worker"]["healthcheck"]["test"] == ["CMD", "python", "deploy/healthcheck.py", "worker"]
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    # The web's port in compose is the one its healthcheck probes, and the proxy forwards to it.
    assert services["web"]["environment"]["TRIAD_BIND"] == "0.0.0.0:8000"
    assert "port 8000" in (DEPLOY / "Caddyfile").read_text()


def test_the_healthcheck_reads_the_key_workers_write() -> None:
    source = (DEPLOY / "healthcheck.py").read_text()
    assert f'WORKER_HEARTBEAT_PREFIX = "{WORKER_HEARTBEAT_PREFIX}"' in source
    assert '"triad@%h"' in source and '"${TRIAD_WORKER_NAME:-triad@%h}"' in (DEPLOY / "entrypoint.sh").read_text()


def test_the_env_template_documents_every_setting_read_from_the_environment() -> None:
    template = (DEPLOY / "triad.env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", template, flags=re.MULTILINE))
    read = set(re.findall(r'env_\w+\(\s*"([A-Z][A-Z0-9_]+)"', (ROOT / "config" / "settings.py").read_text()))
    for script in ("gunicorn.conf.py", "entrypoint.sh", "run-local-stack.sh"):
        text = (DEPLOY / script).read_text()
        read |= set(re.findall(r'environ\.get\("([A-Z][A-Z0-9_]+)"', text))
        read |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+):-", text))
    read -= {"TMPDIR"}  # the system's
    assert read, "no settings found: the patterns above no longer match the code"
    assert sorted(read - documented) == []
