"""Writes for surveys: check-in answers and 'Not now', periodic invitations and their reminders.

An answer belongs to its respondent alone. Nothing here copies answers anywhere else or
records why someone declined: a Decline holds a time, an instrument and a trigger only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from core.roles import REVIEWER
from wellbeing.models import (
    Decline,
    Instrument,
    InstrumentItem,
    InstrumentKind,
    Invitation,
    Response,
    Trigger,
)
from wellbeing.selectors.surveys import periodic_instruments_current

# A snoozed invitation shows again this long after 'Not now'; an ignored one is marked
# reminded this long after it was created.
REMINDER_DAYS = 2
FREE_TEXT_MAX = 4000


class SurveyAnswersInvalid(ValueError):
    """The answers cannot be stored; errors maps an item key ("" for the whole form) to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{key or 'form'}: {message}" for key, message in errors.items()))


def _clean_answers(
    items: list[InstrumentItem], answers: Mapping[str, Any], scale_max: int, *, every_item_required: bool
) -> dict[str, int]:
    errors: dict[str, str] = {}
    clean: dict[str, int] = {}
    for item in items:
        raw = answers.get(item.key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if every_item_required:
                errors[item.key] = f"Choose an answer for “{item.text}”."
            continue
        # bool is an int in Python, and "2.5" must not become 2.
        value = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
        # ASCII digits, and few: int() refuses "²" (which isdigit() accepts) and 5,000 digits.
        if isinstance(raw, str) and re.fullmatch(r"[0-9]{1,4}", raw.strip()):
            value = int(raw.strip())
        if value is None or not 0 <= value <= scale_max:
            errors[item.key] = f"Choose a whole number from 0 to {scale_max} for “{item.text}”."
            continue
        clean[item.key] = value
    unknown = sorted(set(answers) - {item.key for item in items})
    if unknown:
        errors[""] = f"Not questions of this survey: {', '.join(unknown)}."
    if errors:
        raise SurveyAnswersInvalid(errors)
    return clean


def _score(answers: dict[str, int], item_count: int, scale_max: int) -> int:
    """The sum as 0-100, rounded half up (WHO-5: raw 0-25 x 4, always a whole number)."""
    top = item_count * scale_max
    return (sum(answers.values()) * 100 * 2 + top) // (2 * top)


def response_submit(
    *,
    respondent: User,
    instrument: Instrument,
    trigger: str,
    answers: Mapping[str, Any],
    free_text: str = "",
    now: datetime | None = None,
) -> Response:
    """Store one set of answers; a periodic questionnaire also closes its open invitations.

    Each answer must be on the instrument's scale (0 .. len(scale_labels) - 1). A periodic
    questionnaire needs every item (its score is their sum); a check-in takes any of them, but
    not none: an empty check-in is "Not now", which is checkin_decline. Otherwise
    SurveyAnswersInvalid names each item at fault and nothing is written.
    """
    now = now or timezone.now()
    if trigger not in Trigger.values:
        raise ValueError(f"unknown trigger {trigger!r}")
    if not instrument.active:
        raise SurveyAnswersInvalid({"": "This survey is closed; nothing was saved."})
    items = list(instrument.items.all())
    if not items or instrument.scale_max < 1:
        raise SurveyAnswersInvalid({"": "This survey has no questions or no answer scale yet; nothing was saved."})
    clean = _clean_answers(items, answers, instrument.scale_max, every_item_required=instrument.every_item_required)
    text = free_text.strip() if instrument.free_text else ""
    if len(text) > FREE_TEXT_MAX:
        raise SurveyAnswersInvalid({"free_text": f"Please keep the comment under {FREE_TEXT_MAX} characters."})
    if not clean and not text:
        raise SurveyAnswersInvalid({"": "Answer any of the questions, or write a comment; or choose “Not now”."})
    periodic = instrument.kind == InstrumentKind.PERIODIC
    with transaction.atomic():
        response = Response.objects.create(
            respondent=respondent,
            instrument=instrument,
            trigger=trigger,
            answers=clean,
            free_text=text,
            score=_score(clean, len(items), instrument.scale_max) if periodic else None,
            submitted_at=now,
        )
        if periodic:
            # Any version: an invitation to last year's WHO-5 is answered by this year's.
            Invitation.objects.filter(
                respondent=respondent, instrument__slug=instrument.slug, closed_at__isnull=True
            ).update(closed_at=now)
    return response


def checkin_decline(*, respondent: User, instrument: Instrument, trigger: str, now: datetime | None = None) -> Decline:
    """'Not now': remember only that and when, so the check-in is not offered again for this run."""
    if trigger not in Trigger.values:
        raise ValueError(f"unknown trigger {trigger!r}")
    return Decline.objects.create(
        respondent=respondent, instrument=instrument, trigger=trigger, declined_at=now or timezone.now()
    )


def invitation_snooze(*, respondent: User, invitation_id: int, now: datetime | None = None) -> bool:
    """Hide the respondent's open invitation until the reminder; False if it is not theirs or closed.

    Clearing reminded_at makes the reminder count from this snooze, so 'Not now' after an
    earlier reminder hides the invitation again for REMINDER_DAYS.
    """
    return bool(
        Invitation.objects.filter(pk=invitation_id, respondent=respondent, closed_at__isnull=True).update(
            snoozed_at=now or timezone.now(), reminded_at=None
        )
    )


def invitations_create(*, now: datetime | None = None) -> int:
    """Invite each active reviewer to each periodic questionnaire that is due for them; returns how many.

    Due means: no answer to the questionnaire (any version) and no invitation to it in the
    last every_days days, counted in calendar days of the site's time zone. Safe to run
    often: a second run on the same day finds nobody due, and the unique (respondent,
    instrument, due_on) constraint stops two runs racing each other.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    return sum(
        _invitations_create_for(instrument=instrument, now=now, today=today)
        for instrument in periodic_instruments_current()
    )


def _invitations_create_for(*, instrument: Instrument, now: datetime, today: date) -> int:
    last_quiet_day = today - timedelta(days=instrument.every_days or 1)
    # Responses on last_quiet_day or before are old enough; the day starts at local midnight.
    recent_since = timezone.make_aware(datetime.combine(last_quiet_day + timedelta(days=1), time.min))
    recent_response = Response.objects.filter(
        respondent=OuterRef("pk"), instrument__slug=instrument.slug, submitted_at__gte=recent_since
    )
    recent_invitation = Invitation.objects.filter(
        respondent=OuterRef("pk"), instrument__slug=instrument.slug, due_on__gt=last_quiet_day
    )
    due = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=REVIEWER)
        .filter(~Exists(recent_response), ~Exists(recent_invitation))
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        due_ids = list(due)
        if not due_ids:
            return 0
        # An unanswered older invitation is superseded: one open invitation per questionnaire.
        Invitation.objects.filter(
            respondent_id__in=due_ids, instrument__slug=instrument.slug, closed_at__isnull=True
        ).update(closed_at=now)
        todays = Invitation.objects.filter(instrument=instrument, due_on=today)
        before = todays.count()
        Invitation.objects.bulk_create(
            [
                Invitation(respondent_id=user_id, instrument=instrument, due_on=today, created_at=now)
                for user_id in due_ids
            ],
            batch_size=500,
            ignore_conflicts=True,
        )
        return todays.count() - before


def invitations_remind(*, now: datetime | None = None) -> int:
    """Mark open invitations snoozed (or waiting) for REMINDER_DAYS as reminded; returns how many.

    A reminded invitation shows again although it was snoozed. Safe to run often: each
    snooze is reminded once.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=REMINDER_DAYS)
    return (
        Invitation.objects.filter(closed_at__isnull=True, reminded_at__isnull=True)
        .filter(Q(snoozed_at__lte=cutoff) | Q(snoozed_at__isnull=True, created_at__lte=cutoff))
        .update(reminded_at=now)
    )


def instrument_version_create(*, instrument: Instrument) -> Instrument:
    """Copy an instrument and its items as the next version of its slug, inactive until a lead activates it.

    Answers keep the version they were given to, so an instrument with answers is changed
    by drafting a new version rather than by editing its items.
    """
    with transaction.atomic():
        # Two leads drafting at once: the unique (slug, version) constraint refuses the second.
        latest = Instrument.objects.filter(slug=instrument.slug).aggregate(v=Max("version"))["v"]
        items = list(instrument.items.all())
        copy = Instrument.objects.create(
            slug=instrument.slug,
            version=(latest or instrument.version) + 1,
            kind=instrument.kind,
            name=instrument.name,
            prompt=instrument.prompt,
            scale_labels=list(instrument.scale_labels),
            free_text=instrument.free_text,
            every_days=instrument.every_days,
            support_at_or_below=instrument.support_at_or_below,
            citation=instrument.citation,
            active=False,
        )
        InstrumentItem.objects.bulk_create(
            [
                InstrumentItem(
                    instrument=copy, position=item.position, key=item.key, text=item.text, negative=item.negative
                )
                for item in items
            ]
        )
    return copy
