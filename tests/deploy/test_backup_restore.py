"""deploy/backup.sh and deploy/restore.sh, run for real on a small database.

The test database (already migrated, with the tags and instruments its migrations seed) gets
reviews, skips, a wellbeing check-in, an API token and the audit rows those write; it is backed
up, restored into a new database on the same server, and every table's rows and every
sequence must come back identical.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection
from django.utils.text import slugify
from psycopg import sql

from api.services import api_token_create
from review.services.assignment import slot_skip
from tagging.models import Tag
from tagging.vocabulary import HARM_TAGS
from tests.factories import FEELINGS, UserFactory, review_everything, started_study
from wellbeing.selectors.surveys import checkin_instrument_current
from wellbeing.services.surveys import response_submit
from workspace.services import work_claim

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "deploy" / "backup.sh"
RESTORE = ROOT / "deploy" / "restore.sh"


def _url(database: str) -> str:
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{settings['USER']}{password}@{settings['HOST']}:{settings['PORT']}/{database}"


def _run(script: Path, *arguments: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHON": sys.executable}
    env.pop("DATABASE_TEST_NAME", None)
    return subprocess.run(
        ["bash", str(script), *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _fingerprint(database_url: str) -> dict[str, tuple[int, str]]:
    """Each table's row count and an MD5 of its rows in a fixed order, and each sequence's position."""
    prints: dict[str, tuple[int, str]] = {}
    with psycopg.connect(database_url) as db:
        tables = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").fetchall()
        for (table,) in tables:
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t"
            ).format(sql.Identifier(table))
            prints[table] = db.execute(query).fetchone()
        for name, last_value in db.execute(
            "SELECT sequencename, coalesce(last_value, 0) FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall():
            prints[f"sequence {name}"] = (last_value, "")
    return prints


@pytest.fixture
def empty_database(on_postgres: None) -> Iterator[str]:
    """A new database on the test server, created from template0 so it holds nothing; dropped afterwards."""
    name = f"triad_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        yield _url(name)
    finally:
        with psycopg.connect(_url("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def seeded(transactional_db: None) -> None:
    """Transactional tests truncate every table after each test, migration data included: put
    back the tags, role groups and wellbeing surveys, as the database starts with them."""
    importlib.import_module("wellbeing.migrations.0002_seed_instruments").seed(apps, None)
    for position, name in enumerate(HARM_TAGS, start=1):
        Tag.objects.get_or_create(name=name, defaults={"slug": slugify(name), "position": position})
    for role in ("reviewer", "lead"):
        Group.objects.get_or_create(name=role)


def _small_database() -> None:
    study, reviewers = started_study(items=5, reviewers=4)
    slot = work_claim(study_id=study.pk, reviewer=reviewers[0])
    slot_skip(slot_id=slot.pk, reviewer=reviewers[0], reason="Not today, thanks")
    tag_ids = list(Tag.objects.order_by("position").values_list("pk", flat=True))
    review_everything(study, reviewers, tags=lambda item, index: [tag_ids[(item.pk + index) % len(tag_ids)]])
    answers = {feeling: index % 5 for index, feeling in enumerate(FEELINGS)}
    response_submit(
        respondent=reviewers[1],
        instrument=checkin_instrument_current(),
        trigger="after_reviews",
        answers=answers,
        free_text="Tired, but fine: ' \" \\ \t and a newline\n",
    )
    api_token_create(user=UserFactory(roles=["lead"]), name="nightly export", scopes=["read:labels"])


@pytest.mark.django_db(transaction=True)  # committed, so pg_dump's own connection sees it
def test_a_backup_restores_into_a_new_database_with_every_row_and_sequence_intact(
    seeded: None, empty_database: str, tmp_path: Path
) -> None:
    _small_database()
    source = _url(connection.settings_dict["NAME"])

    backup = _run(BACKUP, str(tmp_path / "backups"), database_url=source, cwd=tmp_path)
    assert backup.returncode == 0, backup.stderr
    (dump,) = (tmp_path / "backups").glob("triad-*.dump")
    assert f"Backup written: {dump}" in backup.stdout
    assert Path(f"{dump}.sha256").read_text().split() == [
        subprocess.run(["sha256sum", str(dump)], capture_output=True, text=True, check=True).stdout.split()[0],
        dump.name,
    ]
    assert dump.stat().st_mode & 0o077 == 0  # harmful text and wellbeing answers: owner only

    restore = _run(RESTORE, str(dump), database_url=empty_database, cwd=tmp_path)
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "Checksum OK" in restore.stdout
    assert "the restored schema matches this code" in restore.stdout

    original, restored = _fingerprint(source), _fingerprint(empty_database)
    assert restored == original
    for table in ("review_review", "review_skip", "wellbeing_response", "review_auditevent", "review_apitoken"):
        assert original[table][0] > 0, f"{table} is empty, so the comparison proves nothing about it"


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty_unless_forced(
    seeded: None, empty_database: str, tmp_path: Path
) -> None:
    backup = _run(BACKUP, str(tmp_path), database_url=_url(connection.settings_dict["NAME"]), cwd=tmp_path)
    assert backup.returncode == 0, backup.stderr
    (dump,) = tmp_path.glob("triad-*.dump")
    with psycopg.connect(empty_database, autocommit=True) as db:
        db.execute("CREATE TABLE precious (note text)")
        db.execute("INSERT INTO precious VALUES ('keep me')")

    refused = _run(RESTORE, str(dump), database_url=empty_database, cwd=tmp_path)
    assert refused.returncode != 0
    assert "not empty" in refused.stderr and "--force" in refused.stderr
    with psycopg.connect(empty_database) as db:
        assert db.execute("SELECT note FROM precious").fetchall() == [("keep me",)]
        assert db.execute("SELECT to_regclass('review_review')").fetchone() == (None,)

    forced = _run(RESTORE, "--force", str(dump), database_url=empty_database, cwd=tmp_path)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    with psycopg.connect(empty_database) as db:
        assert db.execute("SELECT count(*) FROM tagging_tag").fetchone() == (20,)


def test_restore_refuses_a_damaged_backup_before_touching_the_database(tmp_path: Path) -> None:
    dump = tmp_path / "triad-triad-20260101T000000Z.dump"
    dump.write_bytes(b"PGDMP not really a dump")
    Path(f"{dump}.sha256").write_text(f"{'0' * 64}  {dump.name}\n")

    refused = _run(RESTORE, str(dump), database_url="postgres://nobody@127.0.0.1:1/never", cwd=tmp_path)

    assert refused.returncode != 0
    assert "does not match its checksum" in refused.stderr
    assert "nothing was restored" in refused.stderr
