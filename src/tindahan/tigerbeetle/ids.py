"""Tindahan's string ids and strings as TigerBeetle's 128-bit numbers, and back (issue 22).

TigerBeetle keeps integers only. An id maps to the first 16 bytes of BLAKE2b over it
(personalised ``tindahan-ids``): deterministic, so a retry after a crash names the same
transfer; 0 and 2**128-1 (reserved by TigerBeetle) are never produced. A string kept outside
TigerBeetle (an account's owner, a transfer's metadata) maps the same way under another
personalisation (``tindahan-data``) into ``user_data_128``.

A hash cannot be read back, so the names go into a table beside the business records
(``store.ledger_names``): ``names_of`` gives the rows to write for the transfers and accounts
about to be created, **before** they are created, so whoever reads the cluster later (another
process, the same one restarted) can show the names. This module needs no client library:
the services compute the rows without it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from tindahan.ledger.model import NewTransfer

_ID_MAX = 2**128 - 1
#: What a number names: an account id, a transfer id, or a string (owner, metadata).
KINDS = ("account", "transfer", "data")


def id128(text: str) -> int:
    """The 128-bit TigerBeetle id of a Tindahan id (deterministic; never 0 nor 2**128-1)."""
    digest = hashlib.blake2b(text.encode(), digest_size=16, person=b"tindahan-ids").digest()
    value = int.from_bytes(digest, "big")
    return value if 0 < value < _ID_MAX else 1


def hash128(value: str) -> int:
    """A 128-bit digest of a string kept outside TigerBeetle (owner, metadata); 0 for ""."""
    if not value:
        return 0
    digest = hashlib.blake2b(value.encode(), digest_size=16, person=b"tindahan-data").digest()
    return int.from_bytes(digest, "big")


def metadata_text(metadata: Mapping[str, str]) -> str:
    """A transfer's metadata as the one string its ``user_data_128`` hashes."""
    if not metadata:
        return ""
    return json.dumps(dict(metadata), sort_keys=True, separators=(",", ":"))


class Name(NamedTuple):
    """One row of the name table: the number, what it names, the Tindahan text."""

    number: int
    kind: str
    text: str


def account_names(ids: Iterable[str]) -> list[Name]:
    return [Name(id128(i), "account", i) for i in ids if i]


def names_of(transfers: Iterable[NewTransfer], owners: Iterable[str] = ()) -> list[Name]:
    """The rows naming ``transfers`` (their ids, pending ids, accounts and metadata) and the
    ``owners`` strings, each number once, in number order (so two writers insert in one
    order and never deadlock)."""
    rows: dict[int, Name] = {}

    def add(kind: str, text: str | None, number: int | None = None) -> None:
        if text:
            n = number if number is not None else id128(text)
            rows.setdefault(n, Name(n, kind, text))

    for t in transfers:
        add("transfer", t.id)
        add("transfer", t.pending_id)
        add("account", t.debit_account_id)
        add("account", t.credit_account_id)
        if t.metadata:
            text = metadata_text(t.metadata)
            add("data", text, hash128(text))
    for owner in owners:
        add("data", owner, hash128(owner) if owner else None)
    return sorted(rows.values())
