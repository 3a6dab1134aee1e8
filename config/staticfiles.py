"""Static files for production: compressed, content-hashed names that browsers may cache for a year."""

from __future__ import annotations

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's manifest storage, except that a missing manifest entry never fails a page.

    Django's manifest storage raises on every `{% static %}` until collectstatic has run, which
    would turn a forgotten build step (or a production-settings server started from a checkout,
    as the benchmarks do) into a 500 on every page, login included. Here the page renders with
    the plain name, the stylesheet is missing, and the log says why.
    """

    _warned: set[str] = set()

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError as exc:
            if name not in self._warned:
                self._warned.add(name)
                logger.warning("static file %r has no hashed name (run collectstatic): %s", name, exc)
            return name
