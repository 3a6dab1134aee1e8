"""Server-side SVG charts for the lead dashboard.

The dashboard must work offline under a strict CSP (no inline styles, no scripts), so a chart is a plain SVG string:
geometry lives in presentation attributes and every colour and font in static/triad/charts.css. Labels come from
transcripts and tags that may contain anything, so all caller text is escaped and stripped of characters that XML
cannot carry.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
FONT_PX = 12  # matches `.chart text` in charts.css; label widths are estimated from it
MAX_LABEL = 28  # slanted category labels only; straight ones wrap instead (see _wrap)
LABEL_WIDTH = 240.0  # a horizontal chart's category labels wrap at this width (about 30 characters)
LABEL_LINES = 3  # at most this many lines per category label; the rest is cut with "…" and the whole is its tooltip
LINE = 14.0  # baseline to baseline of 12px label lines
TITLE_PX = 15  # matches `.chart .chart-title`
TITLE_LINE = 19.0
TITLE_LINES = 3
# Estimated widths are of an average glyph; bold titles and some fonts run wider, so wrapping aims this much short.
WIDTH_SLACK = 1.08
MAX_LEGEND = 60  # legend rows wrap, so series names (often carrying "n=...") can stay whole for longer
PALETTE_SIZE = 6  # series-0 .. series-5 in charts.css; more series reuse colours
_ID = re.compile(r"[a-z0-9-]+")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SIN, _COS = math.sin(math.radians(40)), math.cos(math.radians(40))


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]  # one per category; None = no data


# --- text and numbers ---------------------------------------------------------------------------------------------


def _clean(text: object) -> str:
    # escape() leaves control characters and lone surrogates alone, but they make the XML ill-formed.
    return _NOT_XML.sub("\ufffd", str(text))


def _esc(text: object) -> str:
    return escape(_clean(text))


def _one_line(text: object) -> str:
    return " ".join(_clean(text).split())


def _truncate(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@functools.lru_cache(maxsize=4096)
def _char_em(ch: str) -> float:
    # Rough, but CJK characters are twice as wide and combining marks take no room, which matters for margins.
    if unicodedata.combining(ch):
        return 0.0
    return 1.0 if unicodedata.east_asian_width(ch) in {"W", "F"} else 0.6


def _text_width(text: str, size: float = FONT_PX) -> float:
    return size * sum(map(_char_em, text))


def _wrap(text: object, width: float, max_lines: int, size: float = FONT_PX) -> list[str]:
    """Words in lines no wider than `width` (estimated), at most `max_lines` of them; a word wider
    than a line is broken, and text beyond the last line is cut with "…"."""
    return list(_wrapped(_one_line(text), width, max_lines, size))


# The same labels (the 20 tag names, the model types) are wrapped on every chart of every page view.
@functools.lru_cache(maxsize=1024)
def _wrapped(text: str, width: float, max_lines: int, size: float) -> tuple[str, ...]:
    fits, space = width / WIDTH_SLACK, _text_width(" ", size)
    lines: list[str] = []
    last_width = 0.0
    for word in text.split(" "):
        word_width = _text_width(word, size)
        if lines and last_width + space + word_width <= fits:
            lines[-1] = f"{lines[-1]} {word}"
            last_width += space + word_width
            continue
        rest = word
        while _text_width(rest, size) > fits and len(rest) > 1:  # break only what cannot fit whole
            cut = 1
            while cut < len(rest) and _text_width(rest[: cut + 1], size) <= fits:
                cut += 1
            lines.append(rest[:cut])
            rest = rest[cut:]
        lines.append(rest)
        last_width = _text_width(rest, size)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and _text_width(last + "…", size) > fits:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    return tuple(lines) or ("",)


def _lines_width(lines: list[str], size: float = FONT_PX) -> float:
    return max((_text_width(line, size) for line in lines), default=0.0) * WIDTH_SLACK


def _n(v: float) -> str:
    s = f"{v:.1f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _fmt(v: float, *, decimals: int | None = None, percent: bool = False) -> str:
    v = v * 100 if percent else v
    if decimals is None:  # at least three significant digits, so 0.004 does not show as 0
        decimals = min(10, max(1 if percent else 2, 2 - math.floor(math.log10(abs(v))))) if v else 0
    text = f"{v:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("0" if text == "-0" else text) + ("%" if percent else "")


def _num(v: float | None) -> float | None:
    # NaN and infinities come out of empty aggregates; showing them as "no data" beats a broken axis.
    return None if v is None or not math.isfinite(v) else float(v)


def _nice_ticks(lo: float, hi: float, *, integer: bool = False, target: int = 5) -> tuple[list[float], float]:
    if hi - lo < 1e-12:  # callers always include zero, so this is all-zero data: still draw a 0..1 axis
        hi = lo + 1.0
    raw = (hi - lo) / target
    mag = 10 ** math.floor(math.log10(raw))
    # Round to the nearest 1/2/5/10 step on a log scale (as d3 does), not always up: fewer wasted axis lengths.
    step = mag * next(m for m, limit in ((10, 50**0.5), (5, 10**0.5), (2, 2**0.5), (1, 0)) if raw / mag >= limit)
    if integer:
        step = max(step, 1.0)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(k * step, 12) for k in range(first, last + 1)], step


def _tick_decimals(step: float, percent: bool = False) -> int:
    return max(0, -math.floor(math.log10(step * (100 if percent else 1)) + 1e-9))


# --- SVG pieces ---------------------------------------------------------------------------------------------------


def _check_id(chart_id: str) -> str:
    if not isinstance(chart_id, str) or not _ID.fullmatch(chart_id):
        raise ValueError(f"chart_id must be non-empty and use only a-z, 0-9 and '-', got {chart_id!r}")
    return chart_id


def _cls(i: int) -> str:
    return f"series-{i % PALETTE_SIZE}"


def _text(
    x: float,
    y: float,
    content: object,
    cls: str,
    anchor: str = "start",
    *,
    limit: int = 0,
    tip: str = "",
    extra: str = "",
) -> str:
    full = _one_line(content)
    shown = _truncate(full, limit) if limit else full
    tip = tip or (full if shown != full else "")
    title = f"<title>{_esc(tip)}</title>" if tip else ""
    return f'<text class="{cls}" x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{extra}>{title}{_esc(shown)}</text>'


def _text_lines(
    x: float, y: float, content: object, lines: list[str], cls: str, *, anchor: str = "start", step: float = LINE
) -> str:
    """One <text> of several lines (tspans), the first baseline at y; the whole text is its tooltip
    when the lines had to cut it."""
    full = _one_line(content)
    if len(lines) == 1:
        return _text(x, y, lines[0], cls, anchor, tip=full if lines[0] != full else "")
    cut = " ".join(lines) != full
    title = f"<title>{_esc(full)}</title>" if cut else ""
    spans = "".join(
        f'<tspan x="{_n(x)}" dy="{_n(0 if i == 0 else step)}">{_esc(line)}</tspan>' for i, line in enumerate(lines)
    )
    return f'<text class="{cls}" x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}">{title}{spans}</text>'


def _rotated(x: float, y: float, content: object, cls: str, *, angle: int, anchor: str, limit: int = 0) -> str:
    return _text(x, y, content, cls, anchor, limit=limit, extra=f' transform="rotate({angle} {_n(x)} {_n(y)})"')


def _line(x1: float, y1: float, x2: float, y2: float, cls: str) -> str:
    return f'<line class="{cls}" x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}"/>'


def _shape(tag: str, cls: str, tip: str, **geometry: float) -> str:
    attrs = " ".join(f'{name}="{_n(v)}"' for name, v in geometry.items())
    return f'<{tag} class="{cls}" {attrs}><title>{_esc(tip)}</title></{tag}>'


def _svg(chart_id: str, title: str, desc: str, height: float, body: list[str]) -> SafeString:
    """The chart: its title wrapped onto as many lines as it needs (up to TITLE_LINES), and the body,
    laid out for a one-line title, moved down by the lines added."""
    cid = _esc(chart_id)
    lines = _wrap(title, WIDTH - 20, TITLE_LINES, TITLE_PX)
    below = (len(lines) - 1) * TITLE_LINE
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-labelledby="{cid}-title {cid}-desc" '
        f'viewBox="0 0 {WIDTH} {_n(height + below)}" preserveAspectRatio="xMidYMid meet" data-chart="{cid}">'
        f'<title id="{cid}-title">{_esc(title)}</title><desc id="{cid}-desc">{_esc(desc)}</desc>'
        + _text_lines(10, 22, title, lines, "chart-title", step=TITLE_LINE)
    )
    if below:
        body = [f'<g transform="translate(0 {_n(below)})">', *body, "</g>"]
    # Every caller-supplied string above and in body went through _esc, and numbers are formatted here.
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308


def _empty(chart_id: str, title: str, description: str) -> SafeString:
    return _svg(
        chart_id, title, description or "No data yet", 110, [_text(WIDTH / 2, 72, "No data yet", "empty", "middle")]
    )


def _legend(names: list[str], top: float) -> tuple[list[str], float]:
    """Swatches in rows under the title; returns the parts and the height used."""
    if len(names) < 2:
        return [], 0.0
    parts, x, y = ['<g class="legend">'], 10.0, top + 12
    for i, name in enumerate(names):
        width = 14 + _text_width(_truncate(_one_line(name), MAX_LEGEND)) + 14
        if x + width > WIDTH - 10 and x > 10:
            x, y = 10.0, y + 18
        parts.append(f'<rect class="swatch {_cls(i)}" x="{_n(x)}" y="{_n(y - 9)}" width="10" height="10"/>')
        parts.append(_text(x + 14, y, name, "legend-label", limit=MAX_LEGEND))
        x += width
    return [*parts, "</g>"], y + 8 - top


@dataclass(frozen=True)
class _Frame:
    """The plot area and the axes around it."""

    left: float
    top: float
    width: float
    height: float
    ticks: list[float]
    tick_labels: list[str]
    horizontal: bool  # True: the value axis runs left to right and categories top to bottom
    slant: bool  # category labels too wide for their band even on a few lines are drawn at an angle
    total_height: float
    side_label_x: float  # the rotated axis title hugs its labels, however much room slanting took
    category_lines: tuple[tuple[str, ...], ...] = ()  # each category label as the lines it is drawn on

    def at(self, v: float) -> float:
        t = (v - self.ticks[0]) / (self.ticks[-1] - self.ticks[0])
        return self.left + t * self.width if self.horizontal else self.top + self.height * (1 - t)

    def band(self, i: int, n: int) -> tuple[float, float]:
        size = (self.height if self.horizontal else self.width) / n
        return (self.top if self.horizontal else self.left) + i * size, size

    def axes(self, value_label: str, categories: list[str], category_label: str) -> list[str]:
        bottom, right = self.top + self.height, self.left + self.width
        mid_x, mid_y = self.left + self.width / 2, self.top + self.height / 2
        parts = ['<g class="axes">']
        for tick, label in zip(self.ticks, self.tick_labels, strict=True):
            p, cls = self.at(tick), "zero-line" if tick == 0 and self.ticks[0] < 0 else "gridline"
            if self.horizontal:
                parts += [_line(p, self.top, p, bottom, cls), _text(p, bottom + 16, label, "tick-label", "middle")]
            else:
                parts += [_line(self.left, p, right, p, cls), _text(self.left - 6, p + 4, label, "tick-label", "end")]
        parts += [
            _line(self.left, self.top, self.left, bottom, "axis"),
            _line(self.left, bottom, right, bottom, "axis"),
        ]
        for i, label in enumerate(categories):
            start, size = self.band(i, len(categories))
            mid = start + size / 2
            lines = list(self.category_lines[i]) if i < len(self.category_lines) else [_one_line(label)]
            if self.horizontal:  # the lines centred on the band
                y = mid + 4 - (len(lines) - 1) * LINE / 2
                parts.append(_text_lines(self.left - 8, y, label, lines, "category-label", anchor="end"))
            elif self.slant:
                parts.append(
                    _rotated(mid, bottom + 14, label, "category-label", angle=-40, anchor="end", limit=MAX_LABEL)
                )
            else:
                parts.append(_text_lines(mid, bottom + 16, label, lines, "category-label", anchor="middle"))
        below, beside = (value_label, category_label) if self.horizontal else (category_label, value_label)
        if below:
            parts.append(_text(mid_x, self.total_height - 10, below, "axis-label", "middle", limit=80))
        if beside:
            parts.append(_rotated(self.side_label_x, mid_y, beside, "axis-label", angle=-90, anchor="middle", limit=34))
        return [*parts, "</g>"]


def _widest(labels: list[str]) -> float:
    return max((_text_width(_truncate(_one_line(label))) for label in labels), default=0.0)


def _frame(
    top: float,
    categories: list[str],
    ticks: list[float],
    tick_labels: list[str],
    *,
    horizontal: bool = False,
    band: float = 0.0,
    right: float = 24.0,
) -> _Frame:
    """Sizes the margins from the labels they must hold (axis titles always get a 22-unit strip).

    Category labels wrap rather than being cut: beside a horizontal chart at LABEL_WIDTH, its
    bands growing to hold the lines; under a vertical one at the band's width, slanted only when
    even LABEL_LINES lines would not hold a label.
    """
    n, room = max(len(categories), 1), 22
    bottom: float
    if horizontal:
        lines = tuple(tuple(_wrap(label, LABEL_WIDTH, LABEL_LINES)) for label in categories)
        cat_w = max((_lines_width(list(label)) for label in lines), default=0.0)
        band = max(band, max((len(label) for label in lines), default=1) * LINE + 8)
        left, bottom = 10 + room + cat_w + 10, 26 + room
        height = n * band
        return _Frame(
            left, top, WIDTH - left - right, height, ticks, tick_labels, True, False, top + height + bottom, 16, lines
        )
    left = 10 + room + _widest(tick_labels) + 8
    room_per_label = (WIDTH - left - right) / n - 6
    lines = tuple((_one_line(label),) for label in categories)
    slant = False
    if any(_lines_width(list(label)) > room_per_label for label in lines):
        lines = tuple(tuple(_wrap(label, room_per_label, LABEL_LINES)) for label in categories)
        slant = any(" ".join(label) != _one_line(text) for label, text in zip(lines, categories, strict=True))
    cat_w = _widest(categories)
    if slant:  # the first slanted label reaches left, past its band
        left = max(left, cat_w * _COS - (WIDTH - left - right) / n / 2 + 6)
    deepest = max((len(label) for label in lines), default=1)
    bottom = (cat_w * _SIN + 22 if slant else 26 + (deepest - 1) * LINE) + room
    side_x = left - _widest(tick_labels) - 22
    return _Frame(
        left, top, WIDTH - left - right, 240, ticks, tick_labels, False, slant, top + 240 + bottom, side_x, lines
    )


# --- charts -------------------------------------------------------------------------------------------------------


def bar_chart(
    *,
    chart_id: str,
    title: str,
    categories: list[str],
    series: list[Series],
    value_label: str,
    category_label: str = "",
    horizontal: bool = False,
    percent: bool = False,
    description: str = "",
) -> SafeString:
    """Grouped bars, one per series within each category; `percent` takes fractions 0..1."""
    _check_id(chart_id)
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(categories)} categories")
    values = [[_num(v) for v in s.values] for s in series]
    present = [v for row in values for v in row if v is not None]
    if not categories or not present:
        return _empty(chart_id, title, description)

    kind = ("Horizontal grouped" if horizontal else "Grouped") + " bar chart"
    desc = description or f"{kind} of {len(categories)} categories and {len(series)} series"
    integer = not percent and all(v == int(v) for v in present)
    ticks, step = _nice_ticks(min(0.0, *present), max(0.0, *present), integer=integer)
    tick_labels = [_fmt(t, decimals=_tick_decimals(step, percent), percent=percent) for t in ticks]
    legend, legend_h = _legend([s.name for s in series], 30)
    band = max(24.0, 13.0 * len(series) + 10)
    frame = _frame(44 + legend_h, categories, ticks, tick_labels, horizontal=horizontal, band=band)
    body, zero = [*legend, *frame.axes(value_label, categories, category_label), '<g class="bars">'], frame.at(0)
    for ci, category in enumerate(categories):
        start, size = frame.band(ci, len(categories))
        thick = size * 0.8 / len(series)
        for si, s in enumerate(series):
            v, pos = values[si][ci], start + size * 0.1 + si * thick
            tip = f"{_one_line(s.name)} · {_one_line(category)}: "
            if v is None:
                x, y = (zero + 4, pos + thick / 2 + 3) if horizontal else (pos + thick / 2, zero - 4)
                body.append(
                    _text(x, y, "n/a", "no-data-mark", "start" if horizontal else "middle", tip=tip + "no data")
                )
                continue
            end = frame.at(v)
            if abs(end - zero) < 1:  # zero still gets a hairline, so it differs from "no data" and has a tooltip
                end = zero + (math.copysign(1, end - zero) if end != zero else (1 if horizontal else -1))
            a, b = sorted((zero, end))
            gap = 1.0 if thick > 4 else 0.0
            cls, text = f"bar {_cls(si)}", tip + _fmt(v, percent=percent)
            across = {"x" if horizontal else "y": a, "width" if horizontal else "height": b - a}
            along = {"y" if horizontal else "x": pos + gap / 2, "height" if horizontal else "width": thick - gap}
            body.append(_shape("rect", cls, text, **across, **along))
    return _svg(chart_id, title, desc, frame.total_height, [*body, "</g>"])


def error_bar_chart(
    *,
    chart_id: str,
    title: str,
    categories: list[str],
    means: list[float | None],
    sds: list[float | None],
    counts: list[int],
    value_label: str,
    category_label: str = "",
    description: str = "",
    spread_name: str = "SD",
) -> SafeString:
    """A point at each mean with a ±1 SD whisker; categories run down the page so long tag names stay readable.

    `spread_name` names what the whiskers are when they are not an SD (a noise interval, say).
    """
    _check_id(chart_id)
    n = len(categories)
    if not len(means) == len(sds) == len(counts) == n:
        raise ValueError(
            f"need one mean, SD and count per category: got {n} categories, {len(means)} means, "
            f"{len(sds)} SDs and {len(counts)} counts"
        )
    if any(c < 0 for c in counts):
        raise ValueError("counts must not be negative")
    ms = [_num(m) for m in means]
    ss = [abs(s) if (s := _num(sd)) is not None and m is not None else None for sd, m in zip(sds, ms, strict=True)]
    if all(m is None for m in ms):
        return _empty(chart_id, title, description)

    desc = description or f"Mean and ±1 {_one_line(spread_name)} of {_one_line(value_label)} for {n} categories"
    spans = [(m - (s or 0), m + (s or 0)) for m, s in zip(ms, ss, strict=True) if m is not None]
    # Zero stays on the axis: for harmlessness scores, which side of zero a mean falls on is the point.
    ticks, step = _nice_ticks(min(0.0, *(a for a, _ in spans)), max(0.0, *(b for _, b in spans)))
    tick_labels = [_fmt(t, decimals=_tick_decimals(step)) for t in ticks]
    right = _widest([f"n {c:,}" for c in counts]) + 30
    frame = _frame(44, categories, ticks, tick_labels, horizontal=True, band=26.0, right=right)
    body = [*frame.axes(value_label, categories, category_label), '<g class="points">']
    for i, (category, m, s, count) in enumerate(zip(categories, ms, ss, counts, strict=True)):
        start, size = frame.band(i, n)
        y, name = start + size / 2, _one_line(category)
        body.append(_text(WIDTH - 10, y + 4, f"n {count:,}", "count-label", "end"))
        if m is None:
            body.append(_text(frame.at(0) + 4, y + 4, "no data", "no-data-mark", tip=f"{name}: no data, n {count:,}"))
            continue
        if s is not None:
            lo, hi = frame.at(m - s), frame.at(m + s)
            body += [_line(lo, y, hi, y, "whisker"), *(_line(x, y - 5, x, y + 5, "whisker-cap") for x in (lo, hi))]
        tip = f"{name}: mean {_fmt(m)}, {_one_line(spread_name)} {'n/a' if s is None else _fmt(s)}, n {count:,}"
        body.append(_shape("circle", f"point {_cls(0)}", tip, cx=frame.at(m), cy=y, r=5))
    return _svg(chart_id, title, desc, frame.total_height, [*body, "</g>"])


def histogram(
    *,
    chart_id: str,
    title: str,
    edges: list[float],
    counts: list[int],
    value_label: str,
    category_label: str,
    description: str = "",
) -> SafeString:
    """Contiguous bins; `value_label` names the counts (y axis), `category_label` the binned quantity (x axis)."""
    _check_id(chart_id)
    if not counts and len(edges) <= 1:
        return _empty(chart_id, title, description)
    if len(edges) != len(counts) + 1:
        raise ValueError(f"need len(edges) == len(counts) + 1, got {len(edges)} edges for {len(counts)} counts")
    if not all(math.isfinite(e) for e in edges) or any(b <= a for a, b in itertools.pairwise(edges)):
        raise ValueError("edges must be finite and strictly increasing")
    if any(c < 0 for c in counts):
        raise ValueError("counts must not be negative")
    total = sum(counts)
    if not total:
        return _empty(chart_id, title, description)

    lo_text, hi_text = _fmt(edges[0]), _fmt(edges[-1])
    desc = description or f"Histogram of {_one_line(category_label)} in {len(counts)} bins from {lo_text} to {hi_text}"
    ticks, _ = _nice_ticks(0.0, float(max(counts)), integer=True)
    frame = _frame(44, [], ticks, [_fmt(t, decimals=0) for t in ticks])
    bottom, zero = frame.top + frame.height, frame.at(0)

    def x(e: float) -> float:
        return frame.left + (e - edges[0]) / (edges[-1] - edges[0]) * frame.width

    body = [*frame.axes(value_label, [], category_label), '<g class="bars histogram">']
    for lo, hi, count in zip(edges, edges[1:], counts, strict=False):
        top = min(frame.at(count), zero - 1)
        text = f"{_fmt(lo)} to {_fmt(hi)}: {count:,} ({_fmt(count / total, percent=True)})"
        body.append(_shape("rect", f"bar {_cls(0)}", text, x=x(lo), y=top, width=x(hi) - x(lo), height=zero - top))
    body += ["</g>", '<g class="edges">']
    edge_labels = [_fmt(e) for e in edges]
    # Label every k-th edge so that neighbouring labels never touch, however many bins there are.
    every = max(1, math.ceil((max(map(_text_width, edge_labels)) + 8) / (frame.width / len(counts))))
    for i, (e, label) in enumerate(zip(edges, edge_labels, strict=True)):
        body.append(_line(x(e), bottom, x(e), bottom + 4, "tick"))
        if i % every == 0:
            body.append(_text(x(e), bottom + 16, label, "tick-label", "middle"))
    return _svg(chart_id, title, desc, frame.total_height, [*body, "</g>"])


@dataclass(frozen=True)
class IntervalRow:
    """One row of an interval chart: its label, its n, whether it is too small to trust (drawn
    faded, its count saying so), and its group (a rule is drawn where the group changes)."""

    label: str
    count: int
    faint: bool = False
    group: str = ""


@dataclass(frozen=True)
class IntervalSeries:
    name: str
    means: list[float | None]  # one per row; None = no data
    intervals: list[tuple[float, float] | None]  # (low, high) around each mean; None = not defined (n < 2)


def interval_chart(
    *,
    chart_id: str,
    title: str,
    rows: list[IntervalRow],
    series: list[IntervalSeries],
    value_label: str,
    category_label: str = "",
    domain: tuple[float, float] | None = None,
    interval_name: str = "95% CI",
    description: str = "",
) -> SafeString:
    """Means with interval whiskers: one row per category, one point per series within it.

    `domain` fixes the value axis (a 0-4 rating); whiskers reaching past it stop at its edge
    without a cap, and the tooltip keeps the true bounds.
    """
    _check_id(chart_id)
    n = len(rows)
    if any(len(s.means) != n or len(s.intervals) != n for s in series):
        raise ValueError(f"need one mean and one interval per row for {n} rows")
    if any(row.count < 0 for row in rows):
        raise ValueError("counts must not be negative")
    means = [[_num(m) for m in s.means] for s in series]
    intervals = [[_interval(iv) for iv in s.intervals] for s in series]
    present = [m for row in means for m in row if m is not None]
    if not rows or not present:
        return _empty(chart_id, title, description)

    desc = description or (
        f"Mean and {_one_line(interval_name)} of {_one_line(value_label)} for {n} rows and {len(series)} series"
    )
    if domain is None:  # zero stays on the axis, as in error_bar_chart
        ends = [v for row in intervals for iv in row if iv is not None for v in iv]
        domain = (min(0.0, *present, *ends), max(0.0, *present, *ends))
    ticks, step = _nice_ticks(*domain)
    tick_labels = [_fmt(t, decimals=_tick_decimals(step)) for t in ticks]
    legend, legend_h = _legend([s.name for s in series], 30)
    count_labels = [f"n {row.count:,}" + (" · few" if row.faint else "") for row in rows]
    labels = [row.label for row in rows]
    frame = _frame(
        44 + legend_h,
        labels,
        ticks,
        tick_labels,
        horizontal=True,
        band=max(26.0, 14.0 * len(series) + 12),
        right=_widest(count_labels) + 30,
    )
    body = [*legend, *frame.axes(value_label, labels, category_label), '<g class="points">']
    for i, row in enumerate(rows):
        start, size = frame.band(i, n)
        if i and row.group != rows[i - 1].group:
            body.append(_line(10, start, WIDTH - 10, start, "group-rule"))
        body.append(_text(WIDTH - 10, start + size / 2 + 4, count_labels[i], "count-label", "end"))
        for si, s in enumerate(series):
            y = start + size * (si + 1) / (len(series) + 1)
            body += _interval_marks(
                frame,
                row,
                index=si,
                name=s.name,
                mean=means[si][i],
                iv=intervals[si][i],
                y=y,
                interval_name=interval_name,
            )
    return _svg(chart_id, title, desc, frame.total_height, [*body, "</g>"])


def _interval(iv: tuple[float, float] | None) -> tuple[float, float] | None:
    if iv is None:
        return None
    low, high = _num(iv[0]), _num(iv[1])
    return None if low is None or high is None else (low, high)


def _interval_marks(
    frame: _Frame,
    row: IntervalRow,
    *,
    index: int,
    name: str,
    mean: float | None,
    iv: tuple[float, float] | None,
    y: float,
    interval_name: str,
) -> list[str]:
    """One series' point and whisker in one row of an interval chart."""
    axis_lo, axis_hi = frame.ticks[0], frame.ticks[-1]
    tip = f"{_one_line(name)} · {_one_line(row.label)}: "
    if mean is None:
        return [_text(frame.at(axis_lo) + 4, y + 4, "no data", "no-data-mark", tip=tip + "no data")]
    faint = " faint" if row.faint else ""
    parts = []
    if iv is not None:
        low, high = max(iv[0], axis_lo), min(iv[1], axis_hi)
        parts.append(_line(frame.at(low), y, frame.at(high), y, f"whisker{faint}"))
        # A cap marks a true end; a whisker cut at the axis edge has none.
        parts += [
            _line(frame.at(end), y - 4, frame.at(end), y + 4, f"whisker-cap{faint}")
            for end, true in ((low, iv[0]), (high, iv[1]))
            if end == true
        ]
    spread = "n/a" if iv is None else f"{_fmt(iv[0])} to {_fmt(iv[1])}"
    text = f"{tip}mean {_fmt(mean)}, {_one_line(interval_name)} {spread}, n {row.count:,}"
    cls, x = f"point {_cls(index)}{faint}", frame.at(min(max(mean, axis_lo), axis_hi))
    if index % 2:  # every other series a square, so the series differ by more than colour
        return [*parts, _shape("rect", cls, text, x=x - 4.5, y=y - 4.5, width=9, height=9)]
    return [*parts, _shape("circle", cls, text, cx=x, cy=y, r=5)]
