from django.contrib import admin

from tagging.models import Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("position", "name", "slug")
    list_display_links = ("name",)
    search_fields = ("name",)
    ordering = ("position",)
