from __future__ import annotations

from django.db.models import QuerySet

from tagging.models import Tag
from tagging.vocabulary import normalize_tag


def tag_lookup() -> dict[str, int]:
    """Map every vocabulary name, exact and normalized, to its tag id."""
    lookup: dict[str, int] = {}
    for tag_id, name in Tag.objects.values_list("id", "name"):
        lookup[name] = tag_id
        lookup[normalize_tag(name)] = tag_id
    return lookup


def tag_names() -> dict[int, str]:
    """Tag id to name, in the paper's order."""
    return dict(Tag.objects.order_by("position").values_list("id", "name"))


def tags_in_order() -> QuerySet[Tag]:
    """Every tag, in the paper's order: the choices of a form that picks topics."""
    return Tag.objects.order_by("position")
