"""A CSV of movements, read whole and checked before any rule sees it.

The columns (``tindahan risk evaluate --events``): ``id, occurred_at, kind, sender,
receiver, amount_minor, currency``, by name in the header, in any order; other columns (a
label, a note) are ignored. ``occurred_at`` is ISO 8601; a time without an offset is taken
as UTC. ``kind`` is one of ``p2p merchant cash_in cash_out bank_in bank_out`` (and
``refund``, a merchant paying a buyer back, which the refund-spike rule counts).
``amount_minor`` is a positive whole number of minor units. Ids are unique. Two columns
are optional: ``device`` and ``ip``, where the movement was asked from (empty: unknown),
for the velocity rules per device and per IP; give them already hashed (or pseudonymous)
— the rules only compare them.

The rows are evaluated in time order (ties keep the file's order), since windows look back
in time. Any bad row refuses the whole file with its line and field: nothing is evaluated
from a file that is partly wrong.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tindahan import limits
from tindahan.money import MoneyError, currency
from tindahan.risk.errors import RiskInputError
from tindahan.risk.movement import Kind, Movement

COLUMNS = ("id", "occurred_at", "kind", "sender", "receiver", "amount_minor", "currency")
#: Optional: where each movement was asked from (the velocity rules per device and per IP).
ORIGIN_COLUMNS = ("device", "ip")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
KINDS = {k.value: k for k in Kind}


def load(path: Path) -> list[Movement]:
    """Every movement of the file, in time order, or a ``RiskInputError``."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RiskInputError(f"cannot read {path}: {exc.strerror}") from None
    if size > limits.RISK_MAX_EVENTS_CSV_BYTES:
        raise RiskInputError(f"{path}: larger than {limits.RISK_MAX_EVENTS_CSV_BYTES} bytes")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return read(handle, path.name)
    except UnicodeDecodeError as exc:
        raise RiskInputError(f"{path.name}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise RiskInputError(f"cannot read {path}: {exc.strerror}") from None


def read(lines: Iterable[str], name: str) -> list[Movement]:
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise RiskInputError(f"{name}: empty file (a header with {', '.join(COLUMNS)})") from None
    except csv.Error as exc:
        raise RiskInputError(f"{name} line 1: {exc}") from None
    where = {column.strip(): i for i, column in enumerate(header)}
    missing = [c for c in COLUMNS if c not in where]
    if missing:
        raise RiskInputError(
            f"{name} line 1: missing column {missing[0]!r} (needs {', '.join(COLUMNS)})"
        )
    index = tuple(where[c] for c in COLUMNS)
    extra = tuple(where[c] for c in ORIGIN_COLUMNS if c in where)
    named = tuple(c for c in ORIGIN_COLUMNS if c in where)
    width = max(index + extra) + 1
    seen: set[str] = set()
    movements: list[Movement] = []
    try:
        for row in reader:
            if not row:
                continue
            line = f"{name} line {reader.line_num}"
            if len(row) < width:
                raise RiskInputError(f"{line}: {len(row)} fields, the header has {len(header)}")
            m = _movement([row[i] for i in index], line)
            if named:
                m = _origins(m, named, [row[i].strip() for i in extra], line)
            if m.id in seen:
                raise RiskInputError(f"{line}: id: {m.id!r} appears twice")
            seen.add(m.id)
            movements.append(m)
    except csv.Error as exc:
        raise RiskInputError(f"{name} line {reader.line_num}: {exc}") from None
    movements.sort(key=_time)
    return movements


def _time(m: Movement) -> int:
    return m.at


def _movement(fields: list[str], line: str) -> Movement:
    ident, occurred, kind_text, sender, receiver, amount_text, code = (f.strip() for f in fields)
    for field, value in (("id", ident), ("sender", sender), ("receiver", receiver)):
        if not value:
            raise RiskInputError(f"{line}: {field}: empty")
        if len(value) > limits.RISK_MAX_REF_LENGTH:
            raise RiskInputError(f"{line}: {field}: longer than {limits.RISK_MAX_REF_LENGTH}")
    kind = KINDS.get(kind_text)
    if kind is None:
        raise RiskInputError(f"{line}: kind: {kind_text!r} is not one of {', '.join(KINDS)}")
    return Movement(
        ident,
        _at(occurred, line),
        kind,
        sender,
        receiver,
        _amount(amount_text, line),
        _currency(code, line),
    )


def _origins(m: Movement, named: tuple[str, ...], values: list[str], line: str) -> Movement:
    found = dict(zip(named, values, strict=True))
    for field, value in found.items():
        if len(value) > limits.RISK_MAX_REF_LENGTH:
            raise RiskInputError(f"{line}: {field}: longer than {limits.RISK_MAX_REF_LENGTH}")
    return replace(m, device=found.get("device", ""), ip=found.get("ip", ""))


def _at(text: str, line: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RiskInputError(f"{line}: occurred_at: {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // SECOND


def _amount(text: str, line: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise RiskInputError(f"{line}: amount_minor: {text!r} is not a whole number of minor units")
    amount = int(text)
    if amount <= 0:
        raise RiskInputError(f"{line}: amount_minor: must be positive, not {text!r}")
    if amount > limits.MAX_AMOUNT_MINOR:
        raise RiskInputError(f"{line}: amount_minor: {text!r} is too large")
    return amount


_CURRENCIES: dict[str, str] = {}


def _currency(code: str, line: str) -> str:
    known = _CURRENCIES.get(code)
    if known is not None:
        return known
    try:
        known = currency(code).code
    except MoneyError:
        raise RiskInputError(f"{line}: currency: {code!r} is not an ISO 4217 currency") from None
    _CURRENCIES[code] = known
    return known
