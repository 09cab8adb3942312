"""Charts as inline SVG, drawn on the server: no charting script for a phone to download.

``bars`` turns labelled values into the geometry of a bar chart (integers only: the values
are centavos or counts, and a bar's height is ``value × height // max``, rounded down, so the
tallest bar is exactly the chart's height). Templates draw it with ``_charts.html``'s
``bar_chart`` macro, which also gives the numbers as a table for screen readers and for
anyone who wants the figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: int
    y: int
    width: int
    height: int
    highlight: bool
    text: str  # the value as shown (money or a count), for the tooltip and the table


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    top: int  # the largest value
    top_text: str
    ticks: tuple[tuple[int, str], ...]  # (x, label) under the bars

    @property
    def empty(self) -> bool:
        return self.top == 0


PLOT_HEIGHT = 120
LABEL_ROOM = 16


def bars(
    points: Sequence[tuple[str, int]],
    *,
    shown: Iterable[str] | None = None,
    highlight: Iterable[str] = (),
    text: object = str,
    width: int = 360,
    tick_every: int = 1,
) -> Chart:
    """``points`` as bars from left to right. ``highlight`` names labels drawn in the
    accent colour (paydays); ``text`` formats a value for people (e.g. ``i18n.money``);
    every ``tick_every``-th label is printed under the axis (``shown`` overrides which)."""
    count = max(len(points), 1)
    step = max(width // count, 2)
    gap = 1 if step < 8 else 2
    top = max((value for _, value in points), default=0)
    marked = set(highlight)
    chosen = set(shown) if shown is not None else None
    made, ticks = [], []
    for index, (label, value) in enumerate(points):
        height = value * PLOT_HEIGHT // top if top > 0 else 0
        x = index * step
        made.append(
            Bar(
                label,
                value,
                x,
                PLOT_HEIGHT - height,
                step - gap,
                height,
                label in marked,
                text(value),  # type: ignore[operator]
            )
        )
        wanted = label in chosen if chosen is not None else index % tick_every == 0
        if wanted:
            ticks.append((x + (step - gap) // 2, label))
    return Chart(
        tuple(made),
        step * count,
        PLOT_HEIGHT + LABEL_ROOM,
        top,
        text(top),  # type: ignore[operator]
        tuple(ticks),
    )


@dataclass(frozen=True)
class Cell:
    label: str  # "Mon 17:00", for the tooltip
    value: int
    x: int
    y: int
    width: int
    height: int
    level: int  # 0 (the least) to LEVELS - 1 (the most): the shade it is drawn in
    text: str


@dataclass(frozen=True)
class Grid:
    """A heat map: rows of cells (a week by hour), shaded by value, with the same figures
    as a table (``_charts.html``'s ``heat_chart``)."""

    rows: tuple[tuple[str, tuple[Cell, ...]], ...]  # (row label, its cells)
    columns: tuple[str, ...]
    width: int
    height: int
    top: int
    top_text: str
    ticks: tuple[tuple[int, str], ...]  # (x, label) under the cells
    row_ticks: tuple[tuple[int, str], ...]  # (y, label) left of the rows

    @property
    def empty(self) -> bool:
        return not self.rows


LEVELS = 5
ROW_LABEL_ROOM = 30
ROW_HEIGHT = 14


def grid(
    rows: Sequence[tuple[str, Sequence[int]]],
    columns: Sequence[str],
    *,
    text: object = str,
    width: int = 360,
    tick_every: int = 1,
) -> Grid:
    """``rows`` of values (non-negative integers, one per column) as a heat map: a cell's
    shade is ``value × (LEVELS - 1) // top``, rounded down, so only the largest values get
    the darkest shade and zero the lightest."""
    count = max(len(columns), 1)
    step = max((width - ROW_LABEL_ROOM) // count, 2)
    top = max((v for _, values in rows for v in values), default=0)
    made: list[tuple[str, tuple[Cell, ...]]] = []
    row_ticks: list[tuple[int, str]] = []
    for r, (name, values) in enumerate(rows):
        if len(values) != len(columns):
            raise ValueError(f"row {name} has {len(values)} values for {len(columns)} columns")
        y = r * ROW_HEIGHT
        cells = tuple(
            Cell(
                f"{name} {columns[c]}",
                v,
                ROW_LABEL_ROOM + c * step,
                y,
                step - 1,
                ROW_HEIGHT - 1,
                v * (LEVELS - 1) // top if top > 0 else 0,
                text(v),  # type: ignore[operator]
            )
            for c, v in enumerate(values)
        )
        made.append((name, cells))
        row_ticks.append((y + ROW_HEIGHT - 4, name))
    ticks = tuple(
        (ROW_LABEL_ROOM + c * step + (step - 1) // 2, label)
        for c, label in enumerate(columns)
        if c % tick_every == 0
    )
    return Grid(
        tuple(made),
        tuple(columns),
        ROW_LABEL_ROOM + step * count,
        len(rows) * ROW_HEIGHT + LABEL_ROOM,
        top,
        text(top),  # type: ignore[operator]
        ticks,
        tuple(row_ticks),
    )
