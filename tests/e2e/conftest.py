"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.utils.text import slugify
from playwright.sync_api import sync_playwright

from tagging.models import Tag
from tagging.vocabulary import HARM_TAGS

CHROMIUM = os.environ.get("TRIAD_CHROMIUM", "/usr/bin/chromium")

# Playwright's sync API keeps an event loop on the test thread; Django refuses ORM calls
# there unless told the thread is really synchronous, which it is.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def seeded_vocabulary(transactional_db: None) -> None:
    """Live-server tests truncate every table between tests, migration data included: put back
    the 20 tags, the role groups and the seeded wellbeing surveys the pages rely on."""
    importlib.import_module("wellbeing.migrations.0002_seed_instruments").seed(apps, None)
    for position, name in enumerate(HARM_TAGS, start=1):
        Tag.objects.get_or_create(name=name, defaults={"slug": slugify(name), "position": position})
    for role in ("reviewer", "lead"):
        Group.objects.get_or_create(name=role)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install chromium` (make test does this as root)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    page.problems = []  # console errors and CSP violations seen while the test ran
    page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("dialog", lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield page
    context.close()


# Screenshots taken during the run: saved under test-artifacts/screenshots/ (git-ignored) and
# listed at the end of the terminal summary, so they travel with the run's output.
SCREENSHOT_DIR = Path(os.environ.get("TRIAD_SCREENSHOT_DIR", "test-artifacts/screenshots"))
SCREENSHOTS: list[Path] = []


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """Save the page as a PNG named after what it shows; returns the file's path."""

    def save(page: Any, name: str, *, full_page: bool = False) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        if not full_page:
            page.screenshot(path=str(path))
        else:
            # Playwright's full_page capture drops the touch emulation for the shot (hover and
            # pointer media queries change): a viewport as tall as the page keeps the phone's look.
            viewport = page.viewport_size
            height = page.evaluate("document.documentElement.scrollHeight")
            page.set_viewport_size({"width": viewport["width"], "height": max(height, viewport["height"])})
            page.screenshot(path=str(path))
            page.set_viewport_size(viewport)
        SCREENSHOTS.append(path)
        return path

    return save


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not SCREENSHOTS:
        return
    terminalreporter.section("screenshots")
    for path in SCREENSHOTS:
        terminalreporter.write_line(str(path.resolve()))
