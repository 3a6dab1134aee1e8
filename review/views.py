from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.db_routing import replica_reads
from config.health import health_report
from config.inputs import parse_id
from review.audit import audit_csv_lines
from review.dashboard import agreement_lines, dashboard_plots, dashboard_tables
from review.errors import (
    InvalidAnswers,
    LeaseLost,
    NotAMember,
    ReviewNotSaved,
    SlotNotYours,
    StudyNotActive,
    StudyStateError,
)
from review.forms import (
    QUESTION,
    RATING_LABELS,
    ApiTokenForm,
    AuditFilterForm,
    ReviewForm,
    SkipForm,
    StudyCreateForm,
    StudyWellbeingForm,
    lease_token,
    lease_token_start,
)
from review.models import AgreementSnapshot, AuditAction, Slot, Study, StudyStatus
from review.permissions import LEAD, REVIEWER, has_role, role_required
from review.sampling import StudyInvalid
from review.selectors import (
    agreement_snapshot,
    api_tokens_of,
    audit_events,
    audit_page,
    lead_item,
    lead_overview,
    lead_studies,
    preview_text,
    reviewer_studies,
    reviews_today,
    slot_for_reviewer,
    slot_held_in,
    stratum_counts,
    study_progress,
)
from review.services import (
    agreement_refresh_request,
    agreement_snapshot_settle,
    api_token_create,
    api_token_revoke,
    audit_record,
    review_submit,
    slot_claim,
    slot_skip,
    study_archive,
    study_create,
    study_members_set,
    study_notes_sharing_set,
    study_pause,
    study_resume,
    study_start,
)
from tagging.selectors import tag_names
from wellbeing.errors import BreakDue, ExposureCapReached, PausedForToday, WellbeingInvalid
from wellbeing.selectors.exposure import exposure_today
from wellbeing.selectors.surveys import checkin_due_after_review
from wellbeing.services.exposure import break_prompt, exposure_record, study_wellbeing_set

# The same words whatever the reason (answered, skipped, handed back, or someone else's), so the
# page tells a reviewer what happened without telling anyone whose a conversation is.
NOT_OPEN_FOR_YOU = (
    "This conversation is no longer open for you: it was answered or skipped, its lease ran out "
    "and it went back to the pool, or it was never yours."
)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    is_lead = has_role(request.user, LEAD)
    if not is_lead and has_role(request.user, REVIEWER):
        # Where a reviewer's work is: signing in (LOGIN_REDIRECT_URL) lands them on their queue.
        return redirect("review:queue")
    # Roles come from the context processor; only a lead's page needs the data overview.
    context = lead_overview() if is_lead else {}
    return render(request, "review/home.html", context)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 503 only when the database is down; Redis or workers missing is 200 "degraded"."""
    report = health_report()
    return JsonResponse(report.as_json(), status=report.http_status)


# --- reviewer pages -------------------------------------------------------------------------


@role_required(REVIEWER)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    context = {
        "studies": reviewer_studies(reviewer=request.user),
        "done_today": reviews_today(reviewer=request.user),
        "exposure": exposure_today(reviewer=request.user),
    }
    return render(request, "review/queue.html", context)


@never_cache
@role_required(REVIEWER)
@require_http_methods(["GET", "POST"])
def next_item(request: HttpRequest, study_id: int) -> HttpResponse:
    """POST claims (or gets back) the reviewer's next item; GET only reads.

    A claim leases work, so only a POST makes one: a link preview, a prefetch or an <img> on
    another site must not. GET (where a check-in or a break sends the reviewer back) goes
    to the conversation the reviewer holds in the study, or offers the button that claims.
    """
    if request.method == "POST":
        return _claim_next(request, study_id=study_id)
    study = get_object_or_404(Study, pk=study_id, memberships__reviewer=request.user)
    if study.status != StudyStatus.ACTIVE:
        return render(request, "review/study_closed.html", {"study": study})
    held = slot_held_in(study_id=study.pk, reviewer=request.user)
    if held is not None:
        return redirect("review:preview", slot_id=held.pk)
    return render(request, "review/next.html", {"study": study})


def _claim_next(request: HttpRequest, *, study_id: int) -> HttpResponse:
    """Claim the reviewer's next item and go to its content warning: the end of every POST that
    moves a reviewer on (start, skip, submit), so going on never needs a GET that writes.

    The reviewer's safeguards come first: a pause or today's cap ends the session here, and
    after a long stretch a break is offered instead of the next item.
    """
    now = timezone.now()
    # Before the claim, so a return after time away starts a new stretch before the break check.
    # The only exposure write of the loop besides the check-in path: GET pages write nothing,
    # and the time from one claim to the next counts unless the reviewer was away.
    exposure_record(reviewer=request.user, now=now)
    try:
        slot = slot_claim(study_id=study_id, reviewer=request.user, now=now, prompt_breaks=True)
    except NotAMember:
        raise Http404("You are not a reviewer in this study.") from None
    except StudyNotActive as exc:
        return render(request, "review/study_closed.html", {"study": exc.study}, status=409)
    except PausedForToday:
        return render(request, "wellbeing/paused.html", {"exposure": exposure_today(reviewer=request.user)}, status=409)
    except ExposureCapReached as exc:
        context = {"cap_minutes": exc.cap_minutes, "minutes": exc.seconds // 60}
        return render(request, "wellbeing/cap_reached.html", context, status=409)
    except BreakDue:
        break_prompt(reviewer=request.user, now=now)
        return redirect(f"{reverse('wellbeing_exposure:break')}?study={study_id}")
    if slot is None:
        return redirect("review:done", study_id=study_id)
    return redirect("review:preview", slot_id=slot.pk)


@never_cache
@role_required(REVIEWER)
@require_GET
def preview(request: HttpRequest, slot_id: int) -> HttpResponse:
    slot = slot_for_reviewer(slot_id=slot_id, reviewer=request.user)
    if slot is None:
        raise Http404(NOT_OPEN_FOR_YOU)
    transcript = slot.item.transcript
    context = {
        "slot": slot,
        "study": slot.study,
        "transcript": transcript,
        "preview": preview_text(transcript=transcript),
        "skip_form": SkipForm(),
    }
    return render(request, "review/preview.html", context)


@role_required(REVIEWER)
@require_POST
def skip(request: HttpRequest, slot_id: int) -> HttpResponse:
    """Skip the conversation and claim the next one in the same request."""
    form = SkipForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        skipped = slot_skip(slot_id=slot_id, reviewer=request.user, reason=reason)
    except (SlotNotYours, NotAMember):
        raise Http404(NOT_OPEN_FOR_YOU) from None
    except StudyNotActive as exc:
        return render(request, "review/study_closed.html", {"study": exc.study}, status=409)
    return _claim_next(request, study_id=skipped.study_id)


@never_cache
@role_required(REVIEWER)
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, slot_id: int) -> HttpResponse:
    """The transcript and the question; a POST stores the answers and claims the next item."""
    if request.method == "GET":
        slot = slot_for_reviewer(slot_id=slot_id, reviewer=request.user)
        if slot is None:
            raise Http404(NOT_OPEN_FOR_YOU)
        token = lease_token(slot_id=slot.pk, reviewer_id=request.user.pk, leased_at=slot.leased_at.isoformat())
        return _review_page(request, slot, ReviewForm(initial={"lease": token}))

    form = ReviewForm(request.POST)
    if not form.is_valid():
        slot = slot_for_reviewer(slot_id=slot_id, reviewer=request.user)
        if slot is None:
            raise Http404(NOT_OPEN_FOR_YOU)
        return _review_page(request, slot, form, status=400)
    vouched = lease_token_start(form.cleaned_data["lease"], slot_id=slot_id, reviewer_id=request.user.pk)
    try:
        review = review_submit(
            slot_id=slot_id,
            reviewer=request.user,
            answers=form.answers(),
            leased_at=datetime.fromisoformat(vouched) if vouched else None,
        )
    except ReviewNotSaved as exc:
        if isinstance(exc, LeaseLost) and vouched is None:
            # Nothing shows this slot was ever theirs: the same answer as someone else's slot.
            raise Http404(NOT_OPEN_FOR_YOU) from None
        context = {
            "study": Study.objects.get(slots__pk=slot_id),
            "reason": exc.reason,
            "answers": form.answers(),
            "tags": form.cleaned_data["tags"],
        }
        return render(request, "review/lease_lost.html", context, status=409)
    except (SlotNotYours, NotAMember):
        raise Http404(NOT_OPEN_FOR_YOU) from None
    except InvalidAnswers as exc:
        for field, message in exc.errors.items():
            form.add_error(field if field in form.fields else None, message)
        slot = slot_for_reviewer(slot_id=slot_id, reviewer=request.user)
        if slot is None:
            raise Http404(NOT_OPEN_FOR_YOU) from None
        return _review_page(request, slot, form, status=400)
    if checkin_due_after_review(reviewer=request.user, study=review.study):
        exposure_record(reviewer=request.user)
        # Nothing is claimed while the check-in is open: its way on is the read-only GET of
        # "next", which offers the button that claims.
        query = urlencode(
            {
                "study": review.study_id,
                "trigger": "after_reviews",
                "next": reverse("review:next", args=[review.study_id]),
            }
        )
        return redirect(f"{reverse('wellbeing_surveys:checkin')}?{query}")
    return _claim_next(request, study_id=review.study_id)


def _review_page(request: HttpRequest, slot: Slot, form: ReviewForm, status: int = 200) -> HttpResponse:
    context = {
        "slot": slot,
        "study": slot.study,
        "transcript": slot.item.transcript,
        "turns": slot.item.transcript.turns,
        "form": form,
        "question": QUESTION,
        "rating_labels": RATING_LABELS,
        "skip_form": SkipForm(),
    }
    return render(request, "review/review.html", context, status=status)


@role_required(REVIEWER)
@require_GET
def done(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id, memberships__reviewer=request.user)
    return render(request, "review/done.html", {"study": study, "done_today": reviews_today(reviewer=request.user)})


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


@never_cache
@role_required(LEAD)
@require_GET
def lead_dashboard(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    # On the primary: settling may recompute the snapshot, write it and read it back.
    snapshot = agreement_snapshot_settle(study_id=study.pk)
    with replica_reads():
        return _lead_dashboard_page(request, study, snapshot)


def _lead_dashboard_page(request: HttpRequest, study: Study, snapshot: AgreementSnapshot | None) -> HttpResponse:
    progress = study_progress(study=study)
    data = snapshot.data if snapshot and snapshot.computed_at else {}
    tags = tag_names()
    context = {
        "study": study,
        "progress": progress,
        "snapshot": snapshot,
        "stale": bool(snapshot and snapshot.computed_at and snapshot.review_count != progress["reviews"]),
        "tables": dashboard_tables(study=study, progress=progress, data=data, tags=tags),
        "plots": dashboard_plots(data=data, tags=tags),
        "agreement": agreement_lines(data),
        "skip_percent": None if progress["skip_rate"] is None else 100 * progress["skip_rate"],
        "wellbeing_form": StudyWellbeingForm(
            initial={"daily_cap_minutes": study.daily_cap_minutes, "checkin_every_reviews": study.checkin_every_reviews}
        ),
        "disagreement": data.get("disagreement", []),
    }
    return render(request, "review/lead_dashboard.html", context)


@role_required(LEAD)
@require_POST
def lead_agreement_refresh(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    agreement_refresh_request(study_id=study.pk, delay=0, force=True)
    messages.success(request, "Agreement is being recomputed; reload in a moment if the time below has not moved.")
    return redirect("review:lead_dashboard", study_id=study.pk)


@never_cache
@role_required(LEAD)
@require_GET
@replica_reads()
def lead_table_csv(request: HttpRequest, study_id: int, name: str) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    snapshot = agreement_snapshot(study=study)
    data = snapshot.data if snapshot and snapshot.computed_at else {}
    tables = dashboard_tables(study=study, progress=study_progress(study=study), data=data, tags=tag_names())
    table = tables.get(name)
    if table is None:
        raise Http404("No such table.")
    details = {"table": table.name, "format": "csv", "rows": len(table.rows)}
    audit_record(actor=request.user, action=AuditAction.EXPORT, target=study, study=study, details=details)
    response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="study-{study.pk}-{table.name}.csv"'
    return response


@never_cache
@role_required(LEAD)
@require_GET
@replica_reads()
def lead_item_detail(request: HttpRequest, study_id: int, item_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    found = lead_item(study=study, item_id=item_id)
    if found is None:
        raise Http404("No such item in this study.")
    return render(request, "review/lead_item.html", {"study": study, "turns": found["transcript"].turns, **found})


@role_required(LEAD)
@require_POST
def lead_notes_sharing(request: HttpRequest, study_id: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    enabled = request.POST.get("share") == "on"
    study_notes_sharing_set(study=study, enabled=enabled, actor=request.user)
    messages.success(
        request, f"Reviewers' notes {'now go out' if enabled else 'no longer go out'} through the API for {study.name}."
    )
    return redirect("review:lead_dashboard", study_id=study.pk)


@never_cache
@role_required(LEAD)
@require_http_methods(["GET", "POST"])
def lead_tokens(request: HttpRequest) -> HttpResponse:
    """A lead's API tokens. A new token is shown once, in the response to the POST that made it."""
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        token, raw = api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        created = {"token": token, "raw": raw}
        form = ApiTokenForm()
    context = {"form": form, "created": created, "tokens": api_tokens_of(user=request.user), "now": timezone.now()}
    status = 400 if request.method == "POST" and created is None else 200
    return render(request, "review/lead_tokens.html", context, status=status)


@role_required(LEAD)
@require_POST
def lead_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if api_token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "Token revoked: it stops working at once.")
    else:
        messages.error(request, "No such token of yours, or it was revoked already.")
    return redirect("review:lead_tokens")


@role_required(LEAD)
@require_POST
def lead_study_wellbeing(request: HttpRequest, study_id: int) -> HttpResponse:
    """The study's reviewer safeguards: its daily exposure cap and how often the check-in comes."""
    study = get_object_or_404(Study, pk=study_id)
    form = StudyWellbeingForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Not changed: " + "; ".join(str(error) for errors in form.errors.values() for error in errors)
        )
        return redirect("review:lead_dashboard", study_id=study.pk)
    try:
        study_wellbeing_set(study=study, **form.cleaned_data, actor=request.user)
    except WellbeingInvalid as exc:
        messages.error(request, "Not changed: " + "; ".join(exc.errors.values()))
    else:
        messages.success(
            request,
            f"{study.name}: at most {study.daily_cap_minutes} minutes a day per reviewer, "
            f"a check-in after every {study.checkin_every_reviews} reviews.",
        )
    return redirect("review:lead_dashboard", study_id=study.pk)


# --- the audit log --------------------------------------------------------------------------


@never_cache
@role_required(LEAD)
@require_GET
def lead_audit(request: HttpRequest) -> HttpResponse:
    """The audit log, newest first, a page at a time, filtered by action and study."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "review/lead_audit.html", {"form": form, "events": []}, status=400)
    data = form.cleaned_data
    events, next_before = audit_page(action=data["action"], study_id=data["study"], before=data["before"])
    filters = {key: value for key in ("action", "study") if (value := request.GET.get(key))}
    context = {
        "form": form,
        # Details as JSON text, which the template escapes like everything else.
        "events": [(event, json.dumps(event.details, ensure_ascii=False, sort_keys=True)) for event in events],
        "next_query": urlencode({**filters, "before": next_before}) if next_before else None,
        "first_query": urlencode(filters) if data["before"] else None,
        "csv_query": urlencode(filters),
    }
    return render(request, "review/lead_audit.html", context)


@never_cache
@role_required(LEAD)
@require_GET
def lead_audit_csv(request: HttpRequest) -> HttpResponse:
    """Every audit event the filters select, as CSV; the download is itself recorded."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponse("Bad filter: " + form.errors.as_text(), status=400, content_type="text/plain")
    data = form.cleaned_data
    filters = {"action": data["action"] or None, "study": data["study"]}
    audit_record(actor=request.user, action=AuditAction.EXPORT, details={"what": "audit log", "filters": filters})
    events = audit_events(action=data["action"], study_id=data["study"])
    response = StreamingHttpResponse(audit_csv_lines(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="triad-audit-log.csv"'
    return response
