"""The API's docs page and the token page in a real browser, under the strict policy, offline."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_pages import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_render_from_local_files_with_no_policy_violations(page: Any, live_server: Any) -> None:
    outside: list[str] = []
    page.on("request", lambda request: request.url.startswith(live_server.url) or outside.append(request.url))
    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.locator(".swagger-ui .title", has_text="Triad API")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("/api/v1/labels/").first).to_be_visible()
    assert outside == []  # nothing from a CDN
    assert page.problems == []


def test_a_lead_makes_a_token_sees_it_once_and_revokes_it(page: Any, live_server: Any) -> None:
    UserFactory(username="lee", roles=["lead"])
    log_in(page, live_server, "lee")
    page.get_by_role("link", name="API tokens").click()
    page.fill("#id_name", "notebook")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("new-token").inner_text()
    assert token.startswith("triad_")
    page.goto(f"{live_server.url}/lead/tokens/")
    expect(page.get_by_text(token)).to_have_count(0)
    expect(page.locator("td", has_text="active")).to_be_visible()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Token revoked")).to_be_visible()
    expect(page.locator("td", has_text="revoked")).to_be_visible()
    assert page.problems == []
