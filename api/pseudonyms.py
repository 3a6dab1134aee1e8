"""Reviewer pseudonyms for label consumers: stable within a study, unlinkable across studies.

A pseudonym is a keyed hash of (study, reviewer). The key is derived from SECRET_KEY, so
nobody without it can tell whether two studies' pseudonyms are the same person. The same
derivation runs in SQL (export's COPY) and in Python (the paginated endpoints); the two
must stay identical, and tests check they are.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from django.conf import settings

PSEUDONYM_LENGTH = 12


@cache
def pseudonym_key() -> str:
    # A derived key, so SECRET_KEY itself never travels to the database as a query parameter.
    return hmac.new(settings.SECRET_KEY.encode(), b"triad.api.reviewer-pseudonym", hashlib.sha256).hexdigest()


def reviewer_pseudonym(*, study_id: int, reviewer_id: int) -> str:
    digest = hashlib.sha256(f"{pseudonym_key()}:{study_id}:{reviewer_id}".encode()).hexdigest()
    return "r-" + digest[:PSEUDONYM_LENGTH]


def reviewer_pseudonym_sql(study_column: str, reviewer_column: str) -> str:
    """The same pseudonym as a PostgreSQL expression; it takes the key as the parameter %(pseudonym_key)s."""
    return (
        f"'r-' || left(encode(sha256(convert_to(%(pseudonym_key)s || ':' || {study_column} || ':' || "
        f"{reviewer_column}, 'UTF8')), 'hex'), {PSEUDONYM_LENGTH})"
    )
