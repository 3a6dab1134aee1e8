from django.contrib import admin

from core.admin import PersonalRowsHiddenOnDelete
from tagging.models import Tag


@admin.register(Tag)
class TagAdmin(PersonalRowsHiddenOnDelete):
    """A tag's delete page would otherwise count the reviewers who opted out of it."""

    list_display = ("position", "name", "slug")
    list_display_links = ("name",)
    search_fields = ("name",)
    ordering = ("position",)
