"""The one way a lead page finds the study in its URL."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from core.roles import signed_in_user
from review.models import Study
from review.selectors import study_for_lead


def lead_study_or_404(request: HttpRequest, study_id: int) -> Study:
    """The study if the signed-in lead is one of its leads; other leads get 404, as for no study."""
    study = study_for_lead(user=signed_in_user(request.user), study_id=study_id)
    if study is None:
        raise Http404("No such study.")
    return study
