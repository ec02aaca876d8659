"""The geometry of the results' charts, drawn as SVG by the templates (no script, no CDN):
the funnel's bars, arrivals and opens over time, the platform and vendor bars and the open
rate of each run. Coordinates are in each chart's own units (its ``viewBox``); the SVG
scales to the width of its card. Times stay datetimes: the templates show them in the
reader's time zone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise

from campaigns.results import Point, RunResult, Split, Step

WIDTH = 640.0  # every chart's viewBox width


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (1 for 0)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return float(next(step * power for step in (1, 2, 5, 10) if value <= step * power))


# -- horizontal bars (funnel, splits) --------------------------------------------------------


@dataclass(frozen=True)
class BarRow:
    label: str | Promise
    y: float  # the top of the row: its label sits here, its bar below
    width: float  # of the bar
    inner: float  # of the darker bar inside it (opened of arrived), 0 for none
    count: int
    rate: float | None

    @property
    def text_y(self) -> float:
        return self.y + 14

    @property
    def bar_y(self) -> float:
        return self.y + 20


@dataclass(frozen=True)
class BarChart:
    rows: list[BarRow]
    height: float
    width: float = WIDTH
    bar_height: float = 14.0
    label_gap: float = 20.0  # from a row's top to its bar's top


ROW_HEIGHT = 44.0


def funnel_chart(steps: Sequence[Step]) -> BarChart:
    """One bar per step, the longest (the targets, or what was accepted) the full width."""
    largest = max((step.count for step in steps), default=0)
    rows = [
        BarRow(step.label, n * ROW_HEIGHT, _length(step.count, largest), 0.0, step.count,
               step.of_previous)
        for n, step in enumerate(steps)
    ]  # fmt: skip
    return BarChart(rows, height=len(rows) * ROW_HEIGHT)


def split_chart(rows: Sequence[Split]) -> BarChart:
    """A bar per platform or vendor: what arrived, with what was opened inside it."""
    largest = max((max(row.arrived, row.sent) for row in rows), default=0)
    bars = [
        BarRow(
            row.label,
            n * ROW_HEIGHT,
            _length(row.arrived, largest),
            _length(row.opened, largest),
            row.arrived,
            row.open_rate,
        )
        for n, row in enumerate(rows)
    ]
    return BarChart(bars, height=len(bars) * ROW_HEIGHT)


def _length(count: int, largest: int) -> float:
    if not largest or not count:
        return 0.0
    return max(WIDTH * count / largest, 2.0)  # a sliver stays visible


# -- over time -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    at: float  # x or y
    value: float | datetime
    anchor: str = "middle"  # of its label: the first and last keep inside the chart


@dataclass(frozen=True)
class LineChart:
    arrived: str  # polyline points "x,y x,y …"
    opened: str
    dots: list[tuple[str, str, str]]  # x, y of arrived, y of opened (the table has the numbers)
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    width: float = WIDTH
    height: float = 240.0
    left: float = 64.0
    right: float = 16.0
    top: float = 12.0
    bottom: float = 28.0

    @property
    def plot_bottom(self) -> float:
        return self.height - self.bottom

    @property
    def plot_right(self) -> float:
        return self.width - self.right


def line_chart(points: Sequence[Point], x_ticks: int = 4) -> LineChart | None:
    """Arrivals and opens against time; None before there are two moments to join."""
    if len(points) < 2:
        return None
    frame = LineChart("", "", [], [], [])
    start, end = points[0].at, points[-1].at
    span = max((end - start).total_seconds(), 1.0)
    top = nice_ceiling(max(point.arrived for point in points))
    plot_width = frame.plot_right - frame.left
    plot_height = frame.plot_bottom - frame.top

    def x(moment: datetime) -> float:
        return round(frame.left + plot_width * (moment - start).total_seconds() / span, 1)

    def y(value: float) -> float:
        return round(frame.plot_bottom - plot_height * value / top, 1)

    dots = [(f"{x(p.at)}", f"{y(p.arrived)}", f"{y(p.opened)}") for p in points]
    ticks = [start + (end - start) * n / (x_ticks - 1) for n in range(x_ticks)]
    return LineChart(
        arrived=" ".join(f"{dx},{ay}" for dx, ay, _ in dots),
        opened=" ".join(f"{dx},{oy}" for dx, _, oy in dots),
        dots=dots,
        x_ticks=[
            Tick(x(moment), moment, "start" if n == 0 else "end" if n == x_ticks - 1 else "middle")
            for n, moment in enumerate(ticks)
        ],
        y_ticks=[Tick(y(top * n / 2), top * n / 2) for n in range(3)],
    )


# -- runs compared ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    height: float
    result: RunResult
    labelled: bool  # its date is written under it (every few columns)


@dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    column_width: float
    y_ticks: list[Tick]
    width: float = WIDTH
    height: float = 200.0
    left: float = 48.0
    top: float = 12.0
    bottom: float = 28.0

    @property
    def plot_bottom(self) -> float:
        return self.height - self.bottom


def open_rate_chart(results: Sequence[RunResult], labels: int = 6) -> ColumnChart | None:
    """The open rate of each run, oldest on the left; None for fewer than two runs with
    results."""
    measured = [each for each in results if each.open_rate is not None]
    if len(measured) < 2:
        return None
    measured.sort(key=lambda each: (each.run.due_at, each.run.pk))
    frame = ColumnChart([], 0.0, [])
    top = nice_ceiling(max(each.open_rate or 0.0 for each in measured) * 100) / 100
    plot_height = frame.plot_bottom - frame.top
    slot = (frame.width - frame.left) / len(measured)
    every = max(1, math.ceil(len(measured) / labels))
    columns = []
    for n, each in enumerate(measured):
        height = round(plot_height * (each.open_rate or 0.0) / top, 1)
        columns.append(
            Column(
                x=round(frame.left + slot * n + slot * 0.15, 1),
                y=round(frame.plot_bottom - height, 1),
                height=height,
                result=each,
                labelled=n % every == 0,
            )
        )
    return ColumnChart(
        columns,
        column_width=round(slot * 0.7, 1),
        y_ticks=[
            Tick(round(frame.plot_bottom - plot_height * n / 2, 1), top * n / 2) for n in range(3)
        ],
    )
