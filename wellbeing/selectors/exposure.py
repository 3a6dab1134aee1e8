"""Wellbeing exposure reads: today's exposure, the reviewer's safeguards, the break on offer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from review.models import Study, StudyStatus
from review.services.assignment import ClaimGuard, ClaimLimits
from wellbeing.errors import BreakDue, ExposureCapReached, PausedForToday, WellbeingError
from wellbeing.models import BreakEvent, BreakOutcome, ExposureDay, Preference

# The hourly-break practice of moderation teams (DOMAIN.md), leaving room for the break itself.
BREAK_AFTER = timedelta(minutes=50)
BREAK_LENGTH = timedelta(minutes=10)
# A break prompt nobody answered stays on offer for this long (another tab, a trip back to the
# queue); after that it counts as ignored and the next one is a new prompt.
BREAK_PROMPT_OPEN_FOR = BREAK_AFTER


@dataclass(frozen=True)
class ClaimSafeguards:
    """What the reviewer's own safeguards say about handing them another item now."""

    day: date
    seconds: int
    own_cap_minutes: int | None
    paused: bool
    opted_out_tag_ids: tuple[int, ...]
    break_due: bool

    def cap_minutes(self, study_cap_minutes: int) -> int:
        return cap_minutes_effective(study_cap_minutes=study_cap_minutes, own_cap_minutes=self.own_cap_minutes)

    def refusal(self, *, study_cap_minutes: int) -> WellbeingError | None:
        """Why no item may be handed out now, most binding first; None when one may."""
        if self.paused:
            return PausedForToday(day=self.day)
        cap = self.cap_minutes(study_cap_minutes)
        if self.seconds >= cap * 60:
            return ExposureCapReached(seconds=self.seconds, cap_minutes=cap)
        if self.break_due:
            return BreakDue("time for a break")
        return None


def cap_minutes_effective(*, study_cap_minutes: int, own_cap_minutes: int | None) -> int:
    """A reviewer's own cap can only lower the study's."""
    if own_cap_minutes is None:
        return study_cap_minutes
    return min(study_cap_minutes, own_cap_minutes)


def claim_safeguards(*, reviewer_id: int, now: datetime | None = None, check_break: bool = False) -> ClaimSafeguards:
    """The reviewer's pause, own cap, opted-out topics, today's exposure and whether a break is due.

    One query of unique-index lookups, because every claim runs it: a row per opted-out topic
    (or one row when there are none). It starts from the id itself, not the user table: one
    join fewer to plan, and planning is most of its cost (about 0.25 ms of 0.3 on PostgreSQL).
    """
    now = now or timezone.now()
    day = timezone.localdate(now)
    cutoff = now - BREAK_AFTER
    through = Preference.opted_out_tags.through
    ops = connection.ops
    # Due when both the streak and the last answered prompt are at least BREAK_AFTER old.
    break_expr = (
        f"""CASE WHEN exposure.streak_started_at <= %(cutoff)s AND NOT EXISTS (
                SELECT 1 FROM {BreakEvent._meta.db_table} answered
                WHERE answered.reviewer_id = person.id AND answered.resolved_at > %(cutoff)s)
            THEN 1 ELSE 0 END"""  # noqa: S608 - table names come from code
        if check_break
        else "0"
    )
    sql = f"""
        SELECT preference.daily_cap_minutes,
               CASE WHEN preference.paused_on = %(day)s THEN 1 ELSE 0 END,
               optout.{through._meta.get_field("tag").column},
               COALESCE(exposure.seconds, 0),
               {break_expr}
        FROM (SELECT CAST(%(reviewer)s AS bigint) AS id) person
        LEFT JOIN {Preference._meta.db_table} preference ON preference.user_id = person.id
        LEFT JOIN {through._meta.db_table} optout
            ON optout.{through._meta.get_field("preference").column} = preference.id
        LEFT JOIN {ExposureDay._meta.db_table} exposure ON exposure.reviewer_id = person.id AND exposure.day = %(day)s
    """  # noqa: S608 - table and column names come from code; values are parameters
    params = {
        "day": ops.adapt_datefield_value(day),
        "cutoff": ops.adapt_datetimefield_value(cutoff),
        "reviewer": reviewer_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    own_cap, paused, _, seconds, due = rows[0]
    return ClaimSafeguards(
        day=day,
        seconds=int(seconds),
        own_cap_minutes=own_cap,
        paused=bool(paused),
        opted_out_tag_ids=tuple(sorted(row[2] for row in rows if row[2] is not None)),
        break_due=bool(due),
    )


def claim_guard(*, reviewer_id: int, check_break: bool = False) -> ClaimGuard:
    """The reviewer's safeguards as the assignment engine's claim guard (review.services.assignment.slot_claim).

    It refuses, most binding first: PausedForToday, ExposureCapReached at today's cap (the
    study's, lowered by the reviewer's own), then, with check_break (the reviewer's pages ask
    for it), BreakDue once their continuous exposure reaches the break interval. It also
    brings the topics they opted out of, in the same one query.
    """

    def guard(study: Study, now: datetime) -> ClaimLimits:
        safeguards = claim_safeguards(reviewer_id=reviewer_id, now=now, check_break=check_break)
        return ClaimLimits(
            refusal=safeguards.refusal(study_cap_minutes=study.daily_cap_minutes),
            opted_out_tag_ids=safeguards.opted_out_tag_ids,
        )

    return guard


def exposure_today(*, reviewer: User, study: Study | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Today's exposure against the reviewer's cap, for the queue page.

    The cap is the study's when one is given; otherwise the most generous of the reviewer's
    current studies, so 'remaining' is what any of them still allows (both lowered by the
    reviewer's own cap). Seconds and minutes both, since templates cannot divide.
    """
    safeguards = claim_safeguards(reviewer_id=reviewer.pk, now=now)
    if study is not None:
        study_cap = study.daily_cap_minutes
    else:
        study_cap = _most_generous_study_cap(user=reviewer) or Study._meta.get_field("daily_cap_minutes").get_default()
    cap = safeguards.cap_minutes(study_cap) * 60
    remaining = max(0, cap - safeguards.seconds)
    return {
        "seconds": safeguards.seconds,
        "cap": cap,
        "remaining": remaining,
        "minutes": safeguards.seconds // 60,
        "cap_minutes": cap // 60,
        "remaining_minutes": remaining // 60,
        "reached": remaining == 0,
        "paused": safeguards.paused,
    }


def break_open(*, reviewer: User, now: datetime | None = None) -> BreakEvent | None:
    """The break prompt on offer to the reviewer now, if any."""
    now = now or timezone.now()
    return (
        BreakEvent.objects.filter(
            reviewer=reviewer,
            outcome=BreakOutcome.PROMPTED,
            resolved_at__isnull=True,
            prompted_at__gt=now - BREAK_PROMPT_OPEN_FOR,
        )
        .order_by("-prompted_at")
        .first()
    )


def break_seconds_left(*, prompt: BreakEvent | None, now: datetime | None = None) -> int:
    """Seconds left of the suggested break, counted from the prompt so a reload does not restart it."""
    length = int(BREAK_LENGTH.total_seconds())
    if prompt is None:
        return length
    elapsed = ((now or timezone.now()) - prompt.prompted_at).total_seconds()
    return max(0, min(length, length - int(elapsed)))


def own_cap_ceiling(*, user: User) -> int:
    """The highest own cap a reviewer may set: the most generous of their current studies' caps."""
    return _most_generous_study_cap(user=user) or 24 * 60


def _most_generous_study_cap(*, user: User) -> int | None:
    studies = Study.objects.filter(memberships__reviewer=user).exclude(status=StudyStatus.ARCHIVED)
    cap: int | None = studies.aggregate(cap=Max("daily_cap_minutes"))["cap"]
    return cap


def preference_of(*, user: User) -> Preference | None:
    return Preference.objects.filter(user=user).prefetch_related("opted_out_tags").first()


def preference_initial(*, user: User) -> dict[str, object]:
    """The preferences form's starting values: the user's saved preference, or nothing chosen."""
    preference = preference_of(user=user)
    if preference is None:
        return {}
    return {
        "opted_out_tags": list(preference.opted_out_tags.all()),
        "daily_cap_minutes": preference.daily_cap_minutes,
    }
