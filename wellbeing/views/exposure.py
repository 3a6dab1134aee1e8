"""Wellbeing exposure pages: the break screen, 'Pause for today' and the reviewer's preferences."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.inputs import BoundedModelMultipleChoiceField, parse_id
from core.roles import REVIEWER, role_required, signed_in_user
from tagging.selectors import tags_in_order
from wellbeing.errors import WellbeingInvalid
from wellbeing.models import BreakOutcome
from wellbeing.selectors.exposure import (
    BREAK_LENGTH,
    break_open,
    break_seconds_left,
    exposure_today,
    own_cap_ceiling,
    preference_initial,
)
from wellbeing.services.exposure import break_resolve, pause_today, preference_set

BREAK_SUGGESTIONS = (
    "Take a short walk, even just around the room.",
    "Get some water or something warm to drink.",
    "Look away from the screen, at something far away.",
    "Stretch your neck, shoulders, back and hands.",
)


class PreferencesForm(forms.Form):
    opted_out_tags = BoundedModelMultipleChoiceField(
        queryset=tags_in_order(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Topics I don't want to see",
    )
    daily_cap_minutes = forms.IntegerField(
        required=False, min_value=1, max_value=24 * 60, label="My own daily limit, in minutes (optional)"
    )

    def __init__(
        self, data: QueryDict | None = None, *, ceiling: int, initial: dict[str, object] | None = None
    ) -> None:
        super().__init__(data, initial=initial)
        # The browser's own check; the service is what enforces it.
        self.fields["daily_cap_minutes"].widget.attrs["max"] = ceiling


def _study_id(request: HttpRequest) -> int | None:
    """Where to go back to after the break; only ever used to build the study's own URL."""
    return parse_id(request.POST.get("study") or request.GET.get("study"))


@never_cache
@role_required(REVIEWER)
@require_http_methods(["GET", "POST"])
def break_screen(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request.user)
    study_id = _study_id(request)
    if request.method == "POST":
        outcome = request.POST.get("outcome", "")
        if outcome not in (BreakOutcome.TAKEN, BreakOutcome.DISMISSED):
            return HttpResponseBadRequest("Answer with 'I'm back' or 'Dismiss'.", content_type="text/plain")
        break_resolve(reviewer=user, outcome=outcome)
        if study_id is not None:
            return redirect("workspace:next", study_id=study_id)
        return redirect("workspace:queue")
    now = timezone.now()
    seconds_left = break_seconds_left(prompt=break_open(reviewer=user, now=now), now=now)
    context = {
        "study_id": study_id,
        "break_minutes": int(BREAK_LENGTH.total_seconds()) // 60,
        "seconds_left": seconds_left,
        "clock": f"{seconds_left // 60}:{seconds_left % 60:02d}",
        "suggestions": BREAK_SUGGESTIONS,
    }
    return render(request, "wellbeing/break.html", context)


@role_required(REVIEWER)
@require_POST
def pause(request: HttpRequest) -> HttpResponse:
    pause_today(user=signed_in_user(request.user))
    return redirect("wellbeing_exposure:paused")


@never_cache
@role_required(REVIEWER)
@require_GET
def paused(request: HttpRequest) -> HttpResponse:
    return render(request, "wellbeing/paused.html", {"exposure": exposure_today(reviewer=signed_in_user(request.user))})


@never_cache
@role_required(REVIEWER)
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request.user)
    ceiling = own_cap_ceiling(user=user)
    if request.method == "POST":
        form = PreferencesForm(request.POST, ceiling=ceiling)
        if form.is_valid():
            try:
                preference_set(
                    user=user,
                    opted_out_tag_ids=[tag.pk for tag in form.cleaned_data["opted_out_tags"]],
                    daily_cap_minutes=form.cleaned_data["daily_cap_minutes"],
                )
            except WellbeingInvalid as exc:
                for field, message in exc.errors.items():
                    form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(request, "Saved. Your preferences apply from your next conversation.")
                return redirect("wellbeing_exposure:preferences")
    else:
        form = PreferencesForm(initial=preference_initial(user=user), ceiling=ceiling)
    context = {
        "form": form,
        "ceiling": ceiling,
        "exposure": exposure_today(reviewer=user),
    }
    return render(request, "wellbeing/preferences.html", context, status=400 if request.method == "POST" else 200)
