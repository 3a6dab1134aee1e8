"""The labels export: every review of a study, read back and compared with the database, with
label_dict (what the paginated API gives) and, on PostgreSQL, between COPY and the Python fallback."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection

from adjudication.models import Adjudication
from agreement.models import ItemConsensus
from agreement.services import consensus_refresh
from api import export
from api.export import CHUNK_BYTES, EXPORT_FORMATS, labels_export, labels_export_python, labels_export_summary
from api.pseudonyms import reviewer_pseudonym
from api.selectors import LABEL_FIELDS, TIMESTAMP_FORMAT, label_dict, label_rows
from review.models import Review, Study
from review.services.answers import ReviewAnswers
from review.services.studies import study_members_set, study_notes_sharing_set, study_start
from tagging.models import Tag
from tests.factories import (
    StudyFactory,
    StudyItemFactory,
    TranscriptFactory,
    UserFactory,
    review_everything,
    started_study,
)
from transcripts.models import Transcript
from workspace.services import work_claim, work_submit

pytestmark = pytest.mark.django_db

# Scores whose text differs between PostgreSQL's float8 output and Python's repr.
SCORES = [0.0, 3.0, -3.25, 1.5, 0.1 + 0.2, 1e-05, -0.0, 1e15, 1234567890123456.8, 1e16, 2.5e-7, -7.0]
HOSTILE = [
    "back\\slash, \\n is not a newline, \\\\ two, \\u0041 not an A",
    'quote " and \'single\' and ""doubled""',
    "line one\nline two\r\nwindows\rold mac",
    "tab\there\tand\tthere",
    "emoji 😀 and a flag 🏳️‍🌈 and CJK 漢字",
    "</script><script>alert(1)</script>",
    "right-to-left \u202eoverride\u202c and \u2028 separators \u2029",
    "next line \x85 and form feed \x0c and vertical tab \x0b",
    "control \x01 \x02 \x1f bell \x07 delete \x7f",
    "\\.",  # COPY's end-of-data marker, alone
    "",
    "  leading spaces, trailing  ",
    "comma, semicolon; pipe | and % percent %s %(x)s",
]
FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\tstarts with a tab", "\rstarts with CR"]
HARMLESS = ["a=b", "1+1", "e-mail", "mail@example.com", " =leading space", "\nstarts with LF"]


def export_text(study: Study, export_format: str, *, fallback: bool = False) -> str:
    function = labels_export_python if fallback else labels_export
    return b"".join(function(study=study, export_format=export_format)).decode()


def jsonl_lines(text: str) -> list[str]:
    """The lines of a JSONL export, split at line feeds only: str.splitlines would also split
    at U+2028, U+2029 and U+0085, which JSON leaves unescaped inside strings."""
    assert text == "" or text.endswith("\n")
    return text.split("\n")[:-1]


def labeled_study(
    *, items: int = len(SCORES), share_notes: bool = False, texts: list[str] | None = None, consensus: bool = True
) -> Study:
    """A fully reviewed study: 0, 1 or 2 tags, every score of SCORES, and texts as notes and domains;
    its consensus computed unless consensus is False (then the consensus columns are null)."""
    study, reviewers = started_study(items=items, reviewers=3)
    odd, _ = Tag.objects.get_or_create(
        slug="odd-tag", defaults={"name": 'odd "tag", with \\ and ; in it', "position": 900}
    )
    tags = [*Tag.objects.exclude(pk=odd.pk).order_by("position")[:3], odd]
    review_everything(
        study,
        reviewers,
        rate=lambda item, index: (item.position + index) % 5,
        tags=lambda item, index: [tag.pk for tag in tags[index : 2 * index]][:: -1 if item.position % 2 else 1],
    )
    for item in study.items.select_related("transcript"):
        Transcript.objects.filter(pk=item.transcript_id).update(
            min_harmlessness_score_transcript=SCORES[item.position % len(SCORES)],
            is_upworker=item.position % 2 == 0,
        )
    texts = texts or HOSTILE
    for number, review_id in enumerate(Review.objects.filter(study=study).order_by("id").values_list("pk", flat=True)):
        Review.objects.filter(pk=review_id).update(
            note=texts[number % len(texts)],
            needs_expertise=number % 3 != 0,
            expertise_domain=texts[(number + 1) % len(texts)][:200] if number % 3 else "",
        )
    adjudicate_some(study, tags)
    if share_notes:
        study_notes_sharing_set(study=study, enabled=True)
    if consensus:
        consensus_refresh(study_id=study.pk)
    return Study.objects.get(pk=study.pk)


def adjudicate_some(study: Study, tags: list[Tag]) -> None:
    """A final label on every third item, with no, one and two tags in turn: the adjudicated_*
    fields of the other items' labels stay null. Written directly (the queue rule is tested in
    tests/adjudication): this module tests how labels are written out."""
    adjudicator = UserFactory(roles=["lead"])
    for item in study.items.filter(position__gt=0).order_by("position"):
        if item.position % 3:
            continue
        chosen = tags[(item.position // 3) % 4 :][: (item.position // 3) % 3]
        Adjudication.objects.create(
            item=item,
            study=study,
            rating=item.position % 5,
            first_tag=chosen[0] if chosen else None,
            second_tag=chosen[1] if len(chosen) > 1 else None,
            reason="the reason is not exported",
            adjudicated_by=adjudicator,
        )


def expected_labels(study: Study) -> list[dict[str, Any]]:
    """The labels straight from the models, without label_dict."""
    labels = []
    reviews = (
        Review.objects.labels()
        .filter(study=study)
        .select_related("item__transcript", "first_tag", "second_tag", "expertise_tag")
    )
    for review in reviews.order_by("id"):
        transcript = review.item.transcript
        consensus = ItemConsensus.objects.filter(item_id=review.item_id).first()
        label = {
            "id": review.pk,
            "study": study.pk,
            "item": review.item_id,
            "position": review.item.position,
            "transcript": transcript.pk,
            "model_type": transcript.model_type,
            "num_params": transcript.num_params,
            "self_rating": transcript.rating,
            "min_harmlessness_score": transcript.min_harmlessness_score_transcript,
            "red_team_member_id": transcript.red_team_member_id,
            "is_upworker": transcript.is_upworker,
            "reviewer": reviewer_pseudonym(study_id=study.pk, reviewer_id=review.reviewer_id),
            "rater_role": review.rater_role,
            "rating": review.rating,
            "binary_label": int(review.rating >= 3),
            "tags": [tag.name for tag in (review.first_tag, review.second_tag) if tag is not None],
            "needs_expertise": review.needs_expertise,
            "expertise_tag": review.expertise_tag.name if review.expertise_tag else None,
            "expertise_domain": review.expertise_domain,
            "note": review.note,
            "created_at": review.created_at,
            **expected_adjudication(review),
            "consensus_method": "dawid_skene" if consensus else None,
            "consensus_label": consensus.ds_binary_label if consensus else None,
            "consensus_probability": consensus.ds_binary_probability if consensus else None,
        }
        if not study.api_share_notes:
            del label["note"]
        labels.append(label)
    return labels


def expected_adjudication(review: Review) -> dict[str, Any]:
    adjudication = Adjudication.objects.filter(item_id=review.item_id).first()
    if adjudication is None:
        return dict.fromkeys(["adjudicated_rating", "adjudicated_tags", "adjudicated_by", "adjudicated_at"])
    return {
        "adjudicated_rating": adjudication.rating,
        "adjudicated_tags": [tag.name for tag in (adjudication.first_tag, adjudication.second_tag) if tag is not None],
        "adjudicated_by": reviewer_pseudonym(study_id=review.study_id, reviewer_id=adjudication.adjudicated_by_id),
        "adjudicated_at": adjudication.adjudicated_at.astimezone(UTC).strftime(TIMESTAMP_FORMAT),
    }


def parsed_time(value: str) -> datetime:
    return datetime.strptime(value, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def fields_of(study: Study) -> list[str]:
    return [name for name in LABEL_FIELDS if name != "note" or study.api_share_notes]


@pytest.mark.parametrize("share_notes", [False, True])
def test_the_jsonl_export_holds_every_review_of_the_study_with_every_field_as_stored(share_notes: bool) -> None:
    study = labeled_study(share_notes=share_notes)
    labeled_study(items=2)  # another study's reviews stay out

    lines = export_text(study, "jsonl").split("\n")

    assert lines[-1] == ""
    labels = [json.loads(line) for line in lines[:-1]]
    expected = expected_labels(study)
    assert len(labels) == len(expected) == 3 * len(SCORES)
    for label, want in zip(labels, expected, strict=True):
        assert list(label) == fields_of(study)
        assert parsed_time(label.pop("created_at")) == want.pop("created_at")
        assert label == want
        assert type(label["min_harmlessness_score"]) is float


def test_each_jsonl_line_is_exactly_the_label_dict_of_its_review_so_the_api_and_the_export_agree() -> None:
    study = labeled_study(share_notes=True)

    lines = jsonl_lines(export_text(study, "jsonl"))

    rows = label_rows(Review.objects.filter(study=study).order_by("id"))
    assert lines == [json.dumps(label_dict(row), ensure_ascii=False, separators=(",", ":")) for row in rows]
    assert [json.loads(line) for line in lines] == [label_dict(row) for row in rows]


@pytest.mark.parametrize("share_notes", [False, True])
def test_the_csv_export_reads_back_as_the_database_with_label_fields_as_header(share_notes: bool) -> None:
    study = labeled_study(share_notes=share_notes, texts=["plain", "a, comma", 'a "quote"', "two\nlines", ""])

    text = export_text(study, "csv")

    assert text.split("\n", 1)[0] == ",".join(fields_of(study))
    records = list(csv.DictReader(io.StringIO(text, newline="")))
    expected = expected_labels(study)
    assert len(records) == len(expected)
    for record, want in zip(records, expected, strict=True):
        assert list(record) == fields_of(study)
        assert parsed_time(record.pop("created_at")) == want.pop("created_at")
        assert float(record.pop("min_harmlessness_score")) == want.pop("min_harmlessness_score")
        assert record == {
            name: "true"
            if value is True
            else "false"
            if value is False
            else "; ".join(value)
            if name in ("tags", "adjudicated_tags") and value is not None
            else ""
            if value is None
            else str(value)
            for name, value in want.items()
        }


@pytest.mark.parametrize("export_format", EXPORT_FORMATS)
def test_scores_are_written_as_python_writes_floats(export_format: str) -> None:
    study = labeled_study()

    text = export_text(study, export_format)

    if export_format == "jsonl":
        written = [re.search(r'"min_harmlessness_score":([^,]*),', line).group(1) for line in jsonl_lines(text)]
    else:
        written = [record["min_harmlessness_score"] for record in csv.DictReader(io.StringIO(text, newline=""))]
    stored = [label["min_harmlessness_score"] for label in expected_labels(study)]
    assert written == [repr(value) for value in stored]
    assert {"0.0", "3.0", "-3.25", "1000000000000000.0", "1e+16", "1e-05"} <= set(written)


def test_hostile_notes_and_domains_come_back_exactly_from_jsonl() -> None:
    study = labeled_study(items=5, share_notes=True)

    labels = [json.loads(line) for line in jsonl_lines(export_text(study, "jsonl"))]

    stored = {review.pk: review for review in Review.objects.filter(study=study)}
    assert {label["note"] for label in labels} == set(HOSTILE)
    for label in labels:
        assert label["note"] == stored[label["id"]].note
        assert label["expertise_domain"] == stored[label["id"]].expertise_domain


def test_hostile_text_is_quoted_in_csv_and_reads_back_unchanged() -> None:
    study = labeled_study(items=5, share_notes=True)

    records = list(csv.DictReader(io.StringIO(export_text(study, "csv"), newline="")))

    stored = {review.pk: review for review in Review.objects.filter(study=study)}
    assert len(records) == len(stored)
    for record in records:
        assert record["note"] == stored[int(record["id"])].note
        assert record["expertise_domain"] == stored[int(record["id"])].expertise_domain


def test_csv_defuses_formulas_in_free_text_and_jsonl_keeps_them() -> None:
    study = labeled_study(items=4, share_notes=True, texts=FORMULAS + HARMLESS)

    records = list(csv.DictReader(io.StringIO(export_text(study, "csv"), newline="")))
    labels = [json.loads(line) for line in jsonl_lines(export_text(study, "jsonl"))]

    stored = {review.pk: review for review in Review.objects.filter(study=study)}
    for record, label in zip(records, labels, strict=True):
        review = stored[label["id"]]
        for name in ("note", "expertise_domain"):
            value = getattr(review, name)
            assert label[name] == value
            assert record[name] == ("'" + value if value in FORMULAS else value)
    assert {record["note"] for record in records} >= {'\'=HYPERLINK("http://x")', "'-2", "'\rstarts with CR", "a=b"}
    # Fields that are not free text are never touched: a negative score stays a number.
    assert "-3.25" in {record["min_harmlessness_score"] for record in records}


@pytest.mark.parametrize("export_format", EXPORT_FORMATS)
def test_notes_are_left_out_entirely_unless_the_study_shares_them(export_format: str) -> None:
    study = labeled_study(items=2)
    Review.objects.filter(study=study).update(note="secret note")

    hidden = export_text(study, export_format)
    shown = export_text(study_notes_sharing_set(study=study, enabled=True), export_format)

    assert "secret note" not in hidden
    assert '"note"' not in hidden
    assert "note" not in hidden.split("\n", 1)[0]
    assert "secret note" in shown


def test_pseudonyms_are_stable_within_a_study_and_differ_across_studies_for_the_same_reviewer() -> None:
    first, reviewers = started_study(items=2, reviewers=3)
    second = StudyFactory()
    for position in (1, 2):
        StudyItemFactory(study=second, position=position, transcript=TranscriptFactory(red_team_member_id=999))
    study_members_set(study=second, reviewers=reviewers)
    second = study_start(study=second)
    review_everything(first, reviewers)
    review_everything(second, reviewers)

    by_study = {}
    for study in (first, second):
        labels = [json.loads(line) for line in jsonl_lines(export_text(study, "jsonl"))]
        reviewer_ids = dict(Review.objects.filter(study=study).values_list("pk", "reviewer_id"))
        names = {}
        for label in labels:
            reviewer_id = reviewer_ids[label["id"]]
            assert label["reviewer"] == reviewer_pseudonym(study_id=study.pk, reviewer_id=reviewer_id)
            assert names.setdefault(reviewer_id, label["reviewer"]) == label["reviewer"]
        assert len(set(names.values())) == 3
        assert all(re.fullmatch(r"r-[0-9a-f]{12}", name) for name in names.values())
        by_study[study.pk] = names
    for reviewer in reviewers:
        assert by_study[first.pk][reviewer.pk] != by_study[second.pk][reviewer.pk]


def test_an_empty_study_exports_no_lines_in_jsonl_and_only_the_header_in_csv() -> None:
    study, _ = started_study(items=2, reviewers=3)

    assert export_text(study, "jsonl") == ""
    assert export_text(study, "csv") == ",".join(fields_of(study)) + "\n"


@pytest.mark.parametrize("export_format", EXPORT_FORMATS)
def test_the_export_comes_in_chunks_of_about_64_kb_not_a_write_per_row(export_format: str) -> None:
    study = labeled_study(
        items=6, share_notes=True, texts=[f"long note {number} " + "x" * 10_000 for number in range(9)]
    )

    chunks = list(labels_export(study=study, export_format=export_format))

    assert len(chunks) >= 2
    assert all(CHUNK_BYTES <= len(chunk) < CHUNK_BYTES + 30_000 for chunk in chunks[:-1])
    assert b"".join(chunks).decode() == export_text(study, export_format, fallback=True)


def test_an_unknown_format_is_refused_before_anything_runs() -> None:
    study, _ = started_study(items=1, reviewers=3)
    for function in (labels_export, labels_export_python, labels_export_summary):
        with pytest.raises(ValueError, match="jsonl, csv"):
            function(study=study, export_format="xlsx")


def add_one_review(study: Study, reviewer: Any) -> Review:
    slot = work_claim(study_id=study.pk, reviewer=reviewer)
    assert slot is not None
    return work_submit(slot_id=slot.pk, reviewer=reviewer, answers=ReviewAnswers(rating=2))


def test_the_summary_changes_with_a_new_review_and_with_notes_sharing_and_only_then() -> None:
    study, reviewers = started_study(items=2, reviewers=3)
    empty = labels_export_summary(study=study, export_format="jsonl")
    review_everything(study, reviewers[:2])

    summary = labels_export_summary(study=study, export_format="jsonl")

    assert re.fullmatch(r'W/"[0-9a-f]{32}"', summary.etag)
    assert (empty.last_modified, empty.rows) == (None, 0)
    assert summary.etag != empty.etag
    assert summary.rows == Review.objects.filter(study=study).count() == 4
    assert summary.last_modified == max(Review.objects.filter(study=study).values_list("created_at", flat=True))
    assert labels_export_summary(study=study, export_format="jsonl") == summary
    assert labels_export_summary(study=study, export_format="csv").etag != summary.etag

    shared = labels_export_summary(study=study_notes_sharing_set(study=study, enabled=True), export_format="jsonl")
    assert shared.etag != summary.etag
    unshared = labels_export_summary(study=study_notes_sharing_set(study=study, enabled=False), export_format="jsonl")
    assert unshared == summary

    review = add_one_review(study, reviewers[2])
    after = labels_export_summary(study=study, export_format="jsonl")
    assert after.etag != summary.etag
    assert (after.last_modified, after.rows) == (review.created_at, 5)


def test_the_etag_differs_between_studies_with_the_same_counts() -> None:
    first, _ = started_study(items=1, reviewers=3)
    second, _ = started_study(items=1, reviewers=3)

    assert (
        labels_export_summary(study=first, export_format="csv").etag
        != labels_export_summary(study=second, export_format="csv").etag
    )


# --- PostgreSQL: COPY ------------------------------------------------------------------------


@pytest.mark.parametrize("export_format", EXPORT_FORMATS)
@pytest.mark.parametrize(("share_notes", "consensus"), [(False, True), (True, True), (True, False)])
def test_on_postgresql_copy_writes_the_same_bytes_as_the_python_fallback(
    on_postgres: None, monkeypatch: pytest.MonkeyPatch, export_format: str, share_notes: bool, consensus: bool
) -> None:
    study = labeled_study(share_notes=share_notes, texts=HOSTILE + FORMULAS + HARMLESS, consensus=consensus)
    fallback = export_text(study, export_format, fallback=True)

    def no_python_rows(*args: object, **kwargs: object) -> None:
        raise AssertionError("the PostgreSQL export must not read rows through the ORM")

    monkeypatch.setattr(export, "label_rows", no_python_rows)
    copied = export_text(study, export_format)

    assert copied.encode() == fallback.encode()
    assert copied.count("\n") >= 3 * len(SCORES)


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_closing_the_export_early_cancels_the_copy_and_leaves_the_connection_usable(
    on_postgres: None,
) -> None:
    study = labeled_study(items=6, share_notes=True, texts=["x" * 20_000])
    chunks = labels_export(study=study, export_format="jsonl")

    first = next(chunks)
    chunks.close()  # what Django does when the client goes away

    assert first.startswith(b'{"id":')
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert Review.objects.filter(study=study).count() == 18


@pytest.mark.parametrize("fallback", [False, True], ids=["native", "python-fallback"])
def test_csv_defuses_formulas_in_tag_names_and_every_other_text_column(fallback: bool) -> None:
    """Tag names are editable in the admin, so they are text someone typed like any note."""
    study = labeled_study(items=4, share_notes=True, texts=HARMLESS)
    used = Tag.objects.filter(pk__in=Review.objects.filter(study=study).values("first_tag")).order_by("pk")
    renamed = {}
    for tag, formula in zip(used, FORMULAS, strict=False):
        Tag.objects.filter(pk=tag.pk).update(name=formula)
        renamed[tag.pk] = formula
    assert renamed

    records = list(csv.DictReader(io.StringIO(export_text(study, "csv", fallback=fallback), newline="")))

    first_tags = dict(Review.objects.filter(study=study).values_list("pk", "first_tag"))
    defused = 0
    for record in records:
        formula = renamed.get(first_tags[int(record["id"])])
        if formula is not None:
            assert record["tags"].startswith("'" + formula), record["tags"]
            defused += 1
        for name, cell in record.items():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
            assert not cell.startswith("-") or name == "min_harmlessness_score", (name, cell)
    assert defused > 0


@pytest.mark.parametrize("export_format", EXPORT_FORMATS)
def test_every_label_carries_its_items_dawid_skene_consensus_and_null_before_it_is_computed(export_format: str) -> None:
    study = labeled_study(items=4, consensus=False)

    def consensus_cells() -> list[tuple[Any, ...]]:
        text = export_text(study, export_format)
        if export_format == "jsonl":
            rows: list[dict[str, Any]] = [json.loads(line) for line in jsonl_lines(text)]
        else:
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
        return [(row["consensus_method"], row["consensus_label"], row["consensus_probability"]) for row in rows]

    empty = None if export_format == "jsonl" else ""
    assert set(consensus_cells()) == {(empty, empty, empty)}

    consensus_refresh(study_id=study.pk)

    by_item = {row.item_id: row for row in ItemConsensus.objects.filter(study=study)}
    reviews = Review.objects.filter(study=study).order_by("id")
    expected = [
        ("dawid_skene", by_item[review.item_id].ds_binary_label, by_item[review.item_id].ds_binary_probability)
        for review in reviews
    ]
    got = consensus_cells()
    if export_format == "csv":
        got = [(method, int(label), float(probability)) for method, label, probability in got]
    assert got == expected


def test_the_etag_changes_when_the_consensus_is_recomputed() -> None:
    study = labeled_study(items=2, consensus=False)
    before = labels_export_summary(study=study, export_format="jsonl")

    consensus_refresh(study_id=study.pk)

    assert labels_export_summary(study=study, export_format="jsonl").etag != before.etag
