"""Every router of the pages, in the order they are matched."""

from __future__ import annotations

from tindahan.web import (
    buyer,
    console,
    loans,
    merchant,
    requests,
    selling,
    signin,
    storefront,
)

MODULES = [signin, merchant, requests, selling, loans, storefront, buyer, console]
