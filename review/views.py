from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.inputs import parse_id
from core.roles import LEAD, role_required, signed_in_user
from review.errors import (
    StudyStateError,
)
from review.forms import StudyCreateForm, StudyInstructionsForm
from review.lookups import lead_study_or_404
from review.models import StudyStatus
from review.sampling import StudyInvalid
from review.selectors import (
    lead_studies,
    reviewer_accounts,
    reviewer_accounts_with_ids,
    stratum_counts,
    study_for_lead,
    study_item_count,
    study_member_ids,
    study_start_progress,
)
from review.services.studies import (
    study_archive,
    study_create,
    study_instructions_set,
    study_members_set,
    study_notes_sharing_set,
    study_pause,
    study_resume,
    study_start_request,
    study_unarchive,
)

if TYPE_CHECKING:
    pass


# --- lead pages -----------------------------------------------------------------------------


@role_required(LEAD)
@require_GET
def lead_study_list(request: HttpRequest) -> HttpResponse:
    # ?archived=<id>, where archiving sends the lead: that study's undo, while it is archived.
    archived_id = parse_id(request.GET.get("archived", ""))
    user = signed_in_user(request.user)
    just_archived = study_for_lead(user=user, study_id=archived_id) if archived_id else None
    if just_archived is not None and just_archived.status != StudyStatus.ARCHIVED:
        just_archived = None
    return render(
        request, "review/lead_studies.html", {"rows": lead_studies(user=user), "just_archived": just_archived}
    )


@role_required(LEAD)
@require_POST
def lead_study_status(request: HttpRequest, study_id: int) -> HttpResponse:
    """Start, pause, resume or unarchive (the undo of an archive); archiving asks first (lead_study_archive)."""
    study = lead_study_or_404(request, study_id)
    actor = signed_in_user(request.user)
    action = request.POST.get("action", "")
    moves = {"pause": study_pause, "resume": study_resume, "unarchive": study_unarchive}
    if action != "start" and action not in moves:
        return HttpResponse(
            "Unknown action: use start, pause, resume or unarchive (archive has its own page).",
            status=400,
            content_type="text/plain",
        )
    try:
        if action == "start":
            started = study_start_request(study=study, actor=actor)
            study = started.study
        else:
            study = moves[action](study=study, actor=actor)
    except StudyStateError as exc:
        messages.error(request, f"Not changed: {exc}.")
        return redirect("review:lead_studies")
    if action == "start":
        if started.queued:
            messages.success(request, f"{study.name} is starting: its slots are being created.")
        else:
            messages.info(request, f"{study.name} was starting already; asked the workers to carry on.")
        return redirect("workspace:lead_dashboard", study_id=study.pk)
    messages.success(request, f"{study.name} is now {study.get_status_display().lower()}.")
    return redirect("review:lead_studies")


@never_cache
@role_required(LEAD)
@require_http_methods(["GET", "POST"])
def lead_study_archive(request: HttpRequest, study_id: int) -> HttpResponse:
    """Ask before archiving, naming the study; archiving then offers its undo on the study list."""
    study = lead_study_or_404(request, study_id)
    if request.method == "POST":
        try:
            study = study_archive(study=study, actor=signed_in_user(request.user))
        except StudyStateError as exc:
            messages.error(request, f"Not changed: {exc}.")
            return redirect("review:lead_studies")
        return redirect(f"{reverse('review:lead_studies')}?archived={study.pk}")
    return render(request, "review/lead_archive_confirm.html", {"study": study})


@never_cache
@role_required(LEAD)
@require_GET
def lead_study_start_progress(request: HttpRequest, study_id: int) -> JsonResponse:
    """How far the study's start has got, as JSON for the progress bar's script."""
    progress = study_start_progress(study_id=study_id, user=signed_in_user(request.user))
    if progress is None:
        raise Http404("No such study.")
    return JsonResponse(progress)


@role_required(LEAD)
@require_http_methods(["GET", "POST"])
def lead_study_members(request: HttpRequest, study_id: int) -> HttpResponse:
    study = lead_study_or_404(request, study_id)
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
    study = lead_study_or_404(request, study_id)
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
    study = lead_study_or_404(request, study_id)
    form = StudyInstructionsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The instructions were not saved: they may be at most 20,000 characters.")
        return redirect("workspace:lead_dashboard", study_id=study.pk)
    study_instructions_set(
        study=study, instructions=form.cleaned_data["instructions"], actor=signed_in_user(request.user)
    )
    messages.success(request, f"Instructions saved for {study.name}.")
    return redirect("workspace:lead_dashboard", study_id=study.pk)
