"""Integers from requests are bounded to the database's 64-bit integer in each way they enter."""

from __future__ import annotations

import pytest
from django import forms
from django.test import Client
from django.urls import Resolver404, resolve

from config.inputs import (
    DB_INT_MAX,
    DB_INT_MIN,
    BoundedIntegerField,
    BoundedModelMultipleChoiceField,
    IdConverter,
    parse_id,
)
from tagging.models import Tag
from tests.config.test_bad_input import project_forms
from tests.factories import lead_of_every_study, started_study


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("007", 7),
        (str(DB_INT_MAX), DB_INT_MAX),
        (str(DB_INT_MAX + 1), None),
        ("9" * 5000, None),
        ("0", None),
        ("-1", None),
        ("1.5", None),
        (" 1", None),
        ("1_0", None),
        ("\u00b2", None),  # isdigit() says yes; int() raises
        ("\u0661\u0662", None),  # Arabic-Indic digits; int() reads 12
        ("1\x00", None),
        ("", None),
        (None, None),
        (12, None),
    ],
)
def test_parse_id_takes_only_plain_digits_the_database_can_hold(value: object, expected: int | None) -> None:
    assert parse_id(value) == expected


def test_the_id_converter_refuses_what_the_database_cannot_hold() -> None:
    converter = IdConverter()
    assert converter.to_python(str(DB_INT_MAX)) == DB_INT_MAX
    for value in (str(DB_INT_MAX + 1), "9" * 5000):
        with pytest.raises(ValueError):
            converter.to_python(value)


def test_the_id_converter_routes_like_int_up_to_the_bound() -> None:
    assert resolve("/review/slots/12/").kwargs == {"slot_id": 12}
    for path in (f"/review/slots/{DB_INT_MAX + 1}/", "/review/slots/\u0661\u0662/", "/review/slots/-1/"):
        with pytest.raises(Resolver404):
            resolve(path)


@pytest.mark.django_db
def test_a_huge_id_in_a_page_path_is_a_404_not_a_500(lead_client: Client) -> None:
    assert lead_client.get(f"/lead/studies/{DB_INT_MAX + 1}/").status_code == 404
    assert lead_client.get(f"/api/v1/studies/{10**30}/items/").status_code == 404


@pytest.mark.parametrize(
    ("given", "bounds"),
    [
        ({}, (DB_INT_MIN, DB_INT_MAX)),
        ({"min_value": 1}, (1, DB_INT_MAX)),
        ({"min_value": -(2**70), "max_value": 2**70}, (DB_INT_MIN, DB_INT_MAX)),
        ({"min_value": 1, "max_value": 20}, (1, 20)),
    ],
)
def test_a_bounded_integer_field_never_reaches_beyond_64_bits(given: dict[str, int], bounds: tuple[int, int]) -> None:
    field = BoundedIntegerField(**given)
    assert (field.min_value, field.max_value) == bounds
    with pytest.raises(forms.ValidationError, match="less than or equal to"):
        field.clean(str(bounds[1] + 1))


def test_every_integer_field_of_every_project_form_is_within_64_bits() -> None:
    """Django's IntegerField has no bound of its own; each of ours must have one the database holds."""
    unbounded = []
    for form in project_forms():
        for name, field in form.base_fields.items():
            if isinstance(field, forms.IntegerField) and not (
                field.min_value is not None
                and field.max_value is not None
                and DB_INT_MIN <= field.min_value <= field.max_value <= DB_INT_MAX
            ):
                unbounded.append(f"{form.__module__}.{form.__name__}.{name}")
    assert project_forms() and unbounded == []


def test_every_multiple_choice_of_rows_by_id_in_project_forms_is_bounded() -> None:
    """Django's ModelMultipleChoiceField sends each id to an unguarded `pk__in`."""
    unbounded = [
        f"{form.__name__}.{name}"
        for form in project_forms()
        for name, field in form.base_fields.items()
        if isinstance(field, forms.ModelMultipleChoiceField) and not isinstance(field, BoundedModelMultipleChoiceField)
    ]
    assert unbounded == []


@pytest.mark.django_db
@pytest.mark.parametrize("value", [str(DB_INT_MAX + 1), "9" * 5000, "\u00b2", "0", "1.5", "1\x00"])
def test_a_bounded_multiple_choice_refuses_a_value_that_is_no_id(value: str) -> None:
    field = BoundedModelMultipleChoiceField(queryset=Tag.objects.all())
    tag = Tag.objects.order_by("position").first()
    assert list(field.clean([str(tag.pk)])) == [tag]
    with pytest.raises(forms.ValidationError):
        field.clean([str(tag.pk), value])


@pytest.mark.django_db
def test_a_reviewer_list_with_huge_ids_chooses_none_of_them(client: Client) -> None:
    study, (reviewer,) = started_study(items=1, reviewers=1)
    client.force_login(lead_of_every_study())
    form = {"reviewers": [str(reviewer.pk), str(DB_INT_MAX + 1), "\u00b2", "9" * 5000]}
    assert client.post(f"/lead/studies/{study.pk}/members", form).status_code == 302
    assert list(study.memberships.values_list("reviewer_id", flat=True)) == [reviewer.pk]
