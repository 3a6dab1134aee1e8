"""The lead's form for a new API token."""

from __future__ import annotations

from django import forms

from api.models import ApiScope
from config.inputs import BoundedIntegerField


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'training pipeline'.")
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple, initial=[ApiScope.READ_LABELS]
    )
    expires_in_days = BoundedIntegerField(
        min_value=1, max_value=365, required=False, initial=90, help_text="Leave empty for a token that never expires."
    )
