"""Every router of the pages, in the order they are matched."""

from __future__ import annotations

from tindahan.web import signin

MODULES = [signin]
