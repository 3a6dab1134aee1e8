"""A lead's study dashboard: progress, agreement, plots, one item's reviews, and reviewer quality."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from adjudication.forms import RuleForm
from adjudication.selectors import adjudication_panel
from agreement.dashboard import (
    INTERVAL_NOTE,
    SMALL_GROUP_ITEMS,
    agreement_lines,
    dashboard_plots,
    dashboard_tables,
    expert_plot,
    self_vs_reviewers_view,
    size_success_lines,
    size_success_plots,
)
from agreement.selectors import (
    expert_comparison,
    gold_accuracy,
    item_consensus,
    reviewer_quality,
    study_reviewer_quality,
)
from agreement.services import agreement_refresh_request, agreement_snapshot_settle, consensus_snapshot_settle
from agreement.statistics import SUCCESS_DEFINITION
from audit.models import AuditAction
from audit.services import audit_record
from config.db_routing import replica_reads
from core.roles import LEAD, role_required, signed_in_user
from review.lookups import lead_study_or_404
from review.selectors import (
    gold_item_of,
    lead_item,
    studies_for_lead,
    study_progress,
)
from tagging.selectors import tag_names
from wellbeing.forms import StudyWellbeingForm
from workspace.forms import GoldForm, rating_marks, tag_marks
from workspace.selectors import gold_reference_initial

if TYPE_CHECKING:
    from agreement.models import AgreementSnapshot, ConsensusSnapshot
    from review.models import Study


@never_cache
@role_required(LEAD)
@require_GET
def lead_dashboard(request: HttpRequest, study_id: int) -> HttpResponse:
    study = lead_study_or_404(request, study_id)
    # On the primary: settling may recompute the snapshot, write it and read it back.
    snapshot = agreement_snapshot_settle(study_id=study.pk)
    consensus = consensus_snapshot_settle(study_id=study.pk)
    with replica_reads():
        return _lead_dashboard_page(request, study, snapshot, consensus)


def _lead_dashboard_page(
    request: HttpRequest, study: Study, snapshot: AgreementSnapshot | None, consensus: ConsensusSnapshot | None
) -> HttpResponse:
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
        "consensus": consensus if consensus and consensus.computed_at else None,
        "success_definition": SUCCESS_DEFINITION,
        "small_group_items": SMALL_GROUP_ITEMS,
        "size_success": size_success_lines(data),
        "size_plots": size_success_plots(data),
        "interval_note": INTERVAL_NOTE,
        "self_vs": self_vs_reviewers_view(data),
        # A snapshot computed before these figures existed lacks them until it is recomputed.
        "findings_missing": bool(data) and "self_vs_reviewers" not in data,
        "experts": (experts := expert_comparison(study=study)),
        "experts_plot": expert_plot(experts),
        "adjudication": (panel := adjudication_panel(study=study)),
        "rule_form": RuleForm(initial={"kind": panel["rule"].kind, "min_spread": panel["rule"].min_spread}),
    }
    return render(request, "workspace/lead_dashboard.html", context)


@role_required(LEAD)
@require_POST
def lead_agreement_refresh(request: HttpRequest, study_id: int) -> HttpResponse:
    study = lead_study_or_404(request, study_id)
    agreement_refresh_request(study_id=study.pk, delay=0, force=True)
    messages.success(request, "Agreement is being recomputed; reload in a moment if the time below has not moved.")
    return redirect("workspace:lead_dashboard", study_id=study.pk)


@never_cache
@role_required(LEAD)
@require_GET
def lead_table_csv(request: HttpRequest, study_id: int, name: str) -> HttpResponse:
    study = lead_study_or_404(request, study_id)
    # As the dashboard: settle a pending refresh no worker will run, on the primary, first.
    snapshot = agreement_snapshot_settle(study_id=study.pk)
    with replica_reads():
        return _lead_table_csv(request, study, snapshot, name)


def _lead_table_csv(request: HttpRequest, study: Study, snapshot: AgreementSnapshot | None, name: str) -> HttpResponse:
    data = snapshot.data if snapshot and snapshot.computed_at else {}
    tables = dashboard_tables(study=study, progress=study_progress(study=study), data=data, tags=tag_names())
    table = tables.get(name)
    if table is None:
        raise Http404("No such table.")
    details = {"table": table.name, "format": "csv", "rows": len(table.rows)}
    audit_record(
        actor=signed_in_user(request.user), action=AuditAction.EXPORT, target=study, study=study, details=details
    )
    response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="study-{study.pk}-{table.name}.csv"'
    return response


@never_cache
@role_required(LEAD)
@require_GET
@replica_reads()
def lead_item_detail(request: HttpRequest, study_id: int, item_id: int) -> HttpResponse:
    study = lead_study_or_404(request, study_id)
    return lead_item_page(request, study, item_id)


def lead_item_page(
    request: HttpRequest, study: Study, item_id: int, *, gold_form: GoldForm | None = None, status: int = 200
) -> HttpResponse:
    """The item with every rating, and the form that makes it gold (prefilled from its reference,
    else from its adjudicated final label)."""
    found = lead_item(study=study, item_id=item_id)
    if found is None:
        raise Http404("No such item in this study.")
    gold = gold_item_of(item_id=item_id)
    if gold_form is None:
        gold_form = GoldForm(initial=gold_reference_initial(gold=gold, item_id=item_id))
    context = {
        "study": study,
        "turns": found["transcript"].turns,
        "consensus": item_consensus(item_id=item_id),
        "gold": gold,
        "gold_form": gold_form,
        "gold_tag_marks": tag_marks(gold_form, tag_names()),
        "gold_rating_marks": rating_marks(gold_form),
        **found,
    }
    return render(request, "workspace/lead_item.html", context, status=status)


@never_cache
@role_required(LEAD)
@require_GET
def lead_reviewers(request: HttpRequest, study_id: int) -> HttpResponse:
    """Each reviewer's quality in one study (agreement.reviewer_quality), from its snapshot."""
    study = lead_study_or_404(request, study_id)
    # As the dashboard: settle a pending refresh no worker will run, on the primary, first.
    snapshot = agreement_snapshot_settle(study_id=study.pk)
    consensus = consensus_snapshot_settle(study_id=study.pk)
    with replica_reads():
        quality = study_reviewer_quality(study=study, snapshot=snapshot, consensus=consensus)
        context = {
            "study": study,
            "quality": quality,
            "success_definition": SUCCESS_DEFINITION,
            "accuracy": gold_accuracy(studies=[study]),
        }
        return render(request, "workspace/lead_reviewers.html", context)


@never_cache
@role_required(LEAD)
@require_GET
@replica_reads()
def lead_reviewers_overall(request: HttpRequest) -> HttpResponse:
    """Each reviewer's quality over every study the lead leads (their studies list), items pooled."""
    studies = list(studies_for_lead(user=signed_in_user(request.user)))
    context = {
        "study": None,
        "quality": reviewer_quality(studies=studies),
        "success_definition": SUCCESS_DEFINITION,
        "accuracy": gold_accuracy(studies=studies),
    }
    return render(request, "workspace/lead_reviewers.html", context)
