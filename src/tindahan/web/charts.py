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
