"""The audit log page and its CSV download."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit.forms import AuditFilterForm
from audit.models import AuditAction
from audit.selectors import audit_csv_lines, audit_detail_fields, audit_events, audit_page
from audit.services import audit_record
from core.roles import LEAD, role_required, signed_in_user

# --- the audit log --------------------------------------------------------------------------


@never_cache
@role_required(LEAD)
@require_GET
def lead_audit(request: HttpRequest) -> HttpResponse:
    """The audit log, newest first, a numbered page at a time, filtered by action and study."""
    user = signed_in_user(request.user)
    form = AuditFilterForm(request.GET, user=user)
    if not form.is_valid():
        return render(request, "audit/lead_audit.html", {"form": form, "events": []}, status=400)
    data = form.cleaned_data
    page = audit_page(user=user, action=data["action"], study_id=data["study"], page=data["page"])
    filters = {key: value for key in ("action", "study") if (value := request.GET.get(key))}
    numbers = page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    context = {
        "form": form,
        "page": page,
        "events": [(event, audit_detail_fields(event.details)) for event in page],
        # Each page link keeps the filters: (number or the ellipsis, its query).
        "page_links": [
            (number, urlencode({**filters, "page": number}) if isinstance(number, int) else None) for number in numbers
        ],
        "previous_query": urlencode({**filters, "page": page.previous_page_number()}) if page.has_previous() else None,
        "next_query": urlencode({**filters, "page": page.next_page_number()}) if page.has_next() else None,
        "csv_query": urlencode(filters),
    }
    return render(request, "audit/lead_audit.html", context)


@never_cache
@role_required(LEAD)
@require_GET
def lead_audit_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every audit event the filters select, as CSV; the download is itself recorded."""
    user = signed_in_user(request.user)
    form = AuditFilterForm(request.GET, user=user)
    if not form.is_valid():
        return HttpResponse("Bad filter: " + form.errors.as_text(), status=400, content_type="text/plain")
    data = form.cleaned_data
    filters = {"action": data["action"] or None, "study": data["study"]}
    audit_record(actor=user, action=AuditAction.EXPORT, details={"what": "audit log", "filters": filters})
    events = audit_events(user=user, action=data["action"], study_id=data["study"])
    response = StreamingHttpResponse(audit_csv_lines(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="triad-audit-log.csv"'
    return response
