from django.contrib import admin

from tagging.models import Tag
from wellbeing.admin import WellbeingHiddenOnDelete


@admin.register(Tag)
class TagAdmin(WellbeingHiddenOnDelete):
    """A tag's delete page would otherwise count the reviewers who opted out of it."""

    list_display = ("position", "name", "slug")
    list_display_links = ("name",)
    search_fields = ("name",)
    ordering = ("position",)
