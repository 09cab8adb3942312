"""Every router of the pages, in the order they are matched."""

from __future__ import annotations

from tindahan.web import (
    addresses,
    banks,
    buyer,
    console,
    loans,
    merchant,
    payouts,
    pin,
    requests,
    risk,
    selling,
    signin,
    storefront,
)

MODULES = [
    signin,
    merchant,
    payouts,
    banks,
    requests,
    selling,
    loans,
    storefront,
    buyer,
    addresses,
    risk,
    console,
    pin,
]
