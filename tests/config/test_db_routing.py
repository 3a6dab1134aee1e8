"""The read-replica router: where reads and writes go with and without a replica configured.

The suite itself runs without a replica. The views' routing is proved with one configured, in
tests/config/replica_cases.py, which the last test here runs in a subprocess with
DATABASE_REPLICA_URL pointing at the same server as DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import ConnectionRouter

from audit.models import AuditEvent
from config.db_routing import REPLICA, ReplicaRouter, read_alias, replica_reads
from review.models import Review, Study

ROOT = Path(__file__).resolve().parents[2]
WITH_REPLICA = {DEFAULT_DB_ALIAS: {}, REPLICA: {}}
WITHOUT_REPLICA = {DEFAULT_DB_ALIAS: {}}


def routed(databases: dict[str, dict]) -> ConnectionRouter:
    return ConnectionRouter([ReplicaRouter(databases=databases)])


def test_with_no_replica_configured_every_query_goes_to_default() -> None:
    router = routed(WITHOUT_REPLICA)

    with replica_reads():
        assert router.db_for_read(Review) == DEFAULT_DB_ALIAS
        assert router.db_for_write(Review) == DEFAULT_DB_ALIAS
        # The suite's own settings have no replica either: the views' replica_reads() is a no-op.
        assert read_alias() == DEFAULT_DB_ALIAS
        assert Study.objects.all().db == DEFAULT_DB_ALIAS
    assert ReplicaRouter(databases=WITHOUT_REPLICA).db_for_read(Review) is None  # no opinion: Django's default


def test_with_a_replica_only_reads_inside_replica_reads_go_to_it() -> None:
    router = routed(WITH_REPLICA)

    assert router.db_for_read(Review) == DEFAULT_DB_ALIAS
    with replica_reads():
        assert router.db_for_read(Review) == REPLICA
        assert router.db_for_read(AuditEvent) == REPLICA
        assert router.db_for_write(Review) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Review) == DEFAULT_DB_ALIAS


def test_an_object_read_from_the_replica_is_read_again_from_the_primary_outside_replica_reads() -> None:
    router = routed(WITH_REPLICA)
    study = Study(pk=1)
    study._state.db = REPLICA

    # Without an opinion Django would follow the instance hint back to the replica.
    assert router.db_for_read(Study, instance=study) == DEFAULT_DB_ALIAS
    assert router.db_for_write(Study, instance=study) == DEFAULT_DB_ALIAS


def test_objects_from_both_aliases_may_be_related_and_only_default_is_migrated() -> None:
    router = routed(WITH_REPLICA)
    from_replica, on_primary = Study(pk=1), AuditEvent()
    from_replica._state.db, on_primary._state.db = REPLICA, DEFAULT_DB_ALIAS

    assert router.allow_relation(from_replica, on_primary) is True
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "review", model_name="review") is True
    assert router.allow_migrate(REPLICA, "review", model_name="review") is False


def test_replica_reads_as_a_decorator_ends_with_the_call_even_when_it_raises() -> None:
    router = routed(WITH_REPLICA)

    @replica_reads()
    def view() -> str:
        return router.db_for_read(Review)

    @replica_reads()
    def failing_view() -> None:
        raise LookupError

    assert view() == REPLICA
    with pytest.raises(LookupError):
        failing_view()
    assert router.db_for_read(Review) == DEFAULT_DB_ALIAS


@pytest.mark.django_db
def test_reads_inside_a_transaction_on_the_primary_stay_on_the_primary() -> None:
    router = routed(WITH_REPLICA)

    # pytest-django wraps this test in a transaction on default, as a service's atomic() would.
    assert connections[DEFAULT_DB_ALIAS].in_atomic_block
    with replica_reads():
        assert router.db_for_read(Review) == DEFAULT_DB_ALIAS


# --- settings -------------------------------------------------------------------------------


def _settings_with(**env: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({'databases': settings.DATABASES, 'routers': settings.DATABASE_ROUTERS}, default=str))"
    )
    environ = {key: value for key, value in os.environ.items() if not key.startswith("DATABASE_")}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, check=False, capture_output=True, text=True, timeout=120
    )


def test_database_replica_url_adds_a_read_only_replica_alias_that_mirrors_default_in_tests() -> None:
    result = _settings_with(
        DATABASE_URL="postgres://triad@primary.example:5432/triad",
        DATABASE_REPLICA_URL="postgres://reader:s%40cret@standby.example:6432/triad?sslmode=require",
        DATABASE_CONN_MAX_AGE="30",
    )

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    replica = loaded["databases"][REPLICA]
    assert (replica["HOST"], replica["PORT"], replica["USER"], replica["PASSWORD"]) == (
        "standby.example",
        "6432",
        "reader",
        "s@cret",
    )
    assert replica["OPTIONS"] == {
        "sslmode": "require",
        "options": "-c default_transaction_read_only=on",
        "connect_timeout": "5",
        # Bound and prepared like the primary's statements (config/settings.py).
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
    assert (replica["CONN_MAX_AGE"], replica["CONN_HEALTH_CHECKS"]) == (30, True)
    assert replica["TEST"]["MIRROR"] == DEFAULT_DB_ALIAS
    assert loaded["routers"] == ["config.db_routing.ReplicaRouter"]


def test_without_database_replica_url_there_is_only_the_default_alias_and_no_router() -> None:
    result = _settings_with(DATABASE_URL="postgres://triad@primary.example:5432/triad")

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert list(loaded["databases"]) == [DEFAULT_DB_ALIAS]
    assert loaded["routers"] == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_REPLICA_URL": "mysql://standby/triad"}, "DATABASE_REPLICA_URL has the unsupported scheme"),
        ({"DATABASE_REPLICA_URL": "postgres:///triad"}, "DATABASE_REPLICA_URL names no host"),
        (
            {"DATABASE_URL": "sqlite:///triad.sqlite3", "DATABASE_REPLICA_URL": "postgres://standby/triad"},
            "DATABASE_REPLICA_URL must name the same kind of database as DATABASE_URL",
        ),
    ],
)
def test_a_bad_replica_url_stops_start_up_naming_the_variable(env: dict[str, str], message: str) -> None:
    result = _settings_with(**{"DATABASE_URL": "postgres://triad@primary.example:5432/triad", **env})

    assert result.returncode != 0
    assert message in result.stderr


# --- the views, with a replica ----------------------------------------------------------------


def test_with_a_replica_dashboards_and_exports_read_from_it_and_reviewers_never_do(on_postgres: None) -> None:
    """Runs tests/config/replica_cases.py with DATABASE_REPLICA_URL set to this run's DATABASE_URL.

    The subprocess creates its own test database (this run's name + "_replica") and its replica
    alias mirrors it, as a real replica would mirror the primary.
    """
    test_database = connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
    environ = dict(os.environ)
    environ.update(
        DATABASE_REPLICA_URL=environ["DATABASE_URL"],
        DATABASE_TEST_NAME=f"{test_database}_replica"[:63],
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/config/replica_cases.py", "-q", "-p", "no:cacheprovider", "-rs"],
        cwd=ROOT,
        env=environ,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]
