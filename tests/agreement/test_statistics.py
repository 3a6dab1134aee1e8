"""Agreement figures against published values, against the libraries they wrap, and on the edges."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from agreement.statistics import (
    BINARY_CATEGORIES,
    LIKERT_CATEGORIES,
    Agreement,
    RatingsFileError,
    RatingsTable,
    ScaleAgreement,
    agreement_compute,
    alpha_compute,
    binarize,
    counts_from_ratings,
    fleiss_from_counts,
    item_success_label,
    items_success_labels,
    items_successful,
    kappa_bootstrap,
    kappa_bootstrap_ci,
    kappa_per_category,
    mean_interval,
    percent_agreement,
    ratings_read_csv,
)

NAN = np.nan

# Fleiss (1971), Table 1 (R irr's `diagnoses`): 30 patients, 6 psychiatrists each, counts per
# diagnosis. Columns: depression, personality disorder, schizophrenia, neurosis, other.
FLEISS_1971_COUNTS = np.array(
    [
        [0, 0, 0, 6, 0],
        [0, 3, 0, 0, 3],
        [0, 1, 4, 0, 1],
        [0, 0, 0, 0, 6],
        [0, 3, 0, 3, 0],
        [2, 0, 4, 0, 0],
        [0, 0, 4, 0, 2],
        [2, 0, 3, 1, 0],
        [2, 0, 0, 4, 0],
        [0, 0, 0, 0, 6],
        [1, 0, 0, 5, 0],
        [1, 1, 0, 4, 0],
        [0, 3, 3, 0, 0],
        [1, 0, 0, 5, 0],
        [0, 2, 0, 3, 1],
        [0, 0, 5, 0, 1],
        [3, 0, 0, 1, 2],
        [5, 1, 0, 0, 0],
        [0, 2, 0, 4, 0],
        [1, 0, 2, 0, 3],
        [0, 0, 0, 0, 6],
        [0, 1, 0, 5, 0],
        [0, 2, 0, 1, 3],
        [2, 0, 0, 4, 0],
        [1, 0, 0, 4, 1],
        [0, 5, 0, 1, 0],
        [4, 0, 0, 0, 2],
        [0, 2, 0, 4, 0],
        [1, 0, 5, 0, 0],
        [0, 0, 0, 0, 6],
    ]
)


def _ratings_from_counts(counts: np.ndarray) -> np.ndarray:
    """The same table as an items x raters matrix, category j written as rating j."""
    return np.array([np.repeat(np.arange(counts.shape[1]), row) for row in counts], dtype=float)


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: observers A-D
# (rows) on 12 units (columns), values 1-5, NaN where an observer did not code a unit.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)


def _random_ratings(rng: np.random.Generator, items: int, raters: int, *, missing: float) -> np.ndarray:
    """Correlated 0-4 ratings (a latent level plus noise), some missing, never a row with none."""
    latent = rng.integers(0, 5, size=(items, 1))
    ratings = np.clip(latent + rng.integers(-1, 2, size=(items, raters)), 0, 4).astype(float)
    ratings[rng.random((items, raters)) < missing] = NAN
    empty = np.isnan(ratings).all(axis=1)
    ratings[empty, 0] = latent[empty, 0]
    return ratings


# --- published values ----------------------------------------------------------------------


def test_fleiss_kappa_matches_fleiss_1971_diagnoses() -> None:
    kappa, per_category, se0, z, ci95, percent = fleiss_from_counts(FLEISS_1971_COUNTS)

    assert round(kappa, 4) == 0.4302
    assert round(z, 2) == 17.65
    assert kappa / se0 == z
    assert [round(per_category[j], 3) for j in range(5)] == [0.245, 0.245, 0.520, 0.471, 0.566]
    # Fleiss' P-bar for the same table is .556.
    assert round(percent, 2) == 55.56
    assert ci95[0] < kappa < ci95[1]


def test_fleiss_1971_gives_the_same_figures_from_counts_and_from_a_ratings_matrix() -> None:
    ratings = _ratings_from_counts(FLEISS_1971_COUNTS)
    # Shuffled within rows: which column a rating sits in must not matter.
    shuffled = np.random.default_rng(3).permuted(ratings, axis=1)
    from_counts = fleiss_from_counts(FLEISS_1971_COUNTS, categories=LIKERT_CATEGORIES)

    result = agreement_compute(shuffled)

    assert np.array_equal(counts_from_ratings(ratings), FLEISS_1971_COUNTS)
    assert result.n_items == 30
    assert result.n_excluded == 0
    assert result.raters_per_item == 6
    assert result.likert.fleiss_kappa == pytest.approx(from_counts.kappa, rel=1e-12)
    assert result.likert.z == pytest.approx(from_counts.z, rel=1e-12)
    assert result.likert.se0 == pytest.approx(from_counts.se0, rel=1e-12)
    assert result.likert.per_category == pytest.approx(from_counts.per_category, rel=1e-12)
    assert result.likert.percent_agreement == pytest.approx(from_counts.percent_agreement, rel=1e-12)
    assert result.likert.ci95 == from_counts.ci95


def test_alpha_matches_krippendorff_2011_example() -> None:
    units = KRIPPENDORFF_2011.T

    nominal = alpha_compute(units, level_of_measurement="nominal", value_domain=[1, 2, 3, 4, 5])
    ordinal = alpha_compute(units, level_of_measurement="ordinal", value_domain=[1, 2, 3, 4, 5])

    assert round(nominal, 3) == 0.743
    assert round(ordinal, 3) == 0.815


def test_alpha_of_krippendorff_2011_shifted_to_0_4_is_unchanged_when_the_domain_shifts_with_it() -> None:
    # Ordinal distances count the values between two ratings; shifting values and domain
    # together keeps every count, so the 0-4 pipeline must reproduce the published figure.
    shifted = KRIPPENDORFF_2011.T - 1

    result = agreement_compute(shifted)

    assert round(result.likert.krippendorff_alpha, 3) == 0.815
    assert alpha_compute(shifted, level_of_measurement="nominal", value_domain=LIKERT_CATEGORIES) == pytest.approx(
        alpha_compute(KRIPPENDORFF_2011.T, level_of_measurement="nominal", value_domain=[1, 2, 3, 4, 5])
    )


# --- against the libraries called directly -----------------------------------------------------


@pytest.mark.parametrize(("items", "raters", "missing", "seed"), [(50, 3, 0.0, 1), (200, 4, 0.1, 2), (17, 6, 0.05, 3)])
def test_kappa_and_alpha_equal_statsmodels_and_krippendorff_called_directly(
    items: int, raters: int, missing: float, seed: int
) -> None:
    ratings = _random_ratings(np.random.default_rng(seed), items, raters, missing=missing)
    complete = ratings[~np.isnan(ratings).any(axis=1)].astype(int)

    result = agreement_compute(ratings, raters_per_item=raters, resamples=200)

    assert result.n_items == len(complete)
    likert_table, _ = aggregate_raters(complete, n_cat=5)
    assert result.likert.fleiss_kappa == pytest.approx(fleiss_kappa(likert_table, method="fleiss"), rel=1e-12)
    binary_table, _ = aggregate_raters(binarize(complete).astype(int), n_cat=2)
    assert result.binary.fleiss_kappa == pytest.approx(fleiss_kappa(binary_table, method="fleiss"), rel=1e-12)
    assert result.likert.krippendorff_alpha == pytest.approx(
        krippendorff.alpha(reliability_data=ratings.T, level_of_measurement="ordinal", value_domain=[0, 1, 2, 3, 4]),
        rel=1e-12,
    )
    assert result.binary.krippendorff_alpha == pytest.approx(
        krippendorff.alpha(reliability_data=binarize(ratings).T, level_of_measurement="nominal", value_domain=[0, 1]),
        rel=1e-12,
    )


def test_per_category_kappa_equals_the_irr_detail_formula() -> None:
    # irr::kappam.fleiss(detail=TRUE) writes the same statistic another way: (p_jk - p_j) / (1 - p_j).
    counts = counts_from_ratings(_random_ratings(np.random.default_rng(5), 300, 4, missing=0.0))
    n, m = len(counts), 4
    p = counts.sum(axis=0) / (n * m)
    p_jk = ((counts**2).sum(axis=0) - n * m * p) / (n * m * (m - 1) * p)

    assert kappa_per_category(counts) == pytest.approx(list((p_jk - p) / (1 - p)), rel=1e-12)


def test_on_two_categories_each_category_kappa_is_the_overall_kappa() -> None:
    result = agreement_compute(_random_ratings(np.random.default_rng(6), 120, 4, missing=0.0), resamples=0)

    assert result.binary.per_category[0] == pytest.approx(result.binary.fleiss_kappa, rel=1e-12)
    assert result.binary.per_category[1] == pytest.approx(result.binary.fleiss_kappa, rel=1e-12)


# --- bootstrap ---------------------------------------------------------------------------------


def test_bootstrap_interval_is_reproducible_for_a_seed_and_moves_a_little_with_another() -> None:
    counts = counts_from_ratings(_random_ratings(np.random.default_rng(7), 500, 4, missing=0.0))
    kappa = fleiss_from_counts(counts).kappa

    first = kappa_bootstrap_ci(counts, resamples=1000, seed=11)
    again = kappa_bootstrap_ci(counts, resamples=1000, seed=11)
    other = kappa_bootstrap_ci(counts, resamples=1000, seed=12)

    assert first == again
    assert other != first
    assert other == pytest.approx(first, abs=0.01)
    assert first[0] < kappa < first[1]


def test_agreement_compute_passes_its_seed_to_the_bootstrap() -> None:
    ratings = _random_ratings(np.random.default_rng(8), 300, 4, missing=0.0)

    assert agreement_compute(ratings, seed=1).likert.ci95 == agreement_compute(ratings, seed=1).likert.ci95
    assert agreement_compute(ratings, seed=1).likert.ci95 != agreement_compute(ratings, seed=2).likert.ci95


def test_pattern_bootstrap_has_the_distribution_of_a_naive_item_bootstrap() -> None:
    counts = counts_from_ratings(_random_ratings(np.random.default_rng(9), 40, 4, missing=0.0))
    resamples = 2000
    rng = np.random.default_rng(10)
    naive = []
    for _ in range(resamples):
        table = counts[rng.integers(0, len(counts), len(counts))]
        if table.sum(axis=0).max() < table.sum():
            naive.append(fleiss_kappa(table, method="fleiss"))
    naive = np.array(naive)

    fast = kappa_bootstrap(counts, resamples=resamples, seed=10)

    assert len(fast) == len(naive) == resamples
    standard_error = naive.std() * np.sqrt(2 / resamples)
    assert abs(fast.mean() - naive.mean()) < 4 * standard_error
    assert fast.std() == pytest.approx(naive.std(), rel=0.08)
    assert stats.ks_2samp(fast, naive).pvalue > 0.01


def test_bootstrap_drops_resamples_without_a_kappa() -> None:
    # Two of three items are unanimous zeros: a resample of only those has no kappa.
    counts = np.array([[4, 0, 0, 0, 0], [4, 0, 0, 0, 0], [2, 2, 0, 0, 0]])

    kappas = kappa_bootstrap(counts, resamples=1000, seed=0)

    assert 0 < len(kappas) < 1000
    assert np.isfinite(kappas).all()


def test_bootstrap_interval_is_none_without_resamples_or_without_any_defined_kappa() -> None:
    assert kappa_bootstrap_ci(FLEISS_1971_COUNTS, resamples=0) is None
    assert kappa_bootstrap_ci(np.array([[3, 0], [3, 0]]), resamples=100) is None
    assert agreement_compute(_ratings_from_counts(FLEISS_1971_COUNTS), resamples=0).likert.ci95 is None
    with pytest.raises(ValueError, match="resamples"):
        kappa_bootstrap(FLEISS_1971_COUNTS, resamples=-1)


# --- incomplete items ----------------------------------------------------------------------------


def test_incomplete_items_are_excluded_from_kappa_but_used_by_alpha() -> None:
    complete = np.array([[0, 0, 1, 0], [4, 4, 3, 4], [2, 2, 2, 1], [1, 0, 1, 1], [3, 3, 4, 3]], dtype=float)
    # Two reviewers still missing, and the two present disagree as far as they can.
    incomplete = np.array([[0, 4, NAN, NAN], [4, NAN, 0, NAN]])
    unrated = np.full((1, 4), NAN)
    ratings = np.vstack([complete, incomplete, unrated])

    result = agreement_compute(ratings, resamples=200)
    complete_only = agreement_compute(complete, resamples=200)

    assert (result.n_items, result.n_excluded, result.raters_per_item) == (5, 2, 4)
    assert result.likert.fleiss_kappa == complete_only.likert.fleiss_kappa
    assert result.likert.percent_agreement == complete_only.likert.percent_agreement
    assert result.likert.ci95 == complete_only.likert.ci95
    assert result.likert.krippendorff_alpha < complete_only.likert.krippendorff_alpha - 0.1
    assert result.binary.krippendorff_alpha < complete_only.binary.krippendorff_alpha - 0.1


def test_raters_per_item_makes_short_rows_excluded_even_if_no_row_is_full() -> None:
    ratings = np.array([[1, 1, 2, NAN], [3, 3, NAN, NAN], [0, 1, 0, NAN]])

    result = agreement_compute(ratings, raters_per_item=4)

    assert (result.n_items, result.n_excluded) == (0, 3)
    assert result.likert.fleiss_kappa is None
    assert result.likert.percent_agreement is None
    assert result.likert.ci95 is None
    assert result.likert.krippendorff_alpha is not None
    assert agreement_compute(ratings).raters_per_item == 3


# --- degenerate input ------------------------------------------------------------------------------


def test_all_identical_ratings_have_no_kappa_or_alpha_but_full_percent_agreement() -> None:
    result = agreement_compute(np.full((10, 4), 2.0))

    for scale in (result.likert, result.binary):
        assert scale.fleiss_kappa is None
        assert scale.se0 is None
        assert scale.z is None
        assert scale.ci95 is None
        assert scale.krippendorff_alpha is None
        assert set(scale.per_category.values()) == {None}
        assert scale.percent_agreement == 100.0
    assert list(result.likert.per_category) == list(LIKERT_CATEGORIES)
    assert list(result.binary.per_category) == list(BINARY_CATEGORIES)


def test_a_binary_scale_can_be_degenerate_while_the_likert_scale_is_not() -> None:
    result = agreement_compute(np.array([[0, 1, 2], [2, 2, 1], [0, 0, 1]], dtype=float), resamples=100)

    assert result.likert.fleiss_kappa is not None
    assert result.binary.fleiss_kappa is None
    assert result.binary.percent_agreement == 100.0


def test_no_items_gives_no_figures() -> None:
    for ratings in (np.empty((0, 4)), np.full((3, 4), NAN)):
        result = agreement_compute(ratings)

        assert (result.n_items, result.n_excluded, result.raters_per_item) == (0, 0, 0)
        assert result.likert == ScaleAgreement(None, dict.fromkeys(LIKERT_CATEGORIES), None, None, None, None, None)


def test_one_rater_per_item_gives_no_kappa_and_no_percent_agreement() -> None:
    result = agreement_compute(np.array([[1.0], [2.0], [4.0]]))

    assert result.n_items == 3
    assert result.likert.fleiss_kappa is None
    assert result.likert.percent_agreement is None
    assert result.likert.krippendorff_alpha is None


def test_alpha_is_none_when_no_item_has_two_ratings() -> None:
    ratings = np.array([[1, NAN], [NAN, 3], [4, NAN]])

    assert alpha_compute(ratings, level_of_measurement="ordinal", value_domain=LIKERT_CATEGORIES) is None
    assert alpha_compute(np.array([[0, 0], [0, 0]]), level_of_measurement="nominal", value_domain=[0]) is None


def test_alpha_refuses_ratings_outside_its_value_domain() -> None:
    with pytest.raises(ValueError, match=r"row 1: rating 5 is not in the value domain"):
        alpha_compute(np.array([[1, 2], [5, 4]]), level_of_measurement="ordinal", value_domain=LIKERT_CATEGORIES)


def test_a_row_with_more_ratings_than_raters_per_item_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"row 1 has 4 ratings, more than raters_per_item=3"):
        agreement_compute(np.array([[1, 2, 3, NAN], [1, 2, 3, 4]]), raters_per_item=3)


@pytest.mark.parametrize("bad", [5.0, -1.0, 2.5, np.inf])
def test_a_rating_outside_0_4_or_not_whole_is_an_error_naming_its_row(bad: float) -> None:
    ratings = np.array([[1, 2], [3, NAN], [0, bad]])

    with pytest.raises(ValueError, match=r"^row 2: rating"):
        agreement_compute(ratings)


def test_ratings_must_be_a_matrix_and_counts_must_be_complete() -> None:
    with pytest.raises(ValueError, match="2-D"):
        agreement_compute(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="row 1 has 3"):
        fleiss_from_counts(np.array([[2, 2], [1, 2]]))
    with pytest.raises(ValueError, match="whole numbers"):
        percent_agreement(np.array([[1.5, 2.5]]))


# --- output ------------------------------------------------------------------------------------------


def test_as_dict_is_strict_json_with_string_categories_and_full_precision() -> None:
    result = agreement_compute(_ratings_from_counts(FLEISS_1971_COUNTS), resamples=200)
    degenerate = agreement_compute(np.full((3, 3), 4.0))

    data = result.as_dict()
    json.dumps(data, allow_nan=False)
    json.dumps(degenerate.as_dict(), allow_nan=False)

    assert set(data) == {"n_items", "n_excluded", "raters_per_item", "likert", "binary"}
    assert list(data["likert"]["per_category"]) == ["0", "1", "2", "3", "4"]
    assert list(data["binary"]["per_category"]) == ["0", "1"]
    assert data["likert"]["fleiss_kappa"] == result.likert.fleiss_kappa
    assert data["likert"]["ci95"] == list(result.likert.ci95)
    assert degenerate.as_dict()["likert"]["ci95"] is None
    assert isinstance(result, Agreement)


def test_as_dict_turns_nan_into_none() -> None:
    scale = ScaleAgreement(NAN, {0: NAN, 1: 0.5}, None, None, (NAN, 0.2), 0.1, 50.0)

    data = scale.as_dict()

    assert data["fleiss_kappa"] is None
    assert data["per_category"] == {"0": None, "1": 0.5}
    assert data["ci95"] == [None, 0.2]


def test_binarize_keeps_missing_ratings_missing() -> None:
    result = binarize(np.array([[0, 1, 2, 3, 4, NAN]]))

    assert np.array_equal(result, np.array([[0, 0, 0, 1, 1, NAN]]), equal_nan=True)


# --- CSV ---------------------------------------------------------------------------------------------


def _write(tmp_path: Path, text: str | bytes, name: str = "ratings.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_ratings_csv_reads_long_format_with_bom_extra_columns_and_whole_floats(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "\ufeff rating ,note,item,rater\n3,first,t1,author\n2.0,,t1,r1\n 4 ,,t2,author\n\n0,,t2,r2\n1,,t1,r2\n",
    )

    table = ratings_read_csv(path)

    assert isinstance(table, RatingsTable)
    assert table.items == ["t1", "t2"]
    assert table.raters == ["author", "r1", "r2"]
    assert np.array_equal(table.ratings, np.array([[3, 2, 1], [4, NAN, 0]]), equal_nan=True)
    assert np.array_equal(table.without_rater("author"), np.array([[2, 1], [NAN, 0]]), equal_nan=True)
    with pytest.raises(KeyError, match="nobody"):
        table.without_rater("nobody")


def test_ratings_csv_feeds_agreement_compute(tmp_path: Path) -> None:
    ratings = _ratings_from_counts(FLEISS_1971_COUNTS)
    lines = ["item,rater,rating"]
    lines += [f"p{i},r{j},{int(value)}" for i, row in enumerate(ratings) for j, value in enumerate(row)]
    path = _write(tmp_path, "\n".join(lines) + "\n")

    result = agreement_compute(ratings_read_csv(path).ratings)

    assert round(result.likert.fleiss_kappa, 4) == 0.4302


@pytest.mark.parametrize(
    ("text", "line", "field", "reason"),
    [
        ("", 1, None, "the file is empty"),
        ("item,rater\nt1,r1\n", 1, None, "lacks column(s) rating"),
        ("item;rater;rating\n", 1, None, "lacks column(s) item, rater, rating"),
        ("item,rater,rating,rating\nt1,r1,2,3\n", 1, "rating", "appears 2 times"),
        ("item,rater,rating\nt1,r1,2\n ,r2,3\n", 3, "item", "empty item"),
        ("item,rater,rating\nt1,r1,2\nt1,,3\n", 3, "rater", "empty rater"),
        ("item,rater,rating\nt1,r1,2\nt1,r2\n", 3, "rating", "missing"),
        ("item,rater,rating\nt1,r1,\n", 2, "rating", "empty rating"),
        ("item,rater,rating\nt1,r1,3.5\n", 2, "rating", "'3.5' is not an integer 0-4"),
        ("item,rater,rating\nt1,r1,3_0\n", 2, "rating", "'3_0' is not an integer 0-4"),
        ("item,rater,rating\nt1,r1,5\n", 2, "rating", "'5' is outside 0-4"),
        ("item,rater,rating\nt1,r1,-1\n", 2, "rating", "'-1' is outside 0-4"),
        ("item,rater,rating\nt1,r1,2\nt2,r1,2\nt1,r1,3\n", 4, None, "'t1' rated by 'r1' again (first on line 2)"),
        ("item,rater,rating\n", 2, None, "no ratings after the header"),
        ("item,rater,rating\n\n\n", 2, None, "no ratings after the header"),
    ],
)
def test_ratings_csv_errors_name_the_line_and_field(
    tmp_path: Path, text: str, line: int, field: str | None, reason: str
) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(RatingsFileError) as caught:
        ratings_read_csv(path)

    error = caught.value
    assert (error.path, error.line, error.field) == (path, line, field)
    assert reason in error.reason
    where = f"ratings.csv, line {line}" + (f", field {field}" if field else "")
    assert str(error) == f"{where}: {error.reason}"


def test_ratings_csv_error_message_reads_as_documented(tmp_path: Path) -> None:
    rows = "".join(f"t{i},r1,{i % 5}\n" for i in range(5))
    path = _write(tmp_path, "item,rater,rating\n" + rows + "t9,r1,x\n")

    with pytest.raises(RatingsFileError) as caught:
        ratings_read_csv(path)

    assert str(caught.value) == "ratings.csv, line 7, field rating: 'x' is not an integer 0-4"
    assert isinstance(caught.value, ValueError)


def test_ratings_csv_that_is_not_utf8_is_an_error_on_the_line_with_the_bad_byte(tmp_path: Path) -> None:
    path = _write(tmp_path, b"item,rater,rating\nt1,r1,2\nt\xe9,r1,2\nt3,r1,2\n")

    with pytest.raises(RatingsFileError) as caught:
        ratings_read_csv(path)

    assert str(caught.value) == "ratings.csv, line 3: the file is not UTF-8 text"


def test_ratings_csv_keeps_line_numbers_across_quoted_multiline_fields_and_crlf(tmp_path: Path) -> None:
    path = _write(tmp_path, b'\xef\xbb\xbfitem,rater,rating\r\n"t1\r\nlong",r1,2\r\nt2,r1,9\r\n')

    with pytest.raises(RatingsFileError) as caught:
        ratings_read_csv(path)

    assert (caught.value.line, caught.value.field) == (4, "rating")


def test_ratings_file_error_survives_pickling() -> None:
    error = RatingsFileError("data/ratings.csv", 7, "rating", "'x' is not an integer 0-4")

    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object

    assert (copy.path, copy.line, copy.field, copy.reason, str(copy)) == (
        error.path,
        error.line,
        error.field,
        error.reason,
        str(error),
    )


def test_a_tie_or_a_minority_is_not_a_successful_item() -> None:
    assert item_success_label(successes=2, reviews=3) == 1
    assert item_success_label(successes=1, reviews=2) is None
    assert item_success_label(successes=0, reviews=0) is None
    assert item_success_label(successes=1, reviews=3) == 0
    matrix = np.array([[2, 3, 3], [2, 3, np.nan], [4, 4, 0], [0, 1, 3], [np.nan, np.nan, np.nan]], dtype=float)
    assert items_successful(matrix).tolist() == [True, False, True, False, False]


def test_the_labels_of_many_items_follow_the_one_success_rule_row_by_row() -> None:
    matrix = np.array([[2, 3, 3], [2, 3, np.nan], [4, 4, 0], [0, 1, 3], [np.nan, np.nan, np.nan]], dtype=float)
    labels = items_success_labels(matrix)
    expected = [
        item_success_label(successes=int((row >= 3).sum()), reviews=int((~np.isnan(row)).sum())) for row in matrix
    ]
    assert [None if np.isnan(label) else int(label) for label in labels] == expected == [1, None, 1, 0, None]


def test_a_mean_interval_is_students_t_over_the_values_and_undefined_below_two() -> None:
    # [4, 0, 2]: mean 2, SD 2, t(0.975, 2) = 4.3027 from the tables, half-width 4.3027 * 2 / sqrt(3) = 4.9683.
    found = mean_interval(np.array([4.0, 0.0, 2.0, np.nan]))
    assert (found["mean"], found["sd"], found["n"]) == (2.0, 2.0, 3)
    assert found["ci95"] == pytest.approx([2 - 4.9683, 2 + 4.9683], abs=1e-4)
    assert mean_interval(np.array([3.0])) == {"mean": 3.0, "sd": None, "ci95": None, "n": 1}
    assert mean_interval(np.array([])) == {"mean": None, "sd": None, "ci95": None, "n": 0}
    assert json.loads(json.dumps(found)) == found
