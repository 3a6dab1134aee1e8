"""An adversary that plays a determined lead and tries to recover one person's wellbeing answers.

It signs in as a lead and reads every wellbeing number a lead can reach: the dashboard of every
month the page links to and every CSV download, at several points in time (after the first
answers, after a late answer, after a newcomer, after someone leaves). It is given more than a
real lead has: exactly who answered and when (a lead can often guess it from review activity).
With that, every published mean is a linear equation over individual responses, and the
adversary solves the whole system:

- rank: a response is *identified* when its unit vector lies in the row space of the system;
- bounds: answers lie on the scale (0-4 for feelings, 0-100 for WHO-5), so for each response and
  each person's mean in a month it solves two linear programs, min and max, over everything
  consistent with what was published (each figure within its rounding, or within the noise
  interval printed beside it). The answer is *recovered* when that range is narrower than one
  point on the 0-4 scale (the answer known to within +-0.5), or 25 points of WHO-5.

It passes when no response and no person's monthly mean is recovered, for every population.
The first population is the attack of issue 14: five people answer in weeks A and B, a newcomer
only in week B, and 12 x overall - 5 x week A - 6 x week B is the newcomer's answer.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import fmean
from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone
from scipy.optimize import linprog

from tests.factories import FEELINGS, UserFactory
from wellbeing.models import Instrument, Trigger
from wellbeing.selectors.aggregates import Period, latest_complete_period
from wellbeing.services.surveys import response_submit

pytestmark = pytest.mark.django_db

HIDDEN = "–"
WHO5 = "who5-score"  # the adversary's name for the WHO-5 unknowns
# How narrow a range counts as recovered: +-0.5 on the 0-4 scale, the same share of WHO-5's 0-100.
RECOVERED_BELOW = {**dict.fromkeys(FEELINGS, 1.0), WHO5: 25.0}
TOP = {**dict.fromkeys(FEELINGS, 4.0), WHO5: 100.0}


# --- the population -------------------------------------------------------------------------------


@dataclass
class Seeded:
    """One response, as the adversary's outside knowledge has it: who, when, and (hidden from it) what."""

    pk: int
    person: str
    day: date
    measure_values: dict[str, float]
    who5: bool


@dataclass
class World:
    users: dict[str, Any] = field(default_factory=dict)
    responses: list[Seeded] = field(default_factory=list)
    gone: set[int] = field(default_factory=set)  # responses deleted with their account

    def person(self, name: str) -> Any:
        if name not in self.users:
            self.users[name] = UserFactory(username=f"adv-{name}", roles=["reviewer"])
        return self.users[name]

    def checkin(self, name: str, day: date, answers: dict[str, int]) -> None:
        instrument = Instrument.objects.get(slug="feelings-checkin", active=True)
        full = {key: answers.get(key, 0) for key in FEELINGS}
        response = response_submit(
            respondent=self.person(name), instrument=instrument, trigger=Trigger.AFTER_REVIEWS, answers=full,
            now=at(day),
        )  # fmt: skip
        self.responses.append(Seeded(response.pk, name, day, {k: float(v) for k, v in full.items()}, False))

    def who5(self, name: str, day: date, raw: int) -> None:
        instrument = Instrument.objects.get(slug="who-5", active=True)
        answers = {f"item-{k}": min(5, max(0, raw - 5 * (k - 1))) for k in range(1, 6)}
        response = response_submit(
            respondent=self.person(name), instrument=instrument, trigger=Trigger.INVITATION, answers=answers,
            now=at(day),
        )  # fmt: skip
        self.responses.append(Seeded(response.pk, name, day, {WHO5: float(response.score)}, True))

    def leave(self, name: str) -> None:
        """The person deletes their account, which deletes their answers (by design)."""
        self.users.pop(name).delete()
        self.gone |= {seeded.pk for seeded in self.responses if seeded.person == name}

    def existing(self) -> list[Seeded]:
        return [seeded for seeded in self.responses if seeded.pk not in self.gone]


def at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=timezone.get_current_timezone())


# --- what the lead reads --------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One published mean: of `measure` over a cell (a week, a month or 'overall' of a page's month)."""

    measure: str
    page: str  # the ?period= of the page it was read from
    label: str
    n: int
    mean: float
    tolerance: float  # how far the true mean can be from the printed one, as the page says


def observe(client: Client) -> list[Figure]:
    """Every feelings and WHO-5 figure on every month's CSV download the dashboard links to."""
    first = client.get("/lead/wellbeing/")
    assert first.status_code == 200
    pages = set(re.findall(r"\?period=(\d{4}-\d{2})", first.content.decode()))
    figures: list[Figure] = []
    for key in sorted(pages):
        page = client.get("/lead/wellbeing/", {"period": key})
        assert page.status_code == 200, key
        links = set(re.findall(r"/lead/wellbeing/tables/(\w+)\.csv\?period=" + key, page.content.decode()))
        assert {"feelings", "who5"} <= links, links
        for name in sorted(links):
            download = client.get(f"/lead/wellbeing/tables/{name}.csv", {"period": key})
            assert download.status_code == 200, (name, key)
            rows = list(csv.reader(io.StringIO(download.content.decode())))
            if name == "feelings":
                figures += _feelings(rows, key)
            elif name == "who5":
                figures += _who5(rows, key)
    return figures


def _number(text: str) -> float | None:
    return None if text in (HIDDEN, "") else float(text)


def _tolerance(printed: str, spread: str | None) -> float:
    """The rounding of the printed figure, plus any noise interval printed beside it."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return 0.5 * 10**-decimals + (float(spread) if spread not in (None, "", HIDDEN) else 0.0)


def _feelings(rows: list[list[str]], page: str) -> list[Figure]:
    header, found = rows[0], []
    labels = [column.removesuffix(" mean") for column in header if column.endswith(" mean")]
    for row in rows[1:]:
        values = dict(zip(header, row, strict=True))
        measure = row[0]
        if measure not in FEELINGS:
            continue
        for label in labels:
            mean, n = _number(values[f"{label} mean"]), _number(values[f"{label} n"])
            if mean is None or n is None:
                continue
            spread = next((values[c] for c in header if c.startswith(f"{label} ±")), None)
            found.append(Figure(measure, page, label, int(n), mean, _tolerance(values[f"{label} mean"], spread)))
    return found


def _who5(rows: list[list[str]], page: str) -> list[Figure]:
    header = rows[0]
    for row in rows[1:]:
        values = dict(zip(header, row, strict=True))
        if row[0] != "All respondents":
            continue
        mean, n = _number(values["mean score"]), _number(values["respondents"])
        if mean is None or n is None:
            return []
        spread = next((values[c] for c in header if c.startswith("mean score ±")), None)
        return [Figure(WHO5, page, "overall", int(n), mean, _tolerance(values["mean score"], spread))]
    return []


# --- the attack ----------------------------------------------------------------------------------------


def _in_cell(figure: Figure) -> Callable[[Seeded], bool]:
    """Which responses a published cell is over, from its label: an ISO week, a month, or the page's month."""
    if re.fullmatch(r"\d{4}-W\d{2}", figure.label):
        return lambda seeded: f"{seeded.day.isocalendar()[0]}-W{seeded.day.isocalendar()[1]:02d}" == figure.label
    key = figure.page if figure.label == "overall" else figure.label
    assert re.fullmatch(r"\d{4}-\d{2}", key), f"the adversary cannot place the cell {figure.label!r}"
    return lambda seeded: Period.containing(seeded.day).key == key


def _equation(figure: Figure, existing: list[Seeded]) -> dict[int, float]:
    """The published mean as weights over responses: the mean over people of each one's mean in the cell."""
    inside = _in_cell(figure)
    chosen = [seeded for seeded in existing if inside(seeded) and figure.measure in seeded.measure_values]
    if figure.measure == WHO5:  # each person's latest score in the month
        latest: dict[str, Seeded] = {}
        for seeded in sorted(chosen, key=lambda seeded: (seeded.day, seeded.pk)):
            latest[seeded.person] = seeded
        chosen = list(latest.values())
    by_person: dict[str, list[Seeded]] = defaultdict(list)
    for seeded in chosen:
        by_person[seeded.person].append(seeded)
    assert len(by_person) == figure.n, f"the adversary's picture of who answered does not match {figure}"
    return {seeded.pk: 1 / (len(by_person) * len(mine)) for mine in by_person.values() for seeded in mine}


@dataclass(frozen=True)
class Recovery:
    measure: str
    target: str
    truth: float
    low: float
    high: float
    identified: bool
    estimate: float


def attack(world: World, observations: list[list[Figure]], snapshots: list[list[Seeded]]) -> list[Recovery]:
    """Solve, per measure, the system of every figure from every observation; return what is pinned down."""
    recovered = []
    measures = sorted({figure.measure for figures in observations for figure in figures})
    for measure in measures:
        responses = [seeded for seeded in world.responses if measure in seeded.measure_values]
        column = {seeded.pk: index for index, seeded in enumerate(responses)}
        rows, targets, tolerances = [], [], []
        seen: set[Figure] = set()
        for figures, existing in zip(observations, snapshots, strict=True):
            for figure in figures:
                # A figure read again unchanged says nothing new; a new or changed one is about
                # the people there were when it was read.
                if figure.measure != measure or figure in seen:
                    continue
                seen.add(figure)
                weights = _equation(figure, existing)
                row = np.zeros(len(responses))
                for pk, weight in weights.items():
                    row[column[pk]] = weight
                rows.append(row)
                targets.append(figure.mean)
                tolerances.append(figure.tolerance)
        if not rows:
            continue
        matrix, published, slack = np.array(rows), np.array(targets), np.array(tolerances)
        truth = np.array([seeded.measure_values[measure] for seeded in responses])
        estimate = np.linalg.lstsq(matrix, published, rcond=None)[0]
        rank = np.linalg.matrix_rank(matrix)
        for name, weights in _targets(responses):
            vector = np.array([weights.get(seeded.pk, 0.0) for seeded in responses])
            low, high = _range(vector, matrix, published, slack, TOP[measure])
            identified = np.linalg.matrix_rank(np.vstack([matrix, vector])) == rank
            if high - low < RECOVERED_BELOW[measure]:
                recovered.append(
                    Recovery(measure, name, float(vector @ truth), low, high, identified, float(vector @ estimate))
                )
    return recovered


def _targets(responses: list[Seeded]) -> list[tuple[str, dict[int, float]]]:
    """Each response, and each person's mean over their responses in a month."""
    found = [(f"{seeded.person}'s response of {seeded.day}", {seeded.pk: 1.0}) for seeded in responses]
    months: dict[tuple[str, str], list[int]] = defaultdict(list)
    for seeded in responses:
        months[(seeded.person, Period.containing(seeded.day).key)].append(seeded.pk)
    for (person, key), pks in months.items():
        if len(pks) > 1:
            found.append((f"{person}'s mean in {key}", {pk: 1 / len(pks) for pk in pks}))
    return found


def _range(vector: Any, matrix: Any, published: Any, slack: Any, top: float) -> tuple[float, float]:
    """min and max of vector . x over answers on the scale that agree with every published figure.

    If nothing agrees (noise beyond its printed 90% interval), the adversary widens the intervals
    fourfold (99.99% for Laplace noise) rather than give up.
    """
    for widen in (1.0, 4.0):
        bounds = [(0.0, top)] * matrix.shape[1]
        a_ub = np.vstack([matrix, -matrix])
        b_ub = np.concatenate([published + widen * slack, -(published - widen * slack)])
        low = linprog(vector, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        high = linprog(-vector, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if low.status == 0 and high.status == 0:
            return float(low.fun), float(-high.fun)
    return 0.0, top


# --- the populations -------------------------------------------------------------------------------------


def months_back(count: int) -> list[Period]:
    """The `count` latest finished months, oldest first."""
    periods = [latest_complete_period()]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods[::-1]


def feelings(rng: random.Random, means: dict[str, float] | None = None) -> dict[str, int]:
    """Answers 0-4 around the given means (the paper's by default), so people differ."""
    means = means or PAPER_MEANS
    return {key: min(4, max(0, round(rng.gauss(means[key], 0.9)))) for key in FEELINGS}


# The paper's means (docs/DOMAIN.md): low for negative feelings, highest for attentive.
PAPER_MEANS = {
    "upset": 0.31, "hostile": 0.2, "alert": 1.5, "ashamed": 0.2, "inspired": 0.9, "nervous": 0.5,
    "determined": 1.3, "attentive": 1.73, "afraid": 0.24, "active": 1.2,
}  # fmt: skip


def newcomer(world: World, rng: random.Random) -> list[Callable[[], None]]:
    """Issue 14's attack: five answer in weeks A and B, a sixth only in week B, all in one month."""
    month = months_back(1)[0]
    week_a, week_b = month.weeks[0].monday, month.weeks[1].monday
    for index in range(5):
        world.checkin(f"vet{index}", week_a, feelings(rng))
        world.checkin(f"vet{index}", week_b + timedelta(days=1), feelings(rng))
    world.checkin("newcomer", week_b + timedelta(days=2), {**feelings(rng), "upset": 4, "afraid": 4})
    return []


def five(world: World, rng: random.Random) -> list[Callable[[], None]]:
    """Five people, each answering one to three times over two months."""
    for month in months_back(2):
        for index in range(5):
            for week in month.weeks[: 1 + (index + month.month) % 3]:
                world.checkin(f"p{index}", week.monday + timedelta(days=index % 5), feelings(rng))
    return []


def six_with_a_late_answer_and_a_leaver(world: World, rng: random.Random) -> list[Callable[[], None]]:
    """Six people answer in a month; later one more answer lands in it, and then someone leaves."""
    month = months_back(1)[0]
    for index in range(6):
        world.checkin(f"p{index}", month.weeks[index % len(month.weeks)].monday, feelings(rng))
        world.who5(f"p{index}", month.weeks[0].monday, rng.randint(3, 25))

    def late_answer() -> None:  # stamped inside the month, as an import or a clock error could
        world.checkin("late", month.weeks[-1].monday + timedelta(days=3), {**feelings(rng), "upset": 4})
        world.who5("late", month.weeks[-1].monday, 2)

    return [late_answer, lambda: world.leave("p0")]


def fifteen_with_newcomers_and_a_leaver(world: World, rng: random.Random) -> list[Callable[[], None]]:
    """Fifteen people over three months; two join in the last month, one leaves after it is published."""
    periods = months_back(3)
    for month in periods:
        for index in range(15):
            if rng.random() < 0.8:
                world.checkin(f"p{index}", month.weeks[index % len(month.weeks)].monday, feelings(rng))
            if rng.random() < 0.6:
                world.who5(f"p{index}", month.weeks[0].monday + timedelta(days=index % 7), rng.randint(0, 25))
    for name in ("new0", "new1"):
        world.checkin(name, periods[-1].weeks[1].monday, feelings(rng))

    def third_newcomer() -> None:
        world.checkin("new2", periods[-1].weeks[2].monday, {**feelings(rng), "afraid": 4})

    return [third_newcomer, lambda: world.leave("p3")]


def paper(world: World, rng: random.Random) -> list[Callable[[], None]]:
    """The study's survey: 49 responses from 15 people, sent by hand so answers are sporadic."""
    periods = months_back(3)
    people = [f"p{index}" for index in range(15)]
    slots = [(person, None) for person in people]  # everyone answers at least once
    slots += [(rng.choice(people), None) for _ in range(49 - 15)]
    for person, _ in slots:
        month = rng.choice(periods)
        day = month.first_day + timedelta(days=rng.randrange((month.last_day - month.first_day).days + 1))
        world.checkin(person, day, feelings(rng))
    return []


def once(world: World, rng: random.Random) -> list[Callable[[], None]]:
    """Eight people who answer once each, in different weeks of one month."""
    month = months_back(1)[0]
    for index in range(8):
        world.checkin(f"p{index}", month.weeks[index % len(month.weeks)].monday, feelings(rng))
        world.who5(f"p{index}", month.weeks[index % len(month.weeks)].monday, rng.randint(0, 25))
    return []


POPULATIONS = [newcomer, five, six_with_a_late_answer_and_a_leaver, fifteen_with_newcomers_and_a_leaver, paper, once]


@pytest.mark.parametrize("population", POPULATIONS, ids=[population.__name__ for population in POPULATIONS])
def test_no_published_combination_recovers_anyones_answer(lead_client: Client, population: Any) -> None:
    world = World()
    later = population(world, random.Random(population.__name__))  # noqa: S311 - reproducible test data

    observations, snapshots = [observe(lead_client)], [world.existing()]
    for event in later:
        event()
        observations.append(observe(lead_client))
        snapshots.append(world.existing())

    assert any(observations), "the lead saw no figure at all, so the attack proves nothing"
    recovered = attack(world, observations, snapshots)
    assert not recovered, "recovered:\n" + "\n".join(describe(found) for found in recovered[:40])


def describe(found: Recovery) -> str:
    exact = f" (identified exactly; least squares gives {found.estimate:.2f})" if found.identified else ""
    return f"  {found.measure}: {found.target} is {found.truth:g}, pinned to [{found.low:.2f}, {found.high:.2f}]{exact}"


def test_the_adversary_recovers_an_answer_published_on_its_own() -> None:
    """The attack itself, on a hand-made leak: a cell of five and the same cell less one person."""
    world = World()
    rng = random.Random(1)  # noqa: S311 - reproducible test data
    month = months_back(1)[0]
    for index in range(6):
        world.checkin(f"p{index}", month.weeks[0].monday, feelings(rng))
    everyone = world.existing()
    truth = {key: fmean(seeded.measure_values[key] for seeded in everyone) for key in FEELINGS}
    without = {key: fmean(seeded.measure_values[key] for seeded in everyone[1:]) for key in FEELINGS}
    figures = [Figure(key, month.key, "overall", 6, round(truth[key], 2), 0.005) for key in FEELINGS]
    world.leave("p0")
    later = [Figure(key, month.key, "overall", 5, round(without[key], 2), 0.005) for key in FEELINGS]
    found = attack(world, [figures, later], [everyone, world.existing()])
    pinned = {(recovery.measure, recovery.target) for recovery in found if recovery.identified}
    assert {(key, f"p0's response of {month.weeks[0].monday}") for key in FEELINGS} <= pinned
    for recovery in found:
        assert recovery.low - 1e-6 <= recovery.truth <= recovery.high + 1e-6
