"""The record validator and turn parser, one test per class of bad input."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from tests.factories import released_record
from transcripts.importing import (
    IMPORT_GC_THRESHOLD,
    CleanRecord,
    RawRecord,
    RecordError,
    _validate_common_case,
    _validate_thoroughly,
    collector_relaxed,
    validate_record,
)
from transcripts.turns import Turn, parse_turn_spans, turns_from_spans

TAG_IDS = {"Theft": 6, "theft": 6, "Weapons": 11, "weapons": 11}


def validate(data: Any, index: int = 3, line: int | None = None) -> CleanRecord | list[RecordError]:
    return validate_record(RawRecord(index=index, line=line, data=data), TAG_IDS)


def only_error(data: Any) -> RecordError:
    outcome = validate(data)
    assert isinstance(outcome, list), f"expected a rejection, got {outcome!r}"
    assert len(outcome) == 1, outcome
    return outcome[0]


def test_released_record_is_accepted_with_float_rating_as_integer() -> None:
    record = validate(released_record(rating=4.0))
    assert isinstance(record, CleanRecord)
    assert record.rating == 4
    assert isinstance(record.rating, int)
    assert turns_from_spans(record.transcript, record.turn_spans) == [
        ("Human", "Tell me a rude joke about pineapple pizza."),
        ("Assistant", "Pineapple pizza is a matter of taste, and I'd rather not be rude about anyone's dinner."),
    ]


def test_misspelled_and_correct_score_keys_give_the_same_record() -> None:
    misspelled = validate(released_record(task_descripton_harmlessness_score=0.75))
    correct_data = released_record()
    del correct_data["task_descripton_harmlessness_score"]
    correct = validate({**correct_data, "task_description_harmlessness_score": 0.75})
    assert isinstance(misspelled, CleanRecord) and isinstance(correct, CleanRecord)
    assert misspelled.task_description_harmlessness_score == correct.task_description_harmlessness_score == 0.75
    assert misspelled.content_hash == correct.content_hash


def test_both_score_spellings_with_different_values_are_rejected() -> None:
    error = only_error(released_record(task_description_harmlessness_score=9.0))
    assert error.field == "task_description_harmlessness_score"
    assert "both spellings" in error.reason


def test_null_tags_and_a_missing_description_score_are_allowed() -> None:
    data = released_record(tags=None)
    del data["task_descripton_harmlessness_score"]
    record = validate(data)
    assert isinstance(record, CleanRecord)
    assert record.source_tags is None
    assert record.task_description_harmlessness_score is None


def test_known_tags_map_to_the_vocabulary_and_unknown_ones_are_kept_raw_with_a_warning() -> None:
    record = validate(released_record(tags=["Theft", "weapons", "Lasers"]))
    assert isinstance(record, CleanRecord)
    assert record.tag_ids == [6, 11]
    assert record.source_tags == ["Theft", "weapons", "Lasers"]
    assert [(w.field, w.reason) for w in record.warnings] == [("tags", "unknown tag 'Lasers' kept raw, not mapped")]


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"rating": 5.0}, "rating", "5 is outside 0-4"),
        ({"rating": -1}, "rating", "-1 is outside 0-4"),
        ({"rating": 2.5}, "rating", "2.5 is not a whole number 0-4"),
        ({"rating": "4"}, "rating", "must be a number 0-4, got a string"),
        ({"rating": True}, "rating", "must be a number 0-4, got a boolean"),
        ({"model_type": "gpt"}, "model_type", "'gpt' is not a known model type"),
        ({"num_params": "7B"}, "num_params", "'7B' is not one of 2.7B, 13B, 52B"),
        ({"transcript": 12}, "transcript", "must be a string, got an integer"),
        ({"transcript": "   "}, "transcript", "is empty"),
        ({"transcript": "Hello there"}, "transcript", "does not parse into Human/Assistant turns"),
        ({"transcript": "\n\nAssistant: hi\n\nHuman: yo"}, "transcript", "starts with an 'Assistant:' turn"),
        ({"transcript": "\n\nHuman: only me"}, "transcript", "has no 'Assistant:' turn"),
        ({"transcript": "preamble\n\nHuman: a\n\nAssistant: b"}, "transcript", "has text before the first"),
        ({"transcript": "\n\nHuman: a\x00\n\nAssistant: b"}, "transcript", "NUL character"),
        ({"transcript": "\n\nHuman: \ud800\n\nAssistant: b"}, "transcript", "unpaired UTF-16 surrogate"),
        ({"min_harmlessness_score_transcript": "low"}, "min_harmlessness_score_transcript", "finite number"),
        ({"min_harmlessness_score_transcript": float("nan")}, "min_harmlessness_score_transcript", "finite number"),
        ({"task_description": ["a"]}, "task_description", "must be a string, got a list"),
        ({"task_descripton_harmlessness_score": "x"}, "task_descripton_harmlessness_score", "finite number or null"),
        ({"red_team_member_id": "abc"}, "red_team_member_id", "must be an integer, got a string"),
        ({"red_team_member_id": 1.5}, "red_team_member_id", "must be an integer"),
        ({"red_team_member_id": -3}, "red_team_member_id", "-3 is negative"),
        ({"is_upworker": "yes"}, "is_upworker", "must be true or false, got a string"),
        ({"red_team_member_id": 2**63}, "red_team_member_id", "9223372036854775808 is too large: ids must fit in 64"),
        ({"red_team_member_id": float("inf")}, "red_team_member_id", "must be an integer, got a number"),
        ({"red_team_member_id": float("nan")}, "red_team_member_id", "must be an integer, got a number"),
        ({"red_team_member_id": 1e300}, "red_team_member_id", "is too large: ids must fit in 64 bits"),
        ({"min_harmlessness_score_transcript": 10**400}, "min_harmlessness_score_transcript", "out of range"),
        ({"min_harmlessness_score_transcript": 2**63}, "min_harmlessness_score_transcript", "out of range"),
        ({"task_descripton_harmlessness_score": -(10**400)}, "task_descripton_harmlessness_score", "out of range"),
        ({"rating": 10**400}, "rating", "is outside 0-4"),
        ({"tags": "Theft"}, "tags", "must be null or a list of strings, got a string"),
        ({"tags": ["Theft", 3]}, "tags", "must be null or a list of strings"),
    ],
)
def test_each_invalid_field_is_rejected_with_field_and_reason(
    overrides: dict[str, Any], field: str, reason: str
) -> None:
    error = only_error(released_record(**overrides))
    assert error.field == field
    assert reason in error.reason
    assert error.record == 3


@pytest.mark.parametrize(
    "field",
    [
        "transcript",
        "min_harmlessness_score_transcript",
        "num_params",
        "model_type",
        "rating",
        "task_description",
        "red_team_member_id",
        "is_upworker",
    ],
)
def test_a_missing_required_field_is_named(field: str) -> None:
    data = released_record()
    del data[field]
    error = only_error(data)
    assert (error.field, error.reason) == (field, "is missing")


def test_every_bad_field_of_one_record_is_reported_not_just_the_first() -> None:
    outcome = validate(released_record(rating=9, model_type="x", is_upworker=None))
    assert isinstance(outcome, list)
    assert {error.field for error in outcome} == {"rating", "model_type", "is_upworker"}


def test_a_record_that_is_not_an_object_is_rejected() -> None:
    error = only_error([1, 2, 3])
    assert error.field is None
    assert error.reason == "is a list, not a JSON object"


def test_error_text_names_file_line_record_and_field() -> None:
    outcome = validate(released_record(rating=7), index=12, line=14)
    assert isinstance(outcome, list)
    assert outcome[0].describe("data.jsonl") == "data.jsonl: line 14 (record 12): field 'rating': 7 is outside 0-4"


def test_huge_values_are_cut_short_in_messages() -> None:
    error = only_error(released_record(model_type="x" * 1_000_000))
    assert len(error.reason) < 200


def test_content_hash_ignores_float_versus_integer_rating() -> None:
    as_float = validate(released_record(rating=3.0))
    as_int = validate(released_record(rating=3))
    assert isinstance(as_float, CleanRecord) and isinstance(as_int, CleanRecord)
    assert as_float.content_hash == as_int.content_hash


def parse(text: str) -> list[Turn]:
    return turns_from_spans(text, parse_turn_spans(text))


def test_turns_keep_order_and_allow_repeated_speakers_and_markup() -> None:
    text = "\n\nHuman: <script>alert(1)</script>\n\nHuman: again\n\nAssistant: no\n\nHuman: ok?\n\nAssistant:"
    assert parse(text) == [
        ("Human", "<script>alert(1)</script>"),
        ("Human", "again"),
        ("Assistant", "no"),
        ("Human", "ok?"),
        ("Assistant", ""),
    ]


def test_turn_markers_inside_a_line_are_text_not_turns() -> None:
    assert parse("\n\nHuman: say 'Assistant: yes' please\n\nAssistant: no") == [
        ("Human", "say 'Assistant: yes' please"),
        ("Assistant", "no"),
    ]


def test_turn_text_keeps_inner_paragraphs_and_drops_surrounding_space() -> None:
    text = "Human:   first line\n\nsecond paragraph  \n\n\n\nAssistant: reply \n"
    assert parse(text) == [("Human", "first line\n\nsecond paragraph"), ("Assistant", "reply")]


def test_spans_point_into_the_raw_text() -> None:
    text = "\n\nHuman: héllo 👋\n\nAssistant: bye"
    spans = parse_turn_spans(text)
    assert spans == [["Human", 9, 16], ["Assistant", 29, 32]]
    assert [text[start:end] for _, start, end in spans] == ["héllo 👋", "bye"]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"rating": 4},
        {"rating": 0.0, "is_upworker": True},
        {"min_harmlessness_score_transcript": -7},
        {"task_descripton_harmlessness_score": None},
        {"model_type": "plain lm", "num_params": "2.7B"},
        {"transcript": "Human: no leading blank line\n\nAssistant: still fine"},
        {"task_description": "émoji 👋 and <b>markup</b>"},
    ],
)
def test_the_fast_path_and_the_thorough_path_build_the_same_record(overrides: dict[str, Any]) -> None:
    raw = RawRecord(index=5, line=9, data=released_record(**overrides))
    fast = _validate_common_case(raw)
    thorough = _validate_thoroughly(raw, TAG_IDS)
    assert fast is not None, "a plain valid record should take the fast path"
    assert fast == thorough


@pytest.mark.parametrize(
    "overrides",
    [
        {"tags": ["Theft"]},
        {"extra_field": 1},
        {"task_description_harmlessness_score": 0.5},
        {"red_team_member_id": 3.0},
    ],
)
def test_unusual_but_valid_records_take_the_thorough_path_and_pass(overrides: dict[str, Any]) -> None:
    raw = RawRecord(index=1, line=None, data=released_record(**overrides))
    assert _validate_common_case(raw) is None
    assert isinstance(validate_record(raw, TAG_IDS), CleanRecord)


def test_nested_collector_relaxations_restore_the_collector_only_when_the_last_one_ends() -> None:
    before = gc.get_threshold()
    with collector_relaxed():
        relaxed = gc.get_threshold()
        with collector_relaxed():
            pass
        assert gc.get_threshold() == relaxed, "the inner one ended while the outer one still runs"
        assert relaxed[0] >= IMPORT_GC_THRESHOLD
    assert gc.get_threshold() == before


def test_a_relaxed_collector_is_restored_when_the_import_raises() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collector_relaxed():
        raise RuntimeError("the import failed")
    assert gc.get_threshold() == before


def test_a_web_workers_frozen_start_up_stays_frozen_through_a_relaxed_collector() -> None:
    gc.freeze()  # as deploy/gunicorn.conf.py does when a worker has started
    try:
        with collector_relaxed():
            pass
        # Not an exact count: frozen objects that are freed leave the count. Unfreezing empties it.
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
