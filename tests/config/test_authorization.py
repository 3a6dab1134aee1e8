"""The authorization matrix: every URL Triad serves, for every role, answers what the table says.

The table (authorization_table.py) has a row per URL and method and a column per role. The
objects it names are built once for the module, inside a transaction this module rolls back at
the end; each test runs in a savepoint of it, so a POST that changes something is undone before
the next. Then the object-level checks: a reviewer who reaches another reviewer's slot, review
or wellbeing data gets 404 and changes nothing.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.http import HttpResponseBase
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from accounts.services import invitation_accept, invitation_create
from adjudication.services import adjudicator_add
from api.models import ApiToken
from api.services import api_token_create
from review.models import Review, Skip, Slot, StudyLead
from review.services.answers import ReviewAnswers
from review.services.gold import gold_item_mark, study_gold_settings_set
from review.services.studies import study_members_set, study_start
from tagging.models import Tag
from tests.config.authorization_table import ADMIN_LOGIN, FORMS, HEALTH, LOGIN, ROLES, TABLE
from tests.factories import FEELINGS, StudyFactory, StudyItemFactory, UserFactory, started_study
from wellbeing.models import BreakEvent, Instrument, Invitation, Preference, Response, Trigger
from wellbeing.selectors.exposure import BREAK_LENGTH
from wellbeing.services.exposure import break_prompt, preference_set
from wellbeing.services.surveys import response_submit
from workspace.forms import lease_token
from workspace.services import work_claim, work_submit

pytestmark = pytest.mark.django_db

MISSING = 2_000_000_000  # an id no row has: fits the int converters and the database's integer
BREAK_SECONDS = int(BREAK_LENGTH.total_seconds())


# --- every URL pattern ------------------------------------------------------------------------


def _routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    """Every pattern's full route, joined the way ResolverMatch.route joins it."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = URLResolver._join_route(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route


def _fill(template: str, values: dict[str, Any]) -> str:
    return template.format_map(values)


def _route_of(url: str) -> str:
    return resolve(url.split("?", 1)[0]).route


ADMIN_SAMPLES = {"app_label": "review", "url": "no-such-admin-page/"}


def _admin_sample(route: str) -> str:
    """A path that resolves to this admin route: converters become 1, regex groups a valid value."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda match: ADMIN_SAMPLES[match.group(1)], route)
    path = re.sub(r"<(?:\w+:)?\w+>", "1", path)
    return "/" + path.replace("^", "").replace("$", "")


def admin_routes() -> list[str]:
    return [route for route in _routes() if route.startswith("admin/")]


class _AnyId(dict):
    """Any id will do to learn which pattern a URL reaches."""

    def __missing__(self, key: str) -> str:
        return "1"


def test_every_url_pattern_is_in_the_table_or_under_the_admin_rule() -> None:
    anything = _AnyId()
    covered = {_route_of(_fill(url, anything)) for url, _, _ in TABLE}
    unclassified = sorted(set(_routes()) - covered - set(admin_routes()))
    assert not unclassified, f"classify these URL patterns in tests/config/authorization_table.py: {unclassified}"


def test_every_admin_sample_path_reaches_its_own_route() -> None:
    assert admin_routes(), "the admin is mounted"
    wrong = {route: _route_of(_admin_sample(route)) for route in admin_routes()}
    assert {route: got for route, got in wrong.items() if got != route} == {}


def test_every_row_has_a_cell_for_every_role_and_a_known_method() -> None:
    for url, method, expected in TABLE:
        assert len(expected) == len(ROLES), url
        assert method in {"GET", "POST", "DELETE"}, url


# --- the objects the table names --------------------------------------------------------------


@dataclass(frozen=True)
class World:
    values: dict[str, Any]  # fills {name} in the table's URLs and forms
    sessions: dict[str, str]  # role -> session key
    tokens: dict[str, str]  # role -> raw API token
    users: dict[str, Any]

    def client(self, role: str, **options: Any) -> Client:
        if role in self.tokens:
            options["HTTP_AUTHORIZATION"] = f"Bearer {self.tokens[role]}"
        client = Client(**options)
        if role in self.sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]
        return client


def _seed_vocabularies() -> None:
    """Tags and instruments come from migrations; a transactional test elsewhere may have flushed them."""
    importlib.import_module("tagging.migrations.0002_seed_harm_tags").seed_tags(apps, None)
    importlib.import_module("wellbeing.migrations.0002_seed_instruments").seed(apps, None)


def _build_world() -> World:
    _seed_vocabularies()
    study, (reviewer, other) = started_study(items=3, reviewers=2)
    lead = UserFactory(roles=["lead"])
    other_lead = UserFactory(roles=["lead"])  # leads nothing of these studies
    StudyLead.objects.create(study=study, lead=lead)

    # A study whose one item is gold, opening with a calibration round: the reviewer's answer,
    # before their review in the main study (which must stay their latest, for its edit page).
    calibrated = StudyFactory(leads=[lead])
    gold_item = StudyItemFactory(study=calibrated, position=1)
    study_members_set(study=calibrated, reviewers=[reviewer])
    study_start(study=calibrated)
    gold_item_mark(study=calibrated, item_id=gold_item.pk, rating=4, tag_ids=[], explanation="Plain.", actor=lead)
    study_gold_settings_set(study=calibrated, calibration_items=1, gold_percent=0, actor=lead)
    calibration_slot = work_claim(study_id=calibrated.pk, reviewer=reviewer)
    calibration = work_submit(slot_id=calibration_slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=2))

    reviewed = work_claim(study_id=study.pk, reviewer=reviewer)
    review = work_submit(slot_id=reviewed.pk, reviewer=reviewer, answers=ReviewAnswers(rating=3, note="mine alone"))
    held = work_claim(study_id=study.pk, reviewer=reviewer)
    work_claim(study_id=study.pk, reviewer=other)  # other has work of their own too

    solo = StudyFactory(leads=[lead])
    StudyItemFactory(study=solo, position=1)
    study_members_set(study=solo, reviewers=[reviewer])
    study_start(study=solo)

    checkin = Instrument.objects.get(slug="feelings-checkin", version=1)
    who5 = Instrument.objects.get(slug="who-5", version=1)
    response = response_submit(
        respondent=reviewer,
        instrument=checkin,
        trigger=Trigger.AFTER_REVIEWS,
        answers=dict.fromkeys(FEELINGS, 2),
        free_text="only the respondent may read this",
    )
    now = timezone.now()
    invitation = Invitation.objects.create(
        respondent=reviewer, instrument=who5, due_on=timezone.localdate(now), created_at=now
    )
    preference_set(
        user=reviewer, opted_out_tag_ids=[Tag.objects.order_by("position").first().pk], daily_cap_minutes=137
    )
    break_prompt(reviewer=reviewer, now=now - timedelta(minutes=3))

    # "other" adjudicates the study; "reviewer" does not (a reviewer not named gets 404).
    adjudicator_add(study=study, user=other, actor=lead)
    team_invitation, team_invitation_raw = invitation_create(role="reviewer", created_by=lead, note="ann")
    _, used_invitation_raw = invitation_create(role="reviewer", created_by=lead, note="bob")
    invitation_accept(raw=used_invitation_raw, username="bob-joined", password="a long new passphrase")

    labels_token, labels_raw = api_token_create(user=lead, name="labels", scopes=["read:labels"])
    _, agreement_raw = api_token_create(user=lead, name="agreement", scopes=["read:agreement"])

    sessions = {}
    users = {"reviewer": reviewer, "other": other, "lead": lead, "other_lead": other_lead}
    for role, user in users.items():
        login = Client()
        login.force_login(user)
        sessions[role] = login.cookies[settings.SESSION_COOKIE_NAME].value

    values = {
        "study": study.pk,
        "solo": solo.pk,
        "item": study.items.order_by("pk").first().pk,
        "transcript": held.item.transcript_id,
        "held_slot": held.pk,
        "reviewed_slot": reviewed.pk,
        "review": review.pk,
        "calibration": calibration.pk,
        "response": response.pk,
        "invitation": invitation.pk,
        "token": labels_token.pk,
        "team_invitation": team_invitation.pk,
        "team_invitation_raw": team_invitation_raw,
        "used_invitation_raw": used_invitation_raw,
        "reviewer_id": reviewer.pk,
        "other_lead_id": other_lead.pk,
        "missing": MISSING,
        "other_user": other.pk,
        "lease": lease_token(slot_id=held.pk, reviewer_id=reviewer.pk, leased_at=held.leased_at.isoformat()),
    }
    return World(values, sessions, {"labels": labels_raw, "agreement": agreement_raw}, users)


@contextmanager
def world_for_module(django_db_blocker: Any) -> Iterator[World]:
    """The world, built once in a transaction rolled back when the block ends; each test's own
    transaction (pytest-django's, from the module's django_db mark) is a savepoint inside it.
    For the module-scoped `world` fixtures of this and the other table-walking tests."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer._from_testcase = True  # as Django's TestCase marks its own, so durable blocks still nest
        outer.__enter__()
        try:
            with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
                yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with world_for_module(django_db_blocker) as built:
        yield built


def _request(client: Client, method: str, url: str, data: dict[str, str] | None = None) -> HttpResponseBase:
    response = client.post(url, data or {}) if method == "POST" else getattr(client, method.lower())(url)
    if response.streaming:  # read to the end, as a client would; that also closes it
        b"".join(response.streaming_content)
    return response


def _mismatch(response: HttpResponseBase, expected: object) -> str | None:
    """None when the response is what the cell says; otherwise what came instead."""
    status, location = response.status_code, response.get("Location", "")
    login, admin_login = resolve_url(settings.LOGIN_URL), resolve_url("admin:login")
    got = f"{status} {location}".strip()
    if expected == LOGIN:
        return None if status == 302 and (location.startswith(login + "?") or location == login) else got
    if expected == ADMIN_LOGIN:
        return None if status == 302 and location.startswith(admin_login) else got
    if expected == HEALTH:
        return None if status in (200, 503) else got
    if status != expected:
        return got
    if status == 302 and location.startswith((login, admin_login)):
        return f"{got} (a login page, not the page's own redirect)"
    return None


CASES = [
    pytest.param(url, method, role, cells[index], id=f"{method} {url} as {role}")
    for url, method, cells in TABLE
    for index, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("url", "method", "role", "expected"), CASES)
def test_each_role_gets_what_the_table_says(world: World, url: str, method: str, role: str, expected: object):
    form = {key: _fill(value, world.values) for key, value in FORMS.get(url, {}).items()}
    response = _request(world.client(role), method, _fill(url, world.values), form)
    mismatch = _mismatch(response, expected)
    assert mismatch is None, f"{method} {url} as {role}: expected {expected}, got {mismatch}"


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_url_sends_everyone_but_staff_to_the_admin_login(world: World, role: str) -> None:
    client, wrong = world.client(role), []
    for route in admin_routes():
        path = _admin_sample(route)
        response = _request(client, "GET", path)
        expected = {"admin/login/": 200, "admin/logout/": 302}.get(route, ADMIN_LOGIN)
        mismatch = _mismatch(response, expected)
        if route == "admin/logout/" and response.get("Location") != resolve_url("admin:index"):
            mismatch = f"{response.status_code} {response.get('Location')} (the admin's index, which asks for a login)"
        if mismatch is not None:
            wrong.append(f"GET {path}: {mismatch}")
    assert not wrong, f"as {role}: " + "; ".join(wrong)


def test_no_page_acts_on_a_post_without_its_csrf_token(world: World) -> None:
    """The rows above use Django's test client, which skips CSRF; a browser's cross-site POST does not."""
    acted, tried = [], 0
    for url, method, cells in TABLE:
        if method != "POST" or url.startswith("/api/"):
            continue
        form = {key: _fill(value, world.values) for key, value in FORMS.get(url, {}).items()}
        for role, cell in zip(ROLES, cells, strict=True):
            if role in world.sessions and cell in (200, 302, 400):
                response = _request(
                    world.client(role, enforce_csrf_checks=True), "POST", _fill(url, world.values), form
                )
                tried += 1
                if response.status_code != 403:
                    acted.append(f"POST {url} as {role}: {response.status_code}")
    assert tried > 20
    assert acted == []


def test_staff_do_reach_the_admin_so_the_rule_above_is_not_vacuous(world: World) -> None:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for url in ("/admin/", "/admin/review/review/", f"/admin/review/review/{world.values['review']}/change/"):
        assert client.get(url).status_code == 200, url


def test_wellbeing_responses_are_not_in_the_admin_at_all() -> None:
    assert not admin.site.is_registered(Response)


# --- object level: someone else's slot, review or wellbeing data --------------------------------


def _slot_state(slot_id: int) -> tuple[Any, ...]:
    slot = Slot.objects.get(pk=slot_id)
    return slot.status, slot.holder_id, slot.leased_at, Review.objects.filter(slot_id=slot_id).count()


def test_another_reviewer_cannot_skip_or_submit_a_slot_they_do_not_hold(world: World) -> None:
    held, other = world.values["held_slot"], world.users["other"]
    before = _slot_state(held)
    skips_before = Skip.objects.count()
    client = world.client("other")
    assert client.post(f"/review/slots/{held}/skip", {"reason": "not mine"}).status_code == 404
    form = {"rating": "4", "lease": world.values["lease"], "note": "not mine"}
    assert client.post(f"/review/slots/{held}/review", form).status_code == 404
    assert client.post(f"/review/slots/{held}/review", {"rating": "4"}).status_code == 404
    assert _slot_state(held) == before
    assert Skip.objects.count() == skips_before
    assert not Review.objects.filter(reviewer=other, note="not mine").exists()


def test_another_reviewer_cannot_read_or_resubmit_a_review_they_did_not_write(world: World) -> None:
    reviewed, review = world.values["reviewed_slot"], Review.objects.get(pk=world.values["review"])
    client = world.client("other")
    for url in (f"/review/slots/{reviewed}/", f"/review/slots/{reviewed}/review"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"mine alone" not in response.content
    assert client.post(f"/review/slots/{reviewed}/review", {"rating": "0"}).status_code == 404
    assert Review.objects.filter(slot_id=reviewed).get() == review
    review.refresh_from_db()
    assert (review.reviewer_id, review.rating, review.note) == (world.users["reviewer"].pk, 3, "mine alone")


def test_a_reviewer_cannot_claim_in_a_study_they_are_not_a_member_of(world: World) -> None:
    other, solo = world.users["other"], world.values["solo"]
    for method in ("get", "post"):
        assert getattr(world.client("other"), method)(f"/review/studies/{solo}/next").status_code == 404
    assert not Slot.objects.filter(study_id=solo, holder=other).exists()


def test_another_reviewer_never_reaches_a_reviewers_wellbeing_answers(world: World) -> None:
    client, other = world.client("other"), world.users["other"]
    response = client.get(f"/wellbeing/responses/{world.values['response']}/thanks/")
    assert response.status_code == 404
    assert b"only the respondent" not in response.content

    invitation = world.values["invitation"]
    assert client.post(f"/wellbeing/invitations/{invitation}/snooze", {"next": "/review/"}).status_code == 404
    assert Invitation.objects.get(pk=invitation).snoozed_at is None

    mine = client.get("/wellbeing/me/")
    assert mine.context["count"] == 0
    assert b"only the respondent" not in mine.content
    assert not Response.objects.filter(respondent=other).exists()


def test_another_reviewer_sees_and_changes_only_their_own_preferences_breaks_and_exposure(world: World) -> None:
    reviewer, client = world.users["reviewer"], world.client("other")
    assert world.client("reviewer").get("/wellbeing/preferences/").context["form"].initial["daily_cap_minutes"] == 137
    assert client.get("/wellbeing/preferences/").context["form"].initial == {}
    assert client.post("/wellbeing/preferences/", {"daily_cap_minutes": "30"}).status_code == 302
    assert Preference.objects.get(user=reviewer).daily_cap_minutes == 137

    # The reviewer's break began minutes ago; the other's page counts down a full break of its own.
    assert world.client("reviewer").get("/wellbeing/break/").context["seconds_left"] < BREAK_SECONDS
    assert client.get("/wellbeing/break/").context["seconds_left"] == BREAK_SECONDS
    breaks_before = list(BreakEvent.objects.filter(reviewer=reviewer).values_list("pk", "outcome", "resolved_at"))
    assert client.post("/wellbeing/break/", {"outcome": "dismissed"}).status_code == 302
    assert list(BreakEvent.objects.filter(reviewer=reviewer).values_list("pk", "outcome", "resolved_at")) == (
        breaks_before
    )

    assert world.client("reviewer").get("/review/").context["exposure"]["cap_minutes"] == 137
    assert client.get("/review/").context["exposure"]["cap_minutes"] != 137
    assert client.post("/wellbeing/pause/").status_code == 302
    assert world.client("reviewer").get("/review/").context["exposure"]["paused"] is False


def test_a_non_lead_cannot_revoke_a_leads_token_and_another_lead_cannot_either(world: World) -> None:
    token = world.values["token"]
    assert world.client("reviewer").post(f"/lead/tokens/{token}/revoke").status_code == 404
    another_lead = Client()
    another_lead.force_login(UserFactory(roles=["lead"]))
    assert another_lead.post(f"/lead/tokens/{token}/revoke").status_code == 302
    assert ApiToken.objects.get(pk=token).revoked_at is None
    assert world.client("labels").get("/api/v1/studies/").status_code == 200


def test_a_token_opens_no_web_page_even_with_every_scope(world: World) -> None:
    _, raw = api_token_create(user=world.users["lead"], name="both", scopes=["read:labels", "read:agreement"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    pages = [url for url, method, cells in TABLE if method == "GET" and cells[0] == LOGIN]
    opened = [url for url in pages if _mismatch(_request(client, "GET", _fill(url, world.values)), LOGIN)]
    assert pages and opened == []


def test_no_reviewer_session_reads_anything_from_the_api(world: World) -> None:
    data = [url for url, method, _ in TABLE if method == "GET" and url.startswith("/api/v1/studies/")]
    data += ["/api/v1/labels/", "/api/v1/tags/", "/api/v1/transcripts/{transcript}/"]
    for role in ("reviewer", "other"):
        answers = {url: _request(world.client(role), "GET", _fill(url, world.values)).status_code for url in data}
        assert set(answers.values()) == {403}, f"as {role}: {answers}"
