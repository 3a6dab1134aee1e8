"""Imported data in the admin: viewed, never edited."""

from __future__ import annotations

from django.contrib import admin
from django.template.defaultfilters import linebreaksbr
from django.utils.safestring import SafeString

from core.admin import ReadOnlyAdmin
from transcripts.models import ImportBatch, Transcript
from transcripts.templatetags.transcript_text import reveal_hidden_characters


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "file_name",
        "file_format",
        "created_count",
        "duplicate_count",
        "rejected_count",
        "created_by",
        "started_at",
    )
    list_filter = ("file_format", "skip_invalid")
    search_fields = ("file_name", "sha256")
    date_hierarchy = "started_at"


@admin.register(Transcript)
class TranscriptAdmin(ReadOnlyAdmin):
    list_display = ("id", "model_type", "num_params", "rating", "red_team_member_id", "is_upworker", "import_batch")
    list_filter = ("model_type", "num_params", "rating", "is_upworker", "tags")
    search_fields = ("task_description",)
    show_full_result_count = False  # a COUNT(*) per page is slow on 39k+ rows with filters
    list_select_related = ("import_batch",)
    readonly_fields = ("conversation", "content_hash_hex")

    @admin.display(description="Turns")
    def conversation(self, obj: Transcript) -> SafeString:
        # Escaped by reveal_hidden_characters, which also shows bidi controls and invisible
        # characters as markers, as the review pages do.
        return linebreaksbr(reveal_hidden_characters("\n\n".join(f"{turn.speaker}: {turn.text}" for turn in obj.turns)))

    @admin.display(description="Content hash")
    def content_hash_hex(self, obj: Transcript) -> str:
        return bytes(obj.content_hash).hex()
