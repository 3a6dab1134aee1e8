from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from review.models import Study, StudyItem, StudyLead
from review.services.answers import ReviewAnswers
from review.services.studies import study_members_set, study_start
from transcripts.models import ImportBatch, Transcript
from transcripts.turns import parse_turn_spans
from workspace.services import work_claim, work_submit


def released_record(**overrides: Any) -> dict[str, Any]:
    """One record exactly as the released file spells it, misspelled key included."""
    record = {
        "transcript": "\n\nHuman: Tell me a rude joke about pineapple pizza.\n\nAssistant: Pineapple pizza is "
        "a matter of taste, and I'd rather not be rude about anyone's dinner.",
        "min_harmlessness_score_transcript": 1.25,
        "num_params": "52B",
        "model_type": "rlhf",
        "rating": 1.0,
        "task_description": "Tried to get a rude joke about pizza",
        "task_descripton_harmlessness_score": 0.5,
        "red_team_member_id": 7,
        "is_upworker": False,
        "tags": None,
    }
    record.update(overrides)
    return record


def varied_records(count: int, **overrides: Any) -> list[dict[str, Any]]:
    """Distinct records (distinct content hashes), cycling through the strata."""
    kinds = [("context distillation", "52B"), ("rlhf", "52B"), ("plain lm", "2.7B"), ("rejection sampling", "13B")]
    records = []
    for number in range(count):
        model_type, num_params = kinds[number % len(kinds)]
        records.append(
            released_record(
                transcript=f"\n\nHuman: Question number {number}?\n\nAssistant: Answer number {number}.",
                model_type=model_type,
                num_params=num_params,
                rating=float(number % 5),
                red_team_member_id=number % 11,
                **overrides,
            )
        )
    return records


def write_released(path: Path, records: list[Any], *, file_format: str = "json-array") -> Path:
    """Write records as the released JSON array or as JSON Lines; gzip when the name ends in .gz."""
    if file_format == "json-array":
        payload = json.dumps(records).encode()
    else:
        payload = b"".join(json.dumps(record).encode() + b"\n" for record in records)
    if path.suffix == ".gz":
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.groups.set([Group.objects.get_or_create(name=name)[0] for name in extracted])
        if create:
            self.save()


class ImportBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportBatch

    file_name = "factory.json"
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    file_size = 0
    file_format = "json-array"
    compressed = False
    skip_invalid = False
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)


class TranscriptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transcript

    transcript = factory.Sequence(lambda n: f"\n\nHuman: Hello {n}\n\nAssistant: Hi {n}")
    turn_spans = factory.LazyAttribute(lambda o: parse_turn_spans(o.transcript))
    min_harmlessness_score_transcript = 0.0
    num_params = "52B"
    model_type = "rlhf"
    rating = 0
    task_description = "factory"
    red_team_member_id = 1
    is_upworker = False
    content_hash = factory.Sequence(lambda n: n.to_bytes(32, "big"))
    import_batch = factory.SubFactory(ImportBatchFactory)
    source_index = factory.Sequence(lambda n: n + 1)
    created_at = factory.LazyFunction(timezone.now)


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Study {n}")
    seed = 7

    @factory.post_generation
    def leads(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        """StudyFactory(leads=[lead, ...]); created_by leads it too, as study_create makes it."""
        if not create:
            return
        owners = ([self.created_by] if self.created_by is not None else []) + list(extracted or [])
        for owner in owners:
            StudyLead.objects.get_or_create(study=self, lead=owner)


class StudyItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudyItem

    study = factory.SubFactory(StudyFactory)
    transcript = factory.SubFactory(TranscriptFactory)
    position = factory.Sequence(lambda n: n + 1)
    stratum = "all"


def started_study(*, items: int = 3, reviewers: int = 4, authors: list[int] | None = None, **study_fields: Any):
    """A study of `items` transcripts, started (slots created), with `reviewers` members.

    Returns (study, [reviewer users]). Transcript i is authored by red-team member
    authors[i] (default 1000 + i, nobody's profile).
    """

    study = StudyFactory(**study_fields)
    for index in range(items):
        author = authors[index] if authors else 1000 + index
        StudyItemFactory(study=study, position=index + 1, transcript=TranscriptFactory(red_team_member_id=author))
    users = [UserFactory(roles=["reviewer"]) for _ in range(reviewers)]
    study_members_set(study=study, reviewers=users)
    return study_start(study=study), users


def review_everything(study: Study, reviewers: list[Any], rate: Any = None, *, tags: Any = None) -> int:
    """Have each reviewer claim and review until nothing is left for them, through the services.

    rate(item, reviewer_index) gives the rating (default: the author's self-rating);
    tags(item, reviewer_index) the tag ids. Returns the number of reviews given.
    """

    given = 0
    for index, reviewer in enumerate(reviewers):
        while (slot := work_claim(study_id=study.pk, reviewer=reviewer)) is not None:
            item = slot.item
            rating = rate(item, index) if rate else item.transcript.rating
            answers = ReviewAnswers(rating=rating, tag_ids=tuple(tags(item, index)) if tags else ())
            work_submit(slot_id=slot.pk, reviewer=reviewer, answers=answers)
            given += 1
    return given


# The paper's check-in feelings, in its order (seeded by wellbeing/migrations/0002).
FEELINGS = [
    "upset",
    "hostile",
    "alert",
    "ashamed",
    "inspired",
    "nervous",
    "determined",
    "attentive",
    "afraid",
    "active",
]


def lead_of_every_study(**fields: Any) -> Any:
    """A lead (UserFactory fields) who leads every study made so far, for tests that walk a
    lead's pages after building their studies."""
    lead = UserFactory(roles=["lead"], **fields)
    for study in Study.objects.all():
        StudyLead.objects.get_or_create(study=study, lead=lead)
    return lead
