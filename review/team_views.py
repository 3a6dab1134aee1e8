"""The lead's team page: invite people, make accounts with a one-time password, set each
reviewer's red-team id and expertise, deactivate and reactivate; and a study's co-leads.

Account changes go through accounts.services, reviewer profiles and study leads through the
review services; every one is in the audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import invitations_open, password_change_required_ids
from accounts.services import (
    AccountInvalid,
    invitation_create,
    invitation_revoke,
    user_active_set,
    user_create_with_one_time_password,
)
from core.roles import LEAD, role_required, signed_in_user
from review.errors import LeadChangeRefused, RedTeamIdTaken
from review.forms import CoLeadForm, ReviewerProfileForm, TeamAccountForm, TeamInviteForm
from review.lookups import lead_study_or_404
from review.selectors import (
    lead_account,
    lead_accounts,
    reviewer_profile_of,
    study_leads,
    team_people,
    team_person,
)
from review.services.leads import study_lead_add, study_lead_remove
from review.services.studies import reviewer_profile_set
from tagging.selectors import tag_names

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _team_page(
    request: HttpRequest,
    *,
    invite_form: TeamInviteForm | None = None,
    account_form: TeamAccountForm | None = None,
    created: dict[str, object] | None = None,
    status: int = 200,
) -> HttpResponse:
    people = team_people()
    context = {
        "people": people,
        "must_change": password_change_required_ids(user_ids=[row["user"].pk for row in people]),
        "invitations": invitations_open(),
        "invite_form": invite_form or TeamInviteForm(),
        "account_form": account_form or TeamAccountForm(),
        "created": created,
    }
    return render(request, "review/lead_team.html", context, status=status)


@never_cache
@role_required(LEAD)
@require_http_methods(["GET"])
def lead_team(request: HttpRequest) -> HttpResponse:
    return _team_page(request)


@never_cache
@role_required(LEAD)
@require_POST
def lead_team_invite(request: HttpRequest) -> HttpResponse:
    """A single-use invitation link, shown once in this response (only its hash is kept)."""
    form = TeamInviteForm(request.POST)
    if not form.is_valid():
        return _team_page(request, invite_form=form, status=400)
    invitation, raw = invitation_create(
        role=form.cleaned_data["role"],
        note=form.cleaned_data["note"],
        days=form.cleaned_data["days"],
        created_by=signed_in_user(request.user),
    )
    link = request.build_absolute_uri(reverse("accounts:invitation", args=[raw]))
    return _team_page(request, created={"kind": "invitation", "invitation": invitation, "link": link})


@never_cache
@role_required(LEAD)
@require_POST
def lead_team_account(request: HttpRequest) -> HttpResponse:
    """An account with a one-time password, shown once; the person must change it at first login."""
    form = TeamAccountForm(request.POST)
    if form.is_valid():
        try:
            user, password = user_create_with_one_time_password(
                username=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
                actor=signed_in_user(request.user),
            )
        except AccountInvalid as exc:
            for field, error in exc.errors.items():
                form.add_error(field if field in form.fields else None, error)
        else:
            return _team_page(request, created={"kind": "account", "user": user, "password": password})
    return _team_page(request, account_form=form, status=400)


@role_required(LEAD)
@require_POST
def lead_team_invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    if invitation_revoke(invitation_id=invitation_id, actor=signed_in_user(request.user)):
        messages.success(request, "Invitation withdrawn: its link no longer works.")
    else:
        messages.error(request, "No such open invitation.")
    return redirect("review:lead_team")


def _person(user_id: int) -> User:
    person = team_person(user_id=user_id)
    if person is None:
        raise Http404("No such person on the team.")
    return person


@never_cache
@role_required(LEAD)
@require_http_methods(["GET", "POST"])
def lead_team_person(request: HttpRequest, user_id: int) -> HttpResponse:
    """A person's red-team member id and declared areas of expertise (the 20 harm tags)."""
    person = _person(user_id)
    tags = list(tag_names().items())
    profile = reviewer_profile_of(user=person)
    initial = {
        "red_team_member_id": profile["red_team_member_id"],
        "expertise": [str(pk) for pk in profile["expertise"]],
    }
    form = ReviewerProfileForm(request.POST or None, initial=initial, tags=tags)
    if request.method == "POST" and form.is_valid():
        try:
            reviewer_profile_set(
                user=person,
                red_team_member_id=form.cleaned_data["red_team_member_id"],
                expertise_tag_ids=form.cleaned_data["expertise"],
                actor=signed_in_user(request.user),
            )
        except RedTeamIdTaken as exc:
            form.add_error("red_team_member_id", str(exc))
        else:
            messages.success(request, f"Saved {person.get_username()}'s red-team id and expertise.")
            return redirect("review:lead_team")
    status = 400 if request.method == "POST" else 200
    return render(request, "review/lead_team_person.html", {"person": person, "form": form}, status=status)


@role_required(LEAD)
@require_POST
def lead_team_person_active(request: HttpRequest, user_id: int) -> HttpResponse:
    """Deactivate (signing in, sessions and API tokens stop at once) or reactivate a person."""
    person = _person(user_id)
    active = request.POST.get("active") == "1"
    try:
        user_active_set(user=person, active=active, actor=signed_in_user(request.user))
    except AccountInvalid as exc:
        messages.error(request, str(exc))
    else:
        state = "reactivated: they can sign in again" if active else "deactivated: they can no longer sign in"
        messages.success(request, f"{person.get_username()} is {state}.")
    return redirect("review:lead_team")


@never_cache
@role_required(LEAD)
@require_http_methods(["GET", "POST"])
def lead_study_leads(request: HttpRequest, study_id: int) -> HttpResponse:
    """The study's leads: add a co-lead (who then sees and runs the study) or remove one."""
    study = lead_study_or_404(request, study_id)
    actor = signed_in_user(request.user)
    if request.method == "POST":
        form = CoLeadForm(request.POST)
        candidate = lead_account(user_id=form.cleaned_data["lead"]) if form.is_valid() else None
        if candidate is None:
            messages.error(request, "Choose a lead from the list.")
        else:
            try:
                if request.POST.get("action") == "remove":
                    changed = study_lead_remove(study=study, lead=candidate, actor=actor)
                    done = f"{candidate.get_username()} no longer leads {study.name}."
                else:
                    changed = study_lead_add(study=study, lead=candidate, actor=actor)
                    done = f"{candidate.get_username()} now leads {study.name} with you."
            except LeadChangeRefused as exc:
                messages.error(request, str(exc))
            else:
                (messages.success if changed else messages.info)(request, done if changed else "Nothing to change.")
        return redirect("review:lead_leads", study_id=study.pk)
    leads = study_leads(study=study)
    others = [lead for lead in lead_accounts() if lead not in leads]
    return render(request, "review/lead_study_leads.html", {"study": study, "leads": leads, "others": others})
