"""Admin building blocks every app's admin uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import NestedObjects
from django.db import router
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst


class ViewOnly:
    """For a ModelAdmin whose rows are shown, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(ViewOnly, admin.ModelAdmin):
    """Imported data is the record of what came in: it is viewed here, changed only by commands."""


def is_personal(model: type[Model]) -> bool:
    """Whether rows of the model say something about one person's wellbeing or participation.

    A model says so with a class attribute `personal_data = True` (the wellbeing app's answers,
    preferences, exposure and breaks); a many-to-many table is personal when its owner is.
    """
    owner = model._meta.auto_created or model
    return bool(getattr(owner, "personal_data", False))


PERSONAL_PROTECTED_LINE = "Wellbeing answers (not listed: only their respondents see them)"


class PersonalRowsHiddenOnDelete(admin.ModelAdmin):
    """The delete-confirmation page, with no line, count or link for personal rows (is_personal).

    Django's own page lists every row the delete reaches, and counts them by model. Those that
    go with the deleted object still go; the page just does not name them. When such rows
    keep the object (PROTECT), one line says so without counting them.
    """

    def get_deleted_objects(self, objs: Sequence[Model] | QuerySet[Any], request: HttpRequest) -> tuple[Any, ...]:
        objs = list(objs)
        if not objs:
            return [], {}, set(), []
        collector = NestedObjects(using=router.db_for_write(objs[0]._meta.model), origin=objs)
        collector.collect(objs)
        perms_needed: set[str] = set()

        def shown(obj: Model) -> str:
            opts = obj._meta
            model_admin = self.admin_site._registry.get(type(obj))
            if model_admin is None:
                return f"{capfirst(opts.verbose_name)}: {obj}"
            if not model_admin.has_delete_permission(request, obj):
                perms_needed.add(str(opts.verbose_name))
            try:
                url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            except NoReverseMatch:
                return f"{capfirst(opts.verbose_name)}: {obj}"
            return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, obj)

        to_delete = _without_personal(collector.nested(), shown)
        protected = [shown(obj) for obj in collector.protected if not is_personal(type(obj))]
        if any(is_personal(type(obj)) for obj in collector.protected):
            protected.append(PERSONAL_PROTECTED_LINE)
        # Keyed by model class, as Django fills it; django-stubs has the keys as str.
        model_objs: dict[type[Model], set[Model]] = collector.model_objs  # type: ignore[assignment]
        counts = {
            model._meta.verbose_name_plural: len(rows) for model, rows in model_objs.items() if not is_personal(model)
        }
        return to_delete, counts, perms_needed, protected


def _without_personal(nested: list[Any], shown: Any) -> list[Any]:
    """NestedObjects.nested()'s list (an object, then a list of what goes with it), formatted,
    with personal rows and everything under them left out."""
    out: list[Any] = []
    hidden = False
    for entry in nested:
        if isinstance(entry, list):
            children = [] if hidden else _without_personal(entry, shown)
            if children:
                out.append(children)
        else:
            hidden = is_personal(type(entry))
            if not hidden:
                out.append(shown(entry))
    return out
