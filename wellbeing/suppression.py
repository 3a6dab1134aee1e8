"""Small-cell and complementary suppression for the wellbeing figures leads see.

The survey privacy norm (docs/DOMAIN.md, "Worker wellbeing"): nobody but the respondent sees
individual answers; a group figure is shown only for a group of at least `MIN_GROUP` people, and
a small group must not be recoverable by subtraction. This module decides which cells of a table
may be shown. It is pure (no database, no Django) so its rules can be tested exhaustively.

Terms
-----
A *cell* is one published figure (a mean, a count, a rate) about a group of people; `n` is the
number of distinct people in it. A *dimension* is a run of cells published beside a *total* over
the same people: the weeks of a row beside the row's overall column, the bands of a distribution
beside its total count. A lead can subtract: the total minus the shown cells is a figure about
the people in the hidden cells.

Rules (`suppress`)
------------------
1. Primary: a cell of fewer than `min_group` people is hidden. That includes empty cells, so
   "nobody" and "a few people" look the same.
2. Complementary, only when a total is shown. More cells are hidden, smallest visible first,
   while any of these holds:
   a. the hidden cells together cover 1 to `min_group - 1` people. So a single hidden cell is
      never left alone beside a total (the total minus the shown cells would be that cell), and a
      hidden pair of 1 and 3 people is not left either. People are counted by identity when the
      caller gives `members` (one person answering in two weeks is one person, not two);
      otherwise cells are taken as different people and their `n`s added;
   b. what a lead computes, the total's `n` minus the shown cells' `n`s, is 1 to `min_group - 1`
      (with overlapping cells that is the people who appear in none of the shown cells);
   c. every hidden cell is a small one of exactly `min_group - 1` different people: a lead who
      knows rule 1 knows each is at most `min_group - 1`, so their sum would pin every one.
   Cells tied for smallest are all hidden, unless the caller passes `tiebreak`, a key the lead
   cannot compute (the selectors use an HMAC under the site's secret key). A tie broken by a rule
   the lead knows, such as "the leftmost", tells them which tied cell could not have been chosen
   and can pin a hidden count.
3. The total is hidden when it covers fewer than `min_group` people, or when even with every cell
   hidden one of 2a-2c still holds.
4. A hidden cell's `n` is a figure too: `Cell.public()` drops it with the values and the member
   ids, so neither the page nor the CSV can say what is hidden.

`suppress_rows` applies the rules to each row of a table whose rows share columns (feelings x
weeks), then hides a column in every row if any row hides it, repeating until nothing changes.
Rows of one table are mostly about the same people, so a week shown in one row would give away
its `n` for the row that hid it.

Guarantees
----------
Within one published table, from its shown cells, their `n`s and its shown totals:
- no group of 1 to `min_group - 1` people has a figure of its own (rules 1 and 3);
- the hidden cells of a dimension together are about nobody or at least `min_group` people;
- whenever something is hidden beside a shown total, at least two non-empty cells are, so no
  single hidden cell's `n` follows by subtraction; and, for disjoint cells, even a lead who knows
  these rules (and not the tie-break key) is left with at least two possible sizes for every
  non-empty hidden cell (tests/wellbeing/test_suppression.py checks this exhaustively for small
  tables).
Hiding more cells never breaks these (the hidden set's group only grows), which is why aligning
columns across rows is safe.

Limits (what this module cannot see)
------------------------------------
Counts alone do not protect means: issue 14 recovered a newcomer's every answer from week A (5
people), week B (6) and the month overall (6), all of which pass these rules. So the lead's
dashboard (selectors/aggregates.py, wellbeing/PRIVACY.md) no longer publishes totals beside their
cells: one partition per measure, figures frozen per closed month, noise from OpenDP. It uses
`suppress` without a total, that is rule 1 alone; the complementary rules stay for any table
that must show a total. The limits below are those of this module alone:
- Figures published at different times. If a month were shown with 6 people and later with 7,
  the difference is the 7th person. Callers therefore publish fixed calendar periods (whole ISO
  weeks grouped by month) and only once the period is over; never "the last N days", and never a
  period still filling up. Two sliding windows that overlap in all but a day differ by that day's
  respondents, and no rule inside one table can stop that.
- Data that changes after publication: a deleted account takes its answers with it (by design),
  which changes past figures by that person.
- Other pages and tables: figures about the same people in different tables are not checked
  against each other. The wellbeing dashboard publishes no two tables that add up to one another.
- Ranges: a lead who knows these rules can narrow a hidden count (a complementary cell is no
  larger than the smallest shown one), though not to one value.
- Homogeneity: if all 9 people fall in one band the page says so. That is a figure about 9
  people, as the norm allows, but it says something true of each of them.
- Dominance: a figure over 5 people where one person answered far more is mostly that person's.
  Callers average each person's answers first, so everyone counts once per cell.
- Outside knowledge: a lead who knows 4 of 5 people's answers can recover the 5th from any group
  figure; only a larger `min_group` helps there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

MIN_GROUP = 5

SMALL = "small"  # fewer than MIN_GROUP people
COMPLEMENTARY = "complementary"  # hidden so a small group cannot be worked out by subtraction


@dataclass(frozen=True)
class Cell:
    """One published figure about a group of people.

    `members` (the people's ids) is optional and only ever read here, to count people once across
    cells; `public()` drops it before anything is rendered.
    """

    labels: tuple[str, ...]
    n: int | None
    values: tuple[float | None, ...] = ()
    members: frozenset[int] | None = field(default=None, repr=False, compare=False)
    hidden: bool = False
    reason: str = ""
    # Beside each value, the half-width of the interval the noise added to it stays in (90%), or
    # nothing for an exact figure. wellbeing/disclosure.py draws the noise.
    margins: tuple[float | None, ...] = ()

    @property
    def label(self) -> str:
        return " · ".join(self.labels)

    @property
    def value(self) -> float | None:
        return self.values[0] if self.values else None

    @property
    def margin(self) -> float | None:
        return self.margins[0] if self.margins else None

    def hide(self, reason: str) -> Cell:
        return self if self.hidden else replace(self, hidden=True, reason=reason)

    def public(self) -> Cell:
        """What may leave the server: a hidden cell keeps only its labels and the reason."""
        if self.hidden:
            return Cell(
                labels=self.labels,
                n=None,
                values=tuple(None for _ in self.values),
                hidden=True,
                reason=self.reason,
                margins=tuple(None for _ in self.margins),
            )
        return replace(self, members=None)


def suppress(
    cells: Sequence[Cell],
    *,
    total: Cell | None = None,
    min_group: int = MIN_GROUP,
    tiebreak: Callable[[Cell], str] | None = None,
) -> list[Cell]:
    """The cells with `hidden` set by the rules above; when a total is given it comes back last.

    Cells passed in already hidden stay hidden (that is how `suppress_rows` forces a column).
    """
    if min_group < 1:
        raise ValueError("min_group must be at least 1")
    out = [cell if cell.hidden or _size(cell) >= min_group else cell.hide(SMALL) for cell in cells]
    if total is None:
        return out

    def exposed(whole: Cell) -> bool:
        hidden = [cell for cell in out if cell.hidden]
        covered = _covered(hidden)
        # What a lead computes: the total's n minus the n of every shown cell.
        remainder = _size(whole) - sum(_size(cell) for cell in out if not cell.hidden)
        # Knowing these rules, a lead knows every cell hidden as small has at most min_group - 1 people;
        # if each held exactly that many and they are different people, their sum (which subtraction
        # gives) would pin every one of them.
        pinned = (
            bool(hidden)
            and all(cell.reason == SMALL and _size(cell) == min_group - 1 for cell in hidden)
            and covered == sum(_size(cell) for cell in hidden)
        )
        return 0 < covered < min_group or 0 < remainder < min_group or pinned

    while exposed(total):
        visible = [cell for cell in out if not cell.hidden]
        if not visible:
            break
        smallest = min(_size(cell) for cell in visible)
        tied = [cell for cell in visible if _size(cell) == smallest]
        if tiebreak is not None:
            tied = [min(tied, key=tiebreak)]
        out = [cell.hide(COMPLEMENTARY) if any(cell is other for other in tied) else cell for cell in out]
    if _size(total) < min_group:
        total = total.hide(SMALL)
    elif exposed(total):
        total = total.hide(COMPLEMENTARY)
    return [*out, total]


def suppress_rows(
    rows: Sequence[Sequence[Cell]],
    *,
    totals: Sequence[Cell | None],
    min_group: int = MIN_GROUP,
    tiebreak: Callable[[Cell], str] | None = None,
) -> tuple[list[list[Cell]], list[Cell | None]]:
    """`suppress` for each row (with its total), then a column hidden in one row is hidden in all.

    A `tiebreak` should rank cells by their column alone, so that rows with the same sizes choose
    the same column and alignment hides no more than it must.
    """
    if len(rows) != len(totals):
        raise ValueError(f"need one total (or None) per row: {len(rows)} rows, {len(totals)} totals")
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise ValueError("every row needs the same columns")
    forced: set[int] = set()
    while True:
        done_rows: list[list[Cell]] = []
        done_totals: list[Cell | None] = []
        for row, total in zip(rows, totals, strict=True):
            cells = [cell.hide(COMPLEMENTARY) if index in forced else cell for index, cell in enumerate(row)]
            result = suppress(cells, total=total, min_group=min_group, tiebreak=tiebreak)
            if total is None:
                done_rows.append(result)
                done_totals.append(None)
            else:
                done_rows.append(result[:-1])
                done_totals.append(result[-1])
        hidden = {index for row in done_rows for index, cell in enumerate(row) if cell.hidden}
        if hidden <= forced:
            return done_rows, done_totals
        forced |= hidden


def _size(cell: Cell) -> int:
    if cell.members is not None:
        return len(cell.members)
    return cell.n or 0


def _covered(cells: Sequence[Cell]) -> int:
    """How many people the cells are about together: by identity when every cell knows its members."""
    if cells and all(cell.members is not None for cell in cells):
        return len(frozenset().union(*(cell.members for cell in cells if cell.members is not None)))
    return sum(_size(cell) for cell in cells)
