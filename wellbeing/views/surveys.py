"""Survey pages: the check-in after reviews, periodic questionnaires, thanks, support and 'My wellbeing'.

Answers are read back only on their respondent's own pages; there is no lead view here.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from markdown_it import MarkdownIt

from core.charts import Series, bar_chart
from core.roles import REVIEWER, role_required, signed_in_user
from wellbeing.models import InstrumentKind, Trigger
from wellbeing.selectors.surveys import (
    checkin_instrument_current,
    instrument_current,
    instrument_for_answer,
    instrument_items,
    my_wellbeing,
    periodic_instruments_current,
    response_needs_support,
    response_of,
    support_resources,
)
from wellbeing.services.surveys import (
    FREE_TEXT_MAX,
    SurveyAnswersInvalid,
    checkin_decline,
    invitation_snooze,
    response_submit,
)

if TYPE_CHECKING:
    from wellbeing.models import Instrument

DEFAULT_NEXT = "/review/"
CHECKIN_TRIGGERS = (Trigger.AFTER_REVIEWS, Trigger.SESSION_END)
# Another engineer's page; a plain path, so this page renders before that route exists.
PREFERENCES_URL = "/wellbeing/preferences/"


def _safe_next(request: HttpRequest, candidate: str | None, default: str = DEFAULT_NEXT) -> str:
    """Only a path on this site: `next` comes from the query string, so it must not send anyone elsewhere."""
    # A path, not just any local URL: redirect() would read "foo" as the name of a view.
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return default


def _item_rows(instrument: Instrument, chosen: Mapping[str, Any], errors: Mapping[str, str]) -> list[dict[str, Any]]:
    labels = instrument.scale_labels
    return [
        {
            "item": item,
            "name": f"item-{item.key}",
            "error": errors.get(item.key),
            "choices": [
                {"value": value, "label": label, "checked": str(chosen.get(item.key, "")) == str(value)}
                for value, label in enumerate(labels)
            ],
        }
        for item in instrument_items(instrument=instrument)
    ]


def _posted_answers(request: HttpRequest, instrument: Instrument) -> dict[str, str]:
    # Only the instrument's own items are read, so no other field can pose as an answer.
    answers = {}
    for item in instrument_items(instrument=instrument):
        value = request.POST.get(f"item-{item.key}")
        if value is not None:
            answers[item.key] = value
    return answers


def _survey_page(
    request: HttpRequest,
    template: str,
    instrument: Instrument,
    *,
    next_url: str,
    trigger: str = "",
    answers: Mapping[str, Any] | None = None,
    free_text: str = "",
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    errors = errors or {}
    context = {
        "instrument": instrument,
        "rows": _item_rows(instrument, answers or {}, errors),
        "form_error": errors.get(""),
        "free_text_error": errors.get("free_text"),
        "free_text": free_text,
        "free_text_max": FREE_TEXT_MAX,
        "next_url": next_url,
        "trigger": trigger,
        "error_count": len(errors),
    }
    return render(request, template, context, status=status)


def _thanks_redirect(response_id: int, next_url: str) -> HttpResponse:
    url = reverse("wellbeing_surveys:thanks", args=[response_id])
    return redirect(f"{url}?{urlencode({'next': next_url})}")


def _checkin_page(request: HttpRequest, current: Instrument | None, *, next_url: str, trigger: str) -> HttpResponse:
    if current is None:  # nothing to ask
        return redirect(next_url)
    return _survey_page(request, "wellbeing/checkin.html", current, next_url=next_url, trigger=trigger)


def _checkin_decline(
    request: HttpRequest, instrument: Instrument | None, *, trigger: str, next_url: str
) -> HttpResponse:
    """'Not now': recorded (so the check-in is not offered again at once), then on to where they were going."""
    if instrument is not None:
        checkin_decline(respondent=signed_in_user(request.user), instrument=instrument, trigger=trigger)
    return redirect(next_url)


@never_cache
@role_required(REVIEWER)
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    """'How did that feel?' after a run of reviews or at the end of a session; optional, 'Not now' is fine.

    The study in the query string only brought the reviewer here: an answer is not tied to
    a study, so a small study cannot single anybody out.
    """
    source = request.POST if request.method == "POST" else request.GET
    next_url = _safe_next(request, source.get("next"))
    trigger = source.get("trigger")
    trigger = trigger if trigger in CHECKIN_TRIGGERS else Trigger.AFTER_REVIEWS
    current = checkin_instrument_current()
    if request.method == "GET":
        return _checkin_page(request, current, next_url=next_url, trigger=trigger)

    instrument = instrument_for_answer(instrument_id=request.POST.get("instrument"), kind=InstrumentKind.CHECKIN)
    if request.POST.get("action") == "decline":
        return _checkin_decline(request, instrument or current, trigger=trigger, next_url=next_url)
    if instrument is None:
        if current is None:
            return redirect(next_url)
        message = {"": "This check-in changed while you were answering. Please answer it again."}
        return _survey_page(
            request, "wellbeing/checkin.html", current, next_url=next_url, trigger=trigger, errors=message, status=400
        )
    answers = _posted_answers(request, instrument)
    free_text = request.POST.get("free_text", "")
    try:
        response = response_submit(
            respondent=signed_in_user(request.user),
            instrument=instrument,
            trigger=trigger,
            answers=answers,
            free_text=free_text,
        )
    except SurveyAnswersInvalid as exc:
        return _survey_page(
            request,
            "wellbeing/checkin.html",
            instrument,
            next_url=next_url,
            trigger=trigger,
            answers=answers,
            free_text=free_text,
            errors=exc.errors,
            status=400,
        )
    return _thanks_redirect(response.pk, next_url)


@never_cache
@role_required(REVIEWER)
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, slug: str) -> HttpResponse:
    """The current version of a periodic questionnaire, such as the WHO-5; answering closes its invitation."""
    source = request.POST if request.method == "POST" else request.GET
    next_url = _safe_next(request, source.get("next"))
    current = instrument_current(slug=slug, kind=InstrumentKind.PERIODIC)
    if current is None:
        raise Http404("No such questionnaire.")
    if request.method == "GET":
        return _survey_page(request, "wellbeing/survey.html", current, next_url=next_url)

    instrument = instrument_for_answer(instrument_id=request.POST.get("instrument"), kind=InstrumentKind.PERIODIC)
    if instrument is None or instrument.slug != slug:
        message = {"": "This questionnaire changed while you were answering. Please answer it again."}
        return _survey_page(request, "wellbeing/survey.html", current, next_url=next_url, errors=message, status=400)
    answers = _posted_answers(request, instrument)
    free_text = request.POST.get("free_text", "")
    try:
        response = response_submit(
            respondent=signed_in_user(request.user),
            instrument=instrument,
            trigger=Trigger.INVITATION,
            answers=answers,
            free_text=free_text,
        )
    except SurveyAnswersInvalid as exc:
        return _survey_page(
            request,
            "wellbeing/survey.html",
            instrument,
            next_url=next_url,
            answers=answers,
            free_text=free_text,
            errors=exc.errors,
            status=400,
        )
    return _thanks_redirect(response.pk, next_url)


@never_cache
@login_required
@require_GET
def thanks(request: HttpRequest, response_id: int) -> HttpResponse:
    """Shown to the respondent alone (404 for anyone else), with a private pointer to support when needed."""
    response = response_of(respondent=signed_in_user(request.user), response_id=response_id)
    if response is None:
        raise Http404("No such response of yours.")
    context = {
        "response": response,
        "instrument": response.instrument,
        "needs_support": response_needs_support(response=response),
        "next_url": _safe_next(request, request.GET.get("next")),
    }
    return render(request, "wellbeing/thanks.html", context)


@role_required(REVIEWER)
@require_POST
def invitation_snooze_view(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """'Not now' on the invitation banner: hidden until the reminder, then shown again.

    404 unless it is the respondent's own open invitation, as for anyone else's wellbeing data.
    """
    if not invitation_snooze(respondent=signed_in_user(request.user), invitation_id=invitation_id):
        raise Http404("No open invitation of yours.")
    return redirect(_safe_next(request, request.POST.get("next"), default=reverse("home")))


@require_GET
def support(request: HttpRequest) -> HttpResponse:
    """Where to get help. Open to everyone, signed in or not: there is nothing private on it."""
    context = {"resources": support_resources(), "preferences_url": PREFERENCES_URL}
    return render(request, "wellbeing/support.html", context)


PRIVACY_DOCUMENT = Path(__file__).resolve().parent.parent / "PRIVACY.md"


@cache
def _privacy_html() -> SafeString:
    # Raw HTML in the markdown is escaped ("html": False), so the page can only hold what markdown makes.
    renderer = MarkdownIt("commonmark", {"html": False})
    # render() is typed Any because a custom renderer may return anything; the HTML one returns str.
    html: str = renderer.render(PRIVACY_DOCUMENT.read_text(encoding="utf-8"))
    return mark_safe(html)  # noqa: S308


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    """wellbeing/PRIVACY.md as a page, so the document reviewers are pointed to is the one the code follows.

    Open to everyone, like Support: someone deciding whether to answer should be able to read it.
    """
    return render(request, "wellbeing/privacy.html", {"document": _privacy_html()})


@never_cache
@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own answers and their trends; nobody else's ever appear here."""
    data = my_wellbeing(respondent=signed_in_user(request.user))
    plots = [
        {
            "note": trend.note,
            "svg": bar_chart(
                chart_id=f"trend-{index}",
                title=trend.title,
                categories=trend.categories,
                series=[Series(name=name, values=values) for name, values in trend.series.items()],
                value_label=trend.value_label,
                category_label="Day answered",
            ),
        }
        for index, trend in enumerate(data["trends"])
    ]
    context = {
        "tables": data["tables"],
        "plots": plots,
        "count": data["count"],
        "preferences_url": PREFERENCES_URL,
        # Questionnaires can be answered at any time, not only when invited.
        "periodic": periodic_instruments_current(),
    }
    return render(request, "wellbeing/my_wellbeing.html", context)
