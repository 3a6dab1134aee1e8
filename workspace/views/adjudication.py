"""Adjudication: the lead's rule and adjudicators (from the study dashboard), and the
adjudicator's queue and item pages, where a final label is recorded beside the reviews."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from adjudication.errors import AlreadyAdjudicated, InvalidAdjudication, NotInQueue
from adjudication.forms import RATING_CHOICES, AdjudicationForm, AdjudicatorForm, RuleForm
from adjudication.selectors import (
    adjudication_item,
    adjudication_queue,
    adjudicator_candidate,
    adjudicator_named,
    named_study,
)
from adjudication.services import (
    adjudication_record,
    adjudication_rule_set,
    adjudicator_add,
    adjudicator_remove,
)
from core.roles import LEAD, has_role, role_required, signed_in_user
from review.lookups import lead_study_or_404
from tagging.selectors import tags_in_order

if TYPE_CHECKING:
    from review.models import Study


@role_required(LEAD)
@require_POST
def lead_adjudication_rule(request: HttpRequest, study_id: int) -> HttpResponse:
    study = lead_study_or_404(request, study_id)
    form = RuleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a rule, and N from 1 to 4.")
    else:
        kind, spread = form.cleaned_data["kind"], form.cleaned_data["min_spread"]
        adjudication_rule_set(study=study, kind=kind, min_spread=spread, actor=signed_in_user(request.user))
        messages.success(request, "Adjudication rule saved.")
    return redirect("workspace:lead_dashboard", study_id=study.pk)


@role_required(LEAD)
@require_POST
def lead_adjudicator_add(request: HttpRequest, study_id: int) -> HttpResponse:
    study = lead_study_or_404(request, study_id)
    form = AdjudicatorForm(request.POST)
    user = adjudicator_candidate(study=study, user_id=form.cleaned_data["user"]) if form.is_valid() else None
    if user is None:
        messages.error(request, "Choose a reviewer who is not an adjudicator of this study yet.")
    else:
        adjudicator_add(study=study, user=user, actor=signed_in_user(request.user))
        messages.success(request, f"{user.get_username()} can now adjudicate this study.")
    return redirect("workspace:lead_dashboard", study_id=study.pk)


@role_required(LEAD)
@require_POST
def lead_adjudicator_remove(request: HttpRequest, study_id: int, user_id: int) -> HttpResponse:
    study = lead_study_or_404(request, study_id)
    user = adjudicator_named(study=study, user_id=user_id)
    if user is None or not adjudicator_remove(study=study, user=user, actor=signed_in_user(request.user)):
        raise Http404("No such adjudicator of this study.")
    messages.success(request, f"{user.get_username()} no longer adjudicates this study.")
    return redirect("workspace:lead_dashboard", study_id=study.pk)


def _adjudicated_study(request: HttpRequest, study_id: int) -> Study:
    """The study if the signed-in user adjudicates it: a reviewer named for it, or a lead of it
    (found as every lead page finds its study); anyone else gets 404, as for no such study."""
    user = signed_in_user(request.user)
    study = named_study(user=user, study_id=study_id)
    if study is not None:
        return study
    if has_role(user, LEAD):
        return lead_study_or_404(request, study_id)
    raise Http404("No such study.")


@never_cache
@login_required
@require_http_methods(["GET"])
def queue(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _adjudicated_study(request, study_id)
    context = {"study": study, **adjudication_queue(study=study, user=signed_in_user(request.user))}
    return render(request, "workspace/adjudication_queue.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def item(request: HttpRequest, study_id: int, item_id: int) -> HttpResponse:
    study = _adjudicated_study(request, study_id)
    user = signed_in_user(request.user)
    form = AdjudicationForm(request.POST if request.method == "POST" else None)
    status, conflict = 200, ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            adjudication_record(
                study=study,
                item_id=item_id,
                adjudicator=user,
                rating=data["rating"],
                tag_ids=data["tags"],
                reason=data["reason"],
            )
        except InvalidAdjudication as error:
            for field, message in error.errors.items():
                form.add_error(field if field in form.fields else None, message)
            status = 400
        except (AlreadyAdjudicated, NotInQueue) as error:
            # Someone else was first, or the item left the queue: their label stands, shown below.
            status, conflict = 409, str(error)
        else:
            messages.success(request, "Final label recorded.")
            return redirect("workspace:adjudication_queue", study_id=study.pk)
    elif request.method == "POST":
        status = 400
    found = adjudication_item(study=study, item_id=item_id, user=user)
    if found is None:
        raise Http404("No such item in this study.")
    return render(
        request, "workspace/adjudication_item.html", _item_context(request, study, found, form, conflict), status=status
    )


def _item_context(
    request: HttpRequest, study: Study, found: dict[str, Any], form: AdjudicationForm, conflict: str
) -> dict[str, Any]:
    # The answers sent come back checked, so nothing typed is lost when a submit is refused.
    chosen = set(request.POST.getlist("tags"))
    rating = request.POST.get("rating")
    return {
        "study": study,
        "turns": found["transcript"].turns,
        "form": form,
        "conflict": conflict,
        "rating_choices": [(str(value), label, str(value) == rating) for value, label in RATING_CHOICES],
        "tag_choices": [(tag.pk, tag.name, str(tag.pk) in chosen) for tag in tags_in_order()],
        **found,
    }
