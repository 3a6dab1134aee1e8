"""Agreement benchmark: a 38,961-item study with 4 raters per item (the author and 3 reviewers), on PostgreSQL.

    python bench/agreement_bench.py [--items 38961] [--runs 5] [--requests 60] [--naive-runs 1]
        [--database-url postgres://postgres@127.0.0.1:5432/triad_agreement_bench]

It recreates a scratch database, migrates it and writes, with set-based SQL, as many
transcripts as the released data set (its model-type and size mix), a started study over
all of them, and 3 reviews per item from 30 reviewers whose ratings scatter around the
author's self-rating (one of them a point more lenient, one rating at random). Then it times:

- the full agreement computation as the Celery task runs it (agreement_snapshot_refresh:
  load every rating, Fleiss's kappa with SE and a 1,000-resample bootstrap and
  Krippendorff's alpha for both scales and both rater sets, overall, per model type and
  per size, plus the dashboard figures, saved as the snapshot), best and median of --runs;
- the consensus task that follows it (consensus_refresh: its own load of the reviews,
  Dawid-Skene on both scales and MACE, one row per item written), best and median of --runs;
- its parts: loading the ratings, and the computation alone;
- the same work done two ways, for the overall Likert table (items x categories, from the
  same ratings): Fleiss's kappa with a 1,000-resample bootstrap 95% interval as the
  snapshot computes it (review.agreement.fleiss_from_counts), and naively, as statsmodels
  users would (fleiss_kappa on the table, then on 1,000 tables of items drawn with
  replacement); both intervals are printed, since they must agree within resampling noise.
  The full computation is reported in absolute time and per statistic set, not as a ratio
  to one plain kappa call, which is a different amount of work;
- the lead dashboard page served from the snapshot (Django's test client, in process,
  DEBUG off), p50/p95 over --requests requests after a warm-up;
- per-reviewer quality (agreement/reviewer_quality.py: each reviewer's activity, rating gap,
  majority agreement, drift and leave-one-out kappa and ordinal alpha), which the full
  computation above includes: its share there (from the ratings the snapshot loaded), and on
  read as the overall page does it (agreement.selectors.reviewer_quality, its own load); the
  vectorised leave-one-out alone against a baseline doing it reviewer by reviewer with
  statistics.fleiss_from_counts and alpha_compute on each reviewer's items (the figures must
  match); then each reviewer's figures, and the Reviewers page p50/p95.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from figures import Figure, figures_write
from review_loop import django_setup, import_batch_create, migrate
from scratch_db import recreate_database

ROOT = Path(__file__).resolve().parent.parent
RELEASED_ITEMS = 38_961
REVIEWERS = 30
# The released data set's proportions (DOMAIN.md), as cumulative cut points over item number.
MODEL_TYPES = [("plain lm", 5_152), ("context distillation", 21_957), ("rejection sampling", 3_981), ("rlhf", 7_871)]
SIZES = [("52B", 23_507), ("13B", 8_316), ("2.7B", 7_138)]
SELF_RATINGS = [16_475, 4_367, 4_936, 4_249, 8_934]
# A reviewer's rating is the self-rating moved by one of these, clamped to 0-4: mostly agreement.
RATING_SHIFTS = [-2, -1, -1, 0, 0, 0, 0, 0, 1, 1, 2]
# Two reviewers the per-reviewer figures should single out: one a point more lenient than the
# shift above, one who rates at random (indexes into the 30 bench raters, 01 and 02).
LENIENT_RATER = 0
RANDOM_RATER = 1


def _case(column: str, pairs: list[tuple[str, int]], total: int) -> str:
    """A SQL CASE giving each item a value in the released proportions, spread evenly over item numbers."""
    scale = sum(count for _, count in pairs)
    cut, branches = 0.0, []
    for value, count in pairs[:-1]:
        cut += count / scale
        branches.append(f"WHEN {column} < {cut:.6f} THEN '{value}'")
    return f"CASE {' '.join(branches)} ELSE '{pairs[-1][0]}' END"


def data_build(items: int) -> tuple[object, object]:
    from django.db import connection

    from accounts.services import account_ensure
    from review.models import Review, Slot, Study, StudyItem, StudyStatus
    from tagging.models import Tag
    from transcripts.models import Transcript

    batch_id = import_batch_create("agreement bench")
    reviewers = [
        account_ensure(username=f"bench-rater-{number:02d}", password="bench-agreement", roles=["reviewer"])  # noqa: S106
        for number in range(1, REVIEWERS + 1)
    ]
    lead = account_ensure(username="bench-lead", password="bench-agreement", roles=["lead"])  # noqa: S106
    rating_cases = [(str(rating), count) for rating, count in enumerate(SELF_RATINGS)]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        # Fractions of the item number place it in each released proportion; a hash spreads
        # model types and sizes independently.
        cursor.execute(
            f"""
            INSERT INTO {Transcript._meta.db_table}
                (transcript, min_harmlessness_score_transcript, num_params, model_type, rating, task_description,
                 task_description_harmlessness_score, red_team_member_id, is_upworker, source_tags, turn_spans,
                 content_hash, import_batch_id, source_index, created_at)
            SELECT '\n\nHuman: q ' || g.n || '\n\nAssistant: a',
                   0.0, {_case("g.s", SIZES, items)}, {_case("g.t", MODEL_TYPES, items)},
                   ({_case("g.r", rating_cases, items)})::int,
                   'bench', NULL, 100000 + mod(g.n, 324), false, NULL,
                   jsonb_build_array(jsonb_build_array('Human', 9, 11 + length(g.n::text)),
                                     jsonb_build_array('Assistant', 24 + length(g.n::text), 25 + length(g.n::text))),
                   decode(md5(g.n::text) || md5(g.n::text), 'hex'), %s, g.n, now()
            FROM (SELECT n, random() AS t, random() AS s, random() AS r FROM generate_series(1, %s) n) g
            """,
            [batch_id, items],
        )
        # Lower preference-model scores go with more successful attacks, with wide spread.
        cursor.execute(
            f"UPDATE {Transcript._meta.db_table} SET min_harmlessness_score_transcript ="
            " round((2.5 - 1.4 * rating + 2.2 * (random() + random() + random() - 1.5))::numeric, 3)"
        )
    study = Study.objects.create(
        name="Agreement bench", seed=7, reviewers_per_item=3, status=StudyStatus.ACTIVE, strata=[]
    )
    reviewer_ids = [user.pk for user in reviewers]
    tag_ids = list(Tag.objects.order_by("position").values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {StudyItem._meta.db_table} (study_id, transcript_id, position, stratum)
                SELECT %s, id, row_number() OVER (ORDER BY id), 'all' FROM {Transcript._meta.db_table}""",
            [study.pk],
        )
        # Slot n of item i goes to reviewer (i + 7n) mod 30: three different people per item.
        cursor.execute(
            f"""
            INSERT INTO {Slot._meta.db_table}
                (study_id, item_id, number, position, author_member_id, item_done, status, holder_id, leased_at)
            SELECT item.study_id, item.id, n, item.position, t.red_team_member_id, 3, 'done',
                   (%s::bigint[])[1 + mod(item.position + 7 * n, {REVIEWERS})], now() - interval '1 hour'
            FROM {StudyItem._meta.db_table} item JOIN {Transcript._meta.db_table} t ON t.id = item.transcript_id
            CROSS JOIN generate_series(1, 3) n WHERE item.study_id = %s
            """,
            [reviewer_ids, study.pk],
        )
        cursor.execute(
            f"""
            INSERT INTO {Review._meta.db_table}
                (slot_id, item_id, study_id, reviewer_id, rating, first_tag_id, second_tag_id, needs_expertise,
                 expertise_domain, note, seconds_on_task, author_member_id, reviewer_member_id, created_at)
            SELECT slot.id, slot.item_id, slot.study_id, slot.holder_id,
                   CASE slot.holder_id
                       WHEN %s THEN floor(random() * 5)::int
                       ELSE greatest(0, least(4, t.rating + (%s::int[])[1 + floor(random() * 11)::int]
                                                 + CASE WHEN slot.holder_id = %s THEN 1 ELSE 0 END))
                   END,
                   (%s::bigint[])[1 + floor(random() * 19)::int],
                   NULL, false, '', '', (20 + 240 * random() * random())::int, slot.author_member_id, NULL,
                   now() - random() * interval '2 days'
            FROM {Slot._meta.db_table} slot
            JOIN {StudyItem._meta.db_table} item ON item.id = slot.item_id
            JOIN {Transcript._meta.db_table} t ON t.id = item.transcript_id
            WHERE slot.study_id = %s
            """,
            [reviewer_ids[RANDOM_RATER], RATING_SHIFTS, reviewer_ids[LENIENT_RATER], tag_ids, study.pk],
        )
        cursor.execute("ANALYZE")
    print(
        f"  data: {items:,} transcripts, {Review.objects.filter(study=study).count():,} reviews "
        f"({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    return study, lead


def leave_one_out_by_reviewer(data: object) -> dict[int, tuple[float, ...]]:
    """The baseline: each reviewer's complete items cut out of the items x reviewers matrix, then
    statistics.fleiss_from_counts and alpha_compute with and without their column, one reviewer at a time."""
    import numpy as np

    from agreement.statistics import alpha_compute, counts_from_ratings, fleiss_from_counts

    items, item = np.unique(np.asarray(data.review_items), return_inverse=True)  # type: ignore[attr-defined]
    people, who = np.unique(np.asarray(data.review_reviewers), return_inverse=True)  # type: ignore[attr-defined]
    matrix = np.full((len(items), len(people)), np.nan)
    matrix[item, who] = data.review_ratings  # type: ignore[attr-defined]
    raters = np.zeros(len(items), dtype=int)
    raters[item] = data.review_raters  # type: ignore[attr-defined]
    complete = (~np.isnan(matrix)).sum(axis=1) == raters
    result = {}
    for column, person in enumerate(people):
        theirs = matrix[complete & ~np.isnan(matrix[:, column])]
        width = int(raters.max())
        with_them = theirs[~np.isnan(theirs)].reshape(-1, width)
        rest = np.delete(theirs, column, axis=1)
        without = rest[~np.isnan(rest)].reshape(-1, width - 1)
        result[int(person)] = (
            fleiss_from_counts(counts_from_ratings(with_them), resamples=0).kappa,
            fleiss_from_counts(counts_from_ratings(without), resamples=0).kappa,
            alpha_compute(with_them, level_of_measurement="ordinal", value_domain=range(5)),
            alpha_compute(without, level_of_measurement="ordinal", value_domain=range(5)),
        )
    return result


def timed(function: object, runs: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=RELEASED_ITEMS)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument(
        "--naive-runs", type=int, default=1, help="Runs of the naive kappa and bootstrap (seconds each)."
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/triad_agreement_bench"),
    )
    parser.add_argument("--json", metavar="PATH", help="Also write the key figures to PATH (for bench/compare.py).")
    args = parser.parse_args()

    print(f"Scratch database: {args.database_url}", flush=True)
    recreate_database(args.database_url)
    migrate(args.database_url)
    django_setup(args.database_url)

    import numpy as np
    from django.test import Client
    from statsmodels.stats.inter_rater import fleiss_kappa

    from agreement.analytics import snapshot_compute
    from agreement.reviewer_quality import (
        quality_input_from_ratings,
        reviewer_leave_one_out,
        reviewer_quality_compute,
    )
    from agreement.selectors import reviewer_quality, reviewer_quality_input, study_ratings, study_skips
    from agreement.services import agreement_snapshot_refresh, consensus_refresh
    from agreement.statistics import DEFAULT_RESAMPLES, counts_from_ratings, fleiss_from_counts

    study, lead = data_build(args.items)

    load_times, ratings = timed(lambda: study_ratings(study=study), args.runs)
    compute_times, data = timed(lambda: snapshot_compute(ratings), args.runs)
    full_times, snapshot = timed(lambda: agreement_snapshot_refresh(study_id=study.pk), args.runs)
    consensus_times, consensus = timed(lambda: consensus_refresh(study_id=study.pk), args.runs)

    table = counts_from_ratings(ratings.author_and_reviewer_matrix(ratings.reviewer_matrix()))
    point_times, baseline_kappa = timed(lambda: fleiss_kappa(table, method="fleiss"), max(args.runs, 20))

    def naive_kappa_and_interval() -> tuple[float, tuple[float, float]]:
        rng = np.random.default_rng(0)
        kappas = [
            fleiss_kappa(table[rng.integers(0, len(table), len(table))], method="fleiss")
            for _ in range(DEFAULT_RESAMPLES)
        ]
        low, high = np.nanpercentile(kappas, [2.5, 97.5])
        return fleiss_kappa(table, method="fleiss"), (float(low), float(high))

    ours_times, ours = timed(lambda: fleiss_from_counts(table, resamples=DEFAULT_RESAMPLES), args.runs)
    naive_times, (_, naive_ci) = timed(naive_kappa_and_interval, args.naive_runs)

    overall = next(row for row in data["agreement"] if row["by"] == "overall")
    if not np.isclose(overall["likert"]["fleiss_kappa"], baseline_kappa):
        sys.exit(f"kappa differs from statsmodels: {overall['likert']['fleiss_kappa']} vs {baseline_kappa}")

    client = Client()
    client.force_login(lead)
    url = f"/lead/studies/{study.pk}/"
    for _ in range(3):
        response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"dashboard answered {response.status_code}")
    page_times, _ = timed(lambda: client.get(url), args.requests)
    page_times_ms = sorted(1000 * value for value in page_times)

    skips = study_skips(studies=[study])
    in_snapshot_times, _ = timed(
        lambda: reviewer_quality_compute(quality_input_from_ratings(ratings, skips)), args.runs
    )
    quality_load_times, quality_input = timed(lambda: reviewer_quality_input(studies=[study]), args.runs)
    quality_times, quality = timed(lambda: reviewer_quality(studies=[study]), args.runs)
    vector_times, _ = timed(lambda: reviewer_leave_one_out(quality_input), args.runs)
    loop_times, looped = timed(lambda: leave_one_out_by_reviewer(quality_input), max(1, args.naive_runs))
    for row in quality["reviewers"]:
        expected = looped[row["reviewer_id"]]
        got = (row["kappa_with"], row["kappa_without"], row["alpha_with"], row["alpha_without"])
        if not np.allclose(got, expected):
            sys.exit(f"leave-one-out differs from statistics.py for reviewer {row['reviewer_id']}: {got} vs {expected}")
    quality_url = f"/lead/studies/{study.pk}/reviewers/"
    for _ in range(2):
        if client.get(quality_url).status_code != 200:
            sys.exit("the Reviewers page did not open")
    quality_page_times, _ = timed(lambda: client.get(quality_url), max(5, args.requests // 4))
    quality_page_ms = sorted(1000 * value for value in quality_page_times)

    def best_median(values: list[float]) -> str:
        return f"{min(values):.3f} / {statistics.median(values):.3f} s"

    statistic_sets = 2 * len(data["agreement"])  # each row: Likert and binary scales
    print()
    print(
        f"Study: {len(ratings.item_ids):,} items x 4 raters, {ratings.review_count:,} reviews, "
        f"{len(data['agreement'])} agreement rows (groups x rater sets), 1,000 bootstrap resamples each"
    )
    print(
        f"  overall: Likert kappa {overall['likert']['fleiss_kappa']:.3f} "
        f"[{overall['likert']['ci95'][0]:.3f}, {overall['likert']['ci95'][1]:.3f}], "
        f"binary kappa {overall['binary']['fleiss_kappa']:.3f}, "
        f"ordinal alpha {overall['likert']['krippendorff_alpha']:.3f}"
    )
    print(
        f"Full computation (agreement_snapshot_refresh, per-reviewer quality included), best / median: "
        f"{best_median(full_times)}  (target < 2 s)"
    )
    print(f"  loading the ratings:                          {best_median(load_times)}")
    versus = consensus.data["versus_majority"]["binary"]
    print(
        f"Consensus task after it (consensus_refresh: load, Dawid-Skene binary and 0-4, MACE binary, write "
        f"{consensus.data['items']:,} item rows), best / median: {best_median(consensus_times)}; Dawid-Skene differs "
        f"from the binary majority on {versus['differs']:,} of {versus['items']:,} items"
    )
    print(f"  computing agreement and figures:              {best_median(compute_times)}")
    print(
        f"  full computation per statistic set ({statistic_sets} = {len(data['agreement'])} rows x 2 scales; each "
        f"kappa, SE, z, per-category kappas, {DEFAULT_RESAMPLES:,}-resample interval and alpha): "
        f"{1000 * statistics.median(full_times) / statistic_sets:.1f} ms (median)"
    )
    ours_median, naive_median = statistics.median(ours_times), statistics.median(naive_times)
    print(
        f"Same work two ways: kappa with a {DEFAULT_RESAMPLES:,}-resample 95% interval on the overall Likert "
        f"{table.shape[0]:,} x {table.shape[1]} table"
    )
    print(
        f"  review.agreement.fleiss_from_counts:   {1000 * ours_median:9.1f} ms (median of {len(ours_times)}),"
        f" interval [{ours.ci95[0]:.4f}, {ours.ci95[1]:.4f}]"
    )
    print(
        f"  naive statsmodels (1 + {DEFAULT_RESAMPLES:,} calls):     {1000 * naive_median:9.1f} ms"
        f" (median of {len(naive_times)}), interval [{naive_ci[0]:.4f}, {naive_ci[1]:.4f}]"
    )
    print(f"  naive / ours: {naive_median / ours_median:,.0f}x")
    print(
        f"  for scale: one statsmodels fleiss_kappa call (the point estimate alone): "
        f"{1000 * statistics.median(point_times):.2f} ms (median of {len(point_times)})"
    )
    p95 = page_times_ms[int(0.95 * (len(page_times_ms) - 1))]
    print(
        f"Dashboard {url} from the snapshot ({snapshot.review_count:,} reviews), {args.requests} requests: "
        f"p50 {statistics.median(page_times_ms):.1f} ms, p95 {p95:.1f} ms  (target p50 < 300 ms)"
    )
    print()
    print(f"Per-reviewer quality, {len(quality['reviewers'])} reviewers over {ratings.review_count:,} reviews:")
    print(f"  in the snapshot, from its loaded ratings:        {best_median(in_snapshot_times)}")
    print(f"  on read (the overall page), load + compute:      {best_median(quality_times)}")
    print(f"  of which loading reviews and skips:              {best_median(quality_load_times)}")
    loop_median, vector_median = statistics.median(loop_times), statistics.median(vector_times)
    print(
        f"  leave-one-out kappa (0-4, binary) and ordinal alpha for every reviewer, vectorised: "
        f"{1000 * vector_median:.1f} ms (median of {len(vector_times)})"
    )
    print(
        f"  baseline: leave-one-out kappa and alpha reviewer by reviewer with statistics.py: "
        f"{1000 * loop_median:.1f} ms (median of {len(loop_times)}), the same figures "
        f"({loop_median / vector_median:.1f}x)"
    )
    pool = quality["pool"]
    print(
        f"  pool (reviewers only): kappa {pool['kappa']:.3f}, binary kappa {pool['binary_kappa']:.3f}, "
        f"ordinal alpha {pool['alpha']:.3f} on {pool['complete_items']:,} items"
    )
    print(
        f"  {'reviewer':<16}{'reviews':>8}{'med s':>7}{'mean':>6}{'diff':>7}{'t':>7}{'maj %':>7}"
        f"{'k with':>8}{'k w/o':>8}{'a gain':>8}  flags"
    )
    for row in quality["reviewers"]:
        flags = "; ".join(f"{flag['label']}: {flag['detail']}" for flag in row["flags"]) or "-"
        cells = [
            (row["median_seconds"], 7, ".0f"),
            (row["mean_rating"], 6, ".2f"),
            (row["rating_difference"], 7, "+.2f"),
            (row["rating_difference_t"], 7, ".1f"),
            (row["majority_binary_percent"], 7, ".1f"),
            (row["kappa_with"], 8, ".3f"),
            (row["kappa_without"], 8, ".3f"),
            (row["alpha_gain"], 8, "+.3f"),
        ]
        shown = "".join(("-" if value is None else format(value, spec)).rjust(width) for value, width, spec in cells)
        print(f"  {row['username']:<16}{row['reviews']:>8,}{shown}  {flags}")
    quality_p95 = quality_page_ms[int(0.95 * (len(quality_page_ms) - 1))]
    print(
        f"Reviewers page {quality_url}, {len(quality_page_ms)} requests: "
        f"p50 {statistics.median(quality_page_ms):.1f} ms, p95 {quality_p95:.1f} ms"
    )
    if args.json:
        # The figures bench/compare.py compares, as printed (figures.agreement_bench_parse reads the same).
        figures = [
            Figure("full computation, median", statistics.median(full_times), "s", "lower"),
            Figure("loading the ratings, median", statistics.median(load_times), "s", "lower"),
            Figure("consensus task, median", statistics.median(consensus_times), "s", "lower"),
            Figure("agreement and figures, median", statistics.median(compute_times), "s", "lower"),
            Figure("kappa + interval, fleiss_from_counts", 1000 * ours_median, "ms", "lower"),
            Figure("kappa + interval, naive statsmodels", 1000 * naive_median, "ms", "info"),
            Figure("one fleiss_kappa call", 1000 * statistics.median(point_times), "ms", "info"),
            Figure("dashboard p50", statistics.median(page_times_ms), "ms", "lower"),
            Figure("dashboard p95", p95, "ms", "lower"),
            Figure("reviewer quality in the snapshot, median", statistics.median(in_snapshot_times), "s", "lower"),
            Figure("reviewer quality on read, median", statistics.median(quality_times), "s", "lower"),
            Figure("leave-one-out vectorised", 1000 * vector_median, "ms", "lower"),
            Figure("leave-one-out reviewer by reviewer", 1000 * loop_median, "ms", "info"),
            Figure("reviewers page p50", statistics.median(quality_page_ms), "ms", "lower"),
        ]
        figures_write(args.json, bench="agreement_bench", figures=figures)


if __name__ == "__main__":
    main()
