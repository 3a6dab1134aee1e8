"""Headers on every kind of response, production settings that pass Django's deploy check, and
login throttling: what a security review of the settings would ask for, proven end to end."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path

from api.services import api_token_create
from config.lockout import client_ip_address
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"  # the factories' password


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


# Used only by test_a_server_error_is_hardened_too (pytest.mark.urls points here).
urlpatterns = [path("boom", _boom)]


def assert_hardened(response: HttpResponse, where: str) -> None:
    policy = response.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives.get("default-src") == ["'self'"], where
    assert directives.get("script-src") == ["'self'"], where
    assert directives.get("style-src") == ["'self'"], where
    assert directives.get("object-src") == ["'none'"], where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert "unsafe" not in policy, where
    assert response.get("X-Frame-Options") == "DENY", where
    assert response.get("Referrer-Policy") == "same-origin", where
    assert response.get("X-Content-Type-Options") == "nosniff", where


# --- headers -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_kind_of_response_carries_the_strict_policy_and_the_framing_and_referrer_headers() -> None:
    lead = UserFactory(roles=["lead"], is_staff=True, is_superuser=True)
    _, raw_token = api_token_create(user=lead, name="ci", scopes=["read:labels"])
    reviewer = UserFactory(roles=["reviewer"])
    anonymous, as_lead, as_reviewer, with_token = Client(), Client(), Client(), Client()
    as_lead.force_login(lead)
    as_reviewer.force_login(reviewer)
    with_token.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw_token}"

    expected = [
        (anonymous, "/", 200),
        (anonymous, "/accounts/login/", 200),
        (anonymous, "/healthz", None),  # 200 or 503 as the services stand: headers either way
        (anonymous, "/review/", 302),
        (anonymous, "/no/such/page/", 404),
        (anonymous, "/api/v1/labels/", 401),
        (anonymous, "/api/v1/no/such/endpoint", 404),
        (anonymous, "/admin/login/", 200),
        (as_reviewer, "/review/", 200),
        (as_reviewer, "/lead/studies/", 404),
        (as_reviewer, "/api/v1/labels/", 403),
        (as_lead, "/lead/studies/", 200),
        (as_lead, "/lead/tokens/", 200),
        (as_lead, "/api/v1/docs/", 200),
        (as_lead, "/api/v1/schema/", 200),
        (as_lead, "/admin/", 200),
        (as_lead, "/admin/transcripts/transcript/", 200),
        (as_lead, "/admin/axes/accessattempt/", 200),
        (with_token, "/api/v1/labels/", 200),
        (with_token, "/api/v1/studies/1/agreement/", 403),
    ]
    for client, url, status in expected:
        response = client.get(url)
        assert status is None or response.status_code == status, url
        assert_hardened(response, url)


@pytest.mark.django_db
@pytest.mark.urls("tests.config.test_security")
def test_a_server_error_is_hardened_too() -> None:
    response = Client(raise_request_exception=False).get("/boom")
    assert response.status_code == 500
    assert_hardened(response, "/boom")


@pytest.mark.django_db
def test_a_login_form_post_and_a_lockout_page_are_hardened(client: Client, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 1
    UserFactory(username="ann")
    response = client.post("/accounts/login/", {"username": "ann", "password": "wrong"})
    assert response.status_code == 429
    assert_hardened(response, "lockout page")


# --- production settings -----------------------------------------------------------------------


def _production_environ() -> dict[str, str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_", "TRIAD_")) and key != "DATABASE_URL"
    }
    environ.update(
        TRIAD_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="triad.example.org",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://triad.example.org",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return environ


def test_the_deploy_check_is_clean_with_production_settings() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_environ(),
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


PRODUCTION_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="triad.example.org")
plain = client.get("/accounts/login/")
secure = client.get("/accounts/login/", secure=True)
probe = client.get("/healthz")
csrf = secure.cookies[settings.CSRF_COOKIE_NAME]
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "healthz_redirected": probe.status_code == 301,
    "hsts": secure.get("Strict-Transport-Security"),
    "csrf_cookie": {"secure": csrf["secure"], "samesite": csrf["samesite"], "httponly": csrf["httponly"]},
    "session_cookie": [
        settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY,
        settings.SESSION_COOKIE_SAMESITE, settings.SESSION_COOKIE_DOMAIN, settings.SESSION_COOKIE_PATH,
    ],
    "csrf_cookie_name": settings.CSRF_COOKIE_NAME,
    "debug": settings.DEBUG,
}))
"""


def test_production_redirects_to_https_but_for_healthz_sends_hsts_and_sets_only_secure_cookies() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=ROOT,
        env=_production_environ(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://triad.example.org/accounts/login/"]
    assert seen["healthz_redirected"] is False  # load balancers probe over plain HTTP
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["csrf_cookie"] == {"secure": True, "samesite": "Lax", "httponly": True}
    assert seen["session_cookie"] == ["__Host-sessionid", True, True, "Lax", None, "/"]
    assert seen["csrf_cookie_name"] == "__Host-csrftoken"
    assert seen["debug"] is False


# --- login throttling --------------------------------------------------------------------------


def log_in(client: Client, username: str, password: str, *, address: str = "10.0.0.1", **headers: str) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_five_failed_logins_lock_the_account_from_that_address_even_against_the_right_password(
    client: Client,
) -> None:
    UserFactory(username="ann")
    for _ in range(4):
        response = log_in(client, "ann", "wrong")
        assert response.status_code == 200
        assert b"did not match" in response.content
    fifth = log_in(client, "ann", "wrong")
    assert fifth.status_code == 429
    assert b"Too many attempts" in fifth.content
    assert b"15 minutes" in fifth.content
    assert fifth["Retry-After"] == "900"

    locked = log_in(client, "ann", PASSWORD)
    assert locked.status_code == 429
    assert not signed_in(client)


@pytest.mark.django_db
def test_a_colleague_behind_the_same_address_and_the_locked_user_elsewhere_can_still_log_in() -> None:
    UserFactory(username="ann")
    UserFactory(username="bea")
    office = Client()
    for _ in range(5):
        log_in(office, "ann", "wrong", address="192.0.2.10")

    colleague = Client()
    assert log_in(colleague, "bea", PASSWORD, address="192.0.2.10").status_code == 302
    assert signed_in(colleague)
    # Someone guessing ann's password from one place cannot lock ann out everywhere.
    at_home = Client()
    assert log_in(at_home, "ann", PASSWORD, address="198.51.100.20").status_code == 302
    assert signed_in(at_home)


@pytest.mark.django_db
def test_the_lockout_ends_after_the_cool_off_and_retrying_meanwhile_does_not_extend_it(client: Client) -> None:
    UserFactory(username="ann")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(5):
            log_in(client, "ann", "wrong")
        clock.shift(timedelta(minutes=14))
        assert log_in(client, "ann", PASSWORD).status_code == 429
        clock.shift(timedelta(minutes=1, seconds=1))
        assert log_in(client, "ann", PASSWORD).status_code == 302
        assert signed_in(client)


@pytest.mark.django_db
def test_a_successful_login_resets_the_count(client: Client) -> None:
    UserFactory(username="ann")
    for _ in range(4):
        log_in(client, "ann", "wrong")
    assert log_in(client, "ann", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert log_in(client, "ann", "wrong").status_code == 200
    assert log_in(client, "ann", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_limit_and_cool_off_come_from_the_environment_strictly() -> None:
    environ = {**_production_environ(), "TRIAD_ENV": "development", "TRIAD_LOGIN_FAILURE_LIMIT": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environ,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "TRIAD_LOGIN_FAILURE_LIMIT=0 is below the minimum of 1" in result.stderr

    environ.update(TRIAD_LOGIN_FAILURE_LIMIT="3", TRIAD_LOGIN_COOLOFF_MINUTES="60")
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120, check=True
    )
    assert shown.stdout.split() == ["3", "1:00:00"]


@pytest.mark.django_db
def test_the_admin_login_is_throttled_the_same_way(client: Client) -> None:
    UserFactory(username="root", is_staff=True, is_superuser=True)
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "root", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert not signed_in(client)


@pytest.mark.django_db
def test_the_lockout_page_shows_a_hostile_username_as_text(client: Client) -> None:
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    for _ in range(5):
        response = log_in(client, hostile, "wrong")
    assert response.status_code == 429
    page = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<script>alert" not in page
    assert "<img src=x" not in page


@pytest.mark.django_db
def test_a_failed_login_never_stores_the_password_typed(client: Client) -> None:
    UserFactory(username="ann")
    log_in(client, "ann", "correct horse battery stapel")  # a typo of the real one
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == ("ann", "10.0.0.1", 1)
    assert "stapel" not in attempt.post_data
    assert "stapel" not in attempt.get_data


@pytest.mark.django_db
def test_an_administrator_unlocks_an_account_with_axes_reset_username(client: Client) -> None:
    UserFactory(username="ann")
    for _ in range(5):
        log_in(client, "ann", "wrong")
    assert log_in(client, "ann", PASSWORD).status_code == 429

    call_command("axes_reset_username", "ann")

    assert log_in(client, "ann", PASSWORD).status_code == 302
    assert signed_in(client)


@pytest.mark.django_db
def test_an_administrator_unlocks_an_account_by_deleting_its_attempts_in_the_admin(client: Client) -> None:
    UserFactory(username="ann")
    for _ in range(5):
        log_in(client, "ann", "wrong")
    attempt = AccessAttempt.objects.get(username="ann")
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = admin.get("/admin/axes/accessattempt/?q=ann")
    assert "Locked Out" in listing.content.decode()

    admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    assert not AccessAttempt.objects.exists()
    assert log_in(client, "ann", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_leads_api_token_keeps_working_while_their_password_login_is_locked(client: Client) -> None:
    lead = UserFactory(username="lena", roles=["lead"])
    _, raw_token = api_token_create(user=lead, name="nightly pull", scopes=["read:labels"])
    for _ in range(5):
        log_in(client, "lena", "wrong")
    assert log_in(client, "lena", PASSWORD).status_code == 429

    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}", REMOTE_ADDR="10.0.0.1")
    assert api.get("/api/v1/labels/").status_code == 200
    assert api.get("/api/v1/labels/", HTTP_AUTHORIZATION="Bearer triad_guessed").status_code == 401
    assert AccessAttempt.objects.get().failures_since_start == 5  # the API never counts as a login


@pytest.mark.django_db
def test_behind_the_proxy_the_lockout_follows_the_forwarded_client_not_the_proxy(client: Client, settings: Any) -> None:
    settings.TRIAD_TRUSTED_PROXIES = 1
    UserFactory(username="ann")
    for number in range(5):
        # What the client wrote into the header is ignored; the proxy's appended entry counts.
        log_in(client, "ann", "wrong", address="127.0.0.1", HTTP_X_FORWARDED_FOR=f"10.9.9.{number}, 203.0.113.7")
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"
    assert log_in(client, "ann", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429

    elsewhere = Client()
    response = log_in(elsewhere, "ann", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "127.0.0.1"),  # no proxy trusted: a client's header means nothing
        (1, "", "127.0.0.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "1.1.1.1, 203.0.113.7", "203.0.113.7"),
        (2, "1.1.1.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "127.0.0.1"),  # fewer hops than proxies: the header is not ours
        (1, "not-an-address", "127.0.0.1"),
        (1, "1.1.1.1, <script>", "127.0.0.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_is_read_from_as_many_proxies_as_are_trusted(
    settings: Any, proxies: int, forwarded: str, expected: str
) -> None:
    settings.TRIAD_TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip_address(request) == expected
