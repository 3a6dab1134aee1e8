"""The lead dashboard's tables and plots, made from live progress and a study's snapshot.

Each plot is drawn from a table, and the same table is what its CSV download holds, so a
lead can always check a picture against its numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.urls import reverse

from agreement.analytics import RATINGS
from agreement.statistics import SUCCESS_THRESHOLD
from core import charts
from core.tables import Plot, Table
from review.models import Study
from transcripts.models import ModelType

RATING_NAMES = {0: "0 Not successful", 1: "1", 2: "2", 3: "3", 4: "4 Very successful"}
MODEL_TYPE_NAMES = dict(ModelType.choices)


def dashboard_tables(
    *, study: Study, progress: dict[str, Any], data: dict[str, Any], tags: dict[int, str]
) -> dict[str, Table]:
    """Every table on the dashboard, by the name its CSV download uses."""
    builders: list[Callable[[], Table]] = [
        lambda: _progress_table(progress),
        lambda: _agreement_table(data),
        lambda: _ratings_table(data),
        lambda: _tags_table(data, tags),
        lambda: _size_success_table(data),
        lambda: _self_vs_reviewers_table(data),
        lambda: _harmlessness_table(data),
        lambda: _time_table(data),
        lambda: _disagreement_table(study, data),
    ]
    return {table.name: table for table in (build() for build in builders)}


# Groups with fewer items than this are shown greyed with a note: a kappa of 1.000 on 6 items says little.
SMALL_GROUP_ITEMS = 30


def agreement_lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The snapshot's agreement rows, one line per group, rater set and scale, for the page's table.
    A line is `small` when its group has fewer than SMALL_GROUP_ITEMS items."""
    lines: list[dict[str, Any]] = []
    for row in data.get("agreement", []):
        group = "Overall" if row["by"] == "overall" else MODEL_TYPE_NAMES.get(row["value"], row["value"])
        for scale in ("likert", "binary"):
            lines.append(
                {
                    "group": group,
                    # The group's name shows on its first line only, so the table reads in blocks.
                    "group_start": not lines or lines[-1]["group"] != group,
                    "rater_set": row["rater_set"],
                    "scale": scale,
                    "result": row[scale],
                    "n_items": row["n_items"],
                    "n_excluded": row["n_excluded"],
                    "small": row["n_items"] < SMALL_GROUP_ITEMS,
                }
            )
    return lines


# --- the paper's findings: Figure 1 and the self-rating x reviewer-rating table ------------------------------------

MEASURES = ("self_rating", "reviewer_rating", "min_harmlessness")
INTERVAL_NOTE = "95% t interval over items (mean ± t · SD/√n)"


def size_success_lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Figure 1's rows in the paper's model-type order, sizes ascending, for the page's table.
    A row is `small` when it has fewer than SMALL_GROUP_ITEMS items."""
    order = list(MODEL_TYPE_NAMES)
    rows = sorted(
        data.get("success_by_size", []),
        key=lambda row: (
            order.index(row["model_type"]) if row["model_type"] in order else len(order),
            row["model_type"],
        ),
    )
    return [
        {
            **row,
            "model_type_name": MODEL_TYPE_NAMES.get(row["model_type"], row["model_type"]),
            "group_start": index == 0 or rows[index - 1]["model_type"] != row["model_type"],
            "small": row["n_items"] < SMALL_GROUP_ITEMS,
            "measures": [row[measure] for measure in MEASURES],
        }
        for index, row in enumerate(rows)
    ]


def self_vs_reviewers_view(data: dict[str, Any]) -> dict[str, Any] | None:
    """The 5x5 table with row percentages, and the headline, as the page shows them; None before
    the snapshot has it."""
    found = data.get("self_vs_reviewers")
    if not found:
        return None
    rows = []
    for rating, counts in zip(RATINGS, found["counts"], strict=True):
        total = sum(counts)
        rows.append(
            {
                "rating": rating,
                "total": total,
                "cells": [{"count": count, "percent": _percent(count, total)} for count in counts],
                "claims_success": rating >= SUCCESS_THRESHOLD,
            }
        )
    reviews = sum(row["total"] for row in rows)
    claimed, not_claimed = found["claimed"], found["not_claimed"]
    return {
        "rows": rows,
        "columns": list(RATINGS),
        "reviews": reviews,
        "exact_percent": _percent(found["exact"], reviews),
        "claimed": {**claimed, "percent": _percent(claimed["agreed"], claimed["items"])},
        "not_claimed": {**not_claimed, "percent": _percent(not_claimed["agreed"], not_claimed["items"])},
    }


def _percent(count: int, total: int) -> float | None:
    return 100 * count / total if total else None


def _size_success_table(data: dict[str, Any]) -> Table:
    header = ["model type", "size", "items", "reviews"]
    for measure in MEASURES:
        name = measure.replace("_", " ")
        header += [f"mean {name}", f"{name} ci95 low", f"{name} ci95 high"]
    rows = []
    for row in size_success_lines(data):
        line = [row["model_type"], row["num_params"], row["n_items"], row["n_reviews"]]
        for measure in MEASURES:
            found = row[measure]
            ci = found["ci95"] or [None, None]
            line += [found["mean"], ci[0], ci[1]]
        rows.append(line)
    return Table("model-size", "Success by model size (the paper's Figure 1)", header, rows)


def _self_vs_reviewers_table(data: dict[str, Any]) -> Table:
    header = ["self-rating", "reviews"]
    header += [f"reviewer rated {rating}" for rating in RATINGS]
    header += [f"share rated {rating}" for rating in RATINGS]
    found = data.get("self_vs_reviewers") or {"counts": []}
    rows = []
    for rating, counts in zip(RATINGS, found["counts"], strict=False):
        total = sum(counts)
        rows.append([rating, total, *counts, *(_share(count, total) for count in counts)])
    return Table("self-vs-reviewers", "Self-rating x reviewer rating (one row per review)", header, rows)


def _progress_table(progress: dict[str, Any]) -> Table:
    rate = progress["skip_rate"]
    return Table(
        "progress",
        "Progress",
        ["measure", "value"],
        [
            ["items", progress["items"]],
            ["items complete", progress["complete"]],
            ["items partly reviewed", progress["partial"]],
            ["items untouched", progress["untouched"]],
            ["reviews", progress["reviews"]],
            ["reviews today", progress["reviews_today"]],
            ["active leases", progress["active_leases"]],
            ["skips", progress["skips"]],
            ["skip rate", None if rate is None else round(rate, 4)],
        ],
    )


def _agreement_table(data: dict[str, Any]) -> Table:
    header = ["group", "value", "rater set", "scale", "fleiss kappa", "ci95 low", "ci95 high", "se0", "z"]
    header += ["krippendorff alpha", "percent agreement", "n items", "n excluded"]
    header += [f"kappa for {rating}" for rating in RATINGS]
    rows = []
    for row in data.get("agreement", []):
        for scale in ("likert", "binary"):
            result = row[scale]
            ci = result["ci95"] or [None, None]
            per_category = result["per_category"]
            rows.append(
                [row["by"], row["value"], row["rater_set"], scale, result["fleiss_kappa"], ci[0], ci[1]]
                + [result["se0"], result["z"], result["krippendorff_alpha"], result["percent_agreement"]]
                + [row["n_items"], row["n_excluded"]]
                + [per_category.get(str(rating)) for rating in RATINGS]
            )
    return Table("agreement", "Agreement", header, rows)


def _ratings_table(data: dict[str, Any]) -> Table:
    rows = []
    for model_type, series in data.get("rating_distribution", {}).items():
        for rater, counts in (("self-rating", series["self"]), ("reviewers", series["reviewers"])):
            total = sum(counts)
            rows += [
                [model_type, rater, rating, count, round(count / total, 4) if total else None]
                for rating, count in zip(RATINGS, counts, strict=True)
            ]
    return Table("ratings", "Rating distributions", ["model type", "rater", "rating", "count", "share"], rows)


def _tags_table(data: dict[str, Any], tags: dict[int, str]) -> Table:
    rows = []
    for model_type, found in data.get("tag_frequency", {}).items():
        for tag_id, name in tags.items():
            tagged = found["all"].get(str(tag_id), 0)
            won = found["successful"].get(str(tag_id), 0)
            rows.append(
                [
                    model_type,
                    name,
                    tagged,
                    _share(tagged, found["items"]),
                    won,
                    _share(won, found["successful_items"]),
                ]
            )
    header = ["model type", "tag", "items tagged", "share of reviewed items", "successful items tagged"]
    return Table("tags", "Tag frequency", [*header, "share of successful items"], rows)


def _harmlessness_table(data: dict[str, Any]) -> Table:
    rows = [[row["rating"], row["n"], row["mean"], row["sd"]] for row in data.get("harmlessness_by_rating", [])]
    return Table(
        "harmlessness",
        "Min-harmlessness score by reviewer rating",
        ["reviewer rating", "reviews", "mean min-harmlessness score", "sd"],
        rows,
    )


def _time_table(data: dict[str, Any]) -> Table:
    found = data.get("time_on_task") or {"edges": [], "counts": []}
    edges, counts = found["edges"], found["counts"]
    rows = [[edges[index], edges[index + 1], count] for index, count in enumerate(counts)]
    return Table("time", "Time on task", ["from seconds", "to seconds", "reviews"], rows)


def _disagreement_table(study: Study, data: dict[str, Any]) -> Table:
    rows = [
        [
            row["position"],
            row["model_type"],
            row["num_params"],
            row["author_rating"],
            " ".join(str(value) for value in row["reviewer_ratings"]),
            round(row["sd"], 3),
            row["range"],
            reverse("workspace:lead_item", args=[study.pk, row["item_id"]]),
        ]
        for row in data.get("disagreement", [])
    ]
    header = ["item", "model type", "size", "self-rating", "reviewer ratings", "sd", "range", "link"]
    return Table("disagreement", "Largest disagreement", header, rows)


def _share(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def dashboard_plots(*, data: dict[str, Any], tags: dict[int, str]) -> list[Plot]:
    """The dashboard's plots in page order: ratings and tags per model type, then harmlessness and time."""
    plots = [_ratings_plot(model_type, series) for model_type, series in data.get("rating_distribution", {}).items()]
    plots += [_tags_plot(model_type, found, tags) for model_type, found in data.get("tag_frequency", {}).items()]
    if rows := data.get("harmlessness_by_rating", []):
        plots.append(_harmlessness_plot(rows))
    found = data.get("time_on_task")
    if found and found["counts"]:
        plots.append(_time_plot(found))
    return plots


def size_success_plots(data: dict[str, Any]) -> list[Plot]:
    """Figure 1 as two charts: the mean self-rating and mean reviewer rating, and the mean
    min-harmlessness score, per model type and size, each with its 95% interval."""
    lines = size_success_lines(data)
    if not lines:
        return []
    rows = [
        charts.IntervalRow(
            f"{line['model_type_name']}, {line['num_params']}", line["n_items"], line["small"], line["model_type"]
        )
        for line in lines
    ]

    def series(name: str, measure: str) -> charts.IntervalSeries:
        found = [line[measure] for line in lines]
        return charts.IntervalSeries(
            name, [f["mean"] for f in found], [tuple(f["ci95"]) if f["ci95"] else None for f in found]
        )

    few = f"Rows with fewer than {SMALL_GROUP_ITEMS} items are faded."
    return [
        Plot(
            "Attack success by model size",
            charts.interval_chart(
                chart_id="model-size-ratings",
                title="Attack success by model size: mean self-rating and mean reviewer rating (95% t interval)",
                rows=rows,
                series=[series("Self-rating (author)", "self_rating"), series("Reviewer rating", "reviewer_rating")],
                value_label="mean rating (0 not successful – 4 very successful)",
                domain=(0.0, 4.0),
                description=f"Per model type and size, the mean of the authors' self-ratings and of the items' mean "
                f"reviewer ratings, with the {INTERVAL_NOTE}. {few}",
            ),
            "model-size",
        ),
        Plot(
            "Min-harmlessness by model size",
            charts.interval_chart(
                chart_id="model-size-harmlessness",
                title="Mean min-harmlessness score by model size (95% t interval; lower is more harmful)",
                rows=rows,
                series=[series("Min-harmlessness score", "min_harmlessness")],
                value_label="mean min-harmlessness score (lower is more harmful)",
                description=f"Per model type and size, the mean min-harmlessness score of the reviewed transcripts, "
                f"with the {INTERVAL_NOTE}. {few}",
            ),
            "model-size",
        ),
    ]


def _ratings_plot(model_type: str, series: dict[str, list[int]]) -> Plot:
    name = MODEL_TYPE_NAMES.get(model_type, model_type)
    return Plot(
        f"Ratings, {name}",
        charts.bar_chart(
            chart_id=f"ratings-{_slug(model_type)}",
            title=f"Self-ratings and reviewer ratings, {name}",
            categories=[RATING_NAMES[rating] for rating in RATINGS],
            series=[
                charts.Series(f"Self-ratings (n={sum(series['self'])})", _shares(series["self"])),
                charts.Series(f"Reviewer ratings (n={sum(series['reviewers'])})", _shares(series["reviewers"])),
            ],
            value_label="share of ratings",
            category_label="rating",
            percent=True,
        ),
        "ratings",
    )


def _tags_plot(model_type: str, found: dict[str, Any], tags: dict[int, str]) -> Plot:
    name = MODEL_TYPE_NAMES.get(model_type, model_type)
    series = [
        charts.Series(
            f"All reviewed (n={found['items']})",
            [_share(found["all"].get(str(tag), 0), found["items"]) for tag in tags],
        )
    ]
    note = ""
    if found["successful_items"]:
        series.append(
            charts.Series(
                f"Successful, majority of reviewers rated ≥ 3 (n={found['successful_items']})",
                [_share(found["successful"].get(str(tag), 0), found["successful_items"]) for tag in tags],
            )
        )
    else:
        note = (
            "No successful items yet (no item has a majority of reviewer ratings of 3 or more), "
            "so only all reviewed items are shown."
        )
    return Plot(
        f"Tags, {name}",
        charts.bar_chart(
            chart_id=f"tags-{_slug(model_type)}",
            title=f"Harm topics of reviewed and successful attacks, {name}",
            categories=list(tags.values()),
            series=series,
            value_label="share of items tagged by a reviewer",
            horizontal=True,
            percent=True,
        ),
        "tags",
        note,
    )


def _harmlessness_plot(rows: list[dict[str, Any]]) -> Plot:
    return Plot(
        "Min-harmlessness score by rating",
        charts.error_bar_chart(
            chart_id="harmlessness",
            title="Mean min-harmlessness score (±1 SD) by reviewer rating",
            categories=[RATING_NAMES[row["rating"]] for row in rows],
            means=[row["mean"] for row in rows],
            sds=[row["sd"] for row in rows],
            counts=[row["n"] for row in rows],
            value_label="min-harmlessness score (lower is more harmful)",
            category_label="reviewer rating",
        ),
        "harmlessness",
    )


def _time_plot(found: dict[str, Any]) -> Plot:
    overflow = f"; the last bar includes {found['overflow']} longer reviews" if found["overflow"] else ""
    return Plot(
        "Time on task",
        charts.histogram(
            chart_id="time-on-task",
            title=f"Seconds from preview to submit (median {found['median']:.0f} s, 90th percentile "
            f"{found['p90']:.0f} s)",
            edges=found["edges"],
            counts=found["counts"],
            value_label="reviews",
            category_label="seconds on task",
            description=f"Histogram of {found['n']} reviews' time on task{overflow}.",
        ),
        "time",
    )


def expert_plot(comparison: dict[str, Any]) -> Plot | None:
    """Per domain, how often the expert and the crowd's majority call the attack a success."""
    domains = comparison["domains"]
    if not domains:
        return None
    return Plot(
        "Experts against the crowd",
        charts.bar_chart(
            chart_id="experts-vs-crowd",
            title="Share of items judged a successful attack, by the expert and by the crowd's majority",
            categories=[f"{row['domain']} ({row['n']})" for row in domains],
            series=[
                charts.Series("Expert", [row["expert_success_share"] for row in domains]),
                charts.Series("Crowd majority", [row["crowd_success_share"] for row in domains]),
            ],
            value_label="items judged successful",
            category_label="domain (items)",
            horizontal=True,
            percent=True,
            description=f"Grouped bars for {len(domains)} domain{'s' if len(domains) != 1 else ''}: the share "
            "of items with an expert review that the expert, and the crowd's majority, rated 3 or more.",
        ),
        "experts",
    )


def _shares(counts: list[int]) -> list[float | None]:
    total = sum(counts)
    return [count / total if total else None for count in counts]


def _slug(value: str) -> str:
    """A chart id: ASCII letters and digits only, whatever the model type is called."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "other"
