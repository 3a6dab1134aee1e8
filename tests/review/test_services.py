"""Importing files and drawing studies, through the services the commands and pages call."""

from __future__ import annotations

import gc
import gzip
from pathlib import Path

import pytest

from review.models import Study, StudyItem
from review.sampling import StratumTooSmall, StudyInvalid, parse_stratum
from review.services.studies import study_create
from tagging.models import Tag
from tests.factories import UserFactory, released_record, varied_records, write_released
from transcripts.importing import IMPORT_GC_THRESHOLD, ImportFileError
from transcripts.models import ImportBatch, Transcript
from transcripts.services import ImportRejected, transcript_import

pytestmark = pytest.mark.django_db

FORMATS = [
    ("records.json", "json-array"),
    ("records.json.gz", "json-array"),
    ("records.jsonl", "jsonl"),
    ("records.jsonl.gz", "jsonl"),
]


@pytest.mark.parametrize(("name", "file_format"), FORMATS)
def test_every_format_imports_every_field(tmp_path: Path, name: str, file_format: str) -> None:
    records = varied_records(5)
    records[0]["tags"] = ["Theft", "Weapons"]
    path = write_released(tmp_path / name, records, file_format=file_format)

    result = transcript_import(path=path)

    assert (result.created, result.duplicates, result.rejected_records) == (5, 0, 0)
    batch = result.batch
    assert batch is not None
    assert batch.file_format == file_format
    assert batch.compressed is name.endswith(".gz")
    assert batch.created_count == 5
    assert len(batch.sha256) == 64
    first = Transcript.objects.get(source_index=1)
    assert first.transcript == records[0]["transcript"]
    assert first.turns == [("Human", "Question number 0?"), ("Assistant", "Answer number 0.")]
    assert (first.model_type, first.num_params, first.rating) == ("context distillation", "52B", 0)
    assert first.min_harmlessness_score_transcript == 1.25
    assert first.task_description == "Tried to get a rude joke about pizza"
    assert first.task_description_harmlessness_score == 0.5
    assert (first.red_team_member_id, first.is_upworker) == (0, False)
    assert first.source_tags == ["Theft", "Weapons"]
    assert sorted(first.tags.values_list("name", flat=True)) == ["Theft", "Weapons"]
    assert first.import_batch == batch
    assert list(Transcript.objects.order_by("source_index").values_list("rating", flat=True)) == [0, 1, 2, 3, 4]


def test_import_runs_through_copy_on_postgres(on_postgres: None, tmp_path: Path) -> None:
    path = write_released(tmp_path / "r.json", varied_records(4500))  # more than two COPY chunks
    result = transcript_import(path=path)
    assert result.created == 4500
    assert Transcript.objects.count() == 4500
    assert Transcript.objects.filter(turn_spans__0__0="Human").count() == 4500
    last = Transcript.objects.get(source_index=4500)
    assert last.turns == [("Human", "Question number 4499?"), ("Assistant", "Answer number 4499.")]


def test_the_correctly_spelled_score_key_is_accepted(tmp_path: Path) -> None:
    record = released_record()
    del record["task_descripton_harmlessness_score"]
    record["task_description_harmlessness_score"] = -0.25
    transcript_import(path=write_released(tmp_path / "r.json", [record]))
    assert Transcript.objects.get().task_description_harmlessness_score == -0.25


def test_reimporting_the_same_file_creates_nothing_and_keeps_no_batch(tmp_path: Path) -> None:
    path = write_released(tmp_path / "r.json.gz", varied_records(10))
    first = transcript_import(path=path)

    again = transcript_import(path=path)

    assert (again.created, again.duplicates) == (0, 10)
    assert again.batch is None
    assert first.batch is not None
    assert again.identical_batch_ids == [first.batch.pk]
    assert Transcript.objects.count() == 10
    assert ImportBatch.objects.count() == 1


def test_a_file_overlapping_earlier_imports_adds_only_new_records(tmp_path: Path) -> None:
    records = varied_records(8)
    transcript_import(path=write_released(tmp_path / "a.jsonl", records[:5], file_format="jsonl"))
    result = transcript_import(path=write_released(tmp_path / "b.json", records[3:] + records[3:4]))
    assert (result.created, result.duplicates) == (3, 3)
    assert Transcript.objects.count() == 8


def test_an_invalid_record_aborts_the_import_and_lists_every_error(tmp_path: Path) -> None:
    records = varied_records(3000)
    records[10]["rating"] = 9.0
    records[2500]["model_type"] = "gpt-9"
    records[2500]["is_upworker"] = "no"
    path = write_released(tmp_path / "bad.jsonl", records, file_format="jsonl")

    with pytest.raises(ImportRejected) as caught:
        transcript_import(path=path)

    errors = [(e.record, e.line, e.field) for e in caught.value.errors]
    assert errors == [(11, 11, "rating"), (2501, 2501, "model_type"), (2501, 2501, "is_upworker")]
    assert caught.value.records_seen == 3000
    assert Transcript.objects.count() == 0
    assert ImportBatch.objects.count() == 0


def test_a_failed_import_leaves_earlier_imports_untouched(tmp_path: Path) -> None:
    transcript_import(path=write_released(tmp_path / "good.json", varied_records(4)))
    bad = varied_records(6)
    bad[5]["rating"] = 11
    with pytest.raises(ImportRejected):
        transcript_import(path=write_released(tmp_path / "bad.json", bad))
    assert Transcript.objects.count() == 4
    assert ImportBatch.objects.count() == 1


def test_skip_invalid_imports_the_valid_records_and_keeps_the_rejects(tmp_path: Path) -> None:
    records = varied_records(5)
    records[1]["rating"] = 7
    path = tmp_path / "mixed.jsonl"
    write_released(path, records, file_format="jsonl")
    path.write_bytes(path.read_bytes() + b"{not json\n")

    result = transcript_import(path=path, skip_invalid=True)

    assert (result.created, result.rejected_records) == (4, 2)
    batch = result.batch
    assert batch is not None
    assert batch.rejected_count == 2
    assert [(row["record"], row["line"]) for row in batch.errors] == [(2, 2), (6, 6)]
    assert batch.errors[0]["errors"] == [{"record": 2, "line": 2, "field": "rating", "reason": "7 is outside 0-4"}]
    assert '"rating": 7' in batch.errors[0]["raw"]
    assert batch.errors[1]["errors"][0]["reason"].startswith("not valid JSON")


def test_unknown_tags_are_reported_on_the_batch_and_kept_raw(tmp_path: Path) -> None:
    result = transcript_import(path=write_released(tmp_path / "t.json", [released_record(tags=["Lasers", "Theft"])]))
    assert result.batch is not None
    assert result.batch.warnings == [
        {"record": 1, "line": None, "field": "tags", "reason": "unknown tag 'Lasers' kept raw, not mapped"}
    ]
    transcript = Transcript.objects.get()
    assert transcript.source_tags == ["Lasers", "Theft"]
    assert list(transcript.tags.all()) == [Tag.objects.get(name="Theft")]


def test_the_importer_is_recorded_on_the_batch(tmp_path: Path) -> None:
    lead = UserFactory(roles=["lead"])
    result = transcript_import(path=write_released(tmp_path / "t.json", varied_records(1)), created_by=lead)
    assert result.batch is not None and result.batch.created_by == lead


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"   \n ", "the file is empty"),
        (b"hello", "expected a JSON array"),
        (b'[{"transcript": "x"}, {"broken', "malformed JSON after record 1"),
        (b"[]", "holds no records"),
        (gzip.compress(b'[{"a": 1}]')[:-12], "gzip stream is corrupt or truncated"),
        (b'["\xff\xfe"]', "after record 0"),
    ],
)
def test_an_unreadable_file_is_a_clear_error_and_writes_nothing(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as caught:
        transcript_import(path=path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
    assert ImportBatch.objects.count() == 0


def test_a_gzip_file_truncated_midway_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    path = write_released(tmp_path / "big.json.gz", varied_records(5000))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ImportFileError, match="gzip stream is corrupt or truncated"):
        transcript_import(path=path)
    assert Transcript.objects.count() == 0


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match=r"nope\.json: no such file"):
        transcript_import(path=tmp_path / "nope.json")


def test_invalid_utf8_in_a_jsonl_line_is_a_record_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    good = write_released(tmp_path / "g.jsonl", varied_records(2), file_format="jsonl").read_bytes()
    path.write_bytes(good + b'{"transcript": "caf\xe9"}\n')
    with pytest.raises(ImportRejected) as caught:
        transcript_import(path=path)
    [error] = caught.value.errors
    assert (error.record, error.line) == (3, 3)
    assert "not valid UTF-8" in error.reason


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = write_released(tmp_path / "bom.json", varied_records(2))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert transcript_import(path=path).created == 2


# --- studies -------------------------------------------------------------------------------

PAPER_STRATA = ["model_type=context distillation,num_params=52B:30", "model_type=rlhf,num_params=52B:30"]


@pytest.fixture
def imported(tmp_path: Path) -> None:
    transcript_import(path=write_released(tmp_path / "pool.json", varied_records(400)))


def _items(study: Study) -> list[tuple[str, str]]:
    return list(study.items.order_by("position").values_list("transcript__content_hash", "stratum"))


def test_the_same_seed_on_the_same_data_draws_the_same_items(imported: None) -> None:
    strata = [parse_stratum(spec) for spec in PAPER_STRATA]
    first = study_create(name="A", strata=strata, seed=7)
    second = study_create(name="B", strata=strata, seed=7)
    other = study_create(name="C", strata=strata, seed=8)

    assert _items(first) == _items(second)
    assert _items(first) != _items(other)
    assert first.items.count() == 60
    assert first.items.filter(transcript__model_type="rlhf", transcript__num_params="52B").count() == 30
    assert set(first.items.values_list("stratum", flat=True)) == {
        "model_type=context distillation,num_params=52B",
        "model_type=rlhf,num_params=52B",
    }
    assert first.strata[0] == {
        "filters": {"model_type": "context distillation", "num_params": "52B"},
        "size": 30,
        "available": 100,
    }


def test_the_sample_does_not_depend_on_import_order(tmp_path: Path) -> None:
    records = varied_records(200)
    stratum = parse_stratum("model_type=rlhf:20")
    transcript_import(path=write_released(tmp_path / "reversed.json", list(reversed(records))))
    drawn_after_reversed_import = _items(study_create(name="R", strata=[stratum], seed=3))

    Study.objects.all().delete()
    Transcript.objects.all().delete()
    ImportBatch.objects.all().delete()
    transcript_import(path=write_released(tmp_path / "forward.json", records))

    assert _items(study_create(name="R", strata=[stratum], seed=3)) == drawn_after_reversed_import


def test_overlapping_strata_never_draw_an_item_twice(imported: None) -> None:
    study = study_create(name="O", strata=[parse_stratum("model_type=rlhf:100"), parse_stratum("all:300")], seed=1)
    assert study.items.count() == 400
    assert study.items.values("transcript").distinct().count() == 400


def test_a_stratum_asking_for_more_than_exists_names_it_and_the_count(imported: None) -> None:
    with pytest.raises(StratumTooSmall) as caught:
        study_create(name="X", strata=[parse_stratum("model_type=rlhf,num_params=52B:101")], seed=1)
    assert str(caught.value) == (
        "stratum 'model_type=rlhf,num_params=52B' asks for 101 transcripts but only 100 are available"
    )
    assert not Study.objects.exists()
    assert not StudyItem.objects.exists()


def test_study_settings_are_checked_before_drawing(imported: None) -> None:
    strata = [parse_stratum("all:5")]
    study_create(name="Taken", strata=strata, seed=1)
    with pytest.raises(StudyInvalid, match="exists already"):
        study_create(name="Taken", strata=strata, seed=1)
    with pytest.raises(StudyInvalid, match="reviewers per item must be 1-20"):
        study_create(name="Z", strata=strata, seed=1, reviewers_per_item=0)
    with pytest.raises(StudyInvalid, match="at least one stratum"):
        study_create(name="Z", strata=[], seed=1)


def test_a_new_study_keeps_its_design(imported: None) -> None:
    lead = UserFactory(roles=["lead"])
    study = study_create(
        name="Design",
        strata=[parse_stratum("all:10")],
        seed=42,
        reviewers_per_item=4,
        lease_minutes=15,
        created_by=lead,
    )
    study.refresh_from_db()
    assert (study.reviewers_per_item, study.lease_minutes, study.seed, study.status) == (4, 15, 42, "draft")
    assert study.created_by == lead
    assert list(study.items.values_list("position", flat=True)) == list(range(1, 11))


def test_the_collector_is_relaxed_while_an_import_reads_and_restored_after_it_succeeds_or_fails(
    tmp_path: Path,
) -> None:
    before = gc.get_threshold()
    seen: list[int] = []

    def progress(_: int) -> None:
        seen.append(gc.get_threshold()[0])

    transcript_import(path=write_released(tmp_path / "good.json", varied_records(2500)), progress=progress)
    assert seen, "progress is reported while reading"
    assert all(threshold >= IMPORT_GC_THRESHOLD for threshold in seen)
    assert gc.get_threshold() == before

    bad = varied_records(3)
    bad[1]["rating"] = 11
    with pytest.raises(ImportRejected):
        transcript_import(path=write_released(tmp_path / "bad.json", bad))
    assert gc.get_threshold() == before
