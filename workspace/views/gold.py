"""A lead's gold items: the reference answers calibration and gold checks are held to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from agreement.selectors import gold_accuracy
from core.roles import LEAD, role_required, signed_in_user
from review.errors import InvalidAnswers
from review.lookups import lead_study_or_404
from review.selectors import gold_items_of
from review.services.gold import gold_item_mark, gold_item_unmark, study_gold_settings_set
from workspace.forms import GoldForm, GoldSettingsForm
from workspace.views.lead import lead_item_page

if TYPE_CHECKING:
    from review.models import Study


@never_cache
@role_required(LEAD)
@require_GET
def lead_gold(request: HttpRequest, study_id: int) -> HttpResponse:
    study = lead_study_or_404(request, study_id)
    form = GoldSettingsForm(initial={"calibration_items": study.calibration_items, "gold_percent": study.gold_percent})
    return _gold_page(request, study, form)


def _gold_page(request: HttpRequest, study: Study, form: GoldSettingsForm, status: int = 200) -> HttpResponse:
    context = {
        "study": study,
        "form": form,
        "golds": gold_items_of(study=study),
        "accuracy": gold_accuracy(studies=[study]),
    }
    return render(request, "workspace/lead_gold.html", context, status=status)


@role_required(LEAD)
@require_POST
def lead_gold_settings(request: HttpRequest, study_id: int) -> HttpResponse:
    study = lead_study_or_404(request, study_id)
    form = GoldSettingsForm(request.POST)
    if not form.is_valid():
        return _gold_page(request, study, form, status=400)
    try:
        study_gold_settings_set(study=study, actor=signed_in_user(request.user), **form.cleaned_data)
    except InvalidAnswers as exc:
        for field, message in exc.errors.items():
            form.add_error(field if field in form.fields else None, message)
        return _gold_page(request, study, form, status=400)
    messages.success(request, "Calibration and gold checks saved.")
    return redirect("workspace:lead_gold", study_id=study.pk)


@role_required(LEAD)
@require_POST
def lead_gold_mark(request: HttpRequest, study_id: int, item_id: int) -> HttpResponse:
    """Mark the item gold (or change its reference), from the lead's item page."""
    study = lead_study_or_404(request, study_id)
    form = GoldForm(request.POST)
    if form.is_valid():
        try:
            gold_item_mark(
                study=study,
                item_id=item_id,
                rating=form.cleaned_data["rating"],
                tag_ids=form.cleaned_data["tags"],
                explanation=form.cleaned_data["explanation"],
                actor=signed_in_user(request.user),
            )
        except InvalidAnswers as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, "The item is gold, with your reference answer.")
            return redirect("workspace:lead_item", study_id=study.pk, item_id=item_id)
    # The item page again, with the form's errors and what was typed (404 for an item not the study's).
    return lead_item_page(request, study, item_id, gold_form=form, status=400)


@role_required(LEAD)
@require_POST
def lead_gold_unmark(request: HttpRequest, study_id: int, item_id: int) -> HttpResponse:
    study = lead_study_or_404(request, study_id)
    if gold_item_unmark(study=study, item_id=item_id, actor=signed_in_user(request.user)):
        messages.success(request, "The item is no longer gold; answers already given are kept.")
    return redirect("workspace:lead_gold", study_id=study.pk)
