"""Settings read the environment strictly and a bad value stops start-up naming the variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_rate, parse_database_url, parse_redis_url

ROOT = Path(__file__).resolve().parents[2]


def test_postgres_url_becomes_a_postgresql_database() -> None:
    assert parse_database_url("postgres://ann:s%40cret@db.example:6543/triad?sslmode=require") == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "triad",
        "USER": "ann",
        "PASSWORD": "s@cret",
        "HOST": "db.example",
        "PORT": "6543",
        "OPTIONS": {"sslmode": "require"},
    }


def test_sqlite_url_becomes_a_sqlite_database() -> None:
    assert parse_database_url("sqlite:////var/lib/triad.sqlite3") == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/var/lib/triad.sqlite3",
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/triad", "unsupported scheme 'mysql'"),
        ("postgres://localhost", "names no database"),
        ("postgres:///triad", "names no host"),
        ("postgres://h:notaport/db", "is not a valid URL"),
        ("sqlite://", "names no SQLite file"),
        ("just-a-name", "unsupported scheme ''"),
    ],
)
def test_a_malformed_database_url_is_refused_naming_the_variable(url: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured) as caught:
        parse_database_url(url)
    assert str(caught.value).startswith("DATABASE_URL")
    assert message in str(caught.value)


@pytest.mark.parametrize("url", ["http://localhost:6379", "redis://", "redis://h:port/0"])
def test_a_malformed_redis_url_is_refused_naming_the_variable(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^REDIS_URL"):
        parse_redis_url(url)


def test_booleans_integers_and_choices_are_strict() -> None:
    assert env_bool("X", False, environ={"X": "yes"}) is True
    assert env_bool("X", True, environ={}) is True
    with pytest.raises(ImproperlyConfigured, match=r"^X='maybe' is not a boolean"):
        env_bool("X", False, environ={"X": "maybe"})
    assert env_int("N", 3, environ={"N": "12"}) == 12
    with pytest.raises(ImproperlyConfigured, match=r"^N='ten' is not an integer"):
        env_int("N", 3, environ={"N": "ten"})
    with pytest.raises(ImproperlyConfigured, match=r"^N=0 is below the minimum of 1"):
        env_int("N", 3, minimum=1, environ={"N": "0"})
    with pytest.raises(ImproperlyConfigured, match=r"^MODE='staging' is not one of"):
        env_choice("MODE", "a", ("a", "b"), environ={"MODE": "staging"})


def _start_up(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environ,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "postgres//oops"}, "DATABASE_URL has the unsupported scheme"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL has the unsupported scheme"),
        ({"TRIAD_ENV": "prod"}, "TRIAD_ENV='prod' is not one of: development, production"),
        ({"TRIAD_ENV": "production"}, "DJANGO_SECRET_KEY must be set when TRIAD_ENV=production"),
        ({"DJANGO_DEBUG": "perhaps"}, "DJANGO_DEBUG='perhaps' is not a boolean"),
        (
            {"TRIAD_ENV": "production", "DJANGO_SECRET_KEY": "x" * 50, "DJANGO_DEBUG": "true"},
            "DJANGO_DEBUG must be off when TRIAD_ENV=production",
        ),
    ],
)
def test_start_up_stops_with_a_message_naming_the_bad_variable(env: dict[str, str], message: str) -> None:
    result = _start_up(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_start_up_without_services_uses_sqlite_and_eager_celery() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings; from django.db import connection; "
        "print(connection.vendor, settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL)"
    )
    environ = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.split() == ["sqlite", "True", "memory://"]


def test_start_up_with_services_uses_postgres_and_a_redis_broker() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings; from django.db import connection; "
        "print(connection.vendor, settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL)"
    )
    environ = dict(os.environ)
    environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/triad",
        REDIS_URL="redis://127.0.0.1:6379/15",
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.split() == ["postgresql", "False", "redis://127.0.0.1:6379/15"]


def test_an_api_rate_must_read_like_count_per_period() -> None:
    assert env_rate("TRIAD_API_RATE", "1200/minute", environ={}) == "1200/minute"
    assert env_rate("TRIAD_API_RATE", "1200/minute", environ={"TRIAD_API_RATE": "50/second"}) == "50/second"
    for bad in ["fast", "10/week", "0/minute", "-1/minute", "10 per minute"]:
        with pytest.raises(ImproperlyConfigured, match="TRIAD_API_RATE"):
            env_rate("TRIAD_API_RATE", "1200/minute", environ={"TRIAD_API_RATE": bad})


def _database_options(**env: str) -> dict[str, object]:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "options = settings.DATABASES['default']['OPTIONS']; "
        "print(json.dumps({key: options.get(key) for key in ('server_side_binding', 'prepare_threshold')}))"
    )
    environ = dict(os.environ)
    environ.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_binds_values_on_the_server_and_prepares_repeated_statements_unless_told_not_to() -> None:
    url = "postgres://postgres@127.0.0.1:5432/triad"
    assert _database_options(DATABASE_URL=url) == {"server_side_binding": True, "prepare_threshold": 5}
    off = _database_options(DATABASE_URL=url, DATABASE_PREPARED_STATEMENTS="false")
    assert off == {"server_side_binding": None, "prepare_threshold": None}
    with pytest.raises(subprocess.CalledProcessError):
        _database_options(DATABASE_URL=url, DATABASE_PREPARED_STATEMENTS="maybe")
