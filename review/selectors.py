"""Reads for the review app."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core.roles import LEAD, REVIEWER
from core.rows import ModelColumns, instances_from_row, model_columns, row_fetch
from review.models import (
    GOLD_ROLES,
    SUCCESS_RATING,
    GoldItem,
    RaterRole,
    Review,
    ReviewerProfile,
    Skip,
    Slot,
    SlotStatus,
    Study,
    StudyItem,
    StudyLead,
    StudyStatus,
)
from transcripts.models import Transcript


def study_get(*, study_id: int) -> Study | None:
    """The study, or None when there is none: views answer 404, services refuse."""
    return Study.objects.filter(pk=study_id).first()


def studies_for_lead(*, user: User) -> QuerySet[Study]:
    """The studies the user leads (created, or was added to as a co-lead). Every lead page and
    API endpoint that takes a study reads it through here or study_for_lead, so another lead's
    study is, for them, a study that does not exist."""
    return Study.objects.filter(pk__in=StudyLead.objects.filter(lead=user).values("study_id"))


def study_for_lead(*, user: User, study_id: int) -> Study | None:
    """The study if the user is one of its leads, else None (the same as no such study: 404)."""
    return studies_for_lead(user=user).filter(pk=study_id).first()


def study_leads(*, study: Study) -> list[User]:
    """The study's leads, by username."""
    return list(User.objects.filter(led_studies__study=study).order_by("username"))


def lead_accounts() -> QuerySet[User]:
    """Every active account holding the lead role, by username: who can be made a co-lead."""
    return User.objects.filter(groups__name=LEAD, is_active=True).order_by("username")


def lead_account(*, user_id: int) -> User | None:
    return lead_accounts().filter(pk=user_id).first()


def study_of_member(*, study_id: int, reviewer: User) -> Study | None:
    """The study if the reviewer is one of its members, else None (the same for no such study)."""
    return Study.objects.filter(pk=study_id, memberships__reviewer=reviewer).first()


def study_of_slot(*, slot_id: int) -> Study | None:
    return Study.objects.filter(slots__pk=slot_id).first()


def study_start_progress(*, study_id: int, user: User) -> dict[str, Any] | None:
    """How far a study's start has got, for the lead's progress bar (None: no such study of theirs).

    Read from the counts the start stores as it goes: one row, however large the study.
    """
    row = (
        studies_for_lead(user=user)
        .filter(pk=study_id)
        .values("status", "start_items_done", "start_items_total")
        .first()
    )
    if row is None:
        return None
    total, done = row["start_items_total"], row["start_items_done"]
    return {
        "status": row["status"],
        "status_display": StudyStatus(row["status"]).label,
        "done": done,
        "total": total,
        "percent": 100 if total == 0 else int(100 * done / total),
    }


def study_item_count(*, study: Study) -> int:
    return StudyItem.objects.filter(study=study).count()


def reviewer_accounts() -> QuerySet[User]:
    """Everyone who holds the reviewer role, by username: who a lead can make a study's member."""
    return User.objects.filter(groups__name=REVIEWER).order_by("username")


def reviewer_accounts_with_ids(*, ids: list[int]) -> list[User]:
    """The reviewers among the given user ids; other ids (not reviewers, or no one) are left out."""
    return list(reviewer_accounts().filter(pk__in=ids))


def study_member_ids(*, study: Study) -> set[int]:
    return set(study.memberships.values_list("reviewer_id", flat=True))


def stratum_candidate_ids(filters: dict[str, Any]) -> list[int]:
    """Ids of the transcripts in a stratum, in an order that does not depend on import order."""
    return list(Transcript.objects.filter(**filters).order_by("content_hash").values_list("id", flat=True))


def stratum_counts() -> list[dict[str, Any]]:
    """How many transcripts each (model_type, num_params) stratum holds."""
    rows = Transcript.objects.values("model_type", "num_params").annotate(count=Count("id"))
    return [dict(row) for row in rows.order_by("model_type", "num_params")]


def lead_overview(*, user: User) -> dict[str, Any]:
    """The imported data and the lead's recent studies at a glance, for their landing page."""
    return {
        "transcript_count": Transcript.objects.count(),
        "strata": stratum_counts(),
        "studies": list(studies_for_lead(user=user).annotate(item_count=Count("items")).order_by("-created_at")[:20]),
    }


def reviewer_studies(*, reviewer: User) -> list[dict[str, Any]]:
    """The studies a reviewer is in (archived ones aside), each with the reviews they gave in it today."""
    today = timezone.localdate()
    studies = (
        Study.objects.filter(memberships__reviewer=reviewer)
        .exclude(status=StudyStatus.ARCHIVED)
        .annotate(done_today=Count("reviews", filter=Q(reviews__reviewer=reviewer, reviews__created_at__date=today)))
        .order_by("name")
    )
    return [{"study": study, "done_today": study.done_today} for study in studies]


def reviews_today(*, reviewer: User) -> int:
    return Review.objects.filter(reviewer=reviewer, created_at__date=timezone.localdate()).count()


def _held_by(reviewer: User) -> QuerySet[Slot]:
    """Slots leased to the reviewer, never one of their own attacks: a reviewer linked to a
    transcript's author id after taking its lease is not shown it (the next claim lets it go)."""
    own = ReviewerProfile.objects.filter(user=reviewer, red_team_member_id__isnull=False).values("red_team_member_id")
    return Slot.objects.filter(holder=reviewer, status=SlotStatus.LEASED).exclude(author_member_id__in=own)


def slot_for_reviewer(*, slot_id: int, reviewer: User) -> Slot | None:
    """The slot if the reviewer holds its lease now; what the preview and review pages show.

    With its study and its item's transcript, as select_related would attach them: the same
    rows as `_held_by(reviewer).select_related("study", "item__transcript")`, read by one
    written-out statement. Both reviewer pages run it on every load, and building that query
    through the ORM cost more CPU than the database took to answer it.
    """
    columns, sql = _slot_page_statement()
    row = row_fetch(sql, {"slot": slot_id, "reviewer": reviewer.pk, "leased": SlotStatus.LEASED})
    if row is None:
        return None
    slot, study, item, transcript = instances_from_row(columns, row)
    assert isinstance(slot, Slot) and isinstance(item, StudyItem)  # noqa: S101 - for the type checker
    Slot.study.field.set_cached_value(slot, study)
    Slot.item.field.set_cached_value(slot, item)
    StudyItem.transcript.field.set_cached_value(item, transcript)
    return slot


@cache
def _slot_page_statement() -> tuple[ModelColumns, str]:
    """The statement of slot_for_reviewer, built once."""
    columns = model_columns([("s", Slot), ("st", Study), ("i", StudyItem), ("t", Transcript)])
    profile = ReviewerProfile._meta
    sql = (
        f"SELECT {columns.sql} FROM {Slot._meta.db_table} s "  # noqa: S608 - names from code; values are parameters
        f"JOIN {Study._meta.db_table} st ON st.id = s.study_id "
        f"JOIN {StudyItem._meta.db_table} i ON i.id = s.item_id "
        f"JOIN {Transcript._meta.db_table} t ON t.id = i.transcript_id "
        "WHERE s.id = %(slot)s AND s.holder_id = %(reviewer)s AND s.status = %(leased)s "
        # Never one of their own attacks, as in _held_by.
        "AND (s.author_member_id IS NULL OR s.author_member_id NOT IN ("
        f"SELECT own.red_team_member_id FROM {profile.db_table} own "
        "WHERE own.user_id = %(reviewer)s AND own.red_team_member_id IS NOT NULL))"
    )
    return columns, sql


def slot_held_in(*, study_id: int, reviewer: User, now: datetime | None = None) -> Slot | None:
    """The live lease the reviewer holds in the study, which their next claim would hand back."""
    now = now or timezone.now()
    return _held_by(reviewer).filter(study_id=study_id, leased_until__gt=now).order_by("leased_at").first()


def preview_text(*, transcript: Transcript, limit: int = 200) -> str:
    """The first human turn, cut at a word boundary near `limit` characters."""
    first = next((turn.text for turn in transcript.turns if turn.speaker == "Human"), "")
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0] if " " in first[:limit] else first[:limit]
    return cut + "…"


def lead_studies(*, user: User) -> list[dict[str, Any]]:
    """The studies the user leads with their slot counts by status, for the lead's study list."""
    counts: dict[int, dict[str, int]] = {}
    owned = studies_for_lead(user=user)
    slots = Slot.objects.filter(study__in=owned.values("pk"))
    for study_id, status, number in slots.values_list("study_id", "status").annotate(n=Count("id")):
        counts.setdefault(study_id, {})[status] = number
    studies = owned.annotate(item_count=Count("items", distinct=True), member_count=Count("memberships", distinct=True))
    return [
        {"study": study, "slots": {status: counts.get(study.pk, {}).get(status, 0) for status in SlotStatus.values}}
        for study in studies.order_by("-created_at")
    ]


def study_progress(*, study: Study, now: datetime | None = None) -> dict[str, Any]:
    """Live progress counts: cheap aggregates, so the dashboard never waits for a snapshot."""
    now = now or timezone.now()
    # Slot number 1 stands for its item: every slot of an item carries the item's review count.
    items = Slot.objects.filter(study=study, number=1).aggregate(
        complete=Count("id", filter=Q(item_done__gte=study.reviewers_per_item)),
        partial=Count("id", filter=Q(item_done__gt=0, item_done__lt=study.reviewers_per_item)),
        untouched=Count("id", filter=Q(item_done=0)),
    )
    if not any(items.values()):
        items["untouched"] = StudyItem.objects.filter(study=study).count()
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    # The crowd's reviews are the study's work; expert reviews and gold answers are counted apart.
    crowd = Q(rater_role=RaterRole.CROWD)
    reviews = Review.objects.filter(study=study).aggregate(
        total=Count("id", filter=crowd),
        today=Count("id", filter=crowd & Q(created_at__gte=midnight)),
        expert=Count("id", filter=Q(rater_role=RaterRole.EXPERT)),
        gold=Count("id", filter=Q(rater_role__in=GOLD_ROLES)),
    )
    skips = Skip.objects.filter(study=study).count()
    decisions = reviews["total"] + skips
    return {
        "items": sum(items.values()),
        **items,
        "reviews": reviews["total"],
        "reviews_today": reviews["today"],
        "expert_reviews": reviews["expert"],
        "gold_answers": reviews["gold"],
        "active_leases": Slot.objects.filter(study=study, status=SlotStatus.LEASED, leased_until__gt=now).count(),
        "skips": skips,
        # Of the times a reviewer saw a preview and decided, how often they skipped.
        "skip_rate": skips / decisions if decisions else None,
    }


def lead_item(*, study: Study, item_id: int) -> dict[str, Any] | None:
    """One item with every rating, the author's included: for leads only. Its crowd and expert
    reviews (review.rater_role tells them apart); gold answers are on the study's gold page."""
    item = StudyItem.objects.select_related("transcript").filter(study=study, pk=item_id).first()
    if item is None:
        return None
    reviews = list(
        Review.objects.labels()
        .filter(item=item)
        .select_related("reviewer", "first_tag", "second_tag", "expertise_tag")
        .order_by("created_at")
    )
    skips = list(Skip.objects.filter(item=item).select_related("reviewer").order_by("created_at"))
    return {"item": item, "transcript": item.transcript, "reviews": reviews, "skips": skips}


# --- after a submit: what is left, and changing the review just saved ------------------------

# How long after it was stored a review can still be changed by its reviewer (their "Undo"):
# long enough to notice a slip on the next preview, short enough for agreement to settle soon.
REVIEW_EDIT_WINDOW = timedelta(minutes=5)


# The "Saved" notice counts what is left only this far ("more than 100 left"), so the count costs
# about the same in a study of any size: it runs on every submit.
ITEMS_LEFT_COUNTED = 100


def review_items_left(
    *, study: Study, reviewer: Any, now: datetime | None = None, limit: int = ITEMS_LEFT_COUNTED
) -> int:
    """How many of the study's items the reviewer can still be offered, counted up to limit + 1:
    the one they hold now, and those with an open slot that they did not review, skip or write.
    Topic opt-outs aside; lapsed leases count once the minute's sweep reopens them."""
    now = now or timezone.now()
    slots, skips = Slot._meta.db_table, Skip._meta.db_table
    not_written = f"""(s.author_member_id IS NULL OR s.author_member_id NOT IN (
        SELECT own.red_team_member_id FROM {ReviewerProfile._meta.db_table} own
        WHERE own.user_id = %(reviewer)s AND own.red_team_member_id IS NOT NULL))"""  # noqa: S608
    # One statement, written out: it runs on every submit. The open slots on offer are read only
    # until enough are found: an item has at most reviewers_per_item of them, so that many times
    # (limit + 1) slots span at least limit + 1 items, and the scan stops there in a study of any
    # size. Items the reviewer holds a slot of (reviewed, or held now) or skipped are not offered.
    sql = f"""
        SELECT COUNT(DISTINCT offered.item_id) FROM (
            SELECT open_slots.item_id FROM (
                SELECT s.item_id FROM {slots} s
                WHERE s.study_id = %(study)s AND s.status = %(open)s AND {not_written}
                  AND s.item_id NOT IN (
                      SELECT mine.item_id FROM {slots} mine
                      WHERE mine.study_id = %(study)s AND mine.holder_id = %(reviewer)s)
                  AND s.item_id NOT IN (
                      SELECT skipped.item_id FROM {skips} skipped
                      WHERE skipped.study_id = %(study)s AND skipped.reviewer_id = %(reviewer)s)
                LIMIT %(slots_read)s
            ) open_slots
            UNION ALL
            SELECT s.item_id FROM {slots} s
            WHERE s.holder_id = %(reviewer)s AND s.study_id = %(study)s AND s.status = %(leased)s
              AND s.leased_until > %(now)s AND {not_written}
        ) offered
    """  # noqa: S608 - table names come from code; values are parameters
    params = {
        "study": study.pk,
        "reviewer": reviewer.pk,
        "open": SlotStatus.OPEN,
        "leased": SlotStatus.LEASED,
        "now": connection.ops.adapt_datetimefield_value(now),
        "slots_read": (limit + 1) * study.reviewers_per_item,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (count,) = cursor.fetchone()
    return min(int(count), limit + 1)


def reviewer_started_in(*, study_id: int, reviewer: Any) -> bool:
    """Whether the reviewer has reviewed or skipped anything in the study yet."""
    return (
        Review.objects.filter(study_id=study_id, reviewer=reviewer).exists()
        or Skip.objects.filter(study_id=study_id, reviewer=reviewer).exists()
    )


def review_of_reviewer(*, review_id: int, reviewer: Any) -> Review | None:
    """The reviewer's own review, with what its page shows; None for anyone else's."""
    return (
        Review.objects.select_related("study", "slot", "item__transcript", "first_tag", "second_tag")
        .filter(pk=review_id, reviewer=reviewer)
        .first()
    )


def review_last(*, reviewer: Any) -> Review | None:
    """The review the reviewer saved last, anywhere: the one their "Undo" reopens."""
    return Review.objects.filter(reviewer=reviewer).order_by("-created_at", "-pk").first()


def review_edit_refusal(*, review: Review, reviewer: Any, now: datetime | None = None) -> str | None:
    """Why the reviewer cannot change this review now, in words for them, or None.

    The pages ask before showing the form; review_edit asks again under its locks, where the
    study's status is read after the lock that a pause or archive also takes.
    """
    now = now or timezone.now()
    if review.reviewer_id != reviewer.pk:
        return "this is not your review"
    if review.rater_role == RaterRole.CALIBRATION:
        # Its reference answer was shown the moment it was saved: a change now would only copy it.
        return "a calibration answer is kept as you gave it: the reference answer was shown after it"
    if now > review.created_at + REVIEW_EDIT_WINDOW:
        minutes = int(REVIEW_EDIT_WINDOW.total_seconds() // 60)
        return f"a review can be changed for {minutes} minutes after it is saved, and that time has passed"
    status = Study.objects.filter(pk=review.study_id).values_list("status", flat=True).first()
    if status != StudyStatus.ACTIVE:
        return "the study is not active now (a lead paused or closed it), so nothing in it can be changed"
    last = review_last(reviewer=reviewer)
    if last is None or last.pk != review.pk:
        return "only your last review can be changed, and you have saved another one since"
    return None


# --- the team page -------------------------------------------------------------------------


def _team() -> QuerySet[User]:
    """The people a lead manages: accounts holding a role, operators (staff) aside, whose
    accounts are the operators' own business in the admin."""
    return (
        User.objects.filter(groups__name__in=[LEAD, REVIEWER], is_staff=False, is_superuser=False)
        .distinct()
        .prefetch_related("groups")
    )


def team_people() -> list[dict[str, Any]]:
    """Everyone on the team with their roles, red-team id and declared expertise, by username."""
    people = list(_team().order_by("username"))
    profiles = {
        profile.user_id: profile
        for profile in ReviewerProfile.objects.filter(user__in=people).prefetch_related("expertise")
    }
    rows = []
    for person in people:
        profile = profiles.get(person.pk)
        rows.append(
            {
                "user": person,
                "roles": sorted(group.name for group in person.groups.all()),
                "red_team_member_id": profile.red_team_member_id if profile is not None else None,
                "expertise": sorted(tag.name for tag in profile.expertise.all()) if profile is not None else [],
            }
        )
    return rows


def team_person(*, user_id: int) -> User | None:
    """One person on the team (see _team), or None: views answer 404."""
    return _team().filter(pk=user_id).first()


def reviewer_profile_of(*, user: User) -> dict[str, Any]:
    """The person's red-team id and the ids of their declared expertise tags (empty if none)."""
    profile = ReviewerProfile.objects.filter(user=user).prefetch_related("expertise").first()
    if profile is None:
        return {"red_team_member_id": None, "expertise": []}
    return {"red_team_member_id": profile.red_team_member_id, "expertise": [tag.pk for tag in profile.expertise.all()]}


def calibration_feedback(*, review_id: int, reviewer: Any) -> dict[str, Any] | None:
    """The reviewer's own calibration answer beside the gold item's reference and explanation,
    and which of the study's calibration items it was; None for anyone else's review, or one
    that is not a calibration answer of a still-gold item."""
    review = (
        Review.objects.select_related("study", "item__gold__first_tag", "item__gold__second_tag", "first_tag")
        .select_related("second_tag")
        .filter(pk=review_id, reviewer=reviewer, rater_role=RaterRole.CALIBRATION)
        .first()
    )
    gold = getattr(review.item, "gold", None) if review is not None else None
    if review is None or gold is None:
        return None
    number = Review.objects.filter(
        study_id=review.study_id, reviewer=reviewer, rater_role=RaterRole.CALIBRATION, pk__lte=review.pk
    ).count()
    yours = [tag.name for tag in (review.first_tag, review.second_tag) if tag is not None]
    reference = [tag.name for tag in (gold.first_tag, gold.second_tag) if tag is not None]
    return {
        "review": review,
        "gold": gold,
        "study": review.study,
        "number": number,
        "of": max(review.study.calibration_items, number),
        "your_tags": yours,
        "reference_tags": reference,
        "rating_matches": review.rating == gold.rating,
        "success_matches": (review.rating >= SUCCESS_RATING) == (gold.rating >= SUCCESS_RATING),
    }


def gold_items_of(*, study: Study) -> list[dict[str, Any]]:
    """The study's gold items in study order, each with its reference and how its answers went:
    answers given (calibration and checks), and how many had the reference rating."""
    golds = list(
        GoldItem.objects.filter(study=study)
        .select_related("item__transcript", "first_tag", "second_tag", "marked_by")
        .order_by("item__position")
    )
    answers: dict[int, list[int]] = {}
    for item_id, rating in Review.objects.filter(study=study, rater_role__in=GOLD_ROLES).values_list(
        "item_id", "rating"
    ):
        answers.setdefault(item_id, []).append(rating)
    return [
        {
            "gold": gold,
            "item": gold.item,
            "tags": [tag.name for tag in (gold.first_tag, gold.second_tag) if tag is not None],
            "answers": len(answers.get(gold.item_id, [])),
            "exact": sum(rating == gold.rating for rating in answers.get(gold.item_id, [])),
        }
        for gold in golds
    ]


def gold_item_of(*, item_id: int) -> GoldItem | None:
    return GoldItem.objects.filter(item_id=item_id).select_related("first_tag", "second_tag").first()
