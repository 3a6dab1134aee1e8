"""Model instances from a written-out statement's rows, as the ORM would have built them.

For the few reads that run on every request (the signed-in user, the slot a reviewer's page
shows): building their queries through the ORM cost more CPU than the database took to answer
them. A statement built here once per process selects every concrete column of each model, in
order; `instances_from_row` applies the converters the ORM would (JSON decoded, datetimes made
aware, ...) and returns one instance per model, marked as loaded from the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class ModelColumns:
    """The select list of some models' rows side by side, and how to turn a row back into them."""

    models: tuple[type[Model], ...]
    sql: str  # "alias.column, ..." for every concrete field of each model, in order
    converters: tuple[tuple[int, Any, tuple[Any, ...]], ...]  # (position, column expression, converters)


def model_columns(aliased: Sequence[tuple[str | None, type[Model]]]) -> ModelColumns:
    """The columns of each (table alias, model), in the order instances_from_row reads them.

    An alias of None leaves the columns unqualified (SQLite's RETURNING takes no alias)."""
    fields = [(alias, field) for alias, model in aliased for field in model._meta.concrete_fields]
    converters = []
    for position, (alias, field) in enumerate(fields):
        expression = field.get_col(alias or model_table(field))
        found = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        if found:
            converters.append((position, expression, tuple(found)))
    return ModelColumns(
        models=tuple(model for _, model in aliased),
        sql=", ".join(f"{alias}.{field.column}" if alias else str(field.column) for alias, field in fields),
        converters=tuple(converters),
    )


def model_table(field: Any) -> str:
    return str(field.model._meta.db_table)


def instances_from_row(columns: ModelColumns, row: Sequence[Any]) -> list[Model]:
    """One instance per model of `columns`, from the start of a row it selected."""
    values = list(row)
    for position, expression, converters in columns.converters:
        for converter in converters:
            values[position] = converter(values[position], expression, connection)
    instances = []
    start = 0
    for model in columns.models:
        fields = model._meta.concrete_fields
        end = start + len(fields)
        instances.append(model.from_db(connection.alias, [field.attname for field in fields], values[start:end]))
        start = end
    return instances


def instance_from_row(model: type[M], columns: ModelColumns, row: Sequence[Any]) -> M:
    """The instance of `model`, the first (or only) model of `columns`, from a row they selected."""
    instance = instances_from_row(columns, row)[0]
    if not isinstance(instance, model):
        raise TypeError(f"the columns read a {type(instance).__name__}, not a {model.__name__}")
    return instance


def row_fetch(sql: str, params: Any) -> tuple[Any, ...] | None:
    """The first row a written-out statement answers, or None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else tuple(row)
