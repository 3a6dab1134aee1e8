"""The audit log in the admin: read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent
from core.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log, append-only: the database refuses changes even if this allowed them."""

    list_display = ("id", "at", "actor_label", "action", "target_type", "target_id", "target_label", "study_id")
    list_filter = ("action",)
    search_fields = ("actor_label", "target_label")
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditEvent._meta.fields]
