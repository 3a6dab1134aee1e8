"""No page or API a lead can reach exposes an individual answer.

The crawler is generic: it starts from every route in the URLconf (int parameters filled with
existing ids, slug parameters with existing slugs), follows every same-site link on the pages it
gets, calls /api/v1/ with a lead's token, and downloads the CSVs it finds. So it covers whatever
pages exist when the suite runs, other engineers' included. The admin is left out because the
lead is not staff (a lead who is staff would need the admin checked too).

Two checks:
- distinctive free text from 1-4 respondents never appears, anywhere;
- no answer of theirs shows, even as a number: the crawl is run twice, with their answers changed
  in between in a way that leaves every publishable figure (groups of five or more, with no
  small group recoverable by subtraction) exactly as it was. If any page differs, something on it
  depends on the small group alone.

Published months are frozen and carry noise (wellbeing/PRIVACY.md), which would make the second
crawl equal for the wrong reason, or differ for a harmless one. So here the noise is taken out
(the figures are the exact values the noise would be added to) and the stored months are
dropped between the crawls, as if the month were published only after the change: what is
checked is which people's data reach a page. tests/wellbeing/test_reconstruction.py attacks the
real, noisy, frozen figures.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib.admindocs.views import extract_views_from_urlpatterns, simplify_regex
from django.db import models
from django.test import Client
from django.urls import Resolver404, get_resolver, resolve
from django.utils import timezone

from api.services import api_token_create
from review.models import Review, Skip
from review.services.assignment import slot_skip
from tests.factories import FEELINGS, UserFactory, review_everything, started_study
from wellbeing.models import ExposureDay, Instrument, Invitation, Publication, Response, Trigger
from wellbeing.selectors import aggregates
from wellbeing.selectors.aggregates import latest_complete_period
from workspace.services import work_claim

pytestmark = pytest.mark.django_db

CRAWL_LIMIT = 3000
SKIP_PREFIXES = ("/static/", "/admin/", "/accounts/logout/")
BIG = 6  # people answering in another week: with them, the month's overall figures are publishable


# --- the crawler --------------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def _local(base: str, href: str) -> str | None:
    parts = urlsplit(urljoin(base, href))
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
        return None
    url = parts.path + (f"?{parts.query}" if parts.query else "")
    if url.startswith(SKIP_PREFIXES):
        return None
    try:
        resolve(parts.path)
    except Resolver404:
        return None
    return url


def _ids_for(parameter: str) -> list[str]:
    """Existing values for a URL parameter: ids of the models its name points at, or every id."""
    stem = parameter.removesuffix("_id").replace("_", "")
    # The audit log grows with every export the crawl makes, so its ids would change the URL list between crawls.
    ours = [
        model
        for model in apps.get_models()
        if model._meta.app_label in ("review", "wellbeing", "tagging", "auth")
        and model._meta.model_name != "auditevent"
    ]
    if stem in ("pk", "id"):
        chosen = ours
    else:
        chosen = [model for model in ours if model._meta.model_name.endswith(stem)] or ours
    return sorted({str(pk) for model in chosen for pk in model._default_manager.values_list("pk", flat=True)})


def _slugs() -> list[str]:
    values: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.fields:
            if isinstance(field, models.SlugField):
                values.update(model._default_manager.values_list(field.name, flat=True))
    return sorted(values)


def routes(*, skip_namespaces: tuple[str, ...] = ("admin",)) -> list[tuple[str, str]]:
    """(namespace:name, pattern such as /lead/studies/<int:study_id>/) for every route in the URLconf."""
    found = []
    for _view, regex, namespace, name in extract_views_from_urlpatterns(get_resolver().url_patterns):
        space = ":".join(namespace or [])
        if space not in skip_namespaces:
            found.append((f"{space}:{name}" if space else str(name), simplify_regex(regex)))
    return found


def fill(pattern: str, values: dict[str, str]) -> str:
    for parameter, value in values.items():
        pattern = re.sub(rf"<(?:\w+:)?{parameter}>", value, pattern, count=1)
    return pattern


def route_urls() -> list[str]:
    """Every route with each parameter filled every way it can be from the database."""
    urls = []
    for _name, pattern in routes():
        parameters = re.findall(r"<(?:(\w+):)?(\w+)>", pattern)
        if any(kind == "path" for kind, _ in parameters):
            continue
        options: list[dict[str, str]] = [{}]
        for kind, parameter in parameters:
            values = _slugs() if kind in ("slug", "str") else _ids_for(parameter)
            options = [done | {parameter: value} for done in options for value in values]
        for filled in options:
            url = fill(pattern, filled)
            try:
                resolve(url)
            except Resolver404:
                continue
            urls.append(url)
    return urls


@dataclass
class Fetched:
    status: int
    body: str


def crawl(client: Client, *, token: str) -> dict[str, Fetched]:
    """GET every route and every link found, as the signed-in client; the API with the token too."""
    queue = deque(route_urls())
    pages: dict[str, Fetched] = {}
    while queue:
        url = queue.popleft()
        if url in pages or url.startswith(SKIP_PREFIXES):
            continue
        assert len(pages) < CRAWL_LIMIT, "the crawl is running away"
        extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if url.startswith("/api/") else {}
        response = client.get(url, **extra)
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = raw.decode("utf-8", errors="replace")
        pages[url] = Fetched(response.status_code, body)
        if response.status_code in (301, 302) and response.get("Location"):
            found = _local(url, response["Location"])
            if found:
                queue.append(found)
        if "html" in response.get("Content-Type", ""):
            parser = _Links()
            parser.feed(body)
            queue.extend(found for href in parser.hrefs if (found := _local(url, href)))
    return pages


# What differs between two requests whatever the data: CSRF tokens, clock times, the random seed the
# new-study form suggests.
_VOLATILE = [
    re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'),
    re.compile(r'name="seed" value="\d+"'),
    re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?"),
    re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?\b"),
]


def normalised(body: str) -> str:
    for pattern in _VOLATILE:
        body = pattern.sub("…", body)
    return body


# --- the data ------------------------------------------------------------------------------------


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


@dataclass
class Scenario:
    lead: Any
    token: str
    small: list[Any]
    big: list[Any]
    feelings: list[Response]  # small group's, this month and last
    who5: list[Response]
    big_feelings: list[Response]
    big_who5: list[Response]


def feelings_answers(value: int) -> dict[str, int]:
    return dict.fromkeys(FEELINGS, value)


def build(small_count: int) -> Scenario:
    lead = UserFactory(username="lead-crawler", roles=["lead"], is_staff=False)
    _, token = api_token_create(user=lead, name="crawler", scopes=["read:labels", "read:agreement"])
    study, reviewers = started_study(items=2, reviewers=3, name="Crawled study", leads=[lead])
    review_everything(study, reviewers[:2])
    slot = work_claim(study_id=study.pk, reviewer=reviewers[2])
    assert slot is not None
    slot_skip(slot_id=slot.pk, reviewer=reviewers[2], reason="crawler skip")

    month = latest_complete_period()
    week_a, week_b = month.weeks[0].monday, month.weeks[1].monday
    last_month = month.previous().weeks[0].monday
    Review.objects.update(created_at=at(week_a))
    Skip.objects.update(created_at=at(week_a))

    checkin = Instrument.objects.get(slug="feelings-checkin")
    who5 = Instrument.objects.get(slug="who-5")
    small = [UserFactory(username=f"small-{index}", roles=["reviewer"]) for index in range(small_count)]
    big = [UserFactory(username=f"big-{index}", roles=["reviewer"]) for index in range(BIG)]

    def respond(user: Any, instrument: Instrument, day: date, answers: dict[str, int], **extra: Any) -> Response:
        return Response.objects.create(
            respondent=user, instrument=instrument, trigger=Trigger.AFTER_REVIEWS, answers=answers,
            submitted_at=at(day), **extra,
        )  # fmt: skip

    scenario = Scenario(lead, token, small, big, [], [], [], [])
    for user in big:
        scenario.big_feelings.append(respond(user, checkin, week_a, feelings_answers(1)))
        scenario.big_who5.append(respond(user, who5, week_a, who5_answers(80), score=80))
        ExposureDay.objects.create(
            reviewer=user, day=week_a, seconds=7200, last_seen_at=at(week_a), streak_started_at=at(week_a)
        )
    for index, user in enumerate(small):
        for day in (week_b, last_month):
            scenario.feelings.append(
                respond(user, checkin, day, feelings_answers(4), free_text=f"PRIVATE-FREE-TEXT-V1-{index}-{day}")
            )
            scenario.who5.append(respond(user, who5, day, who5_answers(40), score=40))
        Invitation.objects.create(respondent=user, instrument=who5, due_on=week_b, created_at=at(week_b))
        ExposureDay.objects.create(
            reviewer=user, day=week_b, seconds=3600 * (index + 1), last_seen_at=at(week_b), streak_started_at=at(week_b)
        )
    return scenario


def change_the_small_groups_answers(scenario: Scenario) -> None:
    """New answers and free text for the small group, with the big group adjusted so that every
    figure over five or more people stays the same: per feeling, the sum of everyone's answers in
    the month (each answered once); for the WHO-5, the band everyone is in and the sum of scores."""
    week_b = at(latest_complete_period().weeks[1].monday)
    removed, shift = 0, 0
    for index, response in enumerate(scenario.feelings):  # each person's this month, then last month
        value = [0, 2, 1, 3][index // 2]
        if response.submitted_at >= week_b:
            removed += 4 - value
        response.answers = feelings_answers(value)
        response.free_text = f"PRIVATE-FREE-TEXT-V2-{index}"
        response.save(update_fields=["answers", "free_text"])
    # Hand what the small group lost to the big group, a point at a time, keeping answers 0-4.
    big = [1] * BIG
    for step in range(removed):
        big[step % BIG] += 1
    assert max(big) <= 4
    for response, value in zip(scenario.big_feelings, big, strict=True):
        response.answers = feelings_answers(value)
        response.save(update_fields=["answers"])
    # WHO-5: the small group stays in the 29-50 band, spread differently; the big group makes up the sum.
    for index, response in enumerate(scenario.who5):
        score = [32, 48, 36, 44][index // 2]
        if response.submitted_at >= week_b:
            shift += 40 - score
        response.score, response.answers = score, who5_answers(score)
        response.save(update_fields=["score", "answers"])
    first = scenario.big_who5[0]
    first.score += shift
    first.answers = who5_answers(first.score)
    first.save(update_fields=["score", "answers"])
    assert 51 <= first.score <= 100


def who5_answers(score: int) -> dict[str, int]:
    raw = score // 4
    return {f"item-{k}": min(5, max(0, raw - 5 * (k - 1))) for k in range(1, 6)}


# --- the tests -----------------------------------------------------------------------------------


def crawl_twice(client: Client, scenario: Scenario) -> tuple[dict[str, Fetched], dict[str, Fetched]]:
    before = crawl(client, token=scenario.token)
    change_the_small_groups_answers(scenario)
    Publication.objects.all().delete()  # as if the months were published only after the change
    return before, crawl(client, token=scenario.token)


@pytest.mark.usefixtures("exact_figures")
@pytest.mark.parametrize("small_count", [1, 2, 3, 4])
def test_no_page_or_api_a_lead_can_reach_exposes_an_individual_answer(client: Client, small_count: int) -> None:
    scenario = build(small_count)
    client.force_login(scenario.lead)

    before, after = crawl_twice(client, scenario)

    # The crawl really reached the lead's pages, the wellbeing downloads and the API.
    ok = {url for url, fetched in before.items() if fetched.status == 200}
    assert "/lead/wellbeing/" in ok
    assert any(url.startswith("/lead/wellbeing/tables/feelings.csv?period=") for url in ok)
    assert len([url for url in ok if url.startswith("/lead/wellbeing/?period=")]) >= 2  # this month and last
    assert any(url.startswith("/api/v1/studies/") for url in ok)
    assert any(re.fullmatch(r"/lead/studies/\d+/", url) for url in ok)

    for pages in (before, after):
        for url, fetched in pages.items():
            assert "PRIVATE-FREE-TEXT" not in fetched.body, url
    # The audit log records the crawl's own downloads and /healthz reports check timings, so both
    # differ between crawls by design; neither holds wellbeing data (the free-text check covers them).
    changing = ("/lead/audit/", "/healthz")
    before = {url: fetched for url, fetched in before.items() if not url.startswith(changing)}
    after = {url: fetched for url, fetched in after.items() if not url.startswith(changing)}
    assert before.keys() == after.keys()
    for url in before:
        assert before[url].status == after[url].status, url
        assert normalised(before[url].body) == normalised(after[url].body), f"{url} depends on 1-4 people's answers"

    # And the month's overall figures were really shown, so the check above was not vacuous.
    page = before["/lead/wellbeing/"].body
    assert f"n {BIG + small_count}" in page


@pytest.mark.usefixtures("exact_figures")
def test_the_crawler_would_notice_a_page_that_showed_one_persons_answer(client: Client, monkeypatch: Any) -> None:
    """The check above, against a deliberately leaky dashboard: months of fewer than five people shown."""
    scenario = build(2)
    client.force_login(scenario.lead)
    monkeypatch.setattr(aggregates, "MIN_GROUP", 1)
    before, after = crawl_twice(client, scenario)
    assert normalised(before["/lead/wellbeing/"].body) != normalised(after["/lead/wellbeing/"].body)


def test_the_lead_is_not_staff_and_the_admin_is_closed_to_them(client: Client) -> None:
    scenario = build(1)
    client.force_login(scenario.lead)
    assert not scenario.lead.is_staff
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_respondent_only_pages_are_404_for_a_lead(client: Client) -> None:
    """Every wellbeing route that names a respondent's record, filled with the small group's ids."""
    scenario = build(3)
    client.force_login(scenario.lead)
    invitations = Invitation.objects.filter(respondent__in=scenario.small).values_list("pk", flat=True)
    theirs = {
        "response": [str(response.pk) for response in scenario.feelings + scenario.who5],
        "invitation": [str(pk) for pk in invitations],
    }
    checked = 0
    for name, pattern in routes():
        if not name.startswith("wellbeing_") or name.startswith("wellbeing_lead:"):
            continue
        parameters = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
        for parameter in parameters:
            kind = next((kind for kind in theirs if kind in parameter), None)
            if kind is None or len(parameters) != 1:
                continue
            # A made-up id must get the same answer, so the status says nothing about whose records exist.
            made_up = client.get(fill(pattern, {parameter: "987654321"})).status_code
            for record in theirs[kind]:
                url = fill(pattern, {parameter: record})
                response = client.get(url)
                assert "PRIVATE-FREE-TEXT" not in response.content.decode(), url
                assert response.status_code == made_up, url
                if response.status_code not in (403, 405):  # a role or method refused before any lookup
                    assert response.status_code == 404, url
                checked += 1
    if any(name == "wellbeing_surveys:thanks" for name, _pattern in routes()):
        assert checked > 0
        thanks = fill(dict(routes())["wellbeing_surveys:thanks"], {"response_id": theirs["response"][0]})
        assert client.get(thanks).status_code == 404
