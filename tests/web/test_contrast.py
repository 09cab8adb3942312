"""The pages' colours meet WCAG 2.x contrast for normal text (at least 4.5:1), computed from
the custom properties in app.css, so a change of palette cannot quietly make text unreadable
in the sun on a cheap phone screen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tindahan.web import app

CSS = (Path(app.__file__).parent / "static" / "app.css").read_text()


def _full(colour: str) -> str:
    """``#fff`` → ``#ffffff``."""
    return colour if len(colour) == 7 else "#" + "".join(c * 2 for c in colour[1:])


ROOT = {
    name: _full(value)
    for name, value in re.findall(
        r"--([a-z-]+):\s*(#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b)", CSS.split("}")[0]
    )
}
WHITE = "#ffffff"


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


PAIRS = [
    ("ink", "bg"),
    ("ink", "card"),
    ("muted", "bg"),
    ("muted", "card"),
    ("brand", "card"),  # links and outlined buttons
    ("brand-ink", "brand"),  # primary buttons, the header
    ("bad", "bad-soft"),  # errors beside fields
    ("bad", "card"),
    ("warn", "warn-soft"),
]


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_colours_have_enough_contrast(text, background):
    assert contrast(ROOT[text], ROOT[background]) >= 4.5


def test_the_palette_was_read():
    assert {"ink", "bg", "brand", "bad"} <= set(ROOT)
    assert contrast("#000000", WHITE) == pytest.approx(21)
