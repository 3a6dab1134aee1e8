"""A study's reviewer safeguards, set by a lead."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.roles import LEAD, role_required, signed_in_user
from review.selectors import study_for_lead
from wellbeing.errors import WellbeingInvalid
from wellbeing.forms import StudyWellbeingForm
from wellbeing.services.exposure import study_wellbeing_set


@role_required(LEAD)
@require_POST
def lead_study_wellbeing(request: HttpRequest, study_id: int) -> HttpResponse:
    """The study's reviewer safeguards: its daily exposure cap and how often the check-in comes."""
    study = study_for_lead(user=signed_in_user(request.user), study_id=study_id)
    if study is None:
        raise Http404("No such study.")
    form = StudyWellbeingForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Not changed: " + "; ".join(str(error) for errors in form.errors.values() for error in errors)
        )
        return redirect("workspace:lead_dashboard", study_id=study.pk)
    try:
        study_wellbeing_set(study=study, **form.cleaned_data, actor=signed_in_user(request.user))
    except WellbeingInvalid as exc:
        messages.error(request, "Not changed: " + "; ".join(exc.errors.values()))
    else:
        messages.success(
            request,
            f"{study.name}: at most {study.daily_cap_minutes} minutes a day per reviewer, "
            f"a check-in after every {study.checkin_every_reviews} reviews.",
        )
    return redirect("workspace:lead_dashboard", study_id=study.pk)
