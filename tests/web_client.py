"""A person's browser, over real HTTP, for tests that drive a separately started server."""

from __future__ import annotations

import requests


def form_login(base: str, username: str, password: str, *, timeout: float) -> requests.Session:
    """Sign in through the login form as a browser does (CSRF cookie, then the form post)."""
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=timeout).raise_for_status()
    token = session.cookies["csrftoken"]
    response = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=timeout,
    )
    assert response.status_code == 302, f"logging in as {username}: {response.status_code} {response.text[:300]}"
    return session


def claim_next(session: requests.Session, base: str, study_id: int, *, timeout: float) -> requests.Response:
    """Press "Start reviewing": a claim is a POST carrying the CSRF token, as the page's form sends it.

    The answer is not followed: a redirect to the leased slot's content warning, to the study's
    "done" page, or to a break.
    """
    return session.post(
        f"{base}/review/studies/{study_id}/next",
        headers={"X-CSRFToken": session.cookies.get("csrftoken", "")},
        allow_redirects=False,
        timeout=timeout,
    )
