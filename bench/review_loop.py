"""Review-loop benchmark: reviewers claiming and submitting over HTTP against gunicorn, on PostgreSQL.

    python bench/review_loop.py [--clients 30,1] [--skip-million] [--database-url postgres://postgres@127.0.0.1:5432/triad_review_bench]

It recreates a scratch database, migrates it, writes 1,000 transcripts with set-based SQL,
creates 30 reviewer accounts (five of them red-team authors, so the author exclusion is
exercised) and, for each entry of --clients, a fresh started 1,000-item study with 3
reviewers per item. It serves the app with gunicorn (deploy/gunicorn.conf.py with
--web-workers workers, default 2; production settings over plain HTTP) and runs that many HTTP
clients, each logged in through the form (then a lean keep-alive http.client session), claiming (POST .../next), with
--pages loading the content warning and the review page as a browser does, and submitting
(POST .../review, which claims the next item itself) until every reviewer is told the study
is done. It prints reviews/s, claim and submit (+ next claim) latencies, HTTP errors and
correctness counts read back from the database.

Then, unless --skip-million, it builds a 1,000,000-item study (3,000,000 slots) with
set-based SQL and times claims in-process through workspace.services (work_claim, then
work_submit, rotating three reviewers), interleaved with the same on a fresh 1,000-item
study, and prints both latencies with their ratio and the claim query's plan.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from figures import Figure, figures_write, loop_labels
from scratch_db import recreate_database

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-review-loop-password"  # noqa: S105 - scratch accounts in a scratch database
AUTHOR_BASE = 1000  # transcript n is by red-team member AUTHOR_BASE + n % AUTHORS
AUTHORS = 50
AUTHOR_REVIEWERS = 5  # reviewers 1-5 are red-team members 1000-1004, so each authored 1 item in 50
HUMAN_PREFIX = "\n\nHuman: question "
ASSISTANT_PREFIX = "\n\nAssistant: answer "
HTTP_TIMEOUT = 30.0
MAX_CONSECUTIVE_ERRORS = 5
SLOT_PATH = re.compile(r"/review/slots/(\d+)/")
CHECKIN_PATH = "/wellbeing/checkin/"
SERVER_TIMING = re.compile(r"app;dur=([\d.]+)")  # config.middleware.ServerTimingMiddleware
CHROMIUM = os.environ.get("TRIAD_CHROMIUM", "/usr/bin/chromium")


class BenchError(Exception):
    pass


# --- database ---------------------------------------------------------------------------


def base_env(database_url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("REDIS_URL", None)
    return env


def migrate(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=ROOT,
        env=base_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"manage.py migrate failed ({result.returncode}):\n{result.stdout}")


def django_setup(database_url: str) -> None:
    """Configure Django in this process on the scratch database (DEBUG off: no query log)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- data (in-process, set-based SQL) ---------------------------------------------------


def _span_template() -> tuple[list[list[Any]], int]:
    """Turn spans of the one-digit transcript, from the real parser; a longer n shifts them by its extra digits."""
    from transcripts.turns import parse_turn_spans

    spans = parse_turn_spans(f"{HUMAN_PREFIX}7{ASSISTANT_PREFIX}7")
    if [span[0] for span in spans] != ["Human", "Assistant"]:
        raise BenchError(f"unexpected spans for the template transcript: {spans}")
    return spans, 1


def import_batch_create(label: str) -> int:
    from django.utils import timezone

    from transcripts.models import ImportBatch

    now = timezone.now()
    batch = ImportBatch.objects.create(
        file_name=f"bench/review_loop.py {label}",
        sha256="0" * 64,
        file_size=0,
        file_format="jsonl",
        compressed=False,
        skip_invalid=False,
        started_at=now,
        finished_at=now,
    )
    return batch.pk


def transcripts_insert(*, first: int, count: int, batch_id: int, chunk: int = 200_000, progress: bool = False) -> None:
    """Insert transcripts first .. first+count-1 with INSERT ... SELECT generate_series, `chunk` rows a statement."""
    from django.db import connection

    from transcripts.models import Transcript

    (human, human_start, human_end), (assistant, assistant_start, assistant_end) = _span_template()[0]
    sql = f"""
        INSERT INTO {Transcript._meta.db_table}
            (transcript, min_harmlessness_score_transcript, num_params, model_type, rating, task_description,
             task_description_harmlessness_score, red_team_member_id, is_upworker, source_tags, turn_spans,
             content_hash, import_batch_id, source_index, created_at)
        SELECT %s || g.n || %s || g.n,
               0.0,
               (ARRAY['52B', '13B', '2.7B'])[1 + mod(g.n, 3)],
               (ARRAY['plain lm', 'context distillation', 'rejection sampling', 'rlhf'])[1 + mod(g.n, 4)],
               mod(g.n, 5),
               'bench transcript',
               NULL,
               %s + mod(g.n, %s),
               false,
               NULL,
               jsonb_build_array(
                   jsonb_build_array(%s::text, %s::int, %s::int + g.extra),
                   jsonb_build_array(%s::text, %s::int + g.extra, %s::int + 2 * g.extra)),
               decode(md5(g.n::text) || md5(g.n::text), 'hex'),
               %s,
               g.n,
               now()
        FROM (SELECT n, length(n::text) - 1 AS extra FROM generate_series(%s::bigint, %s::bigint) n) g
    """
    done = 0
    started = time.perf_counter()
    while done < count:
        low = first + done
        high = min(first + count - 1, low + chunk - 1)
        params = [
            HUMAN_PREFIX,
            ASSISTANT_PREFIX,
            AUTHOR_BASE,
            AUTHORS,
            human,
            human_start,
            human_end,
            assistant,
            assistant_start,
            assistant_end,
            batch_id,
            low,
            high,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        done = high - first + 1
        if progress:
            print(f"  transcripts {done:>9,} / {count:,}  ({time.perf_counter() - started:.1f} s)", flush=True)


def transcripts_check(numbers: list[int]) -> None:
    """The spans written in SQL must be exactly what the importer's parser makes of the text."""
    from transcripts.models import Transcript
    from transcripts.turns import parse_turn_spans

    rows = Transcript.objects.filter(source_index__in=numbers).values_list("transcript", "turn_spans")
    for transcript, spans in rows:
        if parse_turn_spans(transcript) != spans:
            raise BenchError(f"turn_spans {spans} do not match {transcript!r}")


def study_build(
    *, name: str, batch_id: int, reviewers: list[Any], chunk: int = 250_000, progress: bool = False
) -> tuple[Any, dict[str, float]]:
    """A started study over every transcript of the batch, in transcript order, with these members."""
    from django.db import connection

    from review.models import Study, StudyItem
    from review.services.studies import study_members_set, study_start
    from transcripts.models import Transcript

    timings: dict[str, float] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(id), max(id), count(*) FROM {Transcript._meta.db_table} WHERE import_batch_id = %s",
            [batch_id],
        )
        low, high, count = cursor.fetchone()
    if count == 0 or high - low + 1 != count:
        raise BenchError(f"batch {batch_id}: ids {low}..{high} are not {count} consecutive transcripts")
    study = Study.objects.create(
        name=name,
        seed=batch_id,
        reviewers_per_item=3,
        strata=[{"filters": {}, "size": count, "available": count}],
    )
    started = time.perf_counter()
    sql = f"""
        INSERT INTO {StudyItem._meta.db_table} (study_id, transcript_id, position, stratum)
        SELECT %s, id, id - %s + 1, 'all' FROM {Transcript._meta.db_table} WHERE id BETWEEN %s AND %s
    """
    for chunk_low in range(low, high + 1, chunk):
        chunk_high = min(high, chunk_low + chunk - 1)
        with connection.cursor() as cursor:
            cursor.execute(sql, [study.pk, low, chunk_low, chunk_high])
        if progress:
            print(
                f"  study items {chunk_high - low + 1:>9,} / {count:,}  ({time.perf_counter() - started:.1f} s)",
                flush=True,
            )
    timings["study items"] = time.perf_counter() - started
    study_members_set(study=study, reviewers=reviewers)
    if progress:
        print(f"  study_start: {3 * count:,} slots in one statement ...", flush=True)
    started = time.perf_counter()
    study = study_start(study=study)
    timings["study_start"] = time.perf_counter() - started
    if progress:
        print(f"  study_start done in {timings['study_start']:.1f} s", flush=True)
    return study, timings


def accounts_create(count: int) -> list[Any]:
    """Reviewer accounts bench-reviewer-01.., password PASSWORD; the first AUTHOR_REVIEWERS are red-team authors."""
    from accounts.services import account_ensure
    from review.services.studies import reviewer_profile_set

    users = []
    for number in range(1, count + 1):
        user = account_ensure(username=f"bench-reviewer-{number:02d}", password=PASSWORD, roles=["reviewer"])
        if number <= AUTHOR_REVIEWERS:
            reviewer_profile_set(user=user, red_team_member_id=AUTHOR_BASE + number - 1)
        users.append(user)
    return users


def vacuum_analyze() -> float:
    """Fresh planner statistics (the bench server runs with autovacuum off); returns the seconds taken."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) review_transcript, review_studyitem, review_slot, review_review")
    return time.perf_counter() - started


def study_complete(study_id: int) -> bool:
    from django.db import connection

    from review.models import Slot, SlotStatus

    try:
        return not Slot.objects.filter(study_id=study_id).exclude(status=SlotStatus.DONE).exists()
    finally:
        connection.close()  # called from client threads


def correctness(study_id: int) -> dict[str, int]:
    """Counts that must be 0, read back from the database."""
    from django.db import connection

    from review.models import Review, ReviewerProfile, Study, StudyItem
    from transcripts.models import Transcript

    review, item = Review._meta.db_table, StudyItem._meta.db_table
    transcript, profile = Transcript._meta.db_table, ReviewerProfile._meta.db_table
    per_item = Study.objects.get(pk=study_id).reviewers_per_item
    queries = {
        "items with more than 3 reviews": (
            f"SELECT count(*) FROM (SELECT item_id FROM {review} WHERE study_id = %s "
            f"GROUP BY item_id HAVING count(*) > %s) x",
            [study_id, per_item],
        ),
        "(item, reviewer) pairs reviewed twice": (
            f"SELECT count(*) FROM (SELECT 1 FROM {review} WHERE study_id = %s "
            f"GROUP BY item_id, reviewer_id HAVING count(*) > 1) x",
            [study_id],
        ),
        "reviews with reviewer = author ids": (
            f"SELECT count(*) FROM {review} WHERE study_id = %s AND reviewer_member_id = author_member_id",
            [study_id],
        ),
        "reviews of own attack (joined)": (
            f"SELECT count(*) FROM {review} r JOIN {item} i ON i.id = r.item_id "
            f"JOIN {transcript} t ON t.id = i.transcript_id JOIN {profile} p ON p.user_id = r.reviewer_id "
            f"WHERE r.study_id = %s AND p.red_team_member_id = t.red_team_member_id",
            [study_id],
        ),
        "items with fewer than 3 reviews": (
            f"SELECT count(*) FROM {item} i WHERE i.study_id = %s "
            f"AND (SELECT count(*) FROM {review} r WHERE r.item_id = i.id) < %s",
            [study_id, per_item],
        ),
        "reviews stored": (f"SELECT count(*) FROM {review} WHERE study_id = %s", [study_id]),
    }
    counts = {}
    with connection.cursor() as cursor:
        for label, (sql, params) in queries.items():
            cursor.execute(sql, params)
            counts[label] = cursor.fetchone()[0]
    return counts


# --- the server -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn() -> str:
    beside = Path(sys.executable).with_name("gunicorn")
    return str(beside if beside.exists() else ROOT / ".venv" / "bin" / "gunicorn")


@contextmanager
def served(database_url: str, log_path: Path, workers: int = 2) -> Iterator[str]:
    """Serve the app with gunicorn in production mode over plain HTTP; yield its base URL; always stop it."""
    port = _free_port()
    env = base_env(database_url)
    env.pop("DJANGO_DEBUG", None)
    env.update(
        TRIAD_ENV="production",
        DJANGO_SECRET_KEY="bench-only-key-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        # As in production: the pages' scripts and styles come from collectstatic's hashed files.
        DJANGO_STATIC_ROOT=str(log_path.parent / "static"),
    )
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    command = [
        _gunicorn(),
        "--config",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "config.wsgi:application",
    ]
    print(f"starting: {' '.join(command)}  (log: {log_path})", flush=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, process, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    last = "no answer"
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            response = requests.get(f"{base_url}/healthz", timeout=2)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except requests.RequestException as exc:
            last = type(exc).__name__
        time.sleep(0.2)
    raise BenchError(f"/healthz did not answer 200 within {timeout:.0f} s (last: {last})")


def server_tracebacks(log_path: Path) -> list[str]:
    """The Python tracebacks gunicorn's log holds, each as text."""
    blocks: list[str] = []
    current: list[str] | None = None
    for line in log_path.read_text(errors="replace").splitlines():
        if line.startswith("Traceback (most recent call last)"):
            current = [line]
            blocks.append("")
        elif current is not None:
            current.append(line)
            continuing = ("Traceback", "During handling", "The above exception", " ", "\t")
            if line and not line.startswith(continuing):  # the exception line ends the block
                blocks[-1] = "\n".join(current)
                current = None
    return [block for block in blocks if block]


# --- the HTTP clients -------------------------------------------------------------------


def login(base_url: str, username: str, password: str) -> requests.Session:
    """A session logged in through the form, CSRF token and all."""
    session = requests.Session()
    page = session.get(f"{base_url}/accounts/login/", timeout=HTTP_TIMEOUT)
    token = session.cookies.get("csrftoken")
    if page.status_code != 200 or not token:
        raise BenchError(f"GET /accounts/login/ answered {page.status_code} without a csrftoken cookie")
    response = session.post(
        f"{base_url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"X-CSRFToken": token},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    if response.status_code != 302:
        raise BenchError(f"logging in as {username} answered {response.status_code}, not 302")
    return session


class LeanResponse:
    """The parts of a response the loop reads: status, headers, body, and what was asked."""

    def __init__(self, method: str, path: str, status: int, headers: Any, body: bytes) -> None:
        self.status_code = status
        self.headers = headers  # http.client.HTTPMessage: get() ignores the case of names
        self.text = body.decode("utf-8", "replace")
        self.request = SimpleNamespace(method=method, path_url=path)


class LeanSession:
    """One reviewer's keep-alive HTTP/1.1 connection and cookies, for the timed loop.

    The clients share this 2-core machine with gunicorn and PostgreSQL, so every millisecond a
    client spends is taken from the server it measures: requests.Session (its cookie jar, its
    adapters) spent about 2 ms a request here, http.client a fraction of that. Logging in still
    goes through requests (login()), whose cookies this session carries on.
    """

    def __init__(self, base_url: str, cookies: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies = dict(cookies)
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT)

    def get(self, url: str, **_: Any) -> LeanResponse:
        return self._request("GET", url, None, {})

    def post(
        self, url: str, data: dict[str, Any] | None = None, headers: dict[str, str] | None = None, **_: Any
    ) -> LeanResponse:
        body = urlencode(data or {}, doseq=True).encode()
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        return self._request("POST", url, body, {**form, **(headers or {})})

    def _request(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> LeanResponse:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {**headers, "Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                payload = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # gunicorn closed the kept-alive connection (a worker recycled): once more, anew.
                # A POST sent twice is safe: the app answers a repeated claim or submit with the first.
                self.connection.close()
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or morsel["expires"].endswith("1970 00:00:00 GMT"):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return LeanResponse(method, path, response.status, response.headers, payload)


# What the client loop may meet on the wire: gunicorn gone, a timeout, a malformed answer.
CLIENT_ERRORS = (OSError, http.client.HTTPException, requests.RequestException)


@dataclass
class ClientStats:
    reviews: int = 0
    checkins_offered: int = 0
    claims: list[float] = field(default_factory=list)  # claims that leased a slot
    done_claims: list[float] = field(default_factory=list)  # claims answered "nothing left"
    submits: list[float] = field(default_factory=list)
    pages: list[float] = field(default_factory=list)  # content warning + review page, with --pages
    # The server's own time for each page (its Server-Timing header), with --pages.
    preview_server: list[float] = field(default_factory=list)
    review_server: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    deadline_hit: bool = False
    gave_up: int = 0

    def error(self, kind: str, detail: str) -> None:
        kind = re.sub(r"\d+", "N", kind)
        self.errors[kind] += 1
        self.examples.setdefault(kind, detail)


def _location(response: LeanResponse) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def _describe(response: LeanResponse) -> str:
    body = " ".join(response.text[:300].split())
    request = response.request
    return f"{request.method} {request.path_url} -> {response.status_code} {_location(response)} {body}"


def client_loop(
    *,
    base_url: str,
    study_id: int,
    sessions: list[Any],  # LeanSession, or requests.Session with --http-client requests
    tag_ids: list[int],
    rng: random.Random,
    deadline: float,
    is_complete: Callable[[int], bool],
    pages: bool = False,
) -> ClientStats:
    """Claim and submit as each of the sessions' reviewers in turn until they are told the study is done.

    A claim is a POST. A submit claims the reviewer's next item itself and answers with its
    content warning (or "done"), so the loop claims on its own only at the start and after a
    check-in; the submit latencies include those claims.
    """
    stats = ClientStats()
    next_path = f"/review/studies/{study_id}/next"
    done_path = f"/review/studies/{study_id}/done"
    for index, session in enumerate(sessions):
        if index > 0 and is_complete(study_id):
            break
        consecutive_errors = 0
        claimed: LeanResponse | None = None  # a submit's answer that claimed the next item
        while True:
            if time.perf_counter() >= deadline:
                stats.deadline_hit = True
                return stats
            if consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
                stats.gave_up += 1
                break
            by_submit, claim, claimed = claimed is not None, claimed, None
            if claim is None:
                started = time.perf_counter()
                try:
                    claim = session.post(
                        base_url + next_path,
                        headers={"X-CSRFToken": session.cookies.get("csrftoken", "")},
                        allow_redirects=False,
                        timeout=HTTP_TIMEOUT,
                    )
                except CLIENT_ERRORS as exc:
                    stats.error(f"claim {type(exc).__name__}", str(exc))
                    consecutive_errors += 1
                    continue
                elapsed = time.perf_counter() - started
            where = _location(claim)
            slot_match = SLOT_PATH.fullmatch(where)
            if claim.status_code == 302 and where.rstrip("/") == done_path:
                if not by_submit:
                    stats.done_claims.append(elapsed)
                break
            if claim.status_code != 302 or slot_match is None:
                stats.error(f"claim {claim.status_code} {where}", _describe(claim))
                consecutive_errors += 1
                continue
            if not by_submit:
                stats.claims.append(elapsed)
            if pages and not _pages_load(session, base_url + where, stats):
                consecutive_errors += 1
                continue
            tags = rng.sample(tag_ids, rng.randint(0, min(2, len(tag_ids))))
            data = {"rating": str(rng.randint(0, 4)), "tags": [str(tag) for tag in tags], "note": "bench review"}
            started = time.perf_counter()
            try:
                submit = session.post(
                    f"{base_url}/review/slots/{slot_match.group(1)}/review",
                    data=data,
                    headers={"X-CSRFToken": session.cookies.get("csrftoken", "")},
                    allow_redirects=False,
                    timeout=HTTP_TIMEOUT,
                )
            except CLIENT_ERRORS as exc:
                stats.error(f"submit {type(exc).__name__}", str(exc))
                consecutive_errors += 1
                continue
            stats.submits.append(time.perf_counter() - started)
            went = _location(submit)
            if submit.status_code == 302 and (SLOT_PATH.fullmatch(went) or went.rstrip("/") == done_path):
                stats.reviews += 1
                consecutive_errors = 0
                claimed = submit
            elif submit.status_code == 302 and went == CHECKIN_PATH:
                # Every study's K-th review offers the feelings check-in; this reviewer goes
                # straight on to the next item, which is always allowed.
                stats.reviews += 1
                stats.checkins_offered += 1
                consecutive_errors = 0
            else:
                stats.error(f"submit {submit.status_code} {went}", _describe(submit))
                consecutive_errors += 1
    return stats


def _pages_load(session: LeanSession, preview_url: str, stats: ClientStats) -> bool:
    """What a browser loads between claim and submit: the content warning, then the review page."""
    started = time.perf_counter()
    # Each page must come in one round trip: a 200, no redirect on the way.
    for url, server_times in ((preview_url, stats.preview_server), (preview_url + "review", stats.review_server)):
        try:
            page = session.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)
        except CLIENT_ERRORS as exc:
            stats.error(f"page {type(exc).__name__}", str(exc))
            return False
        if page.status_code != 200:
            stats.error(f"page {page.status_code}", _describe(page))
            return False
        server = SERVER_TIMING.fullmatch(page.headers.get("Server-Timing", ""))
        if server is not None:
            server_times.append(float(server.group(1)) / 1000)
    stats.pages.append(time.perf_counter() - started)
    return True


# --- the pages in Chromium -----------------------------------------------------------------

# What the page's own Navigation Timing says, in ms from the start of the navigation: the first
# byte, DOMContentLoaded's end (review.js is deferred, so its keys work from then on: the page
# is interactive) and the load event's end; and the server's time from its Server-Timing header.
NAVIGATION_TIMING_JS = """() => {
    const n = performance.getEntriesByType("navigation")[0];
    const app = n.serverTiming.find((entry) => entry.name === "app");
    return {first_byte: n.responseStart - n.startTime, interactive: n.domContentLoadedEventEnd - n.startTime,
            loaded: n.loadEventEnd - n.startTime, server: app ? app.duration : null};
}"""


@dataclass
class ChromiumTimes:
    warning: list[dict[str, float]] = field(default_factory=list)
    review: list[dict[str, float]] = field(default_factory=list)


def chromium_pages(*, base_url: str, study_id: int, username: str, count: int, warmup: int = 3) -> ChromiumTimes:
    """One reviewer in Chromium at 1366x768, by keyboard: Enter on the content warning, 2 and
    Ctrl+Enter on the review page, for warmup + count items; each page's Navigation Timing."""
    from playwright.sync_api import sync_playwright

    times = ChromiumTimes()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
        page.goto(f"{base_url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.goto(f"{base_url}/review/studies/{study_id}/next")
        with page.expect_navigation():
            page.click("main button[type=submit]")  # "Start reviewing": the claim
        for number in range(warmup + count):
            if not SLOT_PATH.search(page.url):
                raise BenchError(f"Chromium expected a content warning, found {page.url}")
            warning = page.evaluate(NAVIGATION_TIMING_JS)
            with page.expect_navigation():
                page.keyboard.press("Enter")  # continue to the review page
            review = page.evaluate(NAVIGATION_TIMING_JS)
            page.keyboard.press("2")
            with page.expect_navigation():
                page.keyboard.press("Control+Enter")  # submit; the answer is the next warning
            if number >= warmup:
                times.warning.append(warning)
                times.review.append(review)
        browser.close()
    return times


def chromium_report(times: ChromiumTimes) -> None:
    for name, entries in (("content warning", times.warning), ("review page", times.review)):
        columns = ", ".join(
            f"{key.replace('_', ' ')} {percentile([entry[key] for entry in entries], 50):.1f}"
            for key in ("server", "first_byte", "interactive", "loaded")
        )
        print(f"  {name:<16} p50 ms: {columns}   ({len(entries)} pages)")


@dataclass
class LoopResult:
    clients: int
    wall: float
    stats: ClientStats
    counts: dict[str, int]


def http_loop(
    *,
    base_url: str,
    study_id: int,
    usernames: list[str],
    clients: int,
    tag_ids: list[int],
    seed: int,
    deadline_seconds: float,
    pages: bool = False,
    http_client: str = "lean",
) -> LoopResult:
    """Log every reviewer in, then run the clients (reviewer i goes to client i % clients) to completion."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        logged_in = list(pool.map(lambda name: login(base_url, name, PASSWORD), usernames))
    sessions: list[Any] = logged_in
    if http_client == "lean":
        sessions = [
            LeanSession(base_url, {key: value or "" for key, value in session.cookies.get_dict().items()})
            for session in logged_in
        ]
    seconds = time.perf_counter() - started
    print(f"  {len(sessions)} reviewers logged in through the form in {seconds:.1f} s", flush=True)
    results: list[ClientStats | None] = [None] * clients
    failures: list[str] = []
    deadline = math.inf  # set just before the clients start

    def run(number: int) -> None:
        try:
            results[number] = client_loop(
                base_url=base_url,
                study_id=study_id,
                sessions=sessions[number::clients],
                tag_ids=tag_ids,
                rng=random.Random(seed * 1000 + number),
                deadline=deadline,
                is_complete=study_complete,
                pages=pages,
            )
        except Exception as exc:  # reported below; the other clients carry on
            failures.append(f"client {number}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(number,), name=f"client-{number}") for number in range(clients)]
    started = time.perf_counter()
    deadline = started + deadline_seconds
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    merged = ClientStats()
    for stats in results:
        if stats is None:
            continue
        merged.reviews += stats.reviews
        merged.checkins_offered += stats.checkins_offered
        merged.claims += stats.claims
        merged.done_claims += stats.done_claims
        merged.submits += stats.submits
        merged.pages += stats.pages
        merged.preview_server += stats.preview_server
        merged.review_server += stats.review_server
        merged.errors.update(stats.errors)
        for kind, detail in stats.examples.items():
            merged.examples.setdefault(kind, detail)
        merged.deadline_hit |= stats.deadline_hit
        merged.gave_up += stats.gave_up
    for failure in failures:
        merged.error("client crashed", failure)
    return LoopResult(clients=clients, wall=wall, stats=merged, counts=correctness(study_id))


# --- reporting --------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(values: list[float], *pcts: float) -> str:
    return " / ".join(f"{percentile(values, pct) * 1000:.1f}" for pct in pcts) + " ms"


def loop_report(result: LoopResult) -> None:
    stats = result.stats
    rate = stats.reviews / result.wall if result.wall else 0.0
    print(f"  {stats.reviews:,} reviews in {result.wall:.1f} s = {rate:.1f} reviews/s", flush=True)
    print(f"  claim  p50 / p95 / p99  {ms(stats.claims, 50, 95, 99)}   ({len(stats.claims):,} leases)")
    print(f"  'done' claim p50 / p99  {ms(stats.done_claims, 50, 99)}   ({len(stats.done_claims)} answered)")
    print(f"  submit p50 / p99        {ms(stats.submits, 50, 99)}   ({len(stats.submits):,} posts, each + next claim)")
    if stats.pages:
        print(f"  pages  p50 / p99        {ms(stats.pages, 50, 99)}   (content warning + review page)")
        print(f"  content warning server p50 / p99  {ms(stats.preview_server, 50, 99)}   (Server-Timing)")
        print(f"  review page server p50 / p99      {ms(stats.review_server, 50, 99)}   (Server-Timing)")
    for label, value in result.counts.items():
        print(f"  {label:<40}{value:>8,}")
    print(f"  {'HTTP errors':<40}{sum(stats.errors.values()):>8,}")
    print(f"  {'check-ins offered (went on to the next)':<40}{stats.checkins_offered:>8,}")
    for kind, count in stats.errors.most_common():
        print(f"    {count:>6} x {kind}: {stats.examples[kind][:400]}")
    if stats.gave_up:
        print(f"  gave up on {stats.gave_up} reviewer(s) after {MAX_CONSECUTIVE_ERRORS} errors in a row")
    if stats.deadline_hit:
        print("  STOPPED AT THE DEADLINE: the study was not finished")


def bad_counts(result: LoopResult) -> int:
    counts = result.counts
    must_be_zero = [label for label in counts if label != "reviews stored"]
    return sum(counts[label] for label in must_be_zero) + sum(result.stats.errors.values())


# --- the million-item comparison (in-process) -------------------------------------------


@dataclass
class ClaimTimes:
    claims: list[float] = field(default_factory=list)
    submits: list[float] = field(default_factory=list)


def claim_and_submit(study: Any, reviewer: Any, rng: random.Random, times: ClaimTimes | None) -> None:
    from review.services.answers import ReviewAnswers
    from workspace.services import work_claim, work_submit

    started = time.perf_counter()
    slot = work_claim(study_id=study.pk, reviewer=reviewer)
    claimed = time.perf_counter()
    if slot is None:
        raise BenchError(f"{study.name}: nothing left to claim for {reviewer}")
    work_submit(slot_id=slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=rng.randint(0, 4)))
    if times is not None:
        times.claims.append(claimed - started)
        times.submits.append(time.perf_counter() - claimed)


def claim_plan(study: Any, reviewer: Any) -> tuple[list[str], float]:
    """EXPLAIN (ANALYZE, BUFFERS) of the candidate query work_claim really runs, captured from one claim."""
    from django.db import connection, transaction

    from review.services.answers import ReviewAnswers
    from workspace.services import work_claim, work_submit

    captured: list[tuple[str, Any]] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "SKIP LOCKED" in sql and "item_done" in sql:
            captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        slot = work_claim(study_id=study.pk, reviewer=reviewer)
    if slot is not None:
        work_submit(slot_id=slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=0))
    if not captured:
        return ["(the claim ran no SKIP LOCKED query ordered by item_done)"], math.nan
    sql, params = captured[-1]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        lines = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    execution = next((float(m.group(1)) for line in lines if (m := re.search(r"Execution Time: ([0-9.]+)", line))), 0)
    return lines, execution


@dataclass
class MillionResult:
    items: int
    build: dict[str, float]
    small: ClaimTimes
    large: ClaimTimes
    plan_small_ms: float
    plan_large_ms: float
    expert_small: ClaimTimes = field(default_factory=ClaimTimes)
    expert_large: ClaimTimes = field(default_factory=ClaimTimes)


# One item in EXPERT_EVERY asks for an expert (its expert slot is open), in the Weapons domain.
EXPERT_EVERY = 4


def expert_slots_open(study: Any) -> int:
    """Open the expert slot of every EXPERT_EVERY-th item of the study, as a crowd review asking
    for one would (review.services.reviews.expert_slot_open), in one statement; returns how many."""
    from django.db import connection

    from review.models import RaterRole, Slot, SlotStatus
    from tagging.models import Tag

    weapons = Tag.objects.get(name="Weapons").pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Slot._meta.db_table}
                (study_id, item_id, number, position, author_member_id, item_done, status, role, expert_tag_id)
            SELECT study_id, item_id, %s, position, author_member_id, 0, %s, %s, %s
            FROM {Slot._meta.db_table}
            WHERE study_id = %s AND number = 1 AND position %% %s = 0
            ON CONFLICT DO NOTHING
            """,
            [4, SlotStatus.OPEN, RaterRole.EXPERT, weapons, study.pk, EXPERT_EVERY],
        )
        return int(cursor.rowcount)


def expert_account(studies: list[Any]) -> Any:
    """A reviewer who declared Weapons expertise, in both studies; never an author."""
    from django.contrib.auth import get_user_model

    from accounts.services import account_ensure
    from review.services.studies import reviewer_profile_set, study_members_set
    from tagging.models import Tag

    expert = account_ensure(username="bench-expert", password=PASSWORD, roles=["reviewer"])
    reviewer_profile_set(user=expert, red_team_member_id=None, expertise_tag_ids=[Tag.objects.get(name="Weapons").pk])
    for study in studies:
        members = list(study.memberships.values_list("reviewer", flat=True))
        study_members_set(study=study, reviewers=[*get_user_model().objects.filter(pk__in=members), expert])
    return expert


def million_compare(*, items: int, claims: int, reviewers: list[Any], seed: int) -> MillionResult:
    build: dict[str, float] = {}
    print(f"building a {items:,}-item study with set-based SQL ...", flush=True)
    started = time.perf_counter()
    batch_id = import_batch_create(f"{items} items")
    transcripts_insert(first=10_000_001, count=items, batch_id=batch_id, progress=True)
    build["transcripts"] = time.perf_counter() - started
    transcripts_check([10_000_001, 10_000_009, 10_000_000 + items])
    large, timings = study_build(name=f"bench {items} items", batch_id=batch_id, reviewers=reviewers, progress=True)
    build.update(timings)
    small_batch = import_batch_create("reference 1000 items")
    transcripts_insert(first=20_000_001, count=1000, batch_id=small_batch)
    small, _ = study_build(name="bench reference 1000 items", batch_id=small_batch, reviewers=reviewers)
    # After both studies exist: a study started after the last ANALYZE is estimated at ~1 slot
    # and gets a sort-everything plan, which would make the small study look slow.
    print("  VACUUM (ANALYZE) of the transcript, study item and slot tables ...", flush=True)
    build["vacuum analyze"] = vacuum_analyze()
    print(f"  done in {build['vacuum analyze']:.1f} s", flush=True)

    rng = random.Random(seed)
    for number in range(10):  # warm both studies' pages and plans before timing
        for study in (small, large):
            claim_and_submit(study, reviewers[number % len(reviewers)], rng, None)
    print(f"timing {claims} claims (+ submits) on each study, interleaved, in-process ...", flush=True)
    small_times, large_times = ClaimTimes(), ClaimTimes()
    for number in range(claims):
        reviewer = reviewers[number % len(reviewers)]
        claim_and_submit(small, reviewer, rng, small_times)
        claim_and_submit(large, reviewer, rng, large_times)
    _, small_ms = claim_plan(small, reviewers[0])
    plan_large, large_ms = claim_plan(large, reviewers[0])
    print(f"claim query plan on the {items:,}-item study (reviewer {reviewers[0]}):")
    for line in plan_large:
        print(f"    {line}")
    print(f"  (same query on the 1,000-item study: {small_ms:.3f} ms execution)")
    result = MillionResult(items, build, small_times, large_times, small_ms, large_ms)
    expert_compare(result, small=small, large=large, claims=claims, rng=rng)
    return result


def expert_compare(result: MillionResult, *, small: Any, large: Any, claims: int, rng: random.Random) -> None:
    """The expert's claim on both studies, once one item in EXPERT_EVERY waits for a Weapons expert:
    the expert pick runs first for a reviewer with expertise, through its own partial index."""
    opened = {study.name: expert_slots_open(study) for study in (small, large)}
    print(f"opened expert slots: {', '.join(f'{name} {count:,}' for name, count in opened.items())}", flush=True)
    vacuum_analyze()
    expert = expert_account([small, large])
    timed = min(claims, opened[small.name] - 20)
    for study in (small, large):  # warm
        for _ in range(5):
            claim_and_submit(study, expert, rng, None)
    for _ in range(timed):
        claim_and_submit(small, expert, rng, result.expert_small)
        claim_and_submit(large, expert, rng, result.expert_large)
    ratio = percentile(result.expert_large.claims, 50) / percentile(result.expert_small.claims, 50)
    print(f"  expert claim p50 large / small: {ratio:.2f} x over {timed} claims each", flush=True)


def expert_rows(million: MillionResult) -> list[tuple[str, str, str]]:
    if not million.expert_small.claims:
        return []
    small, large = million.expert_small.claims, million.expert_large.claims
    ratio = percentile(large, 50) / percentile(small, 50)
    return [
        ("1,000-item expert claim p50/p95", ms(small, 50, 95), f"a Weapons expert, 1 item in {EXPERT_EVERY} waiting"),
        (f"{million.items:,}-item expert claim p50/p95", ms(large, 50, 95), "in-process work_claim"),
        ("expert claim p50 ratio large / small", f"{ratio:.2f} x", f"target < 2; {len(large)} claims each"),
    ]


# --- key figures (--json) ----------------------------------------------------------------


def key_figures(
    loops: list[LoopResult], million: MillionResult | None, chromium: ChromiumTimes | None = None
) -> list[Figure]:
    """The figures bench/compare.py compares, as printed above (figures.review_loop_parse reads the same)."""
    figures = []
    for label, result in zip(loop_labels([result.clients for result in loops]), loops, strict=True):
        stats = result.stats
        figures += [
            Figure(f"{label}: reviews/s", stats.reviews / result.wall if result.wall else 0.0, "reviews/s", "higher"),
            Figure(f"{label}: claim p50", percentile(stats.claims, 50) * 1000, "ms", "lower"),
            Figure(f"{label}: submit p50", percentile(stats.submits, 50) * 1000, "ms", "lower"),
        ]
        if stats.pages:
            figures += [
                Figure(f"{label}: pages p50", percentile(stats.pages, 50) * 1000, "ms", "lower"),
                Figure(f"{label}: warning server p50", percentile(stats.preview_server, 50) * 1000, "ms", "lower"),
                Figure(f"{label}: review server p50", percentile(stats.review_server, 50) * 1000, "ms", "lower"),
            ]
        figures.append(Figure(f"{label}: must-be-zero counts", bad_counts(result), "", "zero"))
    if chromium is not None:
        for name, entries in (("warning", chromium.warning), ("review page", chromium.review)):
            for key in ("server", "interactive"):
                value = percentile([entry[key] for entry in entries], 50)
                figures.append(Figure(f"Chromium {name} {key} p50", value, "ms", "lower"))
    if million is not None:
        small_p50, large_p50 = percentile(million.small.claims, 50), percentile(million.large.claims, 50)
        figures += [
            Figure(f"{million.items:,}-item study build", sum(million.build.values()), "s", "lower"),
            Figure("1,000-item study claim p50", small_p50 * 1000, "ms", "lower"),
            Figure(f"{million.items:,}-item study claim p50", large_p50 * 1000, "ms", "lower"),
            Figure("claim p50 large / small", large_p50 / small_p50 if small_p50 else math.nan, "x", "lower"),
        ]
        if million.expert_small.claims:
            expert_small = percentile(million.expert_small.claims, 50)
            expert_large = percentile(million.expert_large.claims, 50)
            figures += [
                Figure("1,000-item study expert claim p50", expert_small * 1000, "ms", "lower"),
                Figure(f"{million.items:,}-item study expert claim p50", expert_large * 1000, "ms", "lower"),
                Figure("expert claim p50 large / small", expert_large / expert_small, "x", "lower"),
            ]
    return figures


# --- main -------------------------------------------------------------------------------


def _clients_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 30,1, got {text!r}") from None
    if not values or any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"expected positive numbers like 30,1, got {text!r}")
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/triad_review_bench")
    parser.add_argument(
        "--clients",
        type=_clients_list,
        default=[30, 1],
        help="Concurrent HTTP clients; a comma list runs one fresh study per entry (default 30,1).",
    )
    parser.add_argument("--reviewers", type=int, default=30, help="Reviewer accounts, all members of every study.")
    parser.add_argument("--items", type=int, default=1000, help="Items of each HTTP study.")
    parser.add_argument("--deadline", type=float, default=600.0, help="Seconds each HTTP loop may run at most.")
    parser.add_argument("--skip-http", action="store_true", help="Skip the HTTP loops (no gunicorn).")
    parser.add_argument(
        "--web-workers", type=int, default=2, help="gunicorn worker processes (threads: TRIAD_WEB_THREADS)."
    )
    parser.add_argument(
        "--pages",
        action="store_true",
        help="Also load the content warning and the review page between claim and submit, as a browser does.",
    )
    parser.add_argument(
        "--http-client",
        choices=("lean", "requests"),
        default="lean",
        help="The timed clients' HTTP: lean (http.client, keep-alive) or requests.Session, as before.",
    )
    parser.add_argument(
        "--chromium",
        type=int,
        default=0,
        metavar="N",
        help="Also review N items in Chromium by keyboard, on a study of its own, and time each page there.",
    )
    parser.add_argument("--skip-million", action="store_true", help="Skip the 1,000,000-item claim comparison.")
    parser.add_argument("--million-items", type=int, default=1_000_000)
    parser.add_argument("--million-claims", type=int, default=300, help="Timed claims on each study.")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--json", metavar="PATH", help="Also write the key figures to PATH (for bench/compare.py).")
    options = parser.parse_args()
    if options.reviewers < 4:
        sys.exit("--reviewers must be at least 4: three reviews per item, and some reviewers are authors")

    print(f"recreating {options.database_url} and migrating ...", flush=True)
    recreate_database(options.database_url)
    migrate(options.database_url)
    django_setup(options.database_url)
    from tagging.models import Tag

    started = time.perf_counter()
    batch_id = import_batch_create(f"{options.items} items")
    transcripts_insert(first=1, count=options.items, batch_id=batch_id)
    transcripts_check([1, 9, 10, options.items])
    users = accounts_create(options.reviewers)
    usernames = [user.username for user in users]
    tag_ids = list(Tag.objects.order_by("position").values_list("id", flat=True))
    print(
        f"  {options.items:,} transcripts and {options.reviewers} reviewer accounts "
        f"({AUTHOR_REVIEWERS} of them authors of 1 transcript in {AUTHORS}) in {time.perf_counter() - started:.1f} s",
        flush=True,
    )

    loops: list[LoopResult] = []
    chromium: ChromiumTimes | None = None
    log_path = Path(tempfile.mkdtemp(prefix="triad-review-bench-")) / "gunicorn.log"
    if not options.skip_http:
        studies = []
        for number, clients in enumerate(options.clients, start=1):
            study, _ = study_build(name=f"bench http {number} ({clients} clients)", batch_id=batch_id, reviewers=users)
            studies.append(study)
        browser_study = None
        if options.chromium:
            from wellbeing.services.exposure import study_wellbeing_set

            browser_study, _ = study_build(name="bench chromium", batch_id=batch_id, reviewers=users)
            # Every page timed is a content warning or a review page: the check-in comes at most once.
            study_wellbeing_set(study=browser_study, daily_cap_minutes=24 * 60, checkin_every_reviews=1000)
        print(f"  {len(studies)} studies started; VACUUM (ANALYZE) in {vacuum_analyze():.1f} s", flush=True)
        with served(options.database_url, log_path, workers=options.web_workers) as base_url:
            for clients, study in zip(options.clients, studies, strict=True):
                print(
                    f"{clients} client(s), {options.reviewers} reviewers, study {study.pk} "
                    f"({options.items:,} items x 3) ...",
                    flush=True,
                )
                result = http_loop(
                    base_url=base_url,
                    study_id=study.pk,
                    usernames=usernames,
                    clients=clients,
                    tag_ids=tag_ids,
                    seed=options.seed + clients,
                    deadline_seconds=options.deadline,
                    pages=options.pages,
                    http_client=options.http_client,
                )
                loop_report(result)
                loops.append(result)
            if browser_study is not None:
                print(f"Chromium, 1 reviewer by keyboard, study {browser_study.pk}, {options.chromium} items ...")
                chromium = chromium_pages(
                    base_url=base_url, study_id=browser_study.pk, username=usernames[-1], count=options.chromium
                )
                chromium_report(chromium)
        tracebacks = server_tracebacks(log_path)
        print(f"gunicorn stopped; {len(tracebacks)} traceback(s) in {log_path}")
        for block in tracebacks[:3]:
            print("    " + block.replace("\n", "\n    "))

    million: MillionResult | None = None
    if not options.skip_million:
        # Reviewer 1 is a red-team author (1 item in 50), so the exclusion is in the measured claims.
        chosen = [users[0], users[AUTHOR_REVIEWERS], users[AUTHOR_REVIEWERS + 1]]
        million = million_compare(
            items=options.million_items, claims=options.million_claims, reviewers=chosen, seed=options.seed
        )

    print()
    rows: list[tuple[str, str, str]] = []
    for result in loops:
        stats, name = result.stats, f"{result.clients} client{'s' if result.clients != 1 else ''}"
        rate = stats.reviews / result.wall if result.wall else 0.0
        rows += [
            (f"{name}: throughput", f"{rate:.1f} reviews/s", f"{stats.reviews:,} reviews in {result.wall:.1f} s"),
            (f"{name}: claim p50/p95/p99", ms(stats.claims, 50, 95, 99), f"{len(stats.claims):,} leases over HTTP"),
            (f"{name}: submit p50/p99", ms(stats.submits, 50, 99), f"{len(stats.submits):,} posts"),
            (
                f"{name}: must-be-zero counts",
                f"{bad_counts(result):,}",
                ">3 reviews, twice, own attack, <3 reviews, HTTP errors"
                + (" (DEADLINE HIT)" if stats.deadline_hit else ""),
            ),
        ]
    if million is not None:
        small_p50, large_p50 = percentile(million.small.claims, 50), percentile(million.large.claims, 50)
        ratio = large_p50 / small_p50 if small_p50 else math.nan
        build = sum(million.build.values())
        rows += [
            (
                f"{million.items:,}-item study build",
                f"{build:.1f} s",
                ", ".join(f"{label} {seconds:.1f} s" for label, seconds in million.build.items()),
            ),
            ("1,000-item claim p50/p95", ms(million.small.claims, 50, 95), "in-process work_claim"),
            (f"{million.items:,}-item claim p50/p95", ms(million.large.claims, 50, 95), "in-process work_claim"),
            (
                "claim p50 ratio large / small",
                f"{ratio:.2f} x",
                f"target < 2; {len(million.large.claims)} claims each, p95 ratio "
                f"{percentile(million.large.claims, 95) / percentile(million.small.claims, 95):.2f} x",
            ),
            *expert_rows(million),
            (
                "claim query execution",
                f"{million.plan_small_ms:.2f} / {million.plan_large_ms:.2f} ms",
                "EXPLAIN ANALYZE, small / large",
            ),
            (
                "submit p50 small / large",
                f"{statistics.median(million.small.submits) * 1000:.1f} / "
                f"{statistics.median(million.large.submits) * 1000:.1f} ms",
                "in-process work_submit",
            ),
        ]
    if chromium is not None:
        for name, entries in (("content warning", chromium.warning), ("review page", chromium.review)):
            server = percentile([entry["server"] for entry in entries], 50)
            interactive = percentile([entry["interactive"] for entry in entries], 50)
            rows.append(
                (
                    f"Chromium {name} p50",
                    f"{server:.1f} / {interactive:.1f} ms",
                    f"server / interactive (DOMContentLoaded), {len(entries)} pages",
                )
            )
    for label, value, note in rows:
        print(f"{label:<38}{value:>26}   {note}")
    if options.json:
        figures_write(options.json, bench="review_loop", figures=key_figures(loops, million, chromium))


if __name__ == "__main__":
    main()
