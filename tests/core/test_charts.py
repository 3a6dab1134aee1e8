from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from django.utils.safestring import SafeString

from core.charts import IntervalRow, IntervalSeries, Series, bar_chart, error_bar_chart, histogram, interval_chart

SVG = "{http://www.w3.org/2000/svg}"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def elements(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    return [el for el in root.iter(SVG + tag) if cls is None or cls in el.get("class", "").split()]


def tip(el: ET.Element) -> str:
    title = el.find(SVG + "title")
    assert title is not None, f"{el.tag} has no <title>"
    return title.text or ""


def ratings(**kwargs: object) -> SafeString:
    defaults: dict[str, object] = {
        "chart_id": "ratings",
        "title": "Self-rating vs reviewer",
        "categories": ["0", "1", "2", "3"],
        "series": [Series("Self-rating", [0.1, 0.2, None, 0.4]), Series("Reviewer", [0.3, 0.125, 0.25, 0.0])],
        "value_label": "Share",
        "category_label": "Rating",
        "percent": True,
    }
    return bar_chart(**{**defaults, **kwargs})  # type: ignore[arg-type]


def scores(**kwargs: object) -> SafeString:
    defaults: dict[str, object] = {
        "chart_id": "scores",
        "title": "Harmlessness by model",
        "categories": ["plain LM", "RLHF", "rejection sampling"],
        "means": [-1.23, 2.5, None],
        "sds": [2.1, 1.5, None],
        "counts": [40, 12, 0],
        "value_label": "Min harmlessness score",
    }
    return error_bar_chart(**{**defaults, **kwargs})  # type: ignore[arg-type]


def spread(**kwargs: object) -> SafeString:
    defaults: dict[str, object] = {
        "chart_id": "spread",
        "title": "Score distribution",
        "edges": [-7.5, -5.0, -2.5, 0.0, 2.5, 5.0, 7.5],
        "counts": [3, 10, 25, 30, 8, 0],
        "value_label": "Transcripts",
        "category_label": "Score",
    }
    return histogram(**{**defaults, **kwargs})  # type: ignore[arg-type]


def means(**kwargs: object) -> SafeString:
    defaults: dict[str, object] = {
        "chart_id": "means",
        "title": "Success by model size",
        "rows": [
            IntervalRow("Plain LM, 2.7B", 40, group="plain"),
            IntervalRow("Plain LM, 52B", 6, faint=True, group="plain"),
            IntervalRow("RLHF, 52B", 1, group="rlhf"),
        ],
        "series": [
            IntervalSeries("Self-rating", [2.0, 3.5, 1.0], [(1.5, 2.5), (2.0, 5.2), None]),
            IntervalSeries("Reviewers", [1.5, None, 0.5], [(1.0, 2.0), None, None]),
        ],
        "value_label": "mean rating (0-4)",
        "domain": (0.0, 4.0),
    }
    return interval_chart(**{**defaults, **kwargs})  # type: ignore[arg-type]


ALL_CHARTS: list[Callable[..., SafeString]] = [
    ratings,
    lambda **kw: ratings(horizontal=True, **kw),
    scores,
    spread,
    means,
]


@pytest.mark.parametrize("chart", ALL_CHARTS)
def test_output_is_an_accessible_svg_that_css_can_size(chart: Callable[..., SafeString]) -> None:
    svg = chart()
    root = parse(svg)
    assert isinstance(svg, SafeString)
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    assert root.get("class") == "chart"
    cid = root.get("data-chart")
    assert root.get("aria-labelledby") == f"{cid}-title {cid}-desc"
    assert root.find(SVG + "title").get("id") == f"{cid}-title"  # type: ignore[union-attr]
    assert root.find(SVG + "desc").get("id") == f"{cid}-desc"  # type: ignore[union-attr]
    assert root.find(SVG + "desc").text  # type: ignore[union-attr]
    assert root.get("width") is None and root.get("height") is None
    assert root.get("preserveAspectRatio") == "xMidYMid meet"
    x, y, width, height = map(float, root.get("viewBox", "").split())
    assert (x, y) == (0, 0) and width > 0 and height > 0


def test_an_automatic_description_summarises_the_chart() -> None:
    assert parse(ratings()).find(SVG + "desc").text == "Grouped bar chart of 4 categories and 2 series"  # type: ignore[union-attr]
    assert parse(ratings(description="Mine")).find(SVG + "desc").text == "Mine"  # type: ignore[union-attr]


def test_labels_are_escaped_not_rendered_as_markup() -> None:
    svg = bar_chart(
        chart_id="evil",
        title=f"Title {SCRIPT}",
        categories=[SCRIPT, IMG, "Fish & chips 'n' \"quotes\""],
        series=[Series(SCRIPT, [1, 2, 3]), Series(IMG, [4, None, 6])],
        value_label=IMG,
        category_label=SCRIPT,
        description=IMG,
    )
    root = parse(svg)
    assert "<script" not in svg and "<img" not in svg
    assert not [el for el in root.iter() if el.tag.endswith(("script", "img", "foreignObject"))]
    assert not [(el.tag, name) for el in root.iter() for name in el.attrib if name.lower().startswith("on")]
    # The text survives intact for the reader: escaped, not dropped.
    assert root.find(SVG + "title").text == f"Title {SCRIPT}"  # type: ignore[union-attr]
    assert root.find(SVG + "desc").text == IMG  # type: ignore[union-attr]
    tips = [tip(el) for el in elements(root, "rect", "bar")]
    assert f"{SCRIPT} · {SCRIPT}: 1" in tips
    assert f"{IMG} · Fish & chips 'n' \"quotes\": 6" in tips
    labels = elements(root, "text", "category-label")
    assert labels[0].text == SCRIPT
    assert tip(labels[1]) == IMG  # too long to show whole: the full text is its tooltip


def test_no_element_has_a_style_attribute_and_there_is_no_style_element() -> None:
    charts = [chart() for chart in ALL_CHARTS] + [ratings(categories=[], series=[])]
    for svg in charts:
        root = parse(svg)
        assert not [el.tag for el in root.iter() if "style" in el.attrib]
        assert not [el for el in root.iter() if el.tag in (SVG + "style", "style")]
        assert "style" not in svg.replace("xMidYMid", "")


def test_control_characters_and_lone_surrogates_still_give_well_formed_xml() -> None:
    odd = "tab\there\x00nul\x1b[31m \ud800 bidi\u202eevil 仇恨言论 e\u0301"
    root = parse(ratings(categories=[odd, "b", "c", "d"], series=[Series(odd, [1, 2, 3, 4])], title=odd))
    assert "\ufffd" in root.find(SVG + "title").text  # type: ignore[union-attr, operator]
    assert "仇恨言论" in tip(elements(root, "rect", "bar")[0])


def test_bar_count_is_categories_times_series_minus_missing_values() -> None:
    root = parse(ratings(percent=False, series=[Series("A", [1, 2, None, 4]), Series("B", [5, None, None, 8.5])]))
    bars = elements(root, "rect", "bar")
    assert len(bars) == 4 * 2 - 3
    assert [tip(b) for b in bars] == ["A · 0: 1", "B · 0: 5", "A · 1: 2", "A · 3: 4", "B · 3: 8.5"]
    assert [el.get("class") for el in bars] == [
        "bar series-0",
        "bar series-1",
        "bar series-0",
        "bar series-0",
        "bar series-1",
    ]
    missing = [tip(el) for el in elements(root, "text", "no-data-mark")]
    assert missing == ["B · 1: no data", "A · 2: no data", "B · 2: no data"]


def test_every_bar_and_point_has_a_positive_size_even_at_zero() -> None:
    root = parse(ratings(series=[Series("All zero but one", [0.0, 0.0, 0.0, 0.5])]))
    rects = elements(root, "rect", "bar") + elements(parse(spread()), "rect", "bar")
    assert rects and all(float(r.get("width", 0)) > 0 and float(r.get("height", 0)) > 0 for r in rects)
    points = elements(parse(scores()), "circle", "point")
    assert points and all(float(p.get("r", 0)) > 0 for p in points)


def test_percent_charts_format_ticks_and_tooltips_as_percentages() -> None:
    root = parse(ratings())
    assert [t.text for t in elements(root, "text", "tick-label")] == ["0%", "10%", "20%", "30%", "40%"]
    tips = [tip(b) for b in elements(root, "rect", "bar")]
    assert "Reviewer · 1: 12.5%" in tips and "Self-rating · 3: 40%" in tips and "Reviewer · 3: 0%" in tips


def test_value_ticks_are_nice_round_steps() -> None:
    for values in ([41.0, 7, 13], [0.37, 0.02], [1234.0, 980], [3.0, 1], [-12.5, 30]):
        root = parse(
            ratings(categories=[str(i) for i in range(len(values))], series=[Series("s", values)], percent=False)
        )
        ticks = [float(t.text.replace(",", "")) for t in elements(root, "text", "tick-label")]  # type: ignore[union-attr]
        steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
        assert len(steps) == 1 and 3 <= len(ticks) <= 8, ticks
        step = steps.pop()
        assert round(step / 10 ** math.floor(math.log10(step)), 9) in (1, 2, 5), ticks
        assert ticks[0] <= min(0, *values) and ticks[-1] >= max(values)


def test_counts_never_get_fractional_ticks() -> None:
    root = parse(ratings(percent=False, series=[Series("n", [1, 0, 1, 1])]))
    assert [t.text for t in elements(root, "text", "tick-label")] == ["0", "1"]


def test_negative_bars_grow_down_from_a_zero_line() -> None:
    root = parse(ratings(percent=False, series=[Series("delta", [-3, 2, 1, -1])]))
    (zero,) = elements(root, "line", "zero-line")
    down, up = elements(root, "rect", "bar")[:2]
    assert float(down.get("y", 0)) == pytest.approx(float(zero.get("y1", 0)), abs=0.1)
    assert float(up.get("y", 0)) + float(up.get("height", 0)) == pytest.approx(float(zero.get("y1", 0)), abs=0.1)


def test_legend_appears_only_with_more_than_one_series() -> None:
    root = parse(ratings())
    assert [el.text for el in elements(root, "text", "legend-label")] == ["Self-rating", "Reviewer"]
    assert [el.get("class") for el in elements(root, "rect", "swatch")] == ["swatch series-0", "swatch series-1"]
    single = parse(ratings(series=[Series("Only", [1, 2, 3, 4])]))
    assert not elements(single, "g", "legend") and not elements(single, "rect", "swatch")


def shown_lines(el: ET.Element) -> list[str]:
    """The lines a <text> shows: its tspans, or its own text."""
    spans = el.findall(SVG + "tspan")
    if spans:
        return [span.text or "" for span in spans]
    title = el.find(SVG + "title")
    return [(title.tail if title is not None else el.text) or ""]


def test_long_category_labels_wrap_onto_lines_instead_of_being_cut() -> None:
    label = "Non-violent unethical behavior (e.g. lying, cheating, etc.)"
    root = parse(ratings(categories=[label, "b", "c", "d"], horizontal=True))
    first = elements(root, "text", "category-label")[0]
    assert shown_lines(first) == ["Non-violent unethical behavior", "(e.g. lying, cheating, etc.)"]
    assert first.find(SVG + "title") is None  # all of it is on show
    assert tip(elements(root, "rect", "bar")[0]) == f"Self-rating · {label}: 10%"


def test_a_label_longer_than_three_lines_is_cut_with_the_whole_label_as_tooltip() -> None:
    label = "word " * 40
    root = parse(ratings(categories=[label, "b", "c", "d"], horizontal=True))
    first = elements(root, "text", "category-label")[0]
    lines = shown_lines(first)
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert tip(first) == label.strip()


def test_a_long_title_wraps_and_the_chart_grows_to_hold_it() -> None:
    short = parse(ratings(title="Ratings"))
    title = "Harm topics of reviewed and successful attacks, Prompted LM (context distillation), 52B"
    long = parse(ratings(title=title))
    shown = elements(long, "text", "chart-title")[0]
    assert " ".join(shown_lines(shown)) == title and len(shown_lines(shown)) == 2
    assert float(long.get("viewBox", "").split()[3]) == float(short.get("viewBox", "").split()[3]) + 19
    # Everything under the title moves down by the added line.
    assert long.find(SVG + "g").get("transform") == "translate(0 19)"  # type: ignore[union-attr]


def test_labels_under_a_vertical_chart_wrap_in_their_band_before_they_slant() -> None:
    categories = ["0 Not successful", "1", "2", "3", "4 Very successful"]
    root = parse(ratings(categories=categories, series=[Series("s", [1.0] * 5)], percent=False))
    labels = elements(root, "text", "category-label")
    assert shown_lines(labels[4]) == ["4 Very", "successful"]
    assert not [el for el in labels if el.get("transform")]
    crowded = parse(ratings(categories=[f"{c} extraordinarily" for c in "abcdefghij"], series=[Series("s", [1] * 10)]))
    assert all(el.get("transform") for el in elements(crowded, "text", "category-label"))


def test_horizontal_chart_height_grows_with_category_count() -> None:
    def height(n: int) -> float:
        svg = bar_chart(
            chart_id="tags",
            title="Tags",
            categories=[f"tag {i}" for i in range(n)],
            series=[Series("count", [float(i) for i in range(n)])],
            value_label="Transcripts",
            horizontal=True,
        )
        return float(parse(svg).get("viewBox", "").split()[3])

    assert height(5) < height(10) < height(20)
    assert height(20) - height(10) == pytest.approx(2 * (height(10) - height(5)))


def test_nan_and_infinite_values_count_as_no_data() -> None:
    root = parse(ratings(series=[Series("s", [0.5, math.nan, math.inf, 0.25])]))
    assert len(elements(root, "rect", "bar")) == 2


def tick_scale(root: ET.Element) -> Callable[[float], float]:
    """Value -> x position, recovered from the drawn tick labels rather than from the code under test."""
    ticks = [(float(t.text), float(t.get("x", 0))) for t in elements(root, "text", "tick-label")]  # type: ignore[arg-type]
    (v0, x0), (v1, x1) = ticks[0], ticks[-1]
    return lambda v: x0 + (v - v0) * (x1 - x0) / (v1 - v0)


def test_error_bar_chart_draws_a_zero_line_and_whiskers_spanning_mean_plus_minus_sd() -> None:
    root = parse(scores())
    at = tick_scale(root)
    (zero,) = elements(root, "line", "zero-line")
    assert float(zero.get("x1", 0)) == pytest.approx(at(0), abs=0.1) == float(zero.get("x2", 0))
    points = elements(root, "circle", "point")
    whiskers = elements(root, "line", "whisker")
    assert len(points) == 2 and len(whiskers) == 2  # the category without data gets neither
    for point, whisker, (mean, sd) in zip(points, whiskers, [(-1.23, 2.1), (2.5, 1.5)], strict=True):
        assert float(point.get("cx", 0)) == pytest.approx(at(mean), abs=0.1)
        assert float(whisker.get("x1", 0)) == pytest.approx(at(mean - sd), abs=0.1)
        assert float(whisker.get("x2", 0)) == pytest.approx(at(mean + sd), abs=0.1)
        assert whisker.get("y1") == whisker.get("y2") == point.get("cy")
    assert [tip(p) for p in points] == ["plain LM: mean -1.23, SD 2.1, n 40", "RLHF: mean 2.5, SD 1.5, n 12"]
    assert tip(elements(root, "text", "no-data-mark")[0]) == "rejection sampling: no data, n 0"


def test_error_bar_axis_covers_the_full_score_range() -> None:
    root = parse(scores(means=[-5.5, 4.9, 0.2], sds=[2.0, 1.7, 0.1], counts=[3, 4, 5]))
    ticks = [float(t.text) for t in elements(root, "text", "tick-label")]  # type: ignore[arg-type]
    assert ticks[0] <= -7.5 and ticks[-1] >= 6.6 and 0 in ticks


def test_error_bar_point_without_sd_has_no_whisker() -> None:
    root = parse(scores(sds=[None, 1.5, None]))
    assert len(elements(root, "line", "whisker")) == 1
    assert tip(elements(root, "circle", "point")[0]) == "plain LM: mean -1.23, SD n/a, n 40"


def test_histogram_draws_one_contiguous_bar_per_bin() -> None:
    root = parse(spread())
    bars = elements(root, "rect", "bar")
    assert len(bars) == 6
    for left, right in itertools.pairwise(bars):
        assert float(left.get("x", 0)) + float(left.get("width", 0)) == pytest.approx(
            float(right.get("x", 0)), abs=0.15
        )
    assert tip(bars[3]) == "0 to 2.5: 30 (39.5%)"
    assert tip(bars[5]) == "5 to 7.5: 0 (0%)"


def test_histogram_edge_labels_show_integers_without_decimals() -> None:
    root = parse(spread(edges=[0.0, 1.0, 2.0, 3.0], counts=[1, 2, 3]))
    edge_labels = [t.text for t in root.iter(SVG + "text") if t.get("class") == "tick-label"][-4:]
    assert edge_labels == ["0", "1", "2", "3"]


def test_histogram_thins_edge_labels_when_bins_are_narrow() -> None:
    edges = [-7.5 + 0.125 * i for i in range(113)]
    root = parse(spread(edges=edges, counts=[1] * 112))
    edge_group = next(g for g in root.iter(SVG + "g") if g.get("class") == "edges")
    labels = elements(edge_group, "text", "tick-label")
    assert 3 <= len(labels) < 20
    xs = [float(t.get("x", 0)) for t in labels]
    assert min(b - a for a, b in itertools.pairwise(xs)) > 40


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ratings(series=[Series("short", [1, 2])]), "series 'short' has 2 values for 4 categories"),
        (lambda: scores(sds=[1.0]), "need one mean, SD and count per category"),
        (lambda: scores(counts=[1, 2]), "need one mean, SD and count per category"),
        (lambda: spread(edges=[0, 1, 2]), "need len(edges) == len(counts) + 1"),
        (lambda: spread(edges=[0, 1, 1, 2, 3, 4, 5]), "strictly increasing"),
        (lambda: spread(counts=[1, -1, 0, 0, 0, 0]), "must not be negative"),
    ],
)
def test_mismatched_or_invalid_inputs_raise_value_error(make: Callable[[], SafeString], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: ratings(categories=[], series=[]),
        lambda: ratings(categories=[], series=[Series("s", [])]),
        lambda: ratings(categories=["a", "b"], series=[]),
        lambda: ratings(categories=["a", "b"], series=[Series("s", [None, None])]),
        lambda: scores(categories=[], means=[], sds=[], counts=[]),
        lambda: scores(means=[None, None, None], sds=[None, None, None], counts=[0, 0, 0]),
        lambda: spread(edges=[], counts=[]),
        lambda: spread(counts=[0] * 6),
    ],
)
def test_empty_data_renders_no_data_yet(make: Callable[[], SafeString]) -> None:
    root = parse(make())
    assert root.get("role") == "img"
    assert [t.text for t in elements(root, "text", "empty")] == ["No data yet"]
    assert not elements(root, "rect") and not elements(root, "circle")


@pytest.mark.parametrize("chart", ALL_CHARTS)
def test_same_input_gives_identical_output(chart: Callable[..., SafeString]) -> None:
    assert chart() == chart()


@pytest.mark.parametrize("chart_id", ["", "Ratings", "a b", 'x" onload="alert(1)', "a_b", "ünï", "a\n"])
def test_chart_id_must_use_only_lowercase_letters_digits_and_hyphens(chart_id: str) -> None:
    for chart in (ratings, scores, spread):
        with pytest.raises(ValueError, match="chart_id"):
            chart(chart_id=chart_id)
    with pytest.raises(ValueError, match="chart_id"):
        ratings(chart_id=chart_id, categories=[], series=[])


def test_chart_id_names_the_title_and_description() -> None:
    root = parse(ratings(chart_id="lead-2-ratings"))
    assert root.get("data-chart") == "lead-2-ratings"
    assert root.get("aria-labelledby") == "lead-2-ratings-title lead-2-ratings-desc"


def test_an_interval_chart_draws_each_series_mean_with_its_whisker_and_tooltip() -> None:
    root = parse(means())
    circles, squares = elements(root, "circle", "point"), elements(root, "rect", "point")
    assert len(circles) == 3 and len(squares) == 2  # the reviewers' missing mean is "no data", not a mark
    assert tip(circles[0]) == "Self-rating · Plain LM, 2.7B: mean 2, 95% CI 1.5 to 2.5, n 40"
    assert tip(circles[2]) == "Self-rating · RLHF, 52B: mean 1, 95% CI n/a, n 1"
    assert [tip(el) for el in elements(root, "text", "no-data-mark")] == ["Reviewers · Plain LM, 52B: no data"]
    assert len(elements(root, "line", "whisker")) == 3
    assert [el.text for el in elements(root, "text", "tick-label")] == ["0", "1", "2", "3", "4"]


def test_an_interval_past_the_fixed_axis_stops_at_its_edge_without_a_cap() -> None:
    root = parse(means())
    whisker = elements(root, "line", "whisker")[2]  # Plain LM 52B self-rating: 2.0 to 5.2 on a 0-4 axis
    axis_right = max(float(el.get("x2", 0)) for el in elements(root, "line", "axis"))
    assert float(whisker.get("x2", 0)) == pytest.approx(axis_right)
    assert len(elements(root, "line", "whisker-cap")) == 2 * 3 - 1
    assert "2 to 5.2" in tip(elements(root, "circle", "point")[1])


def test_a_small_row_is_faded_and_says_so_and_groups_are_ruled_apart() -> None:
    root = parse(means())
    assert [el.text for el in elements(root, "text", "count-label")] == ["n 40", "n 6 · few", "n 1"]
    faded = [el for el in root.iter() if "faint" in el.get("class", "").split()]
    assert faded and all("Plain LM, 52B" in tip(el) for el in faded if el.tag == SVG + "circle")
    assert len(elements(root, "line", "group-rule")) == 1


def test_an_interval_chart_refuses_series_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="one mean and one interval per row"):
        means(series=[IntervalSeries("short", [1.0], [None])])
    assert "No data yet" in means(series=[IntervalSeries("none", [None] * 3, [None] * 3)])
