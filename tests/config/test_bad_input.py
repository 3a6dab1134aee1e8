"""No input gives a 500: every URL of the authorization table, fed hostile query strings and forms.

For each GET and POST row of tests/config/authorization_table.py, hypothesis sends the route,
as a role that reaches it, query parameters (GET) or form fields (POST) made of the parameter
names the route knows plus random ones, filled with hostile values: numbers beyond 64 bits,
negative numbers, floats, NUL, other scripts' digits, empty and very long strings, repeated keys.
Whatever comes back must be below 500, a streamed body must stream to its end, and an API
error must be JSON. Path ids beyond 64 bits are a 404 on every route that takes one.

Each example runs in a savepoint that is rolled back, so a POST that succeeds (a review, a
new study, a revoked token) does not change what the next example sees. The test runs in both
database modes, since the suite does: SQLite raises OverflowError and PostgreSQL DataError.

The parameter names a route knows are collected, not listed by hand: the fields of every form
in the pages (by the URL each form posts or gets to), the table's own forms, the API schema's
query parameters, and every name a view reads by hand from request.GET/POST/query_params.
"""

from __future__ import annotations

import base64
import inspect
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.http import HttpResponseBase
from django.test import Client
from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from config.inputs import DB_INT_MAX
from tests.config.authorization_table import FORMS, ROLES, TABLE
from tests.config.test_authorization import World, _fill, _routes, world_for_module
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = hypothesis_settings(
    max_examples=10,
    deadline=None,
    derandomize=True,  # the same examples on every run, so CI is reproducible
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- hostile values -----------------------------------------------------------------------------

BEYOND_64_BITS = [str(2**63), str(2**64), str(10**20), str(-(2**63) - 1), "9" * 40, "9" * 5000]
EDGE_STRINGS = [
    "",
    " ",
    "\x00",
    "1\x00",
    "%00",
    "0",
    "-1",
    "-0",
    "1.5",
    "1e400",
    "-1e400",
    "nan",
    "inf",
    " 1 ",
    "1_000",
    "0x10",
    "²",  # str.isdigit() says yes, int() says no
    "١٢",  # Arabic-Indic digits, which int() reads as 12
    "true",
    "null",
    "[]",
    "{}",
    "'",
    '"; DROP TABLE x; --',
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "//evil.example/",
    "javascript:alert(1)",
    "\u202etxt.exe",
    "\ufeff",
    "x" * 10_000,
    str(DB_INT_MAX),
]

# The values that broke some route before this test existed.
SWEEP = [str(2**63), "²", "\x00", "9" * 5000, "no-such-view"]

# Text a browser could send: any character but the lone surrogates UTF-8 cannot carry.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
# A forged page cursor: DRF's own encoding (base64 of "o=..&p=..") around a hostile position.
CURSOR = st.builds(
    lambda offset, position: base64.b64encode(f"o={offset}&p={position}".encode()).decode(),
    st.sampled_from(["0", "1", "-1", "x", str(2**64)]),
    st.sampled_from(BEYOND_64_BITS[:4] + EDGE_STRINGS[:20]),
)
# Numbers the database cannot hold get a branch of their own, the kind of value that broke most.
VALUE = st.one_of(
    st.sampled_from(BEYOND_64_BITS),
    st.integers(min_value=DB_INT_MAX + 1, max_value=2**80).map(str),
    st.integers(max_value=-(2**63) - 1, min_value=-(2**80)).map(str),
    st.sampled_from(EDGE_STRINGS),
    st.integers(min_value=-(2**16), max_value=2**16).map(str),
    st.floats().map(str),
    TEXT,
    CURSOR,
)
VALUES = st.one_of(VALUE, VALUE, VALUE, st.lists(VALUE, min_size=2, max_size=3))
NAME = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)


# --- which parameters each route knows ------------------------------------------------------------


class _FormFields(HTMLParser):
    """The names of every form's fields, keyed by (path the form sends to, method)."""

    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.fields: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._form: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            action = urlsplit(attributes.get("action") or self.page_path).path or self.page_path
            self._form = (action, (attributes.get("method") or "get").upper())
            self.fields[self._form]  # a form with no named field still counts
        elif tag in {"input", "select", "textarea", "button"} and self._form and attributes.get("name"):
            self.fields[self._form].add(attributes["name"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


# `request.GET.get("name")`, `request.POST.getlist("name")`, `source.get("name")` and the like.
_READ_BY_HAND = re.compile(r"""(?:GET|POST|query_params|source)\.get(?:list)?\(\s*f?["']([\w-]+)["']""")


def view_names(path: str) -> set[str]:
    """What a page's view reads: names it takes from the request by hand, and the fields of
    the project forms it builds."""
    view = inspect.unwrap(resolve(path).func)
    if hasattr(view, "view_class") or hasattr(view, "cls"):  # Django and DRF class-based views
        return set()
    source = inspect.getsource(view)
    # One level into the module's own helpers, such as the break page's _study_id(request).
    helpers = vars(inspect.getmodule(view))
    for called in set(re.findall(r"\b(_\w+)\(", source)):
        if inspect.isfunction(helpers.get(called)):
            source += inspect.getsource(helpers[called])
    used = [form for form in project_forms() if re.search(rf"\b{form.__name__}\(", source)]
    return set(_READ_BY_HAND.findall(source)) | {name for form in used for name in form.base_fields}


def read_by_hand() -> set[str]:
    """Every parameter name a view or API module reads straight from the request."""
    names: set[str] = set()
    for path in [*ROOT.glob("*/*views.py"), *ROOT.glob("*/views/*.py"), *ROOT.glob("api/*.py")]:
        names |= set(_READ_BY_HAND.findall(path.read_text(encoding="utf-8")))
    return names


# The project's own top-level packages: its apps and config.
PROJECT_PACKAGES = {"config"} | {app.name for app in apps.get_app_configs() if Path(app.path).parent == ROOT}


def project_forms() -> list[type[forms.Form]]:
    """Every Form class of the project's own apps (they are imported by now: the URLconf loads the views)."""
    found, todo = [], [forms.Form]
    while todo:
        form = todo.pop()
        todo.extend(form.__subclasses__())
        if form.__module__.split(".")[0] in PROJECT_PACKAGES:
            found.append(form)
    return found


def api_query_parameters() -> dict[str, set[str]]:
    """The query parameters of each API path, from the schema the API serves."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        path: {
            parameter["name"]
            for operation in operations.values()
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "query"
        }
        for path, operations in schema["paths"].items()
    }


def _schema_path(path: str) -> str:
    """/api/v1/studies/3/items/ -> /api/v1/studies/{study_id}/items/, as the schema names it."""
    route = resolve(path).route
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


# --- who sends each row -------------------------------------------------------------------------


ROWS = [(url, method) for url, method, _ in TABLE if method in {"GET", "POST"}]


def role_for(url: str, cells: tuple[object, ...]) -> str:
    """A role that reaches the route's view: a token for the API (the scope it needs), staff for
    the admin, a lead for lead pages, a reviewer for reviewer pages and nobody for public ones."""
    if url.startswith("/api/"):
        # The token whose scope the endpoint takes: the one it does not refuse (a missing
        # object is 404 for that token and 403 for the other).
        refused = (401, 403)
        labels, agreement = cells[ROLES.index("labels")], cells[ROLES.index("agreement")]
        return "agreement" if labels in refused and agreement not in refused else "labels"
    if url.startswith("/admin/"):
        return "staff"
    if url.startswith(("/lead/", "/adjudication/")):  # leads adjudicate every study they lead
        return "lead"
    if url == "/accounts/password/":
        return "reviewer"
    if url.startswith(("/review/", "/wellbeing/")) and url != "/wellbeing/support/":
        return "reviewer"
    return "anonymous"


ROLE_OF = {(url, method): role_for(url, cells) for url, method, cells in TABLE}


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The authorization test's objects, plus a staff session for the admin rows; built once in
    a transaction rolled back after the module."""
    with world_for_module(django_db_blocker) as built:
        staff = Client()
        staff.force_login(UserFactory(is_staff=True, is_superuser=True))
        built.sessions["staff"] = staff.cookies[settings.SESSION_COOKIE_NAME].value
        yield built


@pytest.fixture(scope="module")
def known_names(world: World, django_db_blocker: Any) -> dict[tuple[str, str], list[str]]:
    """For each row, the parameter names its route knows, read off the pages' own forms, the
    table's forms and the API schema."""
    forms: dict[tuple[str, str], set[str]] = defaultdict(set)
    with django_db_blocker.unblock(), transaction.atomic():
        for url, method in ROWS:
            if method != "GET" or url.startswith("/api/"):
                continue
            path = _fill(url, world.values)
            response = world.client(ROLE_OF[(url, method)]).get(path)
            if response.streaming or "html" not in response.get("Content-Type", ""):
                continue
            parser = _FormFields(urlsplit(path).path)
            parser.feed(response.content.decode())
            for target, names in parser.fields.items():
                forms[target] |= names
        transaction.set_rollback(True)
    api = api_query_parameters()
    names: dict[tuple[str, str], list[str]] = {}
    for url, method in ROWS:
        path = urlsplit(_fill(url, world.values)).path
        # Both methods' forms: views read a parameter from either (the break page's study).
        found = forms.get((path, "GET"), set()) | forms.get((path, "POST"), set()) | set(FORMS.get(url, {}))
        found |= view_names(path)
        if url.startswith("/api/"):
            found |= api.get(_schema_path(path), set())
        names[(url, method)] = sorted(found)
    return names


@pytest.fixture(scope="module")
def every_name(known_names: dict[tuple[str, str], list[str]]) -> list[str]:
    fields = {name for form in project_forms() for name in form.base_fields}
    return sorted({name for names in known_names.values() for name in names} | read_by_hand() | fields)


def test_the_collected_names_include_the_parameters_that_broke_before(
    known_names: dict[tuple[str, str], list[str]], every_name: list[str]
) -> None:
    """The collection is not vacuous: it finds the filters, cursors and fields of the issue."""
    assert {"study", "cursor", "page_size", "tag", "model_type"} <= set(known_names[("/api/v1/labels/", "GET")])
    assert {"study", "action", "page"} <= set(known_names[("/lead/audit/", "GET")])
    assert {"study", "action", "page"} <= set(known_names[("/lead/audit/events.csv", "GET")])
    assert "study" in known_names[("/wellbeing/break/", "GET")]
    assert {"seed", "name", "reviewers_per_item"} <= set(known_names[("/lead/studies/new", "POST")])
    assert "reason" in known_names[("/review/slots/{held_slot}/skip", "POST")]
    assert {"page", "period", "instrument", "next", "trigger", "reviewers", "daily_cap_minutes"} <= set(every_name)


def test_each_row_is_sent_as_a_role_the_table_lets_through() -> None:
    """Else the property below would only ever meet a login redirect or a 403."""
    stopped = {"login", "admin-login", 401, 403}
    roles = ROLES
    wrong = [
        (url, method, ROLE_OF[(url, method)])
        for url, method, cells in TABLE
        if method in {"GET", "POST"}
        and ROLE_OF[(url, method)] in roles
        and cells[roles.index(ROLE_OF[(url, method)])] in stopped
        and not all(cell in stopped for cell in cells)  # logging out ends on the login page for everyone
    ]
    assert wrong == []


# --- the property --------------------------------------------------------------------------------


def _send(world: World, role: str, method: str, url: str, data: dict[str, Any]) -> HttpResponseBase:
    client = world.client(role)
    path, _, query = url.partition("?")
    if method == "POST":
        return client.post(url, data)
    # The row's own query (the export's ?format=jsonl) stays unless a generated one replaces it.
    fixed = dict(part.split("=", 1) for part in query.split("&") if part)
    return client.get(path, {**fixed, **data})


def assert_not_a_server_error(response: HttpResponseBase, what: str) -> None:
    status = response.status_code
    assert status < 500, f"{what}: {status}"
    if response.streaming:
        try:
            b"".join(response.streaming_content)
        except Exception as exc:  # the status line has gone out: the client gets a cut-off file
            raise AssertionError(f"{what}: {status}, then the body broke off with {exc!r}") from exc
    if status >= 400 and what.split()[1].startswith("/api/"):
        assert response["Content-Type"].startswith("application/json"), f"{what}: {status} {response['Content-Type']}"
        json.loads(response.content)


def _params(draw: Any, known: list[str], every_name: list[str]) -> dict[str, Any]:
    """One to three of the route's own parameters, and maybe a name from elsewhere or from
    nowhere, each with a hostile value. Few at a time: one bad value would hide the others."""
    names = draw(st.lists(st.sampled_from(known), unique=True, min_size=1, max_size=3)) if known else []
    names += draw(st.lists(st.one_of(st.sampled_from(every_name), NAME), min_size=0 if known else 1, max_size=1))
    return {name: draw(VALUES) for name in names}


@pytest.mark.parametrize(("url", "method"), [pytest.param(url, method, id=f"{method} {url}") for url, method in ROWS])
def test_no_route_answers_hostile_parameters_with_a_server_error(
    world: World, known_names: dict[tuple[str, str], list[str]], every_name: list[str], url: str, method: str
) -> None:
    role, filled = ROLE_OF[(url, method)], _fill(url, world.values)
    base = {key: _fill(value, world.values) for key, value in FORMS.get(url, {}).items()}

    def send(params: dict[str, Any]) -> None:
        # A POST keeps the row's valid form under the hostile fields, so it gets past the first check.
        sent = {**base, **params} if method == "POST" else params
        with transaction.atomic():
            response = _send(world, role, method, filled, sent)
            assert_not_a_server_error(response, f"{method} {filled} as {role} with {sent!r}"[:2000])
            transaction.set_rollback(True)

    # First each known parameter alone with each of the values that broke things before, so
    # those are tried on every route whatever the random search below happens to draw.
    for name in sorted(set(known_names[(url, method)]) - {"csrfmiddlewaretoken"}):
        for value in SWEEP:
            send({name: value})

    @given(data=st.data())
    @EXAMPLES
    def sends(data: st.DataObject) -> None:
        send(_params(data.draw, known_names[(url, method)], every_name))

    sends()


# --- ids in the path -----------------------------------------------------------------------------

ID_ROUTES = sorted(route for route in _routes() if "<id:" in route)


@pytest.mark.parametrize("route", ID_ROUTES)
def test_an_id_beyond_64_bits_in_any_path_is_a_404(world: World, route: str) -> None:
    lead_or_reviewer = "reviewer" if route.startswith(("review/", "wellbeing/")) else "lead"
    role = "labels" if route.startswith("api/") else lead_or_reviewer
    role = "agreement" if route.endswith("agreement/") else role
    method = (
        "POST"
        if route.endswith(("/skip", "/revoke", "/snooze", "/refresh", "/status", "/wellbeing", "/active"))
        else "GET"
    )

    @given(number=st.one_of(st.integers(min_value=DB_INT_MAX + 1, max_value=10**40), st.sampled_from(BEYOND_64_BITS)))
    @EXAMPLES
    def sends(number: int | str) -> None:
        path = "/" + re.sub(r"<(?:\w+:)?\w+>", lambda match: str(number) if "<id:" in match[0] else "x", route)
        with transaction.atomic():
            response = world.client(role).post(path) if method == "POST" else world.client(role).get(path)
            assert response.status_code == 404, f"{method} {path[:80]} as {role}: {response.status_code}"
            transaction.set_rollback(True)

    sends()


def test_the_largest_id_the_database_holds_still_reaches_the_view(world: World) -> None:
    """The bound is the database's, not lower: 2**63 - 1 routes (and finds nothing), 2**63 does not."""
    assert resolve(f"/lead/studies/{DB_INT_MAX}/").url_name == "lead_dashboard"
    assert world.client("lead").get(f"/lead/studies/{DB_INT_MAX}/").status_code == 404
    with pytest.raises(Resolver404):
        resolve(f"/lead/studies/{DB_INT_MAX + 1}/")


# --- the cases the issue found, each pinned ------------------------------------------------------

BIG = "1" * 20
ISSUE_CASES = [
    ("lead", f"/api/v1/labels/?study={BIG}", 400),
    ("labels", f"/api/v1/labels/?study={BIG}", 400),
    ("labels", f"/api/v1/labels/?study=-{BIG}", 400),
    ("labels", "/api/v1/labels/?study=1.5", 400),
    ("lead", f"/lead/audit/?study={BIG}", 400),
    ("lead", f"/lead/audit/?page={BIG}", 400),
    ("lead", f"/lead/audit/events.csv?study={BIG}", 400),
    ("labels", "/api/v1/labels/?page_size=abc", 400),
    ("labels", "/api/v1/labels/?page_size=0", 400),
    ("labels", f"/api/v1/labels/?page_size={BIG}", 200),  # more than the cap is the cap
    ("lead", "/lead/wellbeing/?period=9999-12", 400),
]


@pytest.mark.parametrize(
    ("role", "url", "expected"),
    [pytest.param(*case, id=case[1]) for case in ISSUE_CASES],
)
def test_each_bad_parameter_the_issue_found_is_a_4xx_naming_it(world: World, role: str, url: str, expected: int):
    response = _send(world, role, "GET", url, {})
    assert_not_a_server_error(response, f"GET {url} as {role}")
    assert response.status_code == expected
    if expected == 400:
        name = url.split("?")[1].split("=", maxsplit=1)[0]
        if response["Content-Type"].startswith("application/json"):
            assert name in response.json()
        elif response["Content-Type"].startswith("text/html"):
            page = response.content.decode()
            errors = re.findall(r'<p class="error">([^<]*)</p>', page)
            assert errors, page
            assert name == "study" or any(name in error for error in errors), errors
        else:
            assert name in response.content.decode(), response.content[:500]
