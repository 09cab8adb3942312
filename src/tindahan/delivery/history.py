"""Shipment histories: what happened to each parcel between pickup and delivery, and their
CSV form (issue 25, item 5).

The CSV has a header and the columns ``shipment_id, courier, origin_psgc,
destination_psgc, picked_up_at, delivered_at, weight_g`` (any order, more columns
ignored): ISO 8601 times with an offset, PSGC codes as 10-digit strings (a barangay's, or a
city's or municipality's). A bad row is refused with its row number (the header is row 1)
and its field, and nothing of the file is used: an unknown PSGC code, a time without an
offset, a delivery before its pickup, a weight of zero or over 50 kg, a courier code that
is not one, a repeated shipment id, a missing column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from tindahan import limits
from tindahan.commerce import psgc
from tindahan.commerce.psgc import Codes
from tindahan.delivery.rates import courier_code
from tindahan.kernel.refusals import RefusalError, invalid

COLUMNS = (
    "shipment_id",
    "courier",
    "origin_psgc",
    "destination_psgc",
    "picked_up_at",
    "delivered_at",
    "weight_g",
)
_PSGC = re.compile(r"[0-9]{10}")
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True, slots=True)
class Shipment:
    """One delivered parcel (times aware; ``in_transit_at`` when the history has it)."""

    shipment_id: str
    courier: str
    origin: str  # PSGC code
    destination: str
    picked_up_at: datetime
    delivered_at: datetime
    weight_g: int
    in_transit_at: datetime | None = None

    @property
    def hours(self) -> float:
        return (self.delivered_at - self.picked_up_at).total_seconds() / 3600.0

    def row(self) -> list[str]:
        return [
            self.shipment_id,
            self.courier,
            self.origin,
            self.destination,
            self.picked_up_at.isoformat(),
            self.delivered_at.isoformat(),
            str(self.weight_g),
        ]


def write_csv(shipments: Iterable[Shipment], out: io.TextIOBase | io.StringIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for shipment in shipments:
        writer.writerow(shipment.row())
        count += 1
    return count


def _where(row_no: int, field: str) -> str:
    return f"row {row_no}, {field}"


def _time(value: str, row_no: int, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        message = f"{_where(row_no, field)}: {value!r} is not an ISO 8601 time"
        raise invalid("events_invalid", message, field) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        message = f"{_where(row_no, field)}: {value!r} has no UTC offset (like +08:00)"
        raise invalid("events_invalid", message, field)
    return moment


def _place(value: str, row_no: int, field: str, known: dict[str, Codes]) -> str:
    code = value.strip()
    if code in known:
        return code
    if not _PSGC.fullmatch(code):
        message = f"{_where(row_no, field)}: {value!r} is not a 10-digit PSGC code"
        raise invalid("events_invalid", message, field)
    try:
        known[code] = psgc.codes_of(code)
    except KeyError:
        message = (
            f"{_where(row_no, field)}: {code} is no barangay, city or municipality in "
            f"{psgc.EDITION}"
        )
        raise invalid("psgc_unknown", message, field) from None
    return code


def read_csv(text: Iterable[str], known: dict[str, Codes] | None = None) -> list[Shipment]:
    """The shipments of a CSV (its lines), or a refusal naming the first bad row and field.
    ``known`` collects each place's codes (code → ``Codes``) for the caller."""
    places = {} if known is None else known
    reader: Iterator[list[str]] = csv.reader(text)
    try:
        header = [name.strip().lstrip("\ufeff") for name in next(reader)]
    except StopIteration:
        raise invalid("events_invalid", "the file is empty: no header row", None) from None
    except csv.Error as exc:
        raise invalid("events_invalid", f"row 1: {exc}", None) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        message = f"the header lacks the column(s) {', '.join(missing)}"
        raise invalid("events_invalid", message, missing[0])
    index = {name: header.index(name) for name in COLUMNS}
    seen: set[str] = set()
    found: list[Shipment] = []
    row_no = 1
    try:
        for row in reader:
            row_no += 1
            if not any(cell.strip() for cell in row):
                continue
            if len(found) >= limits.MAX_SHIPMENT_HISTORY_ROWS:
                message = f"at most {limits.MAX_SHIPMENT_HISTORY_ROWS:,} shipments in one file"
                raise invalid("events_invalid", message, None)
            found.append(_row(row, row_no, index, seen, places))
    except csv.Error as exc:
        raise invalid("events_invalid", f"row {row_no}: {exc}", None) from None
    if not found:
        raise invalid("events_invalid", "the file has no shipments", None)
    return found


def _row(
    row: list[str], row_no: int, index: dict[str, int], seen: set[str], places: dict[str, Codes]
) -> Shipment:
    if len(row) < len(index) or len(row) <= max(index.values()):
        message = f"row {row_no}: {len(row)} fields, fewer than the header's"
        raise invalid("events_invalid", message, None)
    cell = {name: row[i].strip() for name, i in index.items()}
    shipment_id = cell["shipment_id"]
    if not _ID.fullmatch(shipment_id):
        message = (
            f"{_where(row_no, 'shipment_id')}: 1 to 64 letters, digits or ._:- (not "
            f"{shipment_id!r})"
        )
        raise invalid("events_invalid", message, "shipment_id")
    if shipment_id in seen:
        message = f"{_where(row_no, 'shipment_id')}: {shipment_id} appears twice"
        raise invalid("events_invalid", message, "shipment_id")
    seen.add(shipment_id)
    try:
        courier = courier_code(cell["courier"], "courier")
    except RefusalError as exc:
        raise invalid("events_invalid", f"row {row_no}, {exc.message}", "courier") from None
    origin = _place(cell["origin_psgc"], row_no, "origin_psgc", places)
    destination = _place(cell["destination_psgc"], row_no, "destination_psgc", places)
    picked = _time(cell["picked_up_at"], row_no, "picked_up_at")
    delivered = _time(cell["delivered_at"], row_no, "delivered_at")
    if delivered <= picked:
        message = (
            f"{_where(row_no, 'delivered_at')}: {cell['delivered_at']} is not after the "
            f"pickup at {cell['picked_up_at']}"
        )
        raise invalid("events_invalid", message, "delivered_at")
    if (delivered - picked).days > limits.MAX_DELIVERY_DAYS:
        message = (
            f"{_where(row_no, 'delivered_at')}: more than {limits.MAX_DELIVERY_DAYS} days "
            "after the pickup"
        )
        raise invalid("events_invalid", message, "delivered_at")
    weight_text = cell["weight_g"]
    if not re.fullmatch(r"[0-9]{1,9}", weight_text) or not (
        1 <= int(weight_text) <= limits.MAX_PARCEL_WEIGHT_G
    ):
        message = (
            f"{_where(row_no, 'weight_g')}: {weight_text!r} is not a parcel's weight, whole "
            f"grams from 1 to {limits.MAX_PARCEL_WEIGHT_G:,}"
        )
        raise invalid("events_invalid", message, "weight_g")
    return Shipment(shipment_id, courier, origin, destination, picked, delivered, int(weight_text))
