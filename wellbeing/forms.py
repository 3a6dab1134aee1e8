"""The lead's form for a study's reviewer safeguards."""

from __future__ import annotations

from django import forms

from config.inputs import BoundedIntegerField


class StudyWellbeingForm(forms.Form):
    daily_cap_minutes = BoundedIntegerField(
        min_value=1, max_value=24 * 60, label="Daily exposure limit (minutes)", help_text="Practice elsewhere: 240-300."
    )
    checkin_every_reviews = BoundedIntegerField(
        min_value=1, max_value=1000, label="Offer the feelings check-in after every … reviews"
    )
