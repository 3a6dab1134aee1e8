"""The audit log's filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User

from audit.models import AuditAction
from audit.selectors import audit_studies
from config.inputs import BoundedIntegerField


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(choices=[("", "Any action"), *AuditAction.choices], required=False)
    # Any id, not only the listed studies': a deleted study's events stay in the log.
    study = BoundedIntegerField(required=False, min_value=1, widget=forms.Select)
    page = BoundedIntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["study"].widget.choices = [("", "Any study"), *audit_studies(user=user)]
