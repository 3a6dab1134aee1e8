"""The scratch PostgreSQL database each benchmark recreates for itself."""

from __future__ import annotations

import re
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg


def _admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        sys.exit(f"--database-url must name a plain scratch database, got {name!r}")
    return urlunsplit(parts._replace(path="/postgres")), name


def recreate_database(url: str) -> None:
    """Drop and create the database the URL names; refuses names that are not plain identifiers."""
    admin_url, name = _admin_url(url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    """Drop the database the URL names, if it exists; refuses names that are not plain identifiers."""
    admin_url, name = _admin_url(url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
