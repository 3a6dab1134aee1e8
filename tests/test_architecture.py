"""The dependency contract: Triad's apps import each other one way only (ARCHITECTURE.md).

Each app sits on a layer and may import only from the layers below its own, never from an app
beside it or above it; nor may any function import a project module, which is how an import
cycle usually hides. The check reads the source (no import runs), so it also sees imports
under TYPE_CHECKING and inside functions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. Apps on one line are siblings: neither may import the other.
LAYERS: list[tuple[str, ...]] = [
    ("config",),  # settings machinery, database routing, middleware, request inputs, health
    ("core",),
    ("audit",),
    ("accounts",),
    ("tagging",),
    ("transcripts",),
    ("review",),
    ("agreement", "wellbeing"),
    ("adjudication",),
    ("api", "workspace"),
    ("demo",),
    ("project",),  # the URLconf and the WSGI/ASGI entry points, which put everything together
]
RANK = {component: rank for rank, components in enumerate(LAYERS) for component in components}
# The modules of config that import the apps, rather than being imported by them.
PROJECT_MODULES = {"config.urls", "config.views", "config.wsgi", "config.asgi"}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    importer: str
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported}: {self.why}"


def component_of(module: str) -> str | None:
    """The layer component a dotted module name belongs to, or None when it is not Triad's."""
    top = module.split(".", maxsplit=1)[0]
    if module in PROJECT_MODULES or any(module.startswith(f"{name}.") for name in PROJECT_MODULES):
        return "project"
    return top if top in RANK else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST) -> Iterator[tuple[ast.stmt, str, bool]]:
    """Each import statement's imported module names, and whether it sits inside a function."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.stmt, str, bool]]:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield child, alias.name, in_function
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:
                    # `from review import views` imports review.views; `from review.models import X`
                    # imports review.models (an X that is a submodule is inside it anyway).
                    yield child, f"{child.module}.{alias.name}", in_function
            yield from walk(child, nested)

    yield from walk(tree, False)


def violations_in(source: str, *, module: str, path: str) -> list[Violation]:
    """What in one module's source breaks the contract."""
    importer = component_of(module)
    if importer is None:
        return []
    found = []
    for statement, imported, in_function in _imports(ast.parse(source)):
        target = component_of(imported)
        if target is None:
            continue
        line = statement.lineno
        if in_function:
            found.append(Violation(path, line, module, imported, "a project import inside a function"))
        elif target != importer and RANK[target] >= RANK[importer]:
            where = "beside" if RANK[target] == RANK[importer] else "above"
            found.append(Violation(path, line, module, imported, f"{target} is {where} {importer}"))
    return found


def project_modules() -> Iterator[Path]:
    for component in RANK:
        folder = ROOT / component
        if folder.is_dir():
            yield from (path for path in folder.rglob("*.py") if ".venv" not in path.parts)


def test_every_app_is_on_a_layer_and_every_layer_is_a_folder() -> None:
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= set(RANK), f"apps missing from LAYERS: {sorted(apps - set(RANK))}"
    assert {name for name in RANK if name != "project"} <= {path.name for path in ROOT.iterdir() if path.is_dir()}


def test_no_module_imports_against_the_layers() -> None:
    modules = list(project_modules())
    assert len(modules) > 100  # the walk found the project
    found = [
        violation
        for path in modules
        for violation in violations_in(
            path.read_text(encoding="utf-8"), module=module_name(path), path=str(path.relative_to(ROOT))
        )
    ]
    assert not found, "\n".join(map(str, found))


@pytest.mark.parametrize(
    ("module", "source", "why"),
    [
        ("review.services", "from agreement.services import agreement_refresh_request", "agreement is above review"),
        ("wellbeing.models", "from agreement.models import AgreementSnapshot", "agreement is beside wellbeing"),
        ("core.roles", "import review.models", "review is above core"),
        ("review.services", "def f():\n    from review.tasks import x\n", "a project import inside a function"),
        ("config.middleware", "from workspace.views import reviewer", "workspace is above config"),
    ],
)
def test_the_check_names_an_import_against_the_layers(module: str, source: str, why: str) -> None:
    (violation,) = violations_in(source, module=module, path="x.py")
    assert violation.why == why


def test_the_check_lets_an_app_import_below_itself_and_from_itself() -> None:
    source = "from core.roles import LEAD\nfrom review.models import Study\nfrom agreement import statistics\n"
    assert violations_in(source, module="agreement.services", path="x.py") == []
    assert violations_in("from review.views import home", module="config.urls", path="x.py") == []
