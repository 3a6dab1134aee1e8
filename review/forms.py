from __future__ import annotations

import secrets
from typing import Any

from django import forms

from config.inputs import BoundedIntegerField
from review.sampling import Stratum, StudyInvalid
from review.services.studies import study_plan_check


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

    def clean(self) -> dict[str, Any]:
        """Check the plan with the study service's rules, showing each message on its field."""
        super().clean()
        cleaned = self.cleaned_data
        try:
            study_plan_check(
                name=cleaned.get("name", "-"),
                strata=self.chosen_strata(),
                reviewers_per_item=cleaned.get("reviewers_per_item", 3),
                lease_minutes=cleaned.get("lease_minutes", 30),
            )
        except StudyInvalid as exc:
            for field, message in exc.errors.items():
                if field is None or field not in self.errors:
                    self.add_error(field, message)
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


class TeamInviteForm(forms.Form):
    role = forms.ChoiceField(choices=[("reviewer", "Reviewer"), ("lead", "Lead")], initial="reviewer")
    note = forms.CharField(
        max_length=200,
        required=False,
        label="For",
        help_text="A name or e-mail address, to recognise the invitation by.",
    )
    days = BoundedIntegerField(min_value=1, max_value=30, initial=7, label="Expires after (days)")


class TeamAccountForm(forms.Form):
    username = forms.CharField(max_length=150, help_text="Letters, digits and @ . + - _ only.")
    role = forms.ChoiceField(choices=[("reviewer", "Reviewer"), ("lead", "Lead")], initial="reviewer")


class ReviewerProfileForm(forms.Form):
    red_team_member_id = BoundedIntegerField(
        min_value=0,
        max_value=2**63 - 1,
        required=False,
        label="Red-team member id",
        help_text="Their id as a red-team author, if they were one: they are never offered their own attacks.",
    )
    expertise = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Areas of expertise"
    )

    def __init__(self, *args: Any, tags: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["expertise"]
        assert isinstance(field, forms.MultipleChoiceField)  # noqa: S101 - declared above
        field.choices = [(str(pk), name) for pk, name in tags]

    def clean_expertise(self) -> list[int]:
        return [int(value) for value in self.cleaned_data["expertise"]]


class CoLeadForm(forms.Form):
    lead = BoundedIntegerField(min_value=1, max_value=2**63 - 1)
