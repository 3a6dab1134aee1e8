from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.inputs import parse_id
from core.roles import LEAD, role_required, signed_in_user
from review.errors import (
    StudyStateError,
)
from review.forms import StudyCreateForm, StudyInstructionsForm
from review.sampling import StudyInvalid
from review.selectors import (
    lead_studies,
    reviewer_accounts,
    reviewer_accounts_with_ids,
    stratum_counts,
    study_get,
    study_item_count,
    study_member_ids,
)
from review.services.studies import (
    study_archive,
    study_create,
    study_instructions_set,
    study_members_set,
    study_notes_sharing_set,
    study_pause,
    study_resume,
    study_start,
)

if TYPE_CHECKING:
    from review.models import Study


def _study(study_id: int) -> Study:
    study = study_get(study_id=study_id)
    if study is None:
        raise Http404("No such study.")
    return study


# --- lead pages -----------------------------------------------------------------------------


@role_required(LEAD)
@require_GET
def lead_study_list(request: HttpRequest) -> HttpResponse:
    return render(request, "review/lead_studies.html", {"rows": lead_studies()})


@role_required(LEAD)
@require_POST
def lead_study_status(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _study(study_id)
    actions = {"start": study_start, "pause": study_pause, "resume": study_resume, "archive": study_archive}
    action = actions.get(request.POST.get("action", ""))
    if action is None:
        return HttpResponse(
            "Unknown action: use start, pause, resume or archive.", status=400, content_type="text/plain"
        )
    try:
        study = action(study=study, actor=signed_in_user(request.user))
    except StudyStateError as exc:
        messages.error(request, f"Not changed: {exc}.")
    else:
        messages.success(request, f"{study.name} is now {study.get_status_display().lower()}.")
    return redirect("review:lead_studies")


@role_required(LEAD)
@require_http_methods(["GET", "POST"])
def lead_study_members(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _study(study_id)
    if request.method == "POST":
        ids = [pk for value in request.POST.getlist("reviewers") if (pk := parse_id(value))]
        chosen = reviewer_accounts_with_ids(ids=ids)
        study_members_set(study=study, reviewers=chosen, actor=signed_in_user(request.user))
        messages.success(request, f"{study.name} now has {len(chosen)} reviewers.")
        return redirect("review:lead_members", study_id=study.pk)
    context = {"study": study, "reviewers": reviewer_accounts(), "members": study_member_ids(study=study)}
    return render(request, "review/lead_members.html", context)


@role_required(LEAD)
@require_http_methods(["GET", "POST"])
def lead_study_create(request: HttpRequest) -> HttpResponse:
    strata = stratum_counts()
    form = StudyCreateForm(request.POST or None, strata=strata)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            study = study_create(
                name=data["name"],
                description=data["description"],
                strata=form.chosen_strata(),
                seed=data["seed"],
                reviewers_per_item=data["reviewers_per_item"],
                lease_minutes=data["lease_minutes"],
                created_by=signed_in_user(request.user),
            )
        except StudyInvalid as exc:
            form.add_error(None, str(exc))
        else:
            drawn = study_item_count(study=study)
            messages.success(request, f"{study.name} drew {drawn} transcripts. Now choose its reviewers.")
            return redirect("review:lead_members", study_id=study.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "review/lead_study_create.html", {"form": form}, status=status)


@role_required(LEAD)
@require_POST
def lead_notes_sharing(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _study(study_id)
    enabled = request.POST.get("share") == "on"
    study_notes_sharing_set(study=study, enabled=enabled, actor=signed_in_user(request.user))
    messages.success(
        request, f"Reviewers' notes {'now go out' if enabled else 'no longer go out'} through the API for {study.name}."
    )
    return redirect("workspace:lead_dashboard", study_id=study.pk)


@role_required(LEAD)
@require_POST
def lead_study_instructions(request: HttpRequest, study_id: int) -> HttpResponse:
    """Set the study's instructions from the form on the lead's study dashboard."""
    study = _study(study_id)
    form = StudyInstructionsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The instructions were not saved: they may be at most 20,000 characters.")
        return redirect("workspace:lead_dashboard", study_id=study.pk)
    study_instructions_set(
        study=study, instructions=form.cleaned_data["instructions"], actor=signed_in_user(request.user)
    )
    messages.success(request, f"Instructions saved for {study.name}.")
    return redirect("workspace:lead_dashboard", study_id=study.pk)
