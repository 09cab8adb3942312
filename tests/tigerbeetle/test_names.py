"""The name table behind a TigerBeetle ledger's 128-bit numbers (issue 22), without a
cluster: the rows the services write, written once, read back on SQLite and PostgreSQL."""

from __future__ import annotations

from tindahan.ledger.model import NewTransfer, TransferFlags
from tindahan.store import ledger_names
from tindahan.store.ledger_names import StoredNames
from tindahan.tigerbeetle.ids import account_names, hash128, id128, metadata_text, names_of

LEG = NewTransfer(
    "pay.abc", "w.buyer", "w.merchant", 100, "PHP", 1, metadata={"payment": "pay_abc"}
)
POST = NewTransfer("pay.abc.post", flags=TransferFlags.POST_PENDING, pending_id="pay.abc")


def test_the_rows_name_ids_accounts_and_metadata_each_once_in_number_order():
    rows = names_of([LEG, POST, LEG], owners=["party_1"])
    by_text = {r.text: (r.number, r.kind) for r in rows}
    assert by_text == {
        "pay.abc": (id128("pay.abc"), "transfer"),
        "pay.abc.post": (id128("pay.abc.post"), "transfer"),
        "w.buyer": (id128("w.buyer"), "account"),
        "w.merchant": (id128("w.merchant"), "account"),
        '{"payment":"pay_abc"}': (hash128(metadata_text(LEG.metadata)), "data"),
        "party_1": (hash128("party_1"), "data"),
    }
    assert [r.number for r in rows] == sorted(r.number for r in rows)


def test_names_are_written_once_and_read_by_number(db):
    rows = names_of([LEG, POST]) + account_names(["w.other"])
    db.transact(lambda conn: ledger_names.record(conn, rows))
    # a retry, and a second writer naming an overlapping set, write nothing twice
    db.transact(lambda conn: ledger_names.record(conn, rows))
    StoredNames(db).record(names_of([LEG]))
    book = StoredNames(db)
    wanted = [id128("pay.abc.post"), id128("w.other"), id128("never.named")]
    assert book.names(wanted) == {
        id128("pay.abc.post"): "pay.abc.post",
        id128("w.other"): "w.other",
    }
    assert book.names([]) == {}
    many = account_names(f"w.{i}" for i in range(1_200))  # more than one chunk
    book.record(many)
    assert len(book.names([r.number for r in many])) == 1_200
