"""Server-side SVG charts for the HR dashboard, written by hand and with no dependency.

Why not a chart library: pygal's default output references a script on a CDN, and the dashboard
loads nothing from elsewhere (issue 10); browser chart libraries need JavaScript. Two shapes cover
the reports: grouped vertical bars (:func:`bar_chart`) and 100%-stacked horizontal bars
(:func:`stacked_bars`, e.g. delay reasons per branch).

Each chart is one ``<svg role="img">`` string: a ``<title>`` naming it, a legend, a fixed palette,
an axis with a few ticks, and a ``<title>`` tooltip with the value on every bar. Every text is
XML-escaped; presentation is in attributes only (no ``style``, so a strict Content-Security-Policy
holds). The width is fixed with a ``viewBox``, so CSS ``max-width: 100%; height: auto`` scales it.
Empty input, or nothing but zeros, draws an explicit "no data / 暂无数据" placeholder.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

WIDTH = 720
EMPTY = "no data / 暂无数据"
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
_GRID, _AXIS, _INK = "#dddddd", "#666666", "#222222"
_LEFT, _RIGHT, _PLOT_HEIGHT = 64, 16, 220
_LABELS = 120
"""Room left of the stacked bars for the category names."""

Series = Sequence[tuple[str, Sequence[float]]]


def bar_chart(title: str, categories: Sequence[str], series: Series, unit: str = "") -> str:
    """Grouped vertical bars: one group per category, one bar per series (zeros not drawn)."""
    if _empty(categories, series):
        return _placeholder(title)
    legend, top = _legend(series)
    values = [float(v) for _, vs in series for v in vs]
    low, high, ticks = _scale(min(values), max(values))
    width = WIDTH - _LEFT - _RIGHT

    def y(value: float) -> float:
        return top + _PLOT_HEIGHT * (high - value) / (high - low)

    body = [*legend, *_y_axis(ticks, y, unit, top)]
    group = width / len(categories)
    bar = group * 0.8 / len(series)
    for i, category in enumerate(categories):
        for j, (name, vs) in enumerate(series):
            value = float(vs[i]) if i < len(vs) else 0.0
            if value == 0:
                continue
            x = _LEFT + i * group + group * 0.1 + j * bar
            edge = min(y(value), y(0))
            height = max(abs(y(value) - y(0)), 1.0)
            tip = f"{name} · {category}: {_num(value)}{unit}"
            body.append(_rect(x, edge, bar, height, PALETTE[j % len(PALETTE)], tip))
    body.append(_line(_LEFT, y(0), WIDTH - _RIGHT, y(0), _AXIS))
    body += _category_labels(categories, group, top + _PLOT_HEIGHT)
    bottom = 90 if _tilted(categories, group) else 30
    return _svg(title, top + _PLOT_HEIGHT + bottom, body)


def stacked_bars(title: str, categories: Sequence[str], series: Series, unit: str = "") -> str:
    """One horizontal bar per category, split in proportion to each series' (positive) value."""
    if _empty(categories, series):
        return _placeholder(title)
    legend, top = _legend(series)
    left, row = _LABELS, 26
    width = WIDTH - left - 2 * _RIGHT  # room for the "100%" under the right edge
    body = list(legend)
    bottom = top + row * len(categories)
    for tick in (0, 25, 50, 75, 100):
        x = left + width * tick / 100
        body.append(_line(x, top, x, bottom, _GRID))
        body.append(_text(x, bottom + 16, f"{tick}%", anchor="middle"))
    for i, category in enumerate(categories):
        y = top + i * row
        body.append(_text(left - 8, y + 17, category, anchor="end"))
        parts = [(name, max(float(vs[i]), 0.0) if i < len(vs) else 0.0) for name, vs in series]
        total = sum(v for _, v in parts)
        if not total:
            body.append(_text(left + 4, y + 17, "—"))
            continue
        x = float(left)
        for j, (name, value) in enumerate(parts):
            if value == 0:
                continue
            share = value / total
            tip = f"{name} · {category}: {_num(value)}{unit} ({_num(round(share * 100, 1))}%)"
            colour = PALETTE[j % len(PALETTE)]
            body.append(_rect(x, y + 4, width * share, row - 8, colour, tip))
            x += width * share
    return _svg(title, bottom + 30, body)


# Pieces ------------------------------------------------------------------------------------


def _empty(categories: Sequence[str], series: Series) -> bool:
    values = [float(v) for _, vs in series for v in vs[: len(categories)]]
    return not categories or not any(v != 0 and math.isfinite(v) for v in values)


def _placeholder(title: str) -> str:
    body = [_text(WIDTH / 2, 80, EMPTY, anchor="middle", colour=_AXIS, css="empty")]
    return _svg(title, 120, body)


def _svg(title: str, height: float, body: list[str]) -> str:
    h = _num(round(height))
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{h}" '
        f'viewBox="0 0 {WIDTH} {h}" font-family="sans-serif" font-size="12" fill="{_INK}">'
        f"<title>{_esc(title)}</title>"
    )
    heading = _text(WIDTH / 2, 20, title, anchor="middle", size=15)
    return head + heading + "".join(body) + "</svg>"


def _legend(series: Series) -> tuple[list[str], float]:
    """Coloured dots and names under the title, wrapped across lines; and where the plot starts."""
    items, x, y = [], float(_LEFT), 42.0
    for j, (name, _) in enumerate(series):
        room = 24 + _text_width(name)
        if x + room > WIDTH - _RIGHT and x > _LEFT:
            x, y = float(_LEFT), y + 18
        colour = PALETTE[j % len(PALETTE)]
        items.append(f'<circle cx="{_num(x + 5)}" cy="{_num(y - 4)}" r="5" fill="{colour}"/>')
        items.append(_text(x + 14, y, name))
        x += room
    return items, y + 22


def _y_axis(ticks: list[float], y: Callable[[float], float], unit: str, top: float) -> list[str]:
    parts = [_text(_LEFT - 8, top - 8, unit, anchor="end", colour=_AXIS)] if unit else []
    for tick in ticks:
        parts.append(_line(_LEFT, y(tick), WIDTH - _RIGHT, y(tick), _GRID))
        parts.append(_text(_LEFT - 6, y(tick) + 4, _num(tick), anchor="end", colour=_AXIS))
    parts.append(_line(_LEFT, y(ticks[0]), _LEFT, y(ticks[-1]), _AXIS))
    return parts


def _tilted(categories: Sequence[str], group: float) -> bool:
    return max(_text_width(c) for c in categories) > group - 4


def _category_labels(categories: Sequence[str], group: float, base: float) -> list[str]:
    """Names under the groups; tilted when they do not fit, and only every n-th when crowded."""
    tilted = _tilted(categories, group)
    every = math.ceil(22 / group) if tilted else 1  # tilted lines 40° apart need ~22 px
    labels = []
    for i, category in enumerate(categories):
        if i % every:
            continue
        x, y = _LEFT + (i + 0.5) * group, base + 16
        name = category if not tilted or len(category) <= 14 else category[:13] + "…"
        turn = f' transform="rotate(-40 {_num(x)} {_num(y)})"' if tilted else ""
        labels.append(_text(x, y, name, anchor="end" if tilted else "middle", extra=turn))
    return labels


def _scale(smallest: float, largest: float) -> tuple[float, float, list[float]]:
    """An axis from ≤ min(0, smallest) to ≥ max(0, largest) in 1, 2, 2.5 or 5 × 10ⁿ steps."""
    low, high = min(0.0, smallest), max(0.0, largest)
    raw = (high - low) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    ticks = [round(low + i * step, 9) for i in range(round((high - low) / step) + 1)]
    return low, high, ticks


def _rect(x: float, y: float, w: float, h: float, colour: str, tip: str) -> str:
    return (
        f'<rect class="bar" x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" '
        f'fill="{colour}"><title>{_esc(tip)}</title></rect>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    return (
        f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
        f'stroke="{colour}" stroke-width="1"/>'
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: int = 12,
    colour: str = _INK,
    css: str = "",
    extra: str = "",
) -> str:
    klass = f' class="{css}"' if css else ""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{colour}"{klass}{extra}>{_esc(text)}</text>'
    )


def _text_width(text: str) -> float:
    """A rough width in pixels at 12 px: Chinese characters are about twice as wide."""
    return sum(12 if ord(c) > 0x2E80 else 7 for c in text)


def _esc(text: str) -> str:
    return escape(str(text), {'"': "&quot;"})


def _num(value: float) -> str:
    """A number as short text: ``12``, ``12.5``, ``0.33`` (two decimals at most)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
