"""Integers that come from requests, bounded to what the database can hold.

Every id and count column is at most a signed 64-bit integer (BIGINT; DEFAULT_AUTO_FIELD is
BigAutoField). A larger number must never reach a query: SQLite raises OverflowError and
PostgreSQL a DataError (numeric value out of range) wherever Django does not catch it itself
(a foreign key's exact lookup, `in`, a raw filter), and either would be a 500. So each way an
integer enters, it enters through one of these:

- URL paths: the `<id:...>` converter (registered once, in config/urls.py): anything else is
  not a match, so a 404;
- forms and django-filter filters: BoundedIntegerField, a 400 naming the field; a choice of
  several rows by id, BoundedModelMultipleChoiceField (Django's own sends every id to an
  unguarded `pk__in`);
- ids read by hand from request data: parse_id, None for anything that is not one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

DB_INT_MIN = -(2**63)
DB_INT_MAX = 2**63 - 1
# ASCII digits only: str.isdigit() and int() also take "²" or "١٢", and int() refuses "²".
_ID = re.compile(r"[0-9]{1,19}")


def parse_id(value: object) -> int | None:
    """The positive id `value` spells in plain digits, or None if it is anything else or too large."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= DB_INT_MAX else None


class IdConverter:
    """`<id:name>`: like `<int:name>`, but a number the database cannot hold matches no route (404)."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        # Checked before int(): a 5,000-digit path would otherwise cost a big-number parse.
        if len(value) > 19 or int(value) > DB_INT_MAX:
            raise ValueError("beyond a 64-bit id")  # Django reads ValueError as "no match"
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


class BoundedIntegerField(forms.IntegerField):
    """forms.IntegerField whose limits never go beyond the database's 64-bit integer, so an
    unbounded field cannot exist: a number out of range is a form error naming the field."""

    def __init__(self, *, min_value: int | None = None, max_value: int | None = None, **kwargs: Any) -> None:
        min_value = DB_INT_MIN if min_value is None else max(min_value, DB_INT_MIN)
        max_value = DB_INT_MAX if max_value is None else min(max_value, DB_INT_MAX)
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)


class BoundedIdListField(forms.Field):
    """A list of ids (checkboxes of one name, say), parsed with parse_id and not looked up: the
    service the form feeds checks that they exist, once, where it uses them."""

    widget = forms.CheckboxSelectMultiple
    default_error_messages = {"invalid_id": "%(value)s is not a valid choice."}

    def to_python(self, value: object) -> list[int]:
        if value in self.empty_values:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        ids = []
        for item in values:
            number = item if isinstance(item, int) and not isinstance(item, bool) else parse_id(item)
            if number is None or not 0 < number <= DB_INT_MAX:
                raise ValidationError(
                    self.error_messages["invalid_id"], code="invalid_id", params={"value": str(item)[:40]}
                )
            ids.append(number)
        return ids


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """forms.ModelMultipleChoiceField for rows chosen by integer id: a value that is not an id
    the database can hold is "not a valid value" before any query sees it."""

    def _check_values(self, value: Iterable[object]) -> models.QuerySet[Any]:
        queryset = self.queryset
        if (
            queryset is not None
            and self.to_field_name is None
            and isinstance(queryset.model._meta.pk, models.IntegerField)
        ):
            for pk in value:
                number = pk if isinstance(pk, int) and not isinstance(pk, bool) else parse_id(pk)
                if number is None or not DB_INT_MIN <= number <= DB_INT_MAX:
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                    )
        # Django's ModelMultipleChoiceField has this method (clean and to_python both call it), but
        # django-stubs leaves it out as private, so mypy cannot find it on the superclass.
        return super()._check_values(value)  # type: ignore[misc]
