from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agreement.analytics import AUTHOR_AND_REVIEWERS, REVIEWERS_ONLY, agreement_rows
from agreement.selectors import study_ratings
from agreement.statistics import (
    DEFAULT_RESAMPLES,
    RaterSets,
    RatingsFileError,
    agreement_compute,
    rater_sets_same_items,
    ratings_read_csv,
)
from review.models import Study

AUTHOR_RATER = "author"


class Command(BaseCommand):
    help = (
        "Print inter-rater agreement (Fleiss's kappa with its 95% bootstrap interval, Krippendorff's alpha) "
        "for a study, or for any long-format CSV of ratings with the header item,rater,rating."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--study", type=int, metavar="ID", help="A study's id (see /lead/studies/).")
        source.add_argument(
            "--ratings",
            metavar="FILE.csv",
            help=(
                "Columns item,rater,rating; ratings are integers 0-4; the rater named 'author' is the author. "
                "Both rater sets use the items with the author's rating and every reviewer rating; "
                "the output says how many items were left out and why."
            ),
        )
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
        parser.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES, help="Bootstrap resamples.")
        parser.add_argument("--seed", type=int, help="Bootstrap seed (default: the study's seed, or 0).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["resamples"] < 1000:
            raise CommandError("--resamples must be at least 1000 for a 95% interval to mean something")
        self.left_out: RaterSets | None = None
        rows = self._study_rows(options) if options["study"] is not None else self._csv_rows(options)
        if options["json"]:
            data = _as_json(rows)
            if self.left_out is not None:
                data["left_out"] = {
                    "items": self.left_out.left_out_count,
                    "reasons": self.left_out.left_out,
                    "text": self.left_out.left_out_sentence(),
                }
            self.stdout.write(json.dumps(data, indent=2))
        else:
            self.stdout.write(_as_table(rows))
            if self.left_out is not None:
                self.stdout.write(self.left_out.left_out_sentence())

    def _study_rows(self, options: dict[str, Any]) -> list[dict[str, Any]]:
        study = Study.objects.filter(pk=options["study"]).first()
        if study is None:
            raise CommandError(f"--study: no study with id {options['study']}")
        ratings = study_ratings(study=study)
        if options["seed"] is not None:
            ratings = replace(ratings, seed=options["seed"])
        return agreement_rows(ratings, resamples=options["resamples"])

    def _csv_rows(self, options: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            table = ratings_read_csv(options["ratings"])
        except FileNotFoundError:
            raise CommandError(f"--ratings: no file {options['ratings']!r}") from None
        except RatingsFileError as exc:
            raise CommandError(str(exc)) from None
        seed = options["seed"] or 0
        # Both rater sets on the same items, so their rows compare like with like.
        chosen = rater_sets_same_items(
            table,
            author=AUTHOR_RATER,
            with_author=AUTHOR_AND_REVIEWERS,
            reviewers_only=REVIEWERS_ONLY,
            alone="all raters",
        )
        if not chosen.items:
            raise CommandError(f"{options['ratings']}: no item has every rating needed. {chosen.left_out_sentence()}")
        self.left_out = chosen
        rows = []
        for rater_set, matrix, raters in chosen.sets:
            try:
                result = agreement_compute(matrix, raters_per_item=raters, resamples=options["resamples"], seed=seed)
            except ValueError as exc:
                raise CommandError(f"{options['ratings']}: {exc}") from None
            row = {"by": "overall", "value": "all", "rater_set": rater_set, **result.as_dict()}
            row["n_excluded"] = chosen.left_out_count
            rows.append(row)
        return rows


def _as_json(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The first row (all raters, overall) at the top level, so `n_items` and `likert` sit where scripts look."""
    overall = [row for row in rows if row["by"] == "overall"]
    primary = {key: value for key, value in overall[0].items() if key not in {"by", "value"}}
    reviewers_only = next((row for row in overall if row["rater_set"] == REVIEWERS_ONLY), None)
    return {
        **primary,
        "reviewers_only": _strip(reviewers_only) if reviewers_only else None,
        "groups": [row for row in rows if row["by"] != "overall"],
    }


def _strip(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in {"by", "value", "rater_set"}}


def _as_table(rows: list[dict[str, Any]]) -> str:
    header = ["group", "rater set", "scale", "kappa", "95% CI", "z", "alpha", "agree %", "n", "excluded"]
    lines = []
    for row in rows:
        group = "overall" if row["by"] == "overall" else f"{row['by']}={row['value']}"
        for scale in ("likert", "binary"):
            result = row[scale]
            lines.append(
                [
                    group,
                    row["rater_set"],
                    scale,
                    _number(result["fleiss_kappa"]),
                    _interval(result["ci95"]),
                    _number(result["z"], 2),
                    _number(result["krippendorff_alpha"]),
                    _number(result["percent_agreement"], 1),
                    str(row["n_items"]),
                    str(row["n_excluded"]),
                ]
            )
    widths = [max(len(cells[index]) for cells in [header, *lines]) for index in range(len(header))]
    right = {3, 4, 5, 6, 7, 8, 9}

    def render(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([render(header), render(["-" * width for width in widths]), *map(render, lines)])


def _number(value: float | None, places: int = 3) -> str:
    return "—" if value is None else f"{value:.{places}f}"


def _interval(ci: list[float] | None) -> str:
    return "—" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"
