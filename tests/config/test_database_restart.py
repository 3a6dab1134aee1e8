"""PostgreSQL restarted under load: a friendly 503 during the outage, recovery without restarting
the app, and not one submitted review lost or stored twice.

The app runs as it does in production (gunicorn, deploy/gunicorn.conf.py, production settings)
against a private PostgreSQL cluster, because the test really stops the database. Reviewers log
in through the form and run the review loop over HTTP (next -> preview -> review page -> submit)
while the test stops PostgreSQL for two seconds and starts it again. A reviewer whose submit
fails presses Submit again, as a person would, until it is taken.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests

from tests.disposable import postgres
from tests.web_client import claim_next, form_login

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "restart-test-password"
LOAD_REVIEWERS = 4
ITEMS = 40
OUTAGE_SECONDS = 2.0
HTTP_TIMEOUT = 20.0
SLOT_PATH = re.compile(r"/review/slots/(\d+)/")
LEASE_FIELD = re.compile(r'name="lease" value="([^"]*)"')
# What a server error page or a leaked exception would show; a friendly page shows none of it.
LEAKS = ("Traceback", "OperationalError", "InterfaceError", "psycopg", "SELECT ", "connection", "Server Error")

pytestmark = pytest.mark.skipif(postgres.available() is not None, reason=postgres.available() or "")

SETUP_SCRIPT = """
import json
from django.core.management import call_command
from accounts.services import account_ensure
from review.services.studies import study_members_set, study_start
from tests.factories import StudyFactory, StudyItemFactory, TranscriptFactory

call_command("migrate", interactive=False, verbosity=0)
password = {password!r}
lead = account_ensure(username="restart-lead", password=password, roles=["lead"])
reviewers = [
    account_ensure(username=f"restart-reviewer-{{number}}", password=password, roles=["reviewer"])
    for number in range(1, {reviewers} + 2)
]
study = StudyFactory(name="Restart under load")
for index in range({items}):
    StudyItemFactory(study=study, position=index + 1, transcript=TranscriptFactory(red_team_member_id=1000 + index))
study_members_set(study=study, reviewers=reviewers)
study_start(study=study)
print("SETUP", json.dumps({{"study": study.pk, "reviewers": [user.username for user in reviewers]}}))
"""


@dataclass
class Submit:
    reviewer: str
    slot: int
    statuses: list[str] = field(default_factory=list)  # every attempt, in order
    taken: bool = False
    taken_at: float = 0.0


@dataclass
class Record:
    submits: list[Submit] = field(default_factory=list)
    unavailable: list[requests.Response] = field(default_factory=list)  # every 503 any client saw
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def taken_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for submit in self.submits if submit.taken and submit.taken_at >= moment)


@dataclass
class Scenario:
    record: Record
    study_id: int
    database_url: str
    pending: Submit  # the submit pressed while PostgreSQL was down
    during_outage: dict[str, requests.Response]
    after_restart: dict[str, requests.Response]
    server_pid_before: int
    server_pid_after: int | None


def _env(database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DJANGO_DEBUG"}}
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        TRIAD_ENV="production",
        DJANGO_SECRET_KEY="restart-test-only-" + "k" * 50,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # Production settings over plain HTTP on the loopback interface.
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
    )
    return env


def _setup(database_url: str) -> dict:
    script = SETUP_SCRIPT.format(password=PASSWORD, reviewers=LOAD_REVIEWERS, items=ITEMS)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("SETUP "))
    return json.loads(line.removeprefix("SETUP "))


def _gunicorn(database_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = postgres._free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--config",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "config.wsgi:application",
    ]
    with open(log, "wb") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=_env(database_url), stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text(errors="replace")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return server, base
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.kill()
    raise AssertionError(f"gunicorn did not become healthy:\n{log.read_text(errors='replace')}")


def _open_review_page(base: str, session: requests.Session, study_id: int) -> tuple[int, str] | None:
    """Claim, pass the content warning and open the review page: (slot, lease token), or None when done."""
    claim = claim_next(session, base, study_id, timeout=HTTP_TIMEOUT)
    if claim.status_code != 302:
        raise _Failed(claim)
    where = urlsplit(claim.headers["Location"]).path
    if where.endswith("/done"):
        return None
    slot_match = SLOT_PATH.fullmatch(where)
    if slot_match is None:
        raise _Failed(claim)
    slot = int(slot_match.group(1))
    preview = session.get(f"{base}/review/slots/{slot}/", timeout=HTTP_TIMEOUT)
    if preview.status_code != 200:
        raise _Failed(preview)
    page = session.get(f"{base}/review/slots/{slot}/review", timeout=HTTP_TIMEOUT)
    if page.status_code != 200:
        raise _Failed(page)
    return slot, LEASE_FIELD.search(page.text).group(1)


class _Failed(Exception):
    def __init__(self, response: requests.Response) -> None:
        super().__init__(f"{response.request.method} {response.request.path_url} -> {response.status_code}")
        self.response = response


def _post_submit(base: str, session: requests.Session, submit: Submit, lease: str, study_id: int) -> bool:
    """One press of Submit; True once the review is taken."""
    try:
        response = session.post(
            f"{base}/review/slots/{submit.slot}/review",
            data={"rating": str(submit.slot % 5), "note": "restart test", "lease": lease},
            headers={"X-CSRFToken": session.cookies.get("csrftoken", "")},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )
    except requests.RequestException as exc:
        submit.statuses.append(type(exc).__name__)
        return False
    submit.statuses.append(str(response.status_code))
    where = urlsplit(response.headers.get("Location", "")).path
    # Taken: the submit goes on to the next item's content warning (it claims it), to "done",
    # or to the check-in.
    going_on = SLOT_PATH.fullmatch(where) or where in {f"/review/studies/{study_id}/done", "/wellbeing/checkin/"}
    if response.status_code == 302 and going_on:
        submit.taken, submit.taken_at = True, time.monotonic()
        return True
    if response.status_code != 503:
        raise _Failed(response)
    return False


def _submit_until_taken(
    base: str, session: requests.Session, submit: Submit, lease: str, study_id: int, record: Record
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _post_submit(base, session, submit, lease, study_id):
                return
        except _Failed as failed:
            with record.lock:
                record.unexpected.append(str(failed))
            return
        time.sleep(0.25)  # the reviewer reads the page, goes back and presses Submit again


def _reviewer_loop(
    base: str, session: requests.Session, username: str, study_id: int, record: Record, stop: threading.Event
) -> None:
    try:
        _review_until_stopped(base, session, username, study_id, record, stop)
    except Exception as exc:  # reported by the test, which would otherwise only see a stalled count
        with record.lock:
            record.unexpected.append(f"{username}: {type(exc).__name__}: {exc}")


def _review_until_stopped(
    base: str, session: requests.Session, username: str, study_id: int, record: Record, stop: threading.Event
) -> None:
    while not stop.is_set():
        try:
            opened = _open_review_page(base, session, study_id)
        except _Failed as failed:
            with record.lock:
                if failed.response.status_code == 503:
                    record.unavailable.append(failed.response)
                else:
                    record.unexpected.append(str(failed))
            time.sleep(0.25)  # then start again from "next", which hands back a live lease
            continue
        except requests.RequestException as exc:
            with record.lock:
                record.unexpected.append(f"{username}: {type(exc).__name__}: {exc}")
            time.sleep(0.25)
            continue
        if opened is None:
            return
        slot, lease = opened
        submit = Submit(reviewer=username, slot=slot)
        with record.lock:
            record.submits.append(submit)
        _submit_until_taken(base, session, submit, lease, study_id, record)


def _wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with postgres.private_postgres() as cluster:
        database_url = cluster.create_database("triad")
        data = _setup(database_url)
        study_id = data["study"]
        *load_names, pending_name = data["reviewers"]
        log = tmp_path_factory.mktemp("restart") / "gunicorn.log"
        server, base = _gunicorn(database_url, log)
        try:
            lead = form_login(base, "restart-lead", PASSWORD, timeout=HTTP_TIMEOUT)
            pending_session = form_login(base, pending_name, PASSWORD, timeout=HTTP_TIMEOUT)
            sessions = {name: form_login(base, name, PASSWORD, timeout=HTTP_TIMEOUT) for name in load_names}
            record, stop = Record(), threading.Event()
            threads = [
                threading.Thread(target=_reviewer_loop, args=(base, session, name, study_id, record, stop))
                for name, session in sessions.items()
            ]
            for thread in threads:
                thread.start()
            try:
                _wait_for(lambda: record.taken_since(0) >= 10, 60, "10 reviews before the restart")
                # A reviewer opens a review page just before the outage and presses Submit during it.
                slot, lease = _open_review_page(base, pending_session, study_id)
                pending = Submit(reviewer=pending_name, slot=slot)

                down_at = time.monotonic()
                cluster.stop(mode="fast")
                _post_submit(base, pending_session, pending, lease, study_id)
                during = {
                    "page": pending_session.get(f"{base}/review/", timeout=HTTP_TIMEOUT),
                    "api": lead.get(f"{base}/api/v1/studies/", timeout=HTTP_TIMEOUT),
                }
                time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
                cluster.start()
                up_at = time.monotonic()

                # The same reviewer presses Submit again once the site answers.
                _submit_until_taken(base, pending_session, pending, lease, study_id, record)
                _wait_for(lambda: record.taken_since(up_at) >= 10, 60, "10 reviews after the restart")
            finally:
                stop.set()
                for thread in threads:
                    thread.join(timeout=60)
            after = {
                "page": pending_session.get(f"{base}/review/", timeout=HTTP_TIMEOUT),
                "api": lead.get(f"{base}/api/v1/studies/", timeout=HTTP_TIMEOUT),
                "healthz": requests.get(f"{base}/healthz", timeout=HTTP_TIMEOUT),
            }
            yield Scenario(
                record=record,
                study_id=study_id,
                database_url=database_url,
                pending=pending,
                during_outage=during,
                after_restart=after,
                server_pid_before=server.pid,
                server_pid_after=server.pid if server.poll() is None else None,
            )
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _assert_friendly(response: requests.Response) -> None:
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert not any(leak in response.text for leak in LEAKS), response.text[:500]


def test_requests_during_the_outage_get_a_friendly_503_page(scenario: Scenario) -> None:
    page = scenario.during_outage["page"]
    _assert_friendly(page)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Triad is briefly unavailable" in page.text
    assert "<script" not in page.text and "style=" not in page.text
    for response in scenario.record.unavailable:  # whatever the load hit during the outage
        _assert_friendly(response)


def test_api_requests_during_the_outage_get_a_json_503(scenario: Scenario) -> None:
    api = scenario.during_outage["api"]
    _assert_friendly(api)
    assert api.headers["Content-Type"] == "application/json"
    assert "unavailable" in api.json()["detail"]


def test_a_submit_pressed_during_the_outage_is_refused_with_503_and_taken_when_pressed_again(
    scenario: Scenario,
) -> None:
    pending = scenario.pending
    assert pending.statuses[0] == "503"
    assert pending.taken
    with psycopg.connect(scenario.database_url) as connection:
        stored = connection.execute(
            "SELECT count(*) FROM review_review r JOIN auth_user u ON u.id = r.reviewer_id "
            "WHERE r.slot_id = %s AND u.username = %s",
            [pending.slot, pending.reviewer],
        ).fetchone()[0]
    assert stored == 1


def test_the_app_recovers_by_itself_without_a_restart(scenario: Scenario) -> None:
    assert scenario.server_pid_after == scenario.server_pid_before  # gunicorn was never restarted
    assert not scenario.record.unexpected, scenario.record.unexpected
    after = scenario.after_restart
    assert after["page"].status_code == 200
    assert after["api"].status_code == 200
    assert after["healthz"].status_code == 200


def test_no_submitted_review_is_lost_or_stored_twice(scenario: Scenario) -> None:
    submits = [*scenario.record.submits, scenario.pending]
    with psycopg.connect(scenario.database_url) as connection:
        rows = connection.execute(
            "SELECT r.slot_id, u.username FROM review_review r JOIN auth_user u ON u.id = r.reviewer_id "
            "WHERE r.study_id = %s",
            [scenario.study_id],
        ).fetchall()
        over_full = connection.execute(
            "SELECT count(*) FROM (SELECT item_id FROM review_review WHERE study_id = %s "
            "GROUP BY item_id HAVING count(*) > 3) x",
            [scenario.study_id],
        ).fetchone()[0]
        repeated = connection.execute(
            "SELECT count(*) FROM (SELECT 1 FROM review_review WHERE study_id = %s "
            "GROUP BY item_id, reviewer_id HAVING count(*) > 1) x",
            [scenario.study_id],
        ).fetchone()[0]
    stored = {}
    for slot, username in rows:
        stored[(slot, username)] = stored.get((slot, username), 0) + 1
    for submit in submits:
        key = (submit.slot, submit.reviewer)
        if submit.taken:
            assert stored.get(key) == 1, f"{key} after {submit.statuses}: stored {stored.get(key, 0)} times"
        else:
            assert stored.get(key, 0) <= 1, f"{key} after {submit.statuses}"
    # Nothing stored that no reviewer pressed Submit for.
    assert set(stored) <= {(submit.slot, submit.reviewer) for submit in submits}
    assert over_full == 0
    assert repeated == 0
    assert sum(submit.taken for submit in submits) >= 21
