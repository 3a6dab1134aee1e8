from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.inputs import parse_id
from core.roles import LEAD, REVIEWER, role_required
from review.errors import (
    StudyStateError,
)
from review.forms import StudyCreateForm
from review.models import Study
from review.sampling import StudyInvalid
from review.selectors import (
    lead_studies,
    stratum_counts,
)
from review.services.studies import (
    study_archive,
    study_create,
    study_members_set,
    study_notes_sharing_set,
    study_pause,
    study_resume,
    study_start,
)

# --- lead pages -----------------------------------------------------------------------------


@role_required(LEAD)
@require_GET
def lead_study_list(request: HttpRequest) -> HttpResponse:
    return render(request, "review/lead_studies.html", {"rows": lead_studies()})


@role_required(LEAD)
@require_POST
def lead_study_status(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    actions = {"start": study_start, "pause": study_pause, "resume": study_resume, "archive": study_archive}
    action = actions.get(request.POST.get("action", ""))
    if action is None:
        return HttpResponse(
            "Unknown action: use start, pause, resume or archive.", status=400, content_type="text/plain"
        )
    try:
        study = action(study=study, actor=request.user)
    except StudyStateError as exc:
        messages.error(request, f"Not changed: {exc}.")
    else:
        messages.success(request, f"{study.name} is now {study.get_status_display().lower()}.")
    return redirect("review:lead_studies")


@role_required(LEAD)
@require_http_methods(["GET", "POST"])
def lead_study_members(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    reviewers = get_user_model().objects.filter(groups__name=REVIEWER).order_by("username")
    if request.method == "POST":
        chosen = reviewers.filter(pk__in=[pk for value in request.POST.getlist("reviewers") if (pk := parse_id(value))])
        study_members_set(study=study, reviewers=list(chosen), actor=request.user)
        messages.success(request, f"{study.name} now has {chosen.count()} reviewers.")
        return redirect("review:lead_members", study_id=study.pk)
    members = set(study.memberships.values_list("reviewer_id", flat=True))
    return render(request, "review/lead_members.html", {"study": study, "reviewers": reviewers, "members": members})


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
                created_by=request.user,
            )
        except StudyInvalid as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{study.name} drew {study.items.count()} transcripts. Now choose its reviewers.")
            return redirect("review:lead_members", study_id=study.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "review/lead_study_create.html", {"form": form}, status=status)


@role_required(LEAD)
@require_POST
def lead_notes_sharing(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    enabled = request.POST.get("share") == "on"
    study_notes_sharing_set(study=study, enabled=enabled, actor=request.user)
    messages.success(
        request, f"Reviewers' notes {'now go out' if enabled else 'no longer go out'} through the API for {study.name}."
    )
    return redirect("workspace:lead_dashboard", study_id=study.pk)
