"""The reviewer's pages: the queue, the content warning, the review, the skip."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from adjudication.selectors import adjudicated_studies
from core.roles import REVIEWER, role_required, signed_in_user
from review.errors import (
    InvalidAnswers,
    LeaseLost,
    NotAMember,
    ReviewNotSaved,
    SlotNotYours,
    StudyNotActive,
)
from review.models import RaterRole, StudyStatus
from review.selectors import (
    calibration_feedback as calibration_feedback_of,
)
from review.selectors import (
    preview_text,
    reviewer_started_in,
    reviewer_studies,
    reviews_today,
    slot_for_reviewer,
    slot_held_in,
    study_of_member,
    study_of_slot,
)
from review.services.assignment import slot_skip
from tagging.selectors import tag_names
from wellbeing.errors import BreakDue, ExposureCapReached, PausedForToday
from wellbeing.selectors.exposure import exposure_today
from workspace.forms import (
    QUESTION,
    ReviewForm,
    SkipForm,
    domain_marks,
    lease_token,
    lease_token_start,
    rating_marks,
    tag_marks,
)
from workspace.selectors import saved_notice_text
from workspace.services import work_page_claim, work_page_submit

if TYPE_CHECKING:
    from review.models import Review, Slot

# The same words whatever the reason (answered, skipped, handed back, or someone else's), so the
# page tells a reviewer what happened without telling anyone whose a conversation is.
NOT_OPEN_FOR_YOU = (
    "This conversation is no longer open for you: it was answered or skipped, its lease ran out "
    "and it went back to the pool, or it was never yours."
)


# --- reviewer pages -------------------------------------------------------------------------


@role_required(REVIEWER)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request.user)
    context = {
        "studies": reviewer_studies(reviewer=user),
        "done_today": reviews_today(reviewer=user),
        "exposure": exposure_today(reviewer=user),
        "adjudicating": adjudicated_studies(user=user),
    }
    return render(request, "workspace/queue.html", context)


@never_cache
@role_required(REVIEWER)
@require_http_methods(["GET", "POST"])
def next_item(request: HttpRequest, study_id: int) -> HttpResponse:
    """POST claims (or gets back) the reviewer's next item; GET only reads.

    A claim leases work, so only a POST makes one: a link preview, a prefetch or an <img> on
    another site must not. GET (where a check-in or a break sends the reviewer back) goes
    to the conversation the reviewer holds in the study, or offers the button that claims.
    """
    if request.method == "POST":
        return _claim_next(request, study_id=study_id)
    user = signed_in_user(request.user)
    study = study_of_member(study_id=study_id, reviewer=user)
    if study is None:
        raise Http404("No such study of yours.")
    if study.status != StudyStatus.ACTIVE:
        return render(request, "workspace/study_closed.html", {"study": study})
    held = slot_held_in(study_id=study.pk, reviewer=user)
    if held is not None:
        return redirect("workspace:preview", slot_id=held.pk)
    return render(request, "workspace/next.html", {"study": study})


def _claim_next(request: HttpRequest, *, study_id: int) -> HttpResponse:
    """Claim the reviewer's next item and go to its content warning: the end of every POST that
    moves a reviewer on (start, skip, submit), so going on never needs a GET that writes.

    The reviewer's safeguards come first: a pause or today's cap ends the session here, and
    after a long stretch a break is offered instead of the next item.
    """
    user = signed_in_user(request.user)
    try:
        slot = work_page_claim(study_id=study_id, reviewer=user)
    except NotAMember:
        raise Http404("You are not a reviewer in this study.") from None
    except StudyNotActive as exc:
        return render(request, "workspace/study_closed.html", {"study": exc.study}, status=409)
    except PausedForToday:
        return render(request, "wellbeing/paused.html", {"exposure": exposure_today(reviewer=user)}, status=409)
    except ExposureCapReached as exc:
        context = {"cap_minutes": exc.cap_minutes, "minutes": exc.seconds // 60}
        return render(request, "wellbeing/cap_reached.html", context, status=409)
    except BreakDue:
        return redirect(f"{reverse('wellbeing_exposure:break')}?study={study_id}")
    if slot is None:
        return redirect("workspace:done", study_id=study_id)
    return redirect("workspace:preview", slot_id=slot.pk)


@never_cache
@role_required(REVIEWER)
@require_GET
def preview(request: HttpRequest, slot_id: int) -> HttpResponse:
    slot = slot_for_reviewer(slot_id=slot_id, reviewer=signed_in_user(request.user))
    if slot is None:
        raise Http404(NOT_OPEN_FOR_YOU)
    transcript = slot.item.transcript
    context = {
        "slot": slot,
        "study": slot.study,
        "transcript": transcript,
        "preview": preview_text(transcript=transcript),
        # The instructions open by themselves before a reviewer's first item (a query only when there are some).
        "first_in_study": bool(slot.study.instructions)
        and not reviewer_started_in(study_id=slot.study_id, reviewer=request.user),
        "skip_form": SkipForm(),
    }
    return render(request, "workspace/preview.html", context)


@role_required(REVIEWER)
@require_POST
def skip(request: HttpRequest, slot_id: int) -> HttpResponse:
    """Skip the conversation and claim the next one in the same request."""
    form = SkipForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        skipped = slot_skip(slot_id=slot_id, reviewer=signed_in_user(request.user), reason=reason)
    except (SlotNotYours, NotAMember):
        raise Http404(NOT_OPEN_FOR_YOU) from None
    except StudyNotActive as exc:
        return render(request, "workspace/study_closed.html", {"study": exc.study}, status=409)
    return _claim_next(request, study_id=skipped.study_id)


@never_cache
@role_required(REVIEWER)
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, slot_id: int) -> HttpResponse:
    """The transcript and the question; a POST stores the answers and claims the next item."""
    user = signed_in_user(request.user)
    if request.method == "GET":
        slot = slot_for_reviewer(slot_id=slot_id, reviewer=user)
        # A leased slot always has its lease's start (the slot_status_consistent constraint).
        if slot is None or slot.leased_at is None:
            raise Http404(NOT_OPEN_FOR_YOU)
        token = lease_token(slot_id=slot.pk, reviewer_id=user.pk, leased_at=slot.leased_at.isoformat())
        return _review_page(request, slot, ReviewForm(initial={"lease": token}))

    form = ReviewForm(request.POST)
    if not form.is_valid():
        slot = slot_for_reviewer(slot_id=slot_id, reviewer=user)
        if slot is None:
            raise Http404(NOT_OPEN_FOR_YOU)
        return _review_page(request, slot, form, status=400)
    vouched = lease_token_start(form.cleaned_data["lease"], slot_id=slot_id, reviewer_id=user.pk)
    try:
        submitted = work_page_submit(
            slot_id=slot_id,
            reviewer=user,
            answers=form.answers(),
            leased_at=datetime.fromisoformat(vouched) if vouched else None,
        )
    except ReviewNotSaved as exc:
        if isinstance(exc, LeaseLost) and vouched is None:
            # Nothing shows this slot was ever theirs: the same answer as someone else's slot.
            raise Http404(NOT_OPEN_FOR_YOU) from None
        study = study_of_slot(slot_id=slot_id)
        if study is None:
            raise Http404(NOT_OPEN_FOR_YOU) from None
        context = {
            "study": study,
            "reason": exc.reason,
            "answers": form.answers(),
            "tags": [name for tag_id, name in tag_names().items() if tag_id in form.cleaned_data["tags"]],
            "domain": tag_names().get(form.cleaned_data.get("expertise_tag") or 0, ""),
        }
        return render(request, "workspace/lease_lost.html", context, status=409)
    except (SlotNotYours, NotAMember):
        raise Http404(NOT_OPEN_FOR_YOU) from None
    except InvalidAnswers as exc:
        for field, message in exc.errors.items():
            form.add_error(field if field in form.fields else None, message)
        slot = slot_for_reviewer(slot_id=slot_id, reviewer=user)
        if slot is None:
            raise Http404(NOT_OPEN_FOR_YOU) from None
        return _review_page(request, slot, form, status=400)
    return _after_submit(request, submitted.review, checkin_due=submitted.checkin_due)


def _after_submit(request: HttpRequest, review: Review, *, checkin_due: bool) -> HttpResponse:
    """The "Saved" notice, then the check-in when it is due, else the next item."""
    if review.rater_role == RaterRole.CALIBRATION:
        # No Undo: the page it lands on shows the reference answer (review_edit_refusal).
        messages.success(request, "Saved.")
        # The reference answer and its explanation first; the feedback page leads on to the
        # check-in when one is due, else to the read-only "next" (nothing claimed meanwhile).
        feedback = reverse("workspace:calibration_feedback", args=[review.pk])
        return redirect(f"{feedback}?checkin=1" if checkin_due else feedback)
    notice = saved_notice_text(reviewer=signed_in_user(request.user), study=review.study)
    messages.success(request, notice, extra_tags="saved")
    if checkin_due:
        return redirect(_checkin_url(review.study_id))
    return _claim_next(request, study_id=review.study_id)


def _checkin_url(study_id: int) -> str:
    # Nothing is claimed while the check-in is open: its way on is the read-only GET of
    # "next", which offers the button that claims.
    next_url = reverse("workspace:next", args=[study_id])
    query = urlencode({"study": study_id, "trigger": "after_reviews", "next": next_url})
    return f"{reverse('wellbeing_surveys:checkin')}?{query}"


@never_cache
@role_required(REVIEWER)
@require_GET
def calibration_feedback(request: HttpRequest, review_id: int) -> HttpResponse:
    """After a calibration answer: the reviewer's answer beside the lead's reference and why."""
    found = calibration_feedback_of(review_id=review_id, reviewer=signed_in_user(request.user))
    if found is None:
        raise Http404("No calibration answer of yours here.")
    study_id = found["study"].pk
    go_on = _checkin_url(study_id) if request.GET.get("checkin") == "1" else reverse("workspace:next", args=[study_id])
    return render(request, "workspace/calibration_feedback.html", {**found, "go_on": go_on})


def _review_page(request: HttpRequest, slot: Slot, form: ReviewForm, status: int = 200) -> HttpResponse:
    context = {
        "slot": slot,
        "study": slot.study,
        "transcript": slot.item.transcript,
        "turns": slot.item.transcript.turns,
        "form": form,
        "question": QUESTION,
        "rating_marks": rating_marks(form),
        "tag_marks": tag_marks(form, tag_names()),
        "domain_marks": domain_marks(form, tag_names()),
        "skip_form": SkipForm(),
    }
    return render(request, "workspace/review.html", context, status=status)


@role_required(REVIEWER)
@require_GET
def done(request: HttpRequest, study_id: int) -> HttpResponse:
    user = signed_in_user(request.user)
    study = study_of_member(study_id=study_id, reviewer=user)
    if study is None:
        raise Http404("No such study of yours.")
    return render(request, "workspace/done.html", {"study": study, "done_today": reviews_today(reviewer=user)})
