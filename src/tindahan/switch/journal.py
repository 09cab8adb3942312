"""The switch's own database: one SQLite file, so a restarted switch keeps what it knows.

The clearing house (``switch.clearing``) stands for another institution: its state is not
Tindahan's and never in Tindahan's database. Everything it would need after a restart is
written here, in the same step as it changes in memory (under the house's lock), and read
back when it starts:

* ``decided`` — each transaction it took (UETR, references, amount, rail, status, reason,
  the parties), so a UETR sent again is still a duplicate (``AM05``) and a pacs.028 about
  it is still answered, and a PESONet transaction waiting for its cut-off (``settle_at_ns``)
  still settles then;
* ``answers`` — the pacs.002/pacs.004 not yet collected, with when each is due (wall clock:
  a monotonic clock does not survive a restart);
* ``movements`` and ``notifications`` — Tindahan's settlement account (every booked
  movement, for the camt.053 statements) and the camt.054s not yet collected;
* ``resolutions`` — Tindahan's answers to recalls (pacs.004, camt.029);
* ``inbound_waiting`` — the counterparty banks' PESONet transfers to Tindahan wallets
  waiting for their cut-off (the pacs.008 and when it is delivered), gone once Tindahan
  answered it. (Added to version 1 files as they open: a table more, nothing changed.)

Decided: the standard library's ``sqlite3``, not SQLAlchemy — the switch is a small separate
program with five append-mostly tables, and keeping it apart from Tindahan's store keeps the
seam honest (it shares no code with what it stands opposite). WAL mode and ``synchronous =
NORMAL``: a crash loses at most the last moments, never corrupts the file. A migration is
the schema's ``CREATE TABLE IF NOT EXISTS`` and ``user_version``: a file of another version
is refused rather than guessed at.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tindahan.rails import Party

#: The default file, relative to where the switch runs (``./var/`` like the demo's data).
DEFAULT_PATH = Path("var") / "switch.sqlite3"
VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS decided (
    uetr TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    end_to_end_id TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    rail TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    debtor TEXT,
    creditor TEXT,
    settle_at_ns INTEGER
);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    due_ns INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS movements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reference TEXT NOT NULL,
    uetr TEXT NOT NULL,
    end_to_end_id TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    credit INTEGER NOT NULL,
    at_ns INTEGER NOT NULL,
    debtor TEXT,
    creditor TEXT
);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS resolutions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS inbound_waiting (
    uetr TEXT PRIMARY KEY,
    due_ns INTEGER NOT NULL,
    payment TEXT NOT NULL,
    data BLOB NOT NULL
);
"""


def party_text(party: Party | None) -> str | None:
    return None if party is None else json.dumps([party.name, party.account])


def party_of(text: str | None) -> Party | None:
    if text is None:
        return None
    name, account = json.loads(text)
    return Party(name, account)


@dataclass(frozen=True)
class Saved:
    """Everything the file holds, as rows, for the house to rebuild itself from."""

    decided: list[dict[str, Any]]
    answers: list[tuple[int, int, bytes]]  # (id, due wall ns, message)
    movements: list[dict[str, Any]]
    notifications: list[tuple[int, bytes]]
    resolutions: list[bytes]
    inbound_waiting: list[tuple[int, str, bytes]]  # (due wall ns, the payment as JSON, pacs.008)


class Journal:
    """The open file; every method commits before it returns (callers hold the lock)."""

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(str(path), check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA busy_timeout = 5000")
        found = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if found not in (0, VERSION):
            self.conn.close()
            raise ValueError(f"{path} is a switch database of version {found}, not {VERSION}")
        self.conn.executescript(SCHEMA)
        self.conn.execute(f"PRAGMA user_version = {VERSION}")

    def close(self) -> None:
        self.conn.close()

    def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        with self.conn:
            cursor = self.conn.execute(sql, params)
        return int(cursor.lastrowid or 0)

    # --- what changes ----------------------------------------------------------------------
    def decided(self, row: dict[str, Any]) -> None:
        self._write(
            "INSERT INTO decided (uetr, message_id, end_to_end_id, amount_minor, currency, rail,"
            " status, reason, debtor, creditor, settle_at_ns)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row["uetr"],
                row["message_id"],
                row["end_to_end_id"],
                row["amount_minor"],
                row["currency"],
                row["rail"],
                row["status"],
                row["reason"],
                party_text(row["debtor"]),
                party_text(row["creditor"]),
                row["settle_at_ns"],
            ),
        )

    def settled(self, uetr: str) -> None:
        self._write("UPDATE decided SET settle_at_ns = NULL WHERE uetr = ?", (uetr,))

    def answer(self, due_ns: int, data: bytes) -> int:
        return self._write("INSERT INTO answers (due_ns, data) VALUES (?, ?)", (due_ns, data))

    def collected(self, ids: list[int]) -> None:
        with self.conn:
            self.conn.executemany("DELETE FROM answers WHERE id = ?", [(i,) for i in ids])

    def movement(self, row: dict[str, Any], notification: bytes) -> int:
        """A booked movement and its camt.054, together; returns the notification's id."""
        with self.conn:
            self.conn.execute(
                "INSERT INTO movements (reference, uetr, end_to_end_id, amount_minor, currency,"
                " credit, at_ns, debtor, creditor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row["reference"],
                    row["uetr"],
                    row["end_to_end_id"],
                    row["amount_minor"],
                    row["currency"],
                    int(row["credit"]),
                    row["at_ns"],
                    party_text(row["debtor"]),
                    party_text(row["creditor"]),
                ),
            )
            cursor = self.conn.execute(
                "INSERT INTO notifications (data) VALUES (?)", (notification,)
            )
        return int(cursor.lastrowid or 0)

    def notified(self, ids: list[int]) -> None:
        with self.conn:
            self.conn.executemany("DELETE FROM notifications WHERE id = ?", [(i,) for i in ids])

    def resolution(self, data: bytes) -> None:
        self._write("INSERT INTO resolutions (data) VALUES (?)", (data,))

    def inbound_held(self, uetr: str, due_ns: int, payment: str, data: bytes) -> None:
        self._write(
            "INSERT INTO inbound_waiting (uetr, due_ns, payment, data) VALUES (?, ?, ?, ?)",
            (uetr, due_ns, payment, data),
        )

    def inbound_delivered(self, uetr: str) -> None:
        self._write("DELETE FROM inbound_waiting WHERE uetr = ?", (uetr,))

    # --- reading it all back ---------------------------------------------------------------
    def load(self) -> Saved:
        self.conn.row_factory = sqlite3.Row
        try:
            decided = [
                {
                    **dict(row),
                    "debtor": party_of(row["debtor"]),
                    "creditor": party_of(row["creditor"]),
                }
                for row in self.conn.execute("SELECT * FROM decided ORDER BY rowid")
            ]
            movements = [
                {
                    **dict(row),
                    "credit": bool(row["credit"]),
                    "debtor": party_of(row["debtor"]),
                    "creditor": party_of(row["creditor"]),
                }
                for row in self.conn.execute(
                    "SELECT reference, uetr, end_to_end_id, amount_minor, currency, credit, at_ns,"
                    " debtor, creditor FROM movements ORDER BY id"
                )
            ]
            answers = [
                (row["id"], row["due_ns"], bytes(row["data"]))
                for row in self.conn.execute("SELECT * FROM answers ORDER BY id")
            ]
            notifications = [
                (row["id"], bytes(row["data"]))
                for row in self.conn.execute("SELECT * FROM notifications ORDER BY id")
            ]
            resolutions = [
                bytes(row["data"])
                for row in self.conn.execute("SELECT data FROM resolutions ORDER BY id")
            ]
            inbound_waiting = [
                (row["due_ns"], row["payment"], bytes(row["data"]))
                for row in self.conn.execute("SELECT * FROM inbound_waiting ORDER BY due_ns")
            ]
        finally:
            self.conn.row_factory = None
        return Saved(decided, answers, movements, notifications, resolutions, inbound_waiting)
