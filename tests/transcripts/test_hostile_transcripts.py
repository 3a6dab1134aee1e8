"""Hostile transcripts (issue 7): each case is imported or rejected with a clear error, and
whatever is imported shows as text on every page that shows it, hidden characters made visible."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from html import escape
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.template import Context, Template
from django.test import Client

from review.models import Slot, Study
from review.selectors import preview_text
from review.services.studies import study_members_set, study_start
from tests.factories import StudyFactory, StudyItemFactory, UserFactory, lead_of_every_study
from tests.fixtures.hostile import cases
from transcripts.importing import ImportFileError
from transcripts.models import ImportBatch, Transcript
from transcripts.services import ImportRejected, transcript_import
from transcripts.templatetags.transcript_text import HIDDEN_CHARACTERS, reveal_hidden_characters, text_direction

pytestmark = pytest.mark.django_db

FIXTURES = cases.HERE
HIDDEN_RUN = re.compile(f"([{HIDDEN_CHARACTERS}])\\1*")


def seen(text: str) -> str:
    """What a reader sees of `text`: every run of one hidden character replaced by its marker's label."""

    def label(match: re.Match[str]) -> str:
        count = len(match.group())
        return f"U+{ord(match.group(1)):04X}" + (f" ×{count}" if count > 1 else "")

    return HIDDEN_RUN.sub(label, text)


class Page(HTMLParser):
    """A page as a browser would build it: its elements, and the text of the elements that show transcripts."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})
    SHOWN = {"turn-text": "turn-text", "preview": "preview", "untrusted": "untrusted"}

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[str, list[str]] = {name: [] for name in self.SHOWN.values()}
        self._depth = 0
        self._open: list[tuple[int, str, list[str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag in self.VOID:
            return
        self._depth += 1
        for css_class in attributes.get("class", "").split():
            if css_class in self.SHOWN:
                self._open.append((self._depth, self.SHOWN[css_class], []))
                break

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if self._open and self._open[-1][0] == self._depth:
            _, name, parts = self._open.pop()
            self.texts[name].append("".join(parts))
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        for _, _, parts in self._open:
            parts.append(data)

    def live_markup(self) -> list[str]:
        """Every element or attribute on the page that could run, load or restyle something."""
        found = []
        for tag, attrs in self.elements:
            risky = [name for name in attrs if name.startswith("on") or name in {"style", "srcdoc", "formaction"}]
            found += [f"<{tag} {name}>" for name in risky]
            for name in ("href", "src", "action"):
                value = attrs.get(name, "").strip().lower()
                if value.startswith(("javascript:", "data:", "http:", "https:", "//")):
                    found.append(f"<{tag} {name}={value[:30]}>")
            source = attrs.get("src", "") or attrs.get("href", "")
            if tag in {"script", "img", "link"} and not source.startswith(("/static/", "/admin/jsi18n/")):
                found.append(f"<{tag}> not from /static/")
            if tag in {"iframe", "frame", "object", "embed", "style", "base"}:
                found.append(f"<{tag}>")
            if tag == "meta" and "http-equiv" in attrs:
                found.append("<meta http-equiv>")
            if attrs.get("id") == "css-overlay":
                found.append("#css-overlay")
        return found


def get_page(client: Client, url: str) -> tuple[str, Page]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode()
    return html, Page(html)


def import_fixture(name: str, **options: Any) -> Any:
    return transcript_import(path=FIXTURES / name, **options)


def study_of(transcripts: list[Transcript]) -> tuple[Study, Any]:
    """A started study over these transcripts with one reviewer, who wrote none of them."""
    study = StudyFactory()
    for position, transcript in enumerate(transcripts, start=1):
        StudyItemFactory(study=study, transcript=transcript, position=position)
    reviewer = UserFactory(roles=["reviewer"])
    study_members_set(study=study, reviewers=[reviewer])
    return study_start(study=study), reviewer


def reviewer_pages(client: Client, study: Study) -> Iterator[tuple[Transcript, str, str]]:
    """Claim every item through the pages, yielding its transcript, preview page and review page, then skip it."""
    for _ in range(study.items.count()):
        response = client.post(f"/review/studies/{study.pk}/next")
        assert response.status_code == 302 and response["Location"].startswith("/review/slots/"), response
        slot = Slot.objects.select_related("item__transcript").get(pk=int(response["Location"].split("/")[3]))
        preview = client.get(f"/review/slots/{slot.pk}/")
        review = client.get(f"/review/slots/{slot.pk}/review")
        assert preview.status_code == review.status_code == 200
        yield slot.item.transcript, preview.content.decode(), review.content.decode()
        assert client.post(f"/review/slots/{slot.pk}/skip").status_code == 302


@pytest.fixture
def hostile_transcripts() -> list[Transcript]:
    assert import_fixture("markup.json").created == len(cases.MARKUP)
    assert import_fixture("invisible.jsonl").created == len(cases.INVISIBLE)
    return list(Transcript.objects.order_by("pk"))


# --- the filter that shows hidden characters ------------------------------------------------


@pytest.mark.parametrize("char", cases.BIDI_CONTROLS + cases.ZERO_WIDTH, ids=lambda char: f"U+{ord(char):04X}")
def test_every_bidi_control_and_zero_width_character_becomes_a_labelled_marker(char: str) -> None:
    code, name = f"U+{ord(char):04X}", unicodedata.name(char)
    assert reveal_hidden_characters(f"a{char}b") == (
        f'a<span class="invisible-char" title="{code} {name}">{code}</span>b'
    )


@pytest.mark.parametrize(
    ("char", "label"),
    [
        ("\U000e0069", "U+E0069 TAG LATIN SMALL LETTER I"),
        ("\x1b", "U+001B CONTROL CHARACTER"),
        ("\x7f", "U+007F CONTROL CHARACTER"),
        ("\u00ad", "U+00AD SOFT HYPHEN"),
        ("\u3164", "U+3164 HANGUL FILLER"),
    ],
)
def test_tag_characters_controls_and_blank_letters_are_shown_too(char: str, label: str) -> None:
    assert f'title="{label}"' in reveal_hidden_characters(f"x{char}y")


def test_markup_around_hidden_characters_is_escaped_and_a_forged_marker_stays_text() -> None:
    forged = '<span class="invisible-char" title="U+202E">U+202E</span>'
    shown = reveal_hidden_characters(f"<b>\u202e{forged}&amp;")
    assert shown == (
        "&lt;b&gt;"
        '<span class="invisible-char" title="U+202E RIGHT-TO-LEFT OVERRIDE">U+202E</span>'
        f"{escape(forged)}&amp;amp;"
    )


def test_a_run_of_one_hidden_character_is_one_marker_with_its_count() -> None:
    shown = reveal_hidden_characters("a" + "\u200b" * 5000 + "b")
    assert shown.count("<span") == 1
    assert ">U+200B ×5000</span>" in shown and 'title="5000 × U+200B ZERO WIDTH SPACE"' in shown


def test_natural_right_to_left_text_and_visible_format_signs_are_left_alone() -> None:
    text = "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd \u0600\u0661\u0662 tab\tnew\nline"
    assert reveal_hidden_characters(text) == text


def test_the_filter_escapes_even_where_autoescape_is_off() -> None:
    template = Template("{% load transcript_text %}{% autoescape off %}{{ text|reveal_hidden }}{% endautoescape %}")
    assert template.render(Context({"text": "<script>\u202e"})) == (
        '&lt;script&gt;<span class="invisible-char" title="U+202E RIGHT-TO-LEFT OVERRIDE">U+202E</span>'
    )


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("\u0645\u0631\u062d\u0628\u0627 Hello", "rtl"),
        ("12, \u05e9\u05dc\u05d5\u05dd", "rtl"),
        ("Hello \u05e9\u05dc\u05d5\u05dd", "ltr"),
        ("\u202eHello", "ltr"),
        ("", "ltr"),
        ("<>" * 10_000 + "\u05e9", "ltr"),
    ],
)
def test_a_text_reads_in_the_direction_of_its_first_strong_character(text: str, direction: str) -> None:
    assert text_direction(text) == direction


# --- importing: what is imported -----------------------------------------------------------


def test_markup_url_css_and_entity_payloads_are_imported_unchanged() -> None:
    result = import_fixture("markup.json")
    assert (result.created, result.rejected_records) == (len(cases.MARKUP), 0)
    for case in cases.MARKUP:
        transcript = Transcript.objects.get(task_description=f"{case.slug}: {case.payload}")
        assert transcript.transcript == cases.hostile_record(case)["transcript"]
        assert [turn.text for turn in transcript.turns][:3] == [
            f"Case {case.slug}: {case.payload}",
            f"I will not help with that. You wrote: {case.payload}",
            f"{case.payload} (again)",
        ]


def test_bidi_zero_width_and_control_characters_are_imported_unchanged() -> None:
    result = import_fixture("invisible.jsonl")
    assert (result.created, result.rejected_records) == (len(cases.INVISIBLE), 0)
    stored = set(Transcript.objects.values_list("transcript", flat=True))
    assert stored == {cases.hostile_record(case)["transcript"] for case in cases.INVISIBLE}
    assert all(char in "".join(stored) for char in cases.BIDI_CONTROLS + cases.ZERO_WIDTH)


def test_a_single_one_megabyte_line_is_imported_whole(tmp_path: Path) -> None:
    path = cases.write_one_megabyte_line(tmp_path / "one-megabyte-line.jsonl")
    assert max(len(line) for line in path.read_bytes().splitlines()) > cases.MEGABYTE
    assert transcript_import(path=path).created == 1
    [first, second] = Transcript.objects.get().turns
    assert first.text == cases.one_megabyte_line_text()
    assert second == ("Assistant", "That is a very long message.")


def test_ten_thousand_turns_are_imported_in_order(tmp_path: Path) -> None:
    assert transcript_import(path=cases.write_ten_thousand_turns(tmp_path / "turns.json")).created == 1
    turns = Transcript.objects.get().turns
    assert len(turns) == 10_000
    assert turns[0] == ("Human", "turn 0 <b>not bold</b> z\u200bw")
    assert turns[9_999] == ("Assistant", "turn 9999 <b>not bold</b> z\u200bw")


# --- importing: what is rejected, and how it is said ---------------------------------------


def test_invalid_utf8_in_a_json_lines_record_is_rejected_naming_line_column_and_byte() -> None:
    with pytest.raises(ImportRejected) as caught:
        import_fixture("invalid_utf8.jsonl")
    [error] = caught.value.errors
    assert error.describe("invalid_utf8.jsonl") == (
        "invalid_utf8.jsonl: line 2 (record 2): not valid UTF-8: byte 0xe9 at column 31 (invalid continuation "
        "byte); the file must be UTF-8 text"
    )
    assert Transcript.objects.count() == ImportBatch.objects.count() == 0


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzipped"])
def test_invalid_utf8_in_a_json_array_stops_the_file_naming_byte_offset_line_and_column(
    tmp_path: Path, compressed: bool
) -> None:
    path = FIXTURES / "invalid_utf8.json"
    content = "the file"
    if compressed:
        path, content = cases.write_gzipped(path, tmp_path / "invalid_utf8.json.gz"), "the decompressed content"
    raw = (FIXTURES / "invalid_utf8.json").read_bytes()
    offset = raw.index(b"\xe9")
    line_start = raw.rindex(b"\n", 0, offset)
    assert (raw.count(b"\n", 0, offset) + 1, offset - line_start) == (3, 31)
    with pytest.raises(ImportFileError) as caught:
        transcript_import(path=path)
    assert str(caught.value) == (
        f"{path}: invalid UTF-8 after record 1, at byte offset {offset} of {content} (line 3, column 31): "
        "byte 0xe9 (invalid continuation byte); the file must be UTF-8 text"
    )
    assert Transcript.objects.count() == ImportBatch.objects.count() == 0


def test_a_nul_character_is_rejected_naming_each_field_it_is_in() -> None:
    with pytest.raises(ImportRejected) as caught:
        import_fixture("nul_escaped.jsonl")
    reason = "contains a NUL character (U+0000), which PostgreSQL cannot store"
    assert [(error.line, error.field, error.reason) for error in caught.value.errors] == [
        (2, "transcript", reason),
        (2, "task_description", reason),
        (3, "task_description", reason),
        (4, "tags", f"tag 2 {reason}"),
    ]
    assert Transcript.objects.count() == 0


def test_a_raw_nul_byte_in_json_lines_is_rejected_naming_line_and_column() -> None:
    with pytest.raises(ImportRejected) as caught:
        import_fixture("nul_raw.jsonl")
    [error] = caught.value.errors
    assert (error.line, error.field) == (2, None)
    assert error.reason == (
        "not valid JSON at column 34: a raw NUL byte (0x00), which JSON must escape and PostgreSQL cannot store "
        "even escaped"
    )


def test_a_raw_nul_byte_in_a_json_array_stops_the_file_naming_where_it_is() -> None:
    offset = (FIXTURES / "nul_raw.json").read_bytes().index(b"\x00")
    with pytest.raises(ImportFileError) as caught:
        import_fixture("nul_raw.json")
    assert str(caught.value).endswith(
        f"nul_raw.json: malformed JSON after record 1, at byte offset {offset} of the file "
        "(line 3, column 34): a raw NUL byte (0x00), which JSON must escape and PostgreSQL cannot store even escaped"
    )


def test_a_lone_surrogate_is_rejected_naming_the_field() -> None:
    with pytest.raises(ImportRejected) as caught:
        import_fixture("lone_surrogate.jsonl")
    assert {(error.line, error.field) for error in caught.value.errors} == {(2, "transcript"), (2, "task_description")}
    assert all("unpaired UTF-16 surrogate" in error.reason for error in caught.value.errors)


def test_with_skip_invalid_the_good_records_are_imported_and_every_reject_is_kept(on_postgres: None) -> None:
    """The rejects are stored as jsonb, which refuses NUL and lone surrogates: they must be kept escaped."""
    kept = {}
    for name in ("nul_escaped.jsonl", "invalid_utf8.jsonl", "nul_raw.jsonl", "lone_surrogate.jsonl"):
        result = import_fixture(name, skip_invalid=True)
        kept[name] = (result.created, result.rejected_records)
    assert kept == {
        "nul_escaped.jsonl": (1, 3),
        "invalid_utf8.jsonl": (2, 1),
        "nul_raw.jsonl": (1, 1),
        "lone_surrogate.jsonl": (1, 1),
    }
    nul_batch = ImportBatch.objects.get(file_name__endswith="nul_escaped.jsonl")
    raw = json.loads(nul_batch.errors[0]["raw"])
    assert raw["transcript"] == cases.hostile_record(cases.Case("nul-in-transcript", "before\x00after"))["transcript"]
    surrogate_batch = ImportBatch.objects.get(file_name__endswith="lone_surrogate.jsonl")
    assert "\\ud83d" in surrogate_batch.errors[0]["raw"]


def test_a_rejected_file_leaves_everything_imported_before_untouched(hostile_transcripts: list[Transcript]) -> None:
    before = list(Transcript.objects.order_by("pk").values_list("pk", "transcript", "task_description"))
    batches = ImportBatch.objects.count()
    for name in ("invalid_utf8.jsonl", "invalid_utf8.json", "nul_escaped.jsonl", "nul_raw.jsonl", "nul_raw.json"):
        with pytest.raises((ImportRejected, ImportFileError)):
            import_fixture(name)
    assert list(Transcript.objects.order_by("pk").values_list("pk", "transcript", "task_description")) == before
    assert ImportBatch.objects.count() == batches


def test_the_import_command_names_file_line_record_field_and_reason() -> None:
    path, stderr = FIXTURES / "nul_escaped.jsonl", StringIO()
    with pytest.raises(CommandError):
        call_command("import_transcripts", str(path), "--no-progress", stderr=stderr)
    err = stderr.getvalue()
    assert (
        f"{path}: line 2 (record 2): field 'transcript': contains a NUL character (U+0000), which PostgreSQL "
        "cannot store"
    ) in err
    assert f"{path}: line 4 (record 4): field 'tags': tag 2 contains a NUL character" in err
    assert f"{path}: 3 of 4 records are invalid; nothing was imported." in err


# --- rendering: every page that shows transcript text ---------------------------------------


def test_the_reviewer_preview_and_review_pages_show_every_payload_as_text(
    client: Client, hostile_transcripts: list[Transcript]
) -> None:
    study, reviewer = study_of(hostile_transcripts)
    client.force_login(reviewer)
    visited = set()
    for transcript, preview_html, review_html in reviewer_pages(client, study):
        visited.add(transcript.pk)
        preview, review = Page(preview_html), Page(review_html)
        assert preview.live_markup() == [] and review.live_markup() == []
        assert preview.texts["preview"] == [seen(preview_text(transcript=transcript))]
        assert review.texts["turn-text"] == [seen(turn.text) for turn in transcript.turns]
    assert visited == {transcript.pk for transcript in hostile_transcripts}


def test_the_lead_item_page_shows_every_payload_as_text(client: Client, hostile_transcripts: list[Transcript]) -> None:
    study, _ = study_of(hostile_transcripts)
    client.force_login(lead_of_every_study())
    for item in study.items.select_related("transcript"):
        _, page = get_page(client, f"/lead/studies/{study.pk}/items/{item.pk}/")
        assert page.live_markup() == []
        assert page.texts["turn-text"] == [seen(turn.text) for turn in item.transcript.turns]
        assert page.texts["untrusted"] == [seen(item.transcript.task_description)]


def test_the_admin_transcript_page_shows_every_payload_as_text(
    admin_client: Client, hostile_transcripts: list[Transcript]
) -> None:
    for transcript in hostile_transcripts:
        html, page = get_page(admin_client, f"/admin/transcripts/transcript/{transcript.pk}/change/")
        assert page.live_markup() == []
        assert escape(transcript.task_description) in html
        for turn in transcript.turns:
            # Escaped, and perhaps with its hidden characters shown as markers as on the other pages.
            assert escape(turn.text) in html or reveal_hidden_characters(turn.text) in html


def test_html_entities_in_a_transcript_are_shown_as_typed_not_decoded(
    client: Client, hostile_transcripts: list[Transcript]
) -> None:
    [transcript] = [t for t in hostile_transcripts if t.task_description.startswith("html-entities")]
    study, _ = study_of([transcript])
    client.force_login(lead_of_every_study())
    html, page = get_page(client, f"/lead/studies/{study.pk}/items/{study.items.get().pk}/")
    assert "&amp;lt;script&amp;gt;window.__pwned = &#x27;entity&#x27;&amp;lt;/script&amp;gt;" in html
    assert page.texts["turn-text"][0].startswith("Case html-entities: &lt;script&gt;window.__pwned = 'entity'")


def test_no_bidi_or_invisible_character_reaches_the_reviewer_or_lead_pages_raw(
    client: Client, hostile_transcripts: list[Transcript]
) -> None:
    hidden = re.compile(f"[{HIDDEN_CHARACTERS}]")
    study, reviewer = study_of(hostile_transcripts)
    client.force_login(reviewer)
    markers = 0
    for _, preview_html, review_html in reviewer_pages(client, study):
        assert hidden.search(preview_html) is None and hidden.search(review_html) is None
        markers += review_html.count('class="invisible-char"')
    assert markers > len(cases.INVISIBLE)
    client.force_login(lead_of_every_study())
    for item in study.items.all():
        html, _ = get_page(client, f"/lead/studies/{study.pk}/items/{item.pk}/")
        assert hidden.search(html) is None


def test_a_one_megabyte_line_renders_whole_and_escaped_on_the_review_page(client: Client, tmp_path: Path) -> None:
    transcript_import(path=cases.write_one_megabyte_line(tmp_path / "line.jsonl"))
    study, reviewer = study_of(list(Transcript.objects.all()))
    client.force_login(reviewer)
    [(_, preview_html, review_html)] = list(reviewer_pages(client, study))
    page = Page(review_html)
    assert page.live_markup() == []
    assert page.texts["turn-text"][0] == seen(cases.one_megabyte_line_text())
    assert len(Page(preview_html).texts["preview"][0]) < 300


def test_ten_thousand_turns_all_render_on_the_review_page(client: Client, tmp_path: Path) -> None:
    transcript_import(path=cases.write_ten_thousand_turns(tmp_path / "turns.json"))
    study, reviewer = study_of(list(Transcript.objects.all()))
    client.force_login(reviewer)
    [(_, _, review_html)] = list(reviewer_pages(client, study))
    texts = Page(review_html).texts["turn-text"]
    assert len(texts) == 10_000
    assert texts[-1] == "turn 9999 <b>not bold</b> zU+200Bw"
