"""Every router of the pages, in the order they are matched."""

from __future__ import annotations

from tindahan.web import (
    addresses,
    banks,
    buyer,
    categories,
    console,
    find,
    insights,
    loans,
    merchant,
    onboarding,
    payouts,
    photos,
    pin,
    requests,
    risk,
    scan,
    selling,
    sendmoney,
    signin,
    storefront,
)

MODULES = [
    signin,
    merchant,
    insights,
    payouts,
    banks,
    requests,
    selling,
    categories,
    photos,
    loans,
    storefront,
    scan,
    sendmoney,
    buyer,
    addresses,
    risk,
    onboarding,
    console,
    find,
    pin,
]
