"""Wellbeing exposure writes: time on reviewing pages, breaks, the daily cap, pausing, opt-outs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import Actor, audit_record
from core.durability import commit_without_waiting_for_disk
from core.rows import ModelColumns, instance_from_row, model_columns, row_fetch
from review.models import Slot, SlotStatus, Study
from tagging.models import Tag
from wellbeing.errors import WellbeingInvalid
from wellbeing.models import BreakEvent, BreakOutcome, ExposureDay, Preference
from wellbeing.selectors.exposure import BREAK_PROMPT_OPEN_FOR, break_open, own_cap_ceiling

# Reviewing pages are short-lived: a review takes a minute or two between page loads. A longer
# silence means the reviewer was away (or on a break), so that gap is not exposure and the next
# page starts a new continuous stretch.
IDLE_SECONDS = 5 * 60

# The study's limits, as the database allows them (Study's check constraints).
MAX_CAP_MINUTES = 24 * 60
MAX_CHECKIN_EVERY = 1000


def exposure_record(*, reviewer: User, now: datetime | None = None) -> ExposureDay:
    """Count the time since the reviewer's previous reviewing page, unless they were away.

    Called on every claim, preview, review page, submit and skip. One upsert, so two tabs
    cannot lose each other's time or create the day twice: the row lock of ON CONFLICT orders
    them, and an event older than the row's last one adds nothing.
    """
    now = now or timezone.now()
    ops = connection.ops
    if connection.vendor == "postgresql":
        gap = "CAST(ROUND(EXTRACT(EPOCH FROM (%(now)s - e.last_seen_at))) AS integer)"
    else:
        gap = "CAST(ROUND((julianday(%(now)s) - julianday(e.last_seen_at)) * 86400) AS integer)"
    sql = f"""
        INSERT INTO {ExposureDay._meta.db_table} AS e (reviewer_id, day, seconds, last_seen_at, streak_started_at)
        VALUES (%(reviewer)s, %(day)s, 0, %(now)s, %(now)s)
        ON CONFLICT (reviewer_id, day) DO UPDATE SET
            seconds = e.seconds + CASE
                WHEN e.last_seen_at >= %(idle_since)s AND e.last_seen_at < %(now)s THEN {gap} ELSE 0 END,
            streak_started_at = CASE WHEN e.last_seen_at < %(idle_since)s THEN %(now)s ELSE e.streak_started_at END,
            last_seen_at = CASE WHEN e.last_seen_at < %(now)s THEN %(now)s ELSE e.last_seen_at END
        RETURNING {_exposure_columns().sql}
    """  # noqa: S608 - table names come from code; values are parameters
    params = {
        "reviewer": reviewer.pk,
        "day": ops.adapt_datefield_value(timezone.localdate(now)),
        "now": ops.adapt_datetimefield_value(now),
        "idle_since": ops.adapt_datetimefield_value(now - timedelta(seconds=IDLE_SECONDS)),
    }
    # Read by a plain cursor: this runs on every claim, and a RawQuerySet cost more than the upsert.
    with transaction.atomic():
        commit_without_waiting_for_disk()  # seconds lost in a database crash are not counted (core/durability.py)
        row = row_fetch(sql, params)
    if row is None:  # the upsert returns its one row, always
        raise RuntimeError(f"the exposure upsert for reviewer {reviewer.pk} returned no row")
    return instance_from_row(ExposureDay, _exposure_columns(), row)


@cache
def _exposure_columns() -> ModelColumns:
    return model_columns([(None, ExposureDay)])


def break_prompt(*, reviewer: User, now: datetime | None = None) -> BreakEvent:
    """Offer the reviewer a break: the prompt still on offer, or a new one."""
    now = now or timezone.now()
    return break_open(reviewer=reviewer, now=now) or BreakEvent.objects.create(
        reviewer=reviewer, prompted_at=now, outcome=BreakOutcome.PROMPTED
    )


def break_resolve(*, reviewer: User, outcome: str, now: datetime | None = None) -> int:
    """Record the reviewer's answer to the break on offer: taken ('I'm back') or dismissed.

    Either way the next prompt comes BREAK_AFTER later; a break taken also starts a new
    stretch. The time on the break page is not exposure. Returns the prompts answered
    (0 for a repeated click, which changes nothing).
    """
    if outcome not in (BreakOutcome.TAKEN, BreakOutcome.DISMISSED):
        raise ValueError(f"a break is taken or dismissed, not {outcome!r}")
    now = now or timezone.now()
    with transaction.atomic():
        answered = BreakEvent.objects.filter(
            reviewer=reviewer,
            outcome=BreakOutcome.PROMPTED,
            resolved_at__isnull=True,
            prompted_at__gt=now - BREAK_PROMPT_OPEN_FOR,
        ).update(outcome=outcome, resolved_at=now)
        today = ExposureDay.objects.filter(reviewer=reviewer, day=timezone.localdate(now), last_seen_at__lt=now)
        if outcome == BreakOutcome.TAKEN:
            today.update(last_seen_at=now, streak_started_at=now)
        else:
            today.update(last_seen_at=now)
    return answered


def pause_today(*, user: User, now: datetime | None = None) -> int:
    """'Pause for today': no claims until tomorrow, and the reviewer's leases go back to the pool.

    The leases are reopened as leases_expire does, so the items go to other reviewers at once
    instead of waiting out the lease. Returns how many were released.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # One statement whether or not the reviewer has preferences yet (ON CONFLICT).
        Preference.objects.bulk_create(
            [Preference(user=user, paused_on=timezone.localdate(now))],
            update_conflicts=True,
            unique_fields=["user"],
            update_fields=["paused_on"],
        )
        # A submit in flight holds its slot's lock; this waits for it and then leaves the done slot be.
        return Slot.objects.filter(holder=user, status=SlotStatus.LEASED).update(
            status=SlotStatus.OPEN, holder=None, leased_at=None, leased_until=None
        )


def preference_set(*, user: User, opted_out_tag_ids: Sequence[int], daily_cap_minutes: int | None) -> Preference:
    """Save the reviewer's topics to avoid and their own daily cap, which may only lower their studies'."""
    errors: dict[str, str] = {}
    wanted = set(opted_out_tag_ids)
    if Tag.objects.filter(pk__in=wanted).count() != len(wanted):
        errors["opted_out_tags"] = "Unknown topic."
    if daily_cap_minutes is not None:
        ceiling = own_cap_ceiling(user=user)
        if daily_cap_minutes < 1:
            errors["daily_cap_minutes"] = "Choose at least 1 minute, or leave it empty to use the study's limit."
        elif daily_cap_minutes > ceiling:
            errors["daily_cap_minutes"] = (
                f"Your own limit can only lower your studies' limit of {ceiling} minutes: choose {ceiling} or less."
            )
    if errors:
        raise WellbeingInvalid(errors)
    with transaction.atomic():
        Preference.objects.bulk_create(
            [Preference(user=user, daily_cap_minutes=daily_cap_minutes)],
            update_conflicts=True,
            unique_fields=["user"],
            update_fields=["daily_cap_minutes"],
        )
        preference = Preference.objects.get(user=user)
        preference.opted_out_tags.set(sorted(wanted))
    return preference


def study_wellbeing_set(
    *, study: Study, daily_cap_minutes: int, checkin_every_reviews: int, actor: Actor = None
) -> Study:
    """A lead sets the study's daily exposure cap and how often the check-in is offered."""
    errors: dict[str, str] = {}
    if not 1 <= daily_cap_minutes <= MAX_CAP_MINUTES:
        errors["daily_cap_minutes"] = f"Choose a daily limit from 1 to {MAX_CAP_MINUTES} minutes."
    if not 1 <= checkin_every_reviews <= MAX_CHECKIN_EVERY:
        errors["checkin_every_reviews"] = f"Choose a number of reviews from 1 to {MAX_CHECKIN_EVERY}."
    if errors:
        raise WellbeingInvalid(errors)
    wanted = {"daily_cap_minutes": daily_cap_minutes, "checkin_every_reviews": checkin_every_reviews}
    with transaction.atomic():
        current = Study.objects.select_for_update(no_key=True).filter(pk=study.pk).values(*wanted).get()
        changed = {
            name: {"from": current[name], "to": value} for name, value in wanted.items() if current[name] != value
        }
        if changed:
            Study.objects.filter(pk=study.pk).update(**wanted)
            audit_record(actor=actor, action=AuditAction.STUDY_CHANGED, target=study, study=study, details=changed)
    study.daily_cap_minutes = daily_cap_minutes
    study.checkin_every_reviews = checkin_every_reviews
    return study
