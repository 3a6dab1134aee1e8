"""The import's PostgreSQL duplicate lookup gives the answers of its portable twin on the same data."""

from __future__ import annotations

import hashlib

import pytest

from tests.factories import TranscriptFactory
from transcripts.models import Transcript
from transcripts.services import _existing_hashes_portable, _existing_hashes_postgresql

pytestmark = pytest.mark.django_db


def test_both_lookups_find_the_same_stored_hashes(on_postgres: None) -> None:
    stored = [bytes(t.content_hash) for t in (TranscriptFactory() for _ in range(3))]
    unknown = [hashlib.sha256(f"new {n}".encode()).digest() for n in range(3)]
    asked = [unknown[0], stored[0], stored[2], unknown[1], stored[0], b"", unknown[2]]
    postgresql, portable = (lookup(asked) for lookup in (_existing_hashes_postgresql, _existing_hashes_portable))
    assert postgresql == portable == {stored[0], stored[2]}
    assert _existing_hashes_postgresql([]) == _existing_hashes_portable([]) == set()
    assert Transcript.objects.count() == 3
