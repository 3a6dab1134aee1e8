"""Reads for surveys. Every read of answers takes the respondent and filters by them: answers
are shown to nobody else (group figures for leads live in selectors/aggregates.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from statistics import fmean
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from config.inputs import parse_id
from review.models import Review, Study
from wellbeing.models import (
    Decline,
    Instrument,
    InstrumentItem,
    InstrumentKind,
    Invitation,
    Response,
    SupportResource,
)

# My wellbeing lists at most this many answers per survey, newest first, and plots the
# last this many points per trend.
MINE_ROWS_PER_INSTRUMENT = 100
TREND_POINTS = 20


def _with_items(instruments: QuerySet[Instrument]) -> QuerySet[Instrument]:
    return instruments.prefetch_related(Prefetch("items", queryset=InstrumentItem.objects.order_by("position")))


def instrument_items(*, instrument: Instrument) -> list[InstrumentItem]:
    """The instrument's items in order (prefetched by the selectors that return instruments)."""
    return list(instrument.items.all())


def checkin_instrument_current() -> Instrument | None:
    """The check-in reviewers get: the active check-in instrument with the highest version."""
    return (
        _with_items(Instrument.objects.filter(kind=InstrumentKind.CHECKIN, active=True))
        .order_by("-version", "-created_at", "-pk")
        .first()
    )


def instrument_current(*, slug: str, kind: str | None = None) -> Instrument | None:
    """The version of a survey answered today: its active version with the highest number."""
    instruments = Instrument.objects.filter(slug=slug, active=True)
    if kind is not None:
        instruments = instruments.filter(kind=kind)
    return _with_items(instruments).order_by("-version").first()


def instrument_for_answer(*, instrument_id: object, kind: str) -> Instrument | None:
    """The active instrument a form was rendered for, if it is still open; None for anything else."""
    pk = parse_id(instrument_id)
    if pk is None:
        return None
    return _with_items(Instrument.objects.filter(pk=pk, kind=kind, active=True)).first()


def periodic_instruments_current() -> list[Instrument]:
    """Per slug, the current version of each active periodic questionnaire."""
    current: dict[str, Instrument] = {}
    for instrument in Instrument.objects.filter(kind=InstrumentKind.PERIODIC, active=True).order_by("slug", "-version"):
        current.setdefault(instrument.slug, instrument)
    return list(current.values())


def checkin_due_after_review(*, reviewer: User, study: Study) -> bool:
    """Whether to offer the check-in now, just after one of the reviewer's reviews in the study.

    Due after every study.checkin_every_reviews-th review, unless the reviewer has answered
    or declined a check-in since their latest review (a resubmitted form, a reload).
    """
    every = study.checkin_every_reviews
    mine = Review.objects.filter(study=study, reviewer=reviewer).aggregate(count=Count("pk"), last=Max("created_at"))
    if not mine["count"] or mine["count"] % every:
        return False
    if not Instrument.objects.filter(kind=InstrumentKind.CHECKIN, active=True).exists():
        return False
    last = mine["last"]
    checkins = Q(instrument__kind=InstrumentKind.CHECKIN)
    answered = Response.objects.filter(checkins, respondent=reviewer, submitted_at__gt=last).exists()
    return not answered and not Decline.objects.filter(checkins, respondent=reviewer, declined_at__gt=last).exists()


def invitation_open_for(*, user: User) -> Invitation | None:
    """The invitation to show the user now: open, and not snoozed unless reminded since.

    Every reviewer page asks (the banner), and most of the time nobody has an open invitation:
    a plain look for any comes first, since building the full query costs more than running it.
    """
    open_ones = Invitation.objects.filter(respondent=user, closed_at__isnull=True)
    if not open_ones.exists():
        return None
    still_asked = Instrument.objects.filter(
        slug=OuterRef("instrument__slug"), kind=InstrumentKind.PERIODIC, active=True
    )
    return (
        open_ones.filter(Q(snoozed_at__isnull=True) | Q(reminded_at__isnull=False))
        .filter(Exists(still_asked))
        .select_related("instrument")
        .order_by("due_on", "pk")
        .first()
    )


def response_of(*, respondent: User, response_id: int) -> Response | None:
    """One of the respondent's own responses; None for anyone else's."""
    return (
        Response.objects.filter(pk=response_id, respondent=respondent)
        .select_related("instrument")
        .prefetch_related(Prefetch("instrument__items", queryset=InstrumentItem.objects.order_by("position")))
        .first()
    )


def response_needs_support(*, response: Response) -> bool:
    """Whether to point the respondent to support: a low score, or a negative item at the scale's top."""
    instrument = response.instrument
    threshold = instrument.support_at_or_below
    if threshold is not None and response.score is not None and response.score <= threshold:
        return True
    top = instrument.scale_max
    return any(item.negative and response.answers.get(item.key) == top for item in instrument.items.all())


def support_resources() -> list[SupportResource]:
    return list(SupportResource.objects.all())


@dataclass
class AnswerTable:
    instrument: Instrument
    items: list[InstrumentItem]
    rows: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False


@dataclass
class Trend:
    """One plot: categories (dates) and named series of values, oldest first."""

    slug: str
    title: str
    value_label: str
    categories: list[str]
    series: dict[str, list[float | None]]
    note: str = ""


def my_wellbeing(*, respondent: User) -> dict[str, Any]:
    """The respondent's own answers, as a table per instrument version and trends over time."""
    responses = list(
        Response.objects.filter(respondent=respondent)
        .select_related("instrument")
        .prefetch_related(Prefetch("instrument__items", queryset=InstrumentItem.objects.order_by("position")))
        .order_by("-submitted_at", "-pk")
    )
    tables: dict[int, AnswerTable] = {}
    for response in responses:
        table = tables.get(response.instrument_id)
        if table is None:
            instrument = response.instrument
            table = tables[instrument.pk] = AnswerTable(instrument=instrument, items=list(instrument.items.all()))
        if len(table.rows) >= MINE_ROWS_PER_INSTRUMENT:
            table.truncated = True
            continue
        table.rows.append(
            {
                "response": response,
                "values": [response.answers.get(item.key) for item in table.items],
                "needs_support": response_needs_support(response=response),
            }
        )
    oldest_first = responses[::-1]
    return {
        "tables": list(tables.values()),
        "trends": [*_score_trends(oldest_first), *_checkin_trends(oldest_first)],
        "count": len(responses),
    }


def _day_label(day: date) -> str:
    return day.strftime("%d %b %Y")


def _score_trends(responses: list[Response]) -> list[Trend]:
    by_slug: dict[str, list[Response]] = defaultdict(list)
    names: dict[str, str] = {}
    thresholds: dict[str, int | None] = {}
    for response in responses:
        if response.instrument.kind == InstrumentKind.PERIODIC and response.score is not None:
            by_slug[response.instrument.slug].append(response)
            names[response.instrument.slug] = response.instrument.name
            thresholds[response.instrument.slug] = response.instrument.support_at_or_below
    trends = []
    for slug, scored in by_slug.items():
        recent = scored[-TREND_POINTS:]
        trends.append(
            Trend(
                slug=slug,
                title=f"{names[slug]}: your score over time",
                value_label="Score (0-100, higher is better)",
                categories=[_day_label(timezone.localdate(r.submitted_at)) for r in recent],
                series={"Score": [float(r.score or 0) for r in recent]},
                note=_score_note(names[slug], thresholds[slug]),
            )
        )
    return trends


def _score_note(name: str, threshold: int | None) -> str:
    note = f"{name} scores run from 0 to 100; higher is better."
    if threshold is not None:
        note += f" At {threshold} or below, the support page and someone you trust can help."
    return note


def _checkin_trends(responses: list[Response]) -> list[Trend]:
    negative: dict[date, list[int]] = defaultdict(list)
    other: dict[date, list[int]] = defaultdict(list)
    days: list[date] = []
    for response in responses:
        if response.instrument.kind != InstrumentKind.CHECKIN:
            continue
        day = timezone.localdate(response.submitted_at)
        if not days or days[-1] != day:
            days.append(day)
        for item in response.instrument.items.all():
            value = response.answers.get(item.key)
            if isinstance(value, int):
                (negative if item.negative else other)[day].append(value)
    if not days:
        return []
    recent = days[-TREND_POINTS:]
    return [
        Trend(
            slug="checkin",
            title="How the tasks made you feel: mean per day",
            value_label="Mean answer (0 = not at all)",
            categories=[_day_label(day) for day in recent],
            series={
                "Negative feelings": [fmean(negative[d]) if negative[d] else None for d in recent],
                "Other feelings": [fmean(other[d]) if other[d] else None for d in recent],
            },
            note="Answers run from 0 (not at all) to the top of the scale (very). Negative feelings are those such "
            "as upset or afraid; lower is better for them.",
        )
    ]
