"""Simulated history for the demo: a finished study reviewed over two working weeks, and the
wellbeing answers of the people who reviewed it, so the lead's pages have figures from the start.

Everything goes through the services a reviewer's pages call, in the order the pages call them,
with the simulated clock passed as `now`: claims (with exposure and break prompts), submits,
skips, check-ins after every study.checkin_every_reviews-th review, WHO-5 answers. The one thing
no service can do is stamp a review or a skip with a past time (`created_at` is set on insert), so
each is moved back to its simulated moment right after it is stored, before anything reads it.

The simulated people cannot log in (no usable password) and hold no role, so they are never
invited to anything and nobody can see their pages. The random draws use fixed seeds: the same
history every time, placed relative to the day it is set up (its last months that are over).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.services import user_create, user_password_set
from agreement.services import agreement_snapshot_refresh
from audit.services import Actor
from review.models import RaterRole, Review, Skip, Study, StudyItem, StudyStatus
from review.sampling import parse_stratum
from review.services.answers import ReviewAnswers
from review.services.assignment import slot_skip
from review.services.studies import (
    reviewer_profile_set,
    study_archive,
    study_create,
    study_members_set,
    study_start,
)
from tagging.models import Tag
from wellbeing.errors import BreakDue
from wellbeing.models import BreakOutcome, Instrument, Trigger
from wellbeing.selectors.aggregates import FEELINGS_SLUG, WHO5_SLUG, Period, latest_complete_period
from wellbeing.selectors.surveys import checkin_due_after_review
from wellbeing.services.exposure import break_resolve, study_wellbeing_set
from wellbeing.services.surveys import checkin_decline, response_submit
from workspace.services import work_page_claim, work_submit

SIMULATED_STUDY = "Demo: finished study (simulated reviews)"
# Fifteen people: three times the wellbeing pages' floor of five (wellbeing.suppression.MIN_GROUP),
# so a month's feelings means carry noise of about ± 0.6 (9.2 / n) rather than ± 1.8.
SIMULATED_PEOPLE = 15
SIMULATED_ITEMS = 80
SIMULATED_CHECKIN_EVERY = 5
SEED = 11
# A simulated rating is the author's self-rating moved by one of these (and the reviewer's own
# lean), clamped to 0-4.
SIMULATED_SHIFTS = [-2, -1, -1, 0, 0, 0, 0, 1, 1, 2]
SKIP_REASONS = [
    "Too much for me today.",
    "I can't judge this one without more context.",
    "Needs knowledge of the law I don't have.",
    "",
]
SIMULATED_EXPERTS = 3
EXPERTISE_DOMAINS = ["medicine", "chemistry", "law", "cybersecurity"]
# Median seconds on task of a typical reviewer; each person is faster or slower by their own factor.
MEDIAN_SECONDS = 75
# The feelings check-in's items (wellbeing migration 0002): a typical answer, before each person's
# own leaning. Reviewing attacks is tiring work: the negative feelings are low but not zero.
FEELING_MEANS = {
    "upset": 0.7,
    "hostile": 0.3,
    "alert": 2.6,
    "ashamed": 0.3,
    "inspired": 1.2,
    "nervous": 0.6,
    "determined": 2.2,
    "attentive": 2.8,
    "afraid": 0.3,
    "active": 2.0,
}
NEGATIVE_FEELINGS = {"upset", "hostile", "ashamed", "nervous", "afraid"}
# The months before the study's that hold answers too, so the feelings table has a trend.
EARLIER_MONTHS = 2


def simulated_username(number: int) -> str:
    return f"simulated-reviewer-{number}"


@dataclass
class Person:
    """One simulated reviewer: their account, their pace and leanings, and their own clock."""

    user: User
    speed: float  # seconds on task are multiplied by this
    lean: int  # added to every rating: a lenient (+1) or strict (-1) reviewer
    skip_rate: float
    strain: float  # added to the negative feelings
    wellbeing: float  # typical WHO-5 item answer, 0-5
    done: int = 0
    clock: datetime = field(default_factory=timezone.now)


def simulated_people(*, actor: Actor) -> list[User]:
    """The simulated reviewers' accounts, created if missing; none can log in."""
    people = []
    for number in range(1, SIMULATED_PEOPLE + 1):
        username = simulated_username(number)
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            user = user_create(username=username, password=None, actor=actor)
        elif user.has_usable_password():
            user = user_password_set(user=user, password=None, actor=actor)
        people.append(user)
    return people


def simulated_history_set_up(*, created_by: User, actor: Actor, today: date | None = None) -> Study | None:
    """The finished study and the wellbeing answers around it, once: None when they exist already.

    The study is reviewed on the working days of the last two weeks of the latest month that is
    over, so the lead's wellbeing page opens on a month with figures; the answers go back
    EARLIER_MONTHS more months. The study is set up and started first, each step committed as a
    lead's would be; the reviews and answers then land in one transaction, so a run cut short
    leaves a study without reviews, which the next run reviews.
    """
    study = Study.objects.filter(name=SIMULATED_STUDY).first()
    if study is not None and (study.status == StudyStatus.ARCHIVED or study.reviews.exists()):
        return None
    month = latest_complete_period(today=today or timezone.localdate())
    days = _workdays(month.last_day - timedelta(days=13), month.last_day)
    users = simulated_people(actor=actor)
    # Three of them declare expertise in every topic: the items a reviewer says need an expert
    # get their extra review, and the lead's dashboard compares the experts with the crowd.
    topics = list(Tag.objects.order_by("position").values_list("id", flat=True))
    for expert in users[2 : 2 + SIMULATED_EXPERTS]:
        reviewer_profile_set(user=expert, red_team_member_id=None, expertise_tag_ids=topics, actor=actor)
    if study is None:
        study = _study_create(created_by=created_by, first_day=days[0], actor=actor)
    study_members_set(study=study, reviewers=users, actor=actor)
    if study.status == StudyStatus.DRAFT:
        study = study_start(study=study, actor=actor)
    # One stream per part, so the study's reviews are the same whatever month they fall in (the
    # months' lengths change how many draws the earlier answers take).
    people_rng, study_rng, checkin_rng, earlier_rng, who5_rng = (random.Random(SEED + k) for k in range(5))
    people = [_person(user, people_rng, number) for number, user in enumerate(users)]
    with transaction.atomic():
        earlier = [month]
        for _ in range(EARLIER_MONTHS):
            earlier.append(earlier[-1].previous())
        for period in reversed(earlier[1:]):
            _earlier_checkins(people=people, period=period, rng=earlier_rng)
        for period in reversed(earlier):
            _who5_answers(people=people, period=period, rng=who5_rng)
        _reviews(study=study, people=people, days=days, rng=study_rng, checkin_rng=checkin_rng)
        study = study_archive(study=study, actor=actor)
    # After the commit: the submits' refresh requests are on_commit hooks that mark the snapshot
    # pending; computing it after them leaves it current.
    agreement_snapshot_refresh(study_id=study.pk)
    return study


def _person(user: User, rng: random.Random, number: int) -> Person:
    leans = {0: 1, 1: -1}  # the first is lenient, the second strict; the rest rate like the authors
    return Person(
        user=user,
        speed=math.exp(rng.gauss(0, 0.3)),
        lean=leans.get(number, 0),
        skip_rate=rng.choice([0.0, 0.02, 0.04, 0.08]),
        strain=max(-0.3, rng.gauss(0, 0.35)),
        wellbeing=min(4.6, max(1.0, rng.gauss(3.2, 0.8))),
    )


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def _workdays(first: date, last: date) -> list[date]:
    return [
        first + timedelta(days=k) for k in range((last - first).days + 1) if (first + timedelta(days=k)).weekday() < 5
    ]


# --- the finished study ----------------------------------------------------------------------------


def _study_create(*, created_by: User, first_day: date, actor: Actor) -> Study:
    study = study_create(
        name=SIMULATED_STUDY,
        description=f"Simulated reviews of {SIMULATED_ITEMS} demo transcripts by {SIMULATED_PEOPLE} reviewers "
        "over two working weeks, for a first look at the lead dashboard and the wellbeing page.",
        strata=[parse_stratum(f"all:{SIMULATED_ITEMS}")],
        seed=SEED,
        created_by=created_by,
        actor=actor,
    )
    # Dated the Friday before its first reviews, as if it had been set up then.
    Study.objects.filter(pk=study.pk).update(created_at=_at(first_day - timedelta(days=3), 16))
    return study_wellbeing_set(
        study=study, daily_cap_minutes=240, checkin_every_reviews=SIMULATED_CHECKIN_EVERY, actor=actor
    )


def _reviews(
    *, study: Study, people: list[Person], days: list[date], rng: random.Random, checkin_rng: random.Random
) -> None:
    """Sessions of the study's reviewers on `days`, until every slot is reviewed."""
    ratings = dict(StudyItem.objects.filter(study=study).values_list("pk", "transcript__rating"))
    tag_ids = list(Tag.objects.order_by("position").values_list("id", flat=True)[:19])
    # The crowd's reviews: expert reviews are extra to the items' reviewers_per_item.
    items_left = study.items.count() * study.reviewers_per_item
    for number, day in enumerate(days):
        last_day = number == len(days) - 1
        working = rng.sample(people, k=len(people) if last_day else rng.randint(4, 7))
        for person in working:
            person.clock = _at(day, rng.randint(9, 15), rng.randint(0, 59))
        # Sessions in the order they start; on the last day everyone works until nothing is left.
        for person in sorted(working, key=lambda p: p.clock):
            target = 10_000 if last_day else rng.randint(2, 6)
            items_left -= _session(
                person=person,
                study=study,
                target=target,
                ratings=ratings,
                tag_ids=tag_ids,
                rng=rng,
                checkin_rng=checkin_rng,
            )
    if items_left:
        raise RuntimeError(f"the simulated study was left with {items_left} reviews to do")


def _session(
    *,
    person: Person,
    study: Study,
    target: int,
    ratings: dict[int, int],
    tag_ids: list[int],
    rng: random.Random,
    checkin_rng: random.Random,
) -> int:
    """One sitting of up to `target` reviews from person.clock on; returns how many crowd reviews
    were stored (an expert's review is not one of an item's reviewers_per_item)."""
    stored = crowd = 0
    while stored < target:
        try:
            slot = work_page_claim(study_id=study.pk, reviewer=person.user, now=person.clock)
        except BreakDue:
            person.clock += timedelta(minutes=rng.randint(5, 15))
            break_resolve(reviewer=person.user, outcome=BreakOutcome.TAKEN, now=person.clock)
            continue
        if slot is None:
            break
        seconds = _seconds_on_task(person, rng)
        person.clock += timedelta(seconds=seconds)
        if rng.random() < person.skip_rate:
            skip = slot_skip(slot_id=slot.pk, reviewer=person.user, reason=rng.choice(SKIP_REASONS))
            Skip.objects.filter(pk=skip.pk).update(created_at=person.clock)
        else:
            review = work_submit(
                slot_id=slot.pk,
                reviewer=person.user,
                answers=_answers(person, ratings[slot.item_id], tag_ids, rng),
                now=person.clock,
            )
            Review.objects.filter(pk=review.pk).update(created_at=person.clock)
            stored += 1
            crowd += review.rater_role == RaterRole.CROWD
            if checkin_due_after_review(reviewer=person.user, study=study):
                person.clock += timedelta(seconds=rng.randint(20, 60))
                _checkin(person=person, trigger=Trigger.AFTER_REVIEWS, in_study=True, rng=checkin_rng)
        # Reading the next conversation's warning, or now and then a longer pause.
        person.clock += timedelta(seconds=rng.randint(5, 30) if rng.random() > 0.05 else rng.randint(360, 900))
    return crowd


def _seconds_on_task(person: Person, rng: random.Random) -> int:
    """Log-normal around the person's median: most reviews take one to three minutes, a few ten."""
    return int(min(900, max(15, rng.lognormvariate(math.log(MEDIAN_SECONDS * person.speed), 0.55))))


def _answers(person: Person, self_rating: int, tag_ids: list[int], rng: random.Random) -> ReviewAnswers:
    rating = min(4, max(0, self_rating + rng.choice(SIMULATED_SHIFTS) + person.lean))
    tags: tuple[int, ...] = tuple(rng.sample(tag_ids, k=rng.choice([1, 1, 1, 2])))
    expertise = rng.random() < 0.06
    return ReviewAnswers(
        rating=rating,
        tag_ids=tags,
        needs_expertise=expertise,
        expertise_tag_id=rng.choice(tag_ids) if expertise else None,
        expertise_domain=rng.choice(EXPERTISE_DOMAINS) if expertise else "",
        note="Simulated review.",
    )


# --- wellbeing answers -----------------------------------------------------------------------------


def _instrument(slug: str) -> Instrument:
    return Instrument.objects.filter(slug=slug, active=True).order_by("-version").first() or Instrument.objects.get(
        slug=slug, version=1
    )


def _checkin(*, person: Person, trigger: str, in_study: bool, rng: random.Random) -> None:
    """The feelings check-in, answered (most of the time) or 'Not now'."""
    instrument = _instrument(FEELINGS_SLUG)
    if rng.random() < 0.12:
        checkin_decline(respondent=person.user, instrument=instrument, trigger=trigger, now=person.clock)
        return
    answers = {}
    for key, mean in FEELING_MEANS.items():
        strain = person.strain + (0.3 if in_study else 0.0)
        lean = strain if key in NEGATIVE_FEELINGS else -person.strain / 2
        answers[key] = min(4, max(0, round(rng.gauss(mean + lean, 0.7))))
    response_submit(respondent=person.user, instrument=instrument, trigger=trigger, answers=answers, now=person.clock)


def _earlier_checkins(*, people: list[Person], period: Period, rng: random.Random) -> None:
    """Check-ins after earlier work (outside this demo) in a month before the study's."""
    days = _workdays(period.first_day, period.last_day)
    for person in people:
        for day in sorted(rng.sample(days, k=rng.randint(2, 4))):
            person.clock = _at(day, rng.randint(10, 17), rng.randint(0, 59))
            _checkin(person=person, trigger=Trigger.AFTER_REVIEWS, in_study=False, rng=rng)


def _who5_answers(*, people: list[Person], period: Period, rng: random.Random) -> None:
    """The WHO-5 every two weeks: in the month's first and third week, skipped now and then."""
    instrument = _instrument(WHO5_SLUG)
    keys = list(instrument.items.order_by("position").values_list("key", flat=True))
    for person in people:
        for week in (0, 2):
            if rng.random() < 0.1:
                continue
            day = period.first_day + timedelta(weeks=week, days=rng.randint(0, 4))
            person.clock = _at(day, rng.randint(9, 17), rng.randint(0, 59))
            answers = {key: min(5, max(0, round(rng.gauss(person.wellbeing, 0.8)))) for key in keys}
            response_submit(
                respondent=person.user, instrument=instrument, trigger=Trigger.INVITATION, answers=answers,
                now=person.clock,
            )  # fmt: skip
