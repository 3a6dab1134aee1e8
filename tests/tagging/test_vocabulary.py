from __future__ import annotations

import pytest

from tagging.models import Tag
from tagging.selectors import tag_lookup

PAPER_TAGS = [
    "Discrimination & injustice",
    "Hate speech & offensive language",
    "Violence & incitement",
    "Non-violent unethical behavior (e.g. lying, cheating, etc.)",
    "Bullying & harassment",
    "Theft",
    "Soliciting personally identifiable information",
    "Conspiracy theories & misinformation",
    "Substance abuse & banned substances",
    "Fraud & deception",
    "Weapons",
    "Adult content",
    "Property crime & vandalism",
    "Animal abuse",
    "Terrorism & organized crime",
    "Sexual exploitation & human trafficking",
    "Self-harm",
    "Child abuse",
    "Other",
    "N/A - Invalid attempt",
]


@pytest.mark.django_db
def test_migrations_seed_the_twenty_tags_with_the_datas_exact_strings_in_the_papers_order() -> None:
    assert list(Tag.objects.order_by("position").values_list("name", flat=True)) == PAPER_TAGS


@pytest.mark.django_db
def test_lookup_matches_exact_and_case_or_space_drifted_names() -> None:
    lookup = tag_lookup()
    theft = Tag.objects.get(name="Theft").pk
    assert lookup["Theft"] == theft
    assert lookup["theft"] == theft
    assert lookup["n/a - invalid attempt"] == Tag.objects.get(name="N/A - Invalid attempt").pk
