from __future__ import annotations

import pytest

from agreement.analytics import snapshot_compute
from agreement.dashboard import self_vs_reviewers_view, size_success_lines, size_success_plots
from tests.agreement.test_analytics import figure_case


def test_figure_1_rows_follow_the_papers_model_type_order_and_grey_groups_under_30_items() -> None:
    data = snapshot_compute(figure_case(), resamples=20)
    lines = size_success_lines(data)
    assert [(line["model_type_name"], line["num_params"]) for line in lines] == [
        ("Plain LM", "52B"),
        ("RLHF", "13B"),
        ("RLHF", "52B"),
    ]
    assert [line["group_start"] for line in lines] == [True, True, False]
    assert all(line["small"] for line in lines)
    plots = size_success_plots(data)
    assert [plot.table for plot in plots] == ["model-size", "model-size"]
    assert "95% t interval" in plots[0].svg and "few" in plots[0].svg


def test_the_cross_table_view_gives_row_percentages_and_the_headline_shares() -> None:
    view = self_vs_reviewers_view(snapshot_compute(figure_case(), resamples=20))
    assert view is not None
    first = view["rows"][0]  # self 0: reviews 0 0 1
    assert first["total"] == 3 and [cell["percent"] for cell in first["cells"]][:2] == pytest.approx([200 / 3, 100 / 3])
    assert [row["claims_success"] for row in view["rows"]] == [False, False, False, True, True]
    assert view["reviews"] == 12 and view["exact_percent"] == pytest.approx(500 / 12)
    assert view["claimed"]["percent"] == 50 and view["not_claimed"]["percent"] == pytest.approx(200 / 3)
    assert self_vs_reviewers_view({}) is None
