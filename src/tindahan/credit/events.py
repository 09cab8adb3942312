"""The history a credit decision may read, as data frames: the contract between sources
(the database loader in ``services.credit.assessments``, the simulator's memory) and ``features``.

Every time is ``at_ns``: integer nanoseconds since the epoch, UTC, like the ledger's.
Every amount is integer minor units of PHP (merchant wallets are peso wallets). Each frame
may hold rows from after the as-of date: ``features`` filters by time itself, so a source
that forgets to cut is still not a leak.

Frames and columns (dtypes are what ``empty`` builds; sources must match them):

* ``merchants``: ``merchant_id`` (str), ``opened_at_ns`` (int64, when the party was created),
  ``province`` (str), ``mcc`` (str);
* ``sales``: ``merchant_id``, ``buyer_id`` (str, "" when unknown), ``at_ns``,
  ``amount_minor`` (int64 > 0), ``channel`` ("qr" for a payment, "order" for an online
  order paid into escrow);
* ``refunds``: ``merchant_id``, ``at_ns``, ``amount_minor`` (money given back to buyers);
* ``disputes``: ``merchant_id``, ``at_ns`` (a buyer opened a dispute on an order);
* ``cash_outs``: ``merchant_id``, ``at_ns``, ``amount_minor`` (cash taken out at an agent);
* ``postings``: ``merchant_id``, ``at_ns``, ``delta_minor`` (int64, signed: every posted
  change to the merchant's PHP wallets, so that the running sum is the balance);
* ``installments``: ``merchant_id``, ``due_at_ns``, ``paid_at_ns`` (int64, -1 while
  unpaid), ``amount_minor`` (on-platform loans; empty until loans exist).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SCHEMA: dict[str, dict[str, str]] = {
    "merchants": {
        "merchant_id": "object",
        "opened_at_ns": "int64",
        "province": "object",
        "mcc": "object",
    },
    "sales": {
        "merchant_id": "object",
        "buyer_id": "object",
        "at_ns": "int64",
        "amount_minor": "int64",
        "channel": "object",
    },
    "refunds": {"merchant_id": "object", "at_ns": "int64", "amount_minor": "int64"},
    "disputes": {"merchant_id": "object", "at_ns": "int64"},
    "cash_outs": {"merchant_id": "object", "at_ns": "int64", "amount_minor": "int64"},
    "postings": {"merchant_id": "object", "at_ns": "int64", "delta_minor": "int64"},
    "installments": {
        "merchant_id": "object",
        "due_at_ns": "int64",
        "paid_at_ns": "int64",
        "amount_minor": "int64",
    },
}


@dataclass(frozen=True)
class Events:
    merchants: pd.DataFrame
    sales: pd.DataFrame
    refunds: pd.DataFrame
    disputes: pd.DataFrame
    cash_outs: pd.DataFrame
    postings: pd.DataFrame
    installments: pd.DataFrame


def frame(name: str, rows: list[tuple[object, ...]] | None = None) -> pd.DataFrame:
    """A frame of ``name``'s columns and dtypes from row tuples (in ``SCHEMA`` order).

    Built column by column with numpy (not ``from_records`` then ``astype``): scoring one
    merchant reads seven of these, and the generic path cost more than the features."""
    columns = SCHEMA[name]
    if not rows and name in _EMPTY:
        return _EMPTY[name]  # shared: event frames are never changed in place
    data = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    arrays = {
        column: pd.Series(np.array(values, dtype=dtype), dtype=dtype, copy=False)
        for (column, dtype), values in zip(columns.items(), data, strict=True)
    }
    return pd.DataFrame(arrays, copy=False)


_EMPTY: dict[str, pd.DataFrame] = {}
_EMPTY.update({name: frame(name) for name in SCHEMA})


def empty() -> Events:
    """No history at all. The frames are shared: event frames are never changed in place."""
    return Events(**_EMPTY)


def build(**frames: pd.DataFrame) -> Events:
    """Events from the frames given, the others empty; checks that columns match."""
    unknown = set(frames) - set(SCHEMA)
    if unknown:
        raise ValueError(f"unknown event frames: {sorted(unknown)}")
    parts = {}
    for name, columns in SCHEMA.items():
        given = frames.get(name)
        if given is None:
            parts[name] = _EMPTY[name]
            continue
        missing = [c for c in columns if c not in given.columns]
        if missing:
            raise ValueError(f"frame {name} lacks columns {missing}")
        if list(given.columns) == list(columns) and all(
            str(given[c].dtype) == dtype for c, dtype in columns.items()
        ):
            parts[name] = given  # already in shape: the common case, and the fast one
            continue
        parts[name] = given[list(columns)].reset_index(drop=True).astype(columns)
    return Events(**parts)
