"""Rows of written-out statements become the instances the ORM would have built."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from core.rows import instance_from_row, model_columns, row_fetch
from review.models import Study
from tests.factories import StudyFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_row_becomes_the_instance_with_converted_values() -> None:
    study = StudyFactory(name="Rows", strata=[{"filters": {"model_type": "rlhf"}, "size": 2}])
    columns = model_columns([("s", Study)])
    row = row_fetch(f"SELECT {columns.sql} FROM {Study._meta.db_table} s WHERE s.id = %s", [study.pk])  # noqa: S608
    assert row is not None
    loaded = instance_from_row(Study, columns, row)
    expected = Study.objects.get(pk=study.pk)
    for field in Study._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
    assert loaded.strata == [{"filters": {"model_type": "rlhf"}, "size": 2}]  # JSON decoded
    assert loaded.created_at.tzinfo is not None  # made aware
    assert row_fetch(f"SELECT {columns.sql} FROM {Study._meta.db_table} s WHERE s.id = %s", [0]) is None  # noqa: S608


def test_asking_for_another_model_than_the_columns_read_is_an_error() -> None:
    UserFactory()
    columns = model_columns([("u", User)])
    row = row_fetch(f"SELECT {columns.sql} FROM {User._meta.db_table} u", [])  # noqa: S608
    assert row is not None
    with pytest.raises(TypeError, match="read a User, not a Study"):
        instance_from_row(Study, columns, row)
