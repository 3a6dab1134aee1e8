"""Changing the review just saved: the "Undo" in the "Saved" notice, and the page that edits it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.roles import REVIEWER, role_required, signed_in_user
from review.errors import InvalidAnswers, ReviewNotEditable, ReviewNotYours
from review.selectors import REVIEW_EDIT_WINDOW, review_edit_refusal, review_last, review_of_reviewer
from tagging.selectors import tag_names
from workspace.forms import QUESTION, ReviewForm, domain_marks, rating_marks, tag_marks
from workspace.services import work_edit

if TYPE_CHECKING:
    from review.models import Review


@role_required(REVIEWER)
@require_POST
def undo(request: HttpRequest) -> HttpResponse:
    """Reopen the reviewer's last review for editing, if it can still be changed."""
    last = review_last(reviewer=request.user)
    if last is None:
        return _closed(request, None, "you have no review to change", status=404)
    refusal = review_edit_refusal(review=last, reviewer=request.user)
    if refusal is not None:
        return _closed(request, last, refusal)
    return redirect("workspace:review_edit", review_id=last.pk)


@never_cache
@role_required(REVIEWER)
@require_http_methods(["GET", "POST"])
def review_edit(request: HttpRequest, review_id: int) -> HttpResponse:
    """The review page in editing mode: the saved answers, changed in place by a POST."""
    review = review_of_reviewer(review_id=review_id, reviewer=request.user)
    if review is None:
        raise Http404("This is not one of your reviews.")
    if request.method == "GET":
        refusal = review_edit_refusal(review=review, reviewer=request.user)
        if refusal is not None:
            return _closed(request, review, refusal)
        return _edit_page(request, review, ReviewForm(initial=_initial(review)))
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _edit_page(request, review, form, status=400)
    try:
        work_edit(review_id=review.pk, reviewer=signed_in_user(request.user), answers=form.answers())
    except ReviewNotYours:
        raise Http404("This is not one of your reviews.") from None
    except ReviewNotEditable as exc:
        return _closed(request, review, exc.reason)
    except InvalidAnswers as exc:
        for field, message in exc.errors.items():
            form.add_error(field if field in form.fields else None, message)
        return _edit_page(request, review, form, status=400)
    messages.success(request, "Your changes are saved.")
    # The read-only "next": back to the conversation the reviewer holds, or the button that claims.
    return redirect("workspace:next", study_id=review.study_id)


def _initial(review: Review) -> dict[str, object]:
    return {
        "rating": review.rating,
        "tags": [tag for tag in (review.first_tag_id, review.second_tag_id) if tag is not None],
        "needs_expertise": review.needs_expertise,
        "expertise_tag": review.expertise_tag_id,
        "expertise_domain": review.expertise_domain,
        "note": review.note,
    }


def _edit_page(request: HttpRequest, review: Review, form: ReviewForm, status: int = 200) -> HttpResponse:
    transcript = review.item.transcript
    context = {
        "editing": True,
        "review": review,
        "slot": review.slot,
        "study": review.study,
        "transcript": transcript,
        "turns": transcript.turns,
        "form": form,
        "question": QUESTION,
        "rating_marks": rating_marks(form),
        "tag_marks": tag_marks(form, tag_names()),
        "domain_marks": domain_marks(form, tag_names()),
        "edit_minutes": int(REVIEW_EDIT_WINDOW.total_seconds() // 60),
    }
    return render(request, "workspace/review.html", context, status=status)


def _closed(request: HttpRequest, review: Review | None, reason: str, status: int = 409) -> HttpResponse:
    context = {"review": review, "reason": reason, "study": review.study if review is not None else None}
    return render(request, "workspace/edit_closed.html", context, status=status)
