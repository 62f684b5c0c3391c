"""The dashboard's SVG charts: valid XML, one bar per value, escaped text, nothing fetched."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from adapters.web.charts import EMPTY, bar_chart, stacked_bars

SVG = "{http://www.w3.org/2000/svg}"
Chart = Callable[..., str]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox", "").startswith("0 0 720 ")
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}rect"))


def tooltips(root: ET.Element) -> list[str]:
    return [rect.findtext(f"{SVG}title") or "" for rect in bars(root)]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_bar_chart_draws_one_bar_per_non_zero_value_with_its_value_as_tooltip() -> None:
    root = parse(
        bar_chart(
            "Late people per month",
            ["2026-08", "2026-09", "2026-10"],
            [("SH01", [3, 0, 7]), ("BJ01", [1, 2, 0])],
            unit=" 人",
        )
    )
    assert root.findtext(f"{SVG}title") == "Late people per month"
    assert len(bars(root)) == 4
    assert tooltips(root) == [
        "SH01 · 2026-08: 3 人",
        "BJ01 · 2026-08: 1 人",
        "BJ01 · 2026-09: 2 人",
        "SH01 · 2026-10: 7 人",
    ]
    assert {"SH01", "BJ01", "2026-08", "2026-10"} <= set(texts(root))  # legend and categories
    assert {"0", "2", "4", "6", "8"} <= set(texts(root))  # axis ticks


def test_series_get_distinct_colours_from_a_fixed_palette() -> None:
    root = parse(bar_chart("t", ["a"], [("x", [1]), ("y", [2]), ("z", [3])]))
    colours = [rect.get("fill") for rect in bars(root)]
    assert len(set(colours)) == 3
    again = parse(bar_chart("t", ["a"], [("x", [1]), ("y", [2]), ("z", [3])]))
    assert [rect.get("fill") for rect in bars(again)] == colours


def test_taller_values_get_taller_bars() -> None:
    root = parse(bar_chart("t", ["a", "b"], [("x", [10, 40])]))
    low, high = (float(rect.get("height", "0")) for rect in bars(root))
    assert high == pytest.approx(4 * low)


def test_stacked_bars_split_each_category_in_proportion() -> None:
    root = parse(
        stacked_bars(
            "Delay reasons",
            ["SH01", "BJ01", "GZ01"],
            [("finance_approval", [3, 0, 0]), ("bank", [1, 1, 0]), ("other", [0, 3, 0])],
        )
    )
    assert len(bars(root)) == 4  # GZ01 has no overdue month: no bar, a dash
    widths = [float(rect.get("width", "0")) for rect in bars(root)]
    assert widths[0] == pytest.approx(3 * widths[1])  # SH01: 75% and 25%
    assert widths[0] + widths[1] == pytest.approx(widths[2] + widths[3])  # every bar is 100%
    assert tooltips(root)[0] == "finance_approval · SH01: 3 (75%)"
    assert "—" in texts(root)
    assert {"0%", "50%", "100%"} <= set(texts(root))


@pytest.mark.parametrize("chart", [bar_chart, stacked_bars])
def test_labels_are_escaped(chart: Chart) -> None:
    svg = chart('<b>"R&D"</b>', ["<script>alert(1)</script>"], [("a & b", [1])], unit="<%>")
    root = parse(svg)
    assert "<script" not in svg and "<b>" not in svg
    assert root.findtext(f"{SVG}title") == '<b>"R&D"</b>'
    assert "a & b" in texts(root)
    assert tooltips(root)[0].startswith("a & b · <script>alert(1)</script>: 1<%>")


@pytest.mark.parametrize("chart", [bar_chart, stacked_bars])
@pytest.mark.parametrize(
    ("categories", "series"),
    [([], []), (["SH01"], []), (["SH01", "BJ01"], [("x", [0, 0])]), ([], [("x", [1])])],
)
def test_no_data_draws_a_placeholder(
    chart: Chart, categories: list[str], series: list[tuple[str, list[float]]]
) -> None:
    root = parse(chart("Nothing yet", categories, series))
    assert bars(root) == []
    assert EMPTY in texts(root)
    assert "暂无数据" in EMPTY and "no data" in EMPTY


@pytest.mark.parametrize("chart", [bar_chart, stacked_bars])
def test_nothing_is_loaded_from_elsewhere(chart: Chart) -> None:
    many = [f"BR{i:02d}" for i in range(50)]
    svg = chart("Fifty branches", many, [("late", [float(i % 7) for i in range(50)])])
    parse(svg)
    assert "<script" not in svg
    assert "style=" not in svg
    assert svg.count("http") == 1 and 'xmlns="http://www.w3.org/2000/svg"' in svg


def test_negative_values_hang_below_the_zero_line() -> None:
    root = parse(bar_chart("Growth", ["Aug", "Sep"], [("growth", [-50, 120])], unit="%"))
    down, up = bars(root)
    assert float(down.get("y", "0")) + float(down.get("height", "0")) > float(up.get("y", "0"))
    assert float(down.get("y", "0")) == pytest.approx(
        float(up.get("y", "0")) + float(up.get("height", "0"))
    )
