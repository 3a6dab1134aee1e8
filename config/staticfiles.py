"""Static files for production: compressed, content-hashed names that browsers may cache for a year."""

from __future__ import annotations

import logging

from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from whitenoise.middleware import WhiteNoiseMiddleware
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


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, asking the manifest rather than the storage whether a guessed name exists.

    At start-up WhiteNoise decides which collected files are immutable (cached for a year) by
    stripping what may be a hash from each name and asking the storage for that name's URL:
    "bootstrap.min.css" makes it ask for "bootstrap.css", "swagger-ui.css.map" for
    "swagger-ui.map". Such guesses name no real file, and the storage above logged each as a
    missing collectstatic: 16 false warnings per web worker for DRF's and Swagger's assets, which
    would hide a real one. A name missing from the manifest has no hashed URL; that is the answer.
    """

    def get_static_url(self, name: str) -> str | None:
        if isinstance(staticfiles_storage, ManifestFilesMixin) and name not in staticfiles_storage.hashed_files:
            return None
        return super().get_static_url(name)
