"""Views stay thin (ARCHITECTURE.md): they parse input, call one service or selector, render.

A view module that queries the database itself is where a rule gets written a second time, so
this test reads every view module (no import runs) and fails on what only an ORM query does: a
manager (`Model.objects`), get_object_or_404 and get_list_or_404, a queryset method called on
anything (`study.memberships.values_list(...)`, `study.items.count()`), and a model class
imported at run time (choices and enums are fine, as are models imported for annotations only,
under TYPE_CHECKING).
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import models

from tests.test_architecture import ROOT, module_name, project_modules

# Methods that only a manager or a queryset has, whatever their arguments.
QUERYSET_METHODS = frozenset(
    {
        "filter",
        "exclude",
        "annotate",
        "aggregate",
        "values_list",
        "select_related",
        "prefetch_related",
        "order_by",
        "distinct",
        "exists",
        "select_for_update",
        "bulk_create",
        "bulk_update",
        "get_or_create",
        "update_or_create",
        "in_bulk",
        "only",
        "defer",
        "none",
    }
)
# Methods a queryset shares with dicts and lists, which only a queryset calls with no arguments.
QUERYSET_METHODS_WITHOUT_ARGUMENTS = frozenset({"all", "count", "first", "last"})
SHORTCUTS = frozenset({"get_object_or_404", "get_list_or_404"})
EXTRA_VIEW_MODULES = {"api.lead_views", "review.team_views"}


def is_view_module(module: str) -> bool:
    parts = module.split(".")
    return "views" in parts or module in EXTRA_VIEW_MODULES


def view_modules() -> Iterator[Path]:
    return (path for path in project_modules() if is_view_module(module_name(path)))


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_model_imports(tree: ast.Module) -> Iterator[tuple[int, str, str]]:
    """(line, module, name) of each name imported at run time from a project `models` module."""

    def walk(nodes: list[ast.stmt]) -> Iterator[tuple[int, str, str]]:
        for node in nodes:
            if isinstance(node, ast.If) and _type_checking_only(node):
                yield from walk(node.orelse)
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[-1] == "models":
                if node.module.startswith("django."):
                    continue
                for alias in node.names:
                    yield node.lineno, node.module, alias.name
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list) and not isinstance(node, ast.ImportFrom):
                    yield from walk([child for child in children if isinstance(child, ast.stmt)])

    yield from walk(tree.body)


def _is_model(module: str, name: str) -> bool:
    """Whether module.name is a model class (rather than choices, an enum or a constant)."""
    found = getattr(importlib.import_module(module), name, None)
    return isinstance(found, type) and issubclass(found, models.Model)


def orm_uses(source: str) -> list[tuple[int, str]]:
    """(line, what) for each place in a view module's source that touches the ORM."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            found.append((node.lineno, "a model manager (.objects)"))
        elif isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name) and function.id in SHORTCUTS:
                found.append((node.lineno, f"{function.id}()"))
            elif isinstance(function, ast.Attribute):
                if function.attr in SHORTCUTS:
                    found.append((node.lineno, f"{function.attr}()"))
                elif function.attr in QUERYSET_METHODS or (
                    function.attr in QUERYSET_METHODS_WITHOUT_ARGUMENTS and not node.args and not node.keywords
                ):
                    found.append((node.lineno, f"a queryset method (.{function.attr}())"))
        elif isinstance(node, ast.ImportFrom) and node.module == "django.shortcuts":
            found.extend((node.lineno, f"{alias.name} imported") for alias in node.names if alias.name in SHORTCUTS)
    found.extend(
        (line, f"the model {module}.{name} imported at run time")
        for line, module, name in _runtime_model_imports(tree)
        if _is_model(module, name)
    )
    return sorted(set(found))


def test_the_walk_finds_every_view_module() -> None:
    names = {module_name(path) for path in view_modules()}
    expected = {
        "review.views",
        "audit.views",
        "api.views",
        "api.lead_views",
        "config.views",
        "wellbeing.views.lead",
        "wellbeing.views.exposure",
        "workspace.views.reviewer",
        "workspace.views.lead",
    }
    assert expected <= names


def test_no_view_module_touches_the_orm() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in view_modules()
        for line, what in orm_uses(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "views call a selector or a service instead:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("studies = Study.objects", "a model manager (.objects)"),
        ("from django.shortcuts import get_object_or_404", "get_object_or_404 imported"),
        ("study = get_object_or_404(Study, pk=1)", "get_object_or_404()"),
        ("items = shortcuts.get_list_or_404(Item)", "get_list_or_404()"),
        ("ids = set(study.memberships.values_list('reviewer_id', flat=True))", "a queryset method (.values_list())"),
        ("n = study.items.count()", "a queryset method (.count())"),
        ("chosen = reviewers.filter(pk__in=[1, 2])", "a queryset method (.filter())"),
        ("tags = list(preference.opted_out_tags.all())", "a queryset method (.all())"),
        ("from review.models import Study", "the model review.models.Study imported at run time"),
    ],
)
def test_the_check_catches_a_view_that_queries(source: str, what: str) -> None:
    assert [found for _line, found in orm_uses(source)] == [what]


@pytest.mark.parametrize(
    "source",
    [
        "from review.models import StudyStatus",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from review.models import Study\n",
        "n = errors.count('x')",
        "value = request.POST.get('action', '')",
        "messages = ', '.join(form.errors.values())",
        "study = study_get(study_id=1)",
    ],
)
def test_the_check_lets_a_thin_view_be(source: str) -> None:
    assert orm_uses(source) == []
