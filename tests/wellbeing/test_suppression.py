"""Small-cell and complementary suppression: what a lead can and cannot work out from a table."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest

from wellbeing.suppression import COMPLEMENTARY, MIN_GROUP, SMALL, Cell, suppress, suppress_rows


def cells(*ns: int) -> list[Cell]:
    return [Cell(labels=(f"cell {index}",), n=n, values=(float(n),)) for index, n in enumerate(ns)]


def total_of(row: Sequence[Cell]) -> Cell:
    return Cell(labels=("total",), n=sum(cell.n or 0 for cell in row))


def hidden(row: Sequence[Cell]) -> list[bool]:
    return [cell.hidden for cell in row]


def test_cells_of_fewer_than_five_people_are_hidden_and_the_rest_shown() -> None:
    out = suppress(cells(3, 7, 0, 12, 5, 4))
    assert hidden(out) == [True, False, True, False, False, True]
    assert {cell.reason for cell in out if cell.hidden} == {SMALL}
    assert MIN_GROUP == 5


def test_without_a_total_no_complementary_cell_is_hidden() -> None:
    assert hidden(suppress(cells(3, 9, 12))) == [True, False, False]


def test_a_single_hidden_cell_beside_a_total_forces_a_complementary_one() -> None:
    row = cells(3, 9, 12)
    *out, total = suppress(row, total=total_of(row))
    assert hidden(out) == [True, True, False]
    assert out[1].reason == COMPLEMENTARY
    assert not total.hidden


def test_the_complementary_cell_is_the_smallest_visible_one() -> None:
    row = cells(12, 3, 20, 6, 9)
    *out, _ = suppress(row, total=total_of(row))
    assert hidden(out) == [False, True, False, True, False]


def test_a_hidden_pair_covering_fewer_than_five_people_forces_more() -> None:
    row = cells(1, 2, 6, 9)
    *out, total = suppress(row, total=total_of(row))
    # 1 + 2 = 3 people could be worked out from the total, so the 6 goes too: 9 people together.
    assert hidden(out) == [True, True, True, False]
    assert not total.hidden


def test_cells_tied_for_smallest_are_hidden_together_so_the_choice_gives_nothing_away() -> None:
    row = cells(3, 6, 10, 6)
    *out, _ = suppress(row, total=total_of(row))
    assert hidden(out) == [True, True, False, True]


def test_the_total_is_hidden_when_it_would_expose_a_small_group() -> None:
    row = cells(1, 3)
    *out, total = suppress(row, total=total_of(row))
    assert hidden(out) == [True, True]
    assert total.hidden and total.reason == SMALL


def test_the_total_is_hidden_when_it_would_pin_hidden_cells_of_four_each() -> None:
    # Anyone who knows the rules knows both hidden cells are under 5; a total of 8 would make both 4.
    row = cells(4, 4)
    *out, total = suppress(row, total=total_of(row))
    assert hidden(out) == [True, True]
    assert total.hidden


def test_hidden_cells_of_four_each_beside_a_shown_total_pull_in_one_more() -> None:
    row = cells(4, 4, 5, 13)
    *out, total = suppress(row, total=total_of(row))
    assert hidden(out) == [True, True, True, False]
    assert not total.hidden


def test_a_total_with_people_outside_every_cell_still_cannot_single_out_a_small_group() -> None:
    # Three of the eight people fall in no cell: total minus shown cells would be those 3.
    row = cells(5, 0)
    *out, total = suppress(row, total=Cell(labels=("total",), n=8))
    assert all(hidden(out))
    assert not total.hidden  # 8 people, none of them singled out once every cell is hidden


def test_empty_cells_are_hidden_like_small_ones_but_need_no_complement() -> None:
    row = cells(0, 0, 9)
    *out, total = suppress(row, total=total_of(row))
    assert hidden(out) == [True, True, False]
    assert not total.hidden


def test_one_person_in_two_hidden_weeks_counts_once() -> None:
    weeks = [
        Cell(labels=("w1",), n=3, members=frozenset({1, 2, 3})),
        Cell(labels=("w2",), n=4, members=frozenset({1, 2, 3, 4})),
        Cell(labels=("w3",), n=6, members=frozenset({5, 6, 7, 8, 9, 10})),
        Cell(labels=("w4",), n=10, members=frozenset(range(1, 11))),
    ]
    overall = Cell(labels=("overall",), n=10, members=frozenset(range(1, 11)))
    *out, total = suppress(weeks, total=overall)
    # 3 + 4 = 7 answers, but only 4 people: the smallest visible week is hidden too.
    assert hidden(out) == [True, True, True, False]
    assert not total.hidden


def test_people_who_appear_in_no_shown_cell_are_not_left_as_a_small_group() -> None:
    weeks = [
        Cell(labels=("w1",), n=3, members=frozenset({7, 8, 9})),
        Cell(labels=("w2",), n=6, members=frozenset(range(1, 7))),
        Cell(labels=("w3",), n=6, members=frozenset(range(1, 7))),
    ]
    overall = Cell(labels=("overall",), n=9, members=frozenset(range(1, 10)))
    *out, total = suppress(weeks, total=overall, tiebreak=lambda cell: cell.label)
    # Hiding w1 and w2 covers 9 people, but 9 overall minus the 6 of w3 would single out people 7-9.
    assert hidden(out) == [True, True, True]
    assert not total.hidden


def test_a_tiebreak_key_hides_one_of_the_tied_cells_instead_of_all() -> None:
    row = cells(3, 6, 10, 6)
    *out, _ = suppress(row, total=total_of(row), tiebreak=lambda cell: cell.label[::-1])
    assert sum(hidden(out)) == 2 and out[0].hidden and not out[2].hidden


def test_a_week_hidden_in_one_row_is_hidden_in_every_row() -> None:
    upset = cells(3, 6, 9)
    calm = cells(5, 6, 9)
    rows, totals = suppress_rows([upset, calm], totals=[total_of(upset), total_of(calm)])
    assert hidden(rows[0]) == [True, True, False]
    assert hidden(rows[1]) == [True, True, False]
    assert not any(total.hidden for total in totals if total is not None)


def test_rows_without_a_total_get_primary_suppression_only() -> None:
    rows, totals = suppress_rows([cells(3, 6, 9), cells(7, 6, 9)], totals=[None, None])
    assert hidden(rows[0]) == [True, False, False]
    assert hidden(rows[1]) == [True, False, False]
    assert totals == [None, None]


def test_suppress_rows_refuses_ragged_rows_and_missing_totals() -> None:
    with pytest.raises(ValueError, match="same columns"):
        suppress_rows([cells(5), cells(5, 6)], totals=[None, None])
    with pytest.raises(ValueError, match="one total"):
        suppress_rows([cells(5)], totals=[])


def test_a_public_hidden_cell_carries_no_number_and_no_member_ids() -> None:
    cell = Cell(labels=("w1",), n=3, values=(2.5, 1.0), members=frozenset({1, 2, 3})).hide(SMALL).public()
    assert cell.n is None and cell.values == (None, None) and cell.members is None
    assert cell.hidden and cell.reason == SMALL and cell.label == "w1"
    shown = Cell(labels=("w2",), n=6, values=(1.5,), members=frozenset(range(6))).public()
    assert shown.n == 6 and shown.value == 1.5 and shown.members is None


def _possible_values(size: int, total: int) -> list[set[int]]:
    """Brute force: the sizes each of `size` hidden cells can have when together they hold `total` people.

    A cell can hold v people when the other cells can hold the remaining total - v between them."""
    options: list[set[int]] = []
    for _cell in range(size):
        reachable = {0}  # sums the other cells can make
        for _ in range(size - 1):
            reachable = {a + b for a in reachable for b in range(total + 1) if a + b <= total}
        options.append({value for value in range(total + 1) if total - value in reachable})
    return options


def test_no_group_under_five_can_be_computed_from_the_visible_cells_and_total_in_many_random_tables() -> None:
    rng = random.Random(20240501)  # noqa: S311 - reproducible test data, not secrets
    checked_with_hidden = 0
    for _ in range(600):
        size = rng.randint(1, 6)
        # Mostly small groups, so suppression has work to do.
        ns = [rng.choice([0, 1, 2, 3, 4, 4, 5, 5, 6, 7, 9, 14, 30]) for _ in range(size)]
        row = cells(*ns)
        *out, total = suppress(row, total=total_of(row))
        assert all(cell.n >= MIN_GROUP for cell in out if not cell.hidden)
        if total.hidden:
            assert all(hidden(out)), ns
            continue
        # What a lead knows: the total and the shown cells. What they can derive: the hidden sum.
        hidden_sum = total.n - sum(cell.n for cell in out if not cell.hidden)
        assert hidden_sum == 0 or hidden_sum >= MIN_GROUP, ns
        if hidden_sum:
            checked_with_hidden += 1
            hidden_count = sum(hidden(out))
            assert hidden_count >= 2, ns
            for options in _possible_values(hidden_count, hidden_sum):
                assert len(options) >= 2, ns  # no hidden cell's n can be determined
    assert checked_with_hidden > 100  # the sample really exercised complementary suppression


def test_no_small_group_is_covered_by_the_hidden_cells_when_people_appear_in_several_cells() -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible test data, not secrets
    for _ in range(400):
        weeks = []
        for index in range(rng.randint(2, 6)):
            members = frozenset(rng.sample(range(15), rng.choice([0, 1, 2, 3, 4, 5, 6, 8])))
            weeks.append(Cell(labels=(f"w{index}",), n=len(members), members=members))
        everyone = frozenset().union(*(cell.members or frozenset() for cell in weeks))
        *out, total = suppress(weeks, total=Cell(labels=("overall",), n=len(everyone), members=everyone))
        assert all((cell.n or 0) >= MIN_GROUP for cell in out if not cell.hidden)
        covered = frozenset().union(*(cell.members or frozenset() for cell in out if cell.hidden))
        if not total.hidden:
            assert len(covered) == 0 or len(covered) >= MIN_GROUP
        else:
            assert all(hidden(out))
            small = [cell for cell in weeks if 0 < cell.n < MIN_GROUP]
            pinned = all(cell.n == MIN_GROUP - 1 for cell in small) and sum(c.n for c in small) == len(everyone)
            assert len(everyone) < MIN_GROUP or pinned


def _same_looking_tables(*, size: int, top: int, orders: list[tuple[int, ...]]) -> dict[tuple, set[tuple[int, ...]]]:
    """Every table of `size` cells of 0..top-1 people, grouped by what a lead would see of it.

    `orders` are the tie-break rankings the lead considers possible: one when they know it,
    all of them when it is keyed by a secret."""
    views: dict[tuple, set[tuple[int, ...]]] = {}
    for ns in itertools.product(range(top), repeat=size):
        row = cells(*ns)
        for order in orders:
            key = None if order == () else (lambda cell, order=order: str(order[int(cell.label.split()[-1])]))
            out = suppress(row, total=total_of(row), tiebreak=key)
            views.setdefault(tuple(None if cell.hidden else cell.n for cell in out), set()).add(ns)
    return views


@pytest.mark.parametrize(
    "orders",
    [[()], list(itertools.permutations(range(3)))],
    ids=["ties all hidden", "ties broken by a secret key"],
)
def test_knowing_the_rules_does_not_pin_any_hidden_count_in_small_tables(orders: list[tuple[int, ...]]) -> None:
    """An attacker who knows the algorithm lists every table that would look the same; each
    hidden cell must still have at least two possible sizes."""
    top = 11
    views = _same_looking_tables(size=3, top=top, orders=orders)
    for view, candidates in views.items():
        if view[-1] is None:
            continue
        positions = [index for index, n in enumerate(view[:-1]) if n is None]
        hidden_sum = view[-1] - sum(n for n in view[:-1] if n is not None)
        # Sums near the top of the enumerated range have artificially few candidates.
        if hidden_sum == 0 or hidden_sum >= top - 1:
            continue
        assert hidden_sum >= MIN_GROUP, view
        for position in positions:
            assert len({candidate[position] for candidate in candidates}) >= 2, (view, position)


def test_min_group_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        suppress(cells(1), min_group=0)
