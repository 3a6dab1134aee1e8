"""Shared fixtures for the wellbeing tests."""

from __future__ import annotations

from dataclasses import replace
from statistics import fmean
from typing import Any

import pytest

from wellbeing.selectors import aggregates


@pytest.fixture
def exact_figures(monkeypatch: Any) -> None:
    """The figures the noise is added to, with OpenDP's margins and privacy loss still worked out.

    For tests of which people and answers reach a figure. The noise itself is tested on its own
    (test_disclosure.py), and the reconstruction attack runs against the real, noisy figures.
    """
    noisy_mean, noisy_counts = aggregates.noisy_mean, aggregates.noisy_counts

    def exact_mean(values: list[float], **options: Any) -> Any:
        return replace(noisy_mean(values, **options), value=fmean(values))

    def exact_counts(categories: list[str], members: list[str], **options: Any) -> Any:
        drawn = noisy_counts(categories, members, **options)
        return [replace(one, value=float(members.count(name))) for one, name in zip(drawn, categories, strict=True)]

    monkeypatch.setattr(aggregates, "noisy_mean", exact_mean)
    monkeypatch.setattr(aggregates, "noisy_counts", exact_counts)
