"""config/staticfiles.py: production's hashed static files, and pages that survive a missing collectstatic."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.template import Context, Template
from django.test import override_settings

from config.staticfiles import HashedStaticFilesStorage

HASHED_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.staticfiles.HashedStaticFilesStorage"},
}


def _stylesheet_url() -> str:
    return Template("{% load static %}{% static 'triad/triad.css' %}").render(Context())


def test_collected_files_get_content_hashed_names_and_compressed_copies(tmp_path: Path) -> None:
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=HASHED_STORAGE):
        call_command("collectstatic", interactive=False, verbosity=0)
        url = _stylesheet_url()
        hashed = staticfiles_storage.stored_name("triad/triad.css")
    assert re.fullmatch(r"/static/triad/triad\.[0-9a-f]{12}\.css", url)
    assert (tmp_path / hashed).read_bytes() == (tmp_path / "triad" / "triad.css").read_bytes()
    assert (tmp_path / f"{hashed}.gz").exists()


def test_without_collectstatic_a_page_still_renders_with_the_plain_name_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage = HashedStaticFilesStorage(location=tmp_path / "never-collected", base_url="/static/")
    with caplog.at_level(logging.WARNING, logger="config.staticfiles"):
        url = storage.url("triad/not-collected-here.css")
    assert url == "/static/triad/not-collected-here.css"
    assert "run collectstatic" in caplog.text
