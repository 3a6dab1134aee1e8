from __future__ import annotations

import secrets
from typing import Any

from django import forms

from config.inputs import BoundedIntegerField
from review.models import Study
from review.sampling import Stratum


class StudyCreateForm(forms.Form):
    """A study's settings and how many transcripts to draw from each imported stratum.

    One size field per (model type, size) stratum the imported data holds, with its count
    as the limit; leave a stratum at 0 to draw nothing from it.
    """

    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    seed = BoundedIntegerField(
        min_value=0, max_value=2**53, help_text="The same seed on the same data draws the same transcripts."
    )
    reviewers_per_item = BoundedIntegerField(min_value=1, max_value=20, initial=3)
    lease_minutes = BoundedIntegerField(min_value=1, max_value=24 * 60, initial=30)

    def __init__(self, *args: Any, strata: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["seed"].initial = secrets.randbelow(10**6)
        self.strata = strata
        for stratum in strata:
            self.fields[self.size_field(stratum)] = BoundedIntegerField(
                min_value=0,
                max_value=stratum["count"],
                initial=0,
                required=False,
                label=f"{stratum['model_type']}, {stratum['num_params']}",
            )

    @staticmethod
    def size_field(stratum: dict[str, Any]) -> str:
        return f"size:{stratum['model_type']}:{stratum['num_params']}"

    def stratum_rows(self) -> list[dict[str, Any]]:
        return [{"stratum": stratum, "field": self[self.size_field(stratum)]} for stratum in self.strata]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Study.objects.filter(name=name).exists():
            raise forms.ValidationError("A study with this name exists already.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.strata and not any(cleaned.get(self.size_field(stratum)) for stratum in self.strata):
            raise forms.ValidationError("Draw at least one transcript: give a size to at least one stratum.")
        return cleaned

    def chosen_strata(self) -> list[Stratum]:
        return [
            Stratum(
                filters={"model_type": stratum["model_type"], "num_params": stratum["num_params"]},
                size=self.cleaned_data[self.size_field(stratum)],
            )
            for stratum in self.strata
            if self.cleaned_data.get(self.size_field(stratum))
        ]


class StudyInstructionsForm(forms.Form):
    instructions = forms.CharField(
        max_length=20000,
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 8}),
        label="Instructions for reviewers",
        help_text="Markdown: **bold**, *italic*, lists, headings and http(s) or mailto links. HTML is shown as text.",
    )
