"""Tamper evidence outside the database (issue 17): the attacks a database superuser can make
on the chain, each caught by verify against the signed anchor, and attacks on the anchor
file itself. Each attack first passes the database-only checks, to show the anchor is what
catches it."""

from __future__ import annotations

import json
import shlex
import sys

import pytest
from sqlalchemy import text

from tindahan.anchor.config import Anchor
from tindahan.anchor.keys import AnchorKey
from tindahan.anchor.sinks import AnchorError, CommandAnchor, FileAnchor, run_blocking
from tindahan.ledger import AccountFlags, NewAccount, NewTransfer
from tindahan.services.ledger import transfers as service
from tindahan.services.ledger.anchoring import AnchorMismatchError, anchor_sealed
from tindahan.services.ledger.seal import seal
from tindahan.services.ledger.verify import verify

WALLET = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
#: Attacks on the anchor file, not the database: the embedded store is enough.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def anchor(tmp_path) -> Anchor:
    key = AnchorKey.generate()
    return Anchor(key.verifier, FileAnchor(tmp_path / "anchor.jsonl"), key)


@pytest.fixture
def sealed(db, clock, anchor):
    """Three blocks, each anchored as it was sealed: fund, then two payments."""
    service.create_accounts(
        db,
        [
            NewAccount("bank", "PHP", 500),
            NewAccount("juan", "PHP", 100, "c-juan", WALLET),
            NewAccount("nena", "PHP", 110, "m-nena", WALLET),
        ],
    )
    for number, (debit, credit, amount) in enumerate(
        [("bank", "juan", 10_000), ("juan", "nena", 2_500), ("juan", "nena", 400)]
    ):
        assert service.create_transfers(
            db, [NewTransfer(f"t{number}", debit, credit, amount, "PHP", 1)]
        )[0].ok
        clock.advance(1)
        assert seal(db, anchor=anchor).anchored == 1
    return db


def _superuser(conn) -> None:
    """What a database superuser does first: switch the guards off. PostgreSQL: run as a
    replica, which fires no ordinary trigger; SQLite: drop the triggers."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET session_replication_role = replica"))
        return
    names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    for (name,) in list(names):
        conn.execute(text(f'DROP TRIGGER "{name}"'))


def _unbook(conn, block_no: int | None = None, transfer_id: str | None = None) -> None:
    """Take transfers' amounts back out of their accounts' posted balances."""
    where = (
        "id = :t"
        if transfer_id
        else ("timestamp IN (SELECT transfer_timestamp FROM ledger_seals WHERE block_no = :b)")
    )
    rows = conn.execute(
        text(
            f"SELECT debit_account_id, credit_account_id, amount FROM ledger_transfers "
            f"WHERE {where}"
        ),
        {"t": transfer_id, "b": block_no},
    ).all()
    for debit, credit, amount in rows:
        conn.execute(
            text("UPDATE ledger_accounts SET debits_posted = debits_posted - :a WHERE id = :i"),
            {"a": amount, "i": debit},
        )
        conn.execute(
            text("UPDATE ledger_accounts SET credits_posted = credits_posted - :a WHERE id = :i"),
            {"a": amount, "i": credit},
        )


def test_a_clean_chain_verifies_against_its_anchor(sealed, anchor):
    report = verify(sealed, anchor)
    assert report.ok, report.violations
    assert "signs the chain up to block 3" in report.summary()
    lines = anchor.file.lines()
    assert [json.loads(line)["block_no"] for line in lines] == [1, 2, 3]
    assert anchor_sealed(sealed, anchor).anchored == 0  # nothing new: nothing appended


def test_deleting_the_newest_block_is_caught(sealed, anchor):
    with sealed.begin() as conn:  # (a) as superuser: the newest block, its transfers, balances
        _superuser(conn)
        _unbook(conn, block_no=3)
        stamps = list(
            conn.execute(
                text("SELECT transfer_timestamp FROM ledger_seals WHERE block_no = 3")
            ).scalars()
        )
        conn.execute(text("DELETE FROM ledger_seals WHERE block_no = 3"))
        for stamp in stamps:
            conn.execute(text("DELETE FROM ledger_transfers WHERE timestamp = :s"), {"s": stamp})
        conn.execute(text("DELETE FROM ledger_blocks WHERE block_no = 3"))
    assert verify(sealed).ok  # the database alone cannot tell
    report = verify(sealed, anchor)
    assert not report.ok
    joined = "\n".join(report.violations)
    assert "the chain ends at block 2 but the anchor" in joined
    assert "holds block 3" in joined and "sealed blocks were removed" in joined
    with pytest.raises(AnchorMismatchError, match="removed"):
        anchor_sealed(sealed, anchor)  # and the sealer will not sign what follows


def test_rewriting_a_transfer_and_resealing_is_caught(sealed, anchor):
    with sealed.begin() as conn:  # (b) rewrite t1, fix the balances, unseal, re-seal
        _superuser(conn)
        _unbook(conn, transfer_id="t1")
        conn.execute(text("UPDATE ledger_transfers SET amount = 25 WHERE id = 't1'"))
        conn.execute(
            text("UPDATE ledger_accounts SET debits_posted = debits_posted + 25 WHERE id = 'juan'")
        )
        conn.execute(
            text(
                "UPDATE ledger_accounts SET credits_posted = credits_posted + 25 WHERE id = 'nena'"
            )
        )
        conn.execute(text("UPDATE ledger_seals SET block_no = NULL WHERE block_no >= 2"))
        conn.execute(text("DELETE FROM ledger_blocks WHERE block_no >= 2"))
    assert seal(sealed).blocks == 1  # re-sealed without the key
    assert verify(sealed).ok  # the database alone cannot tell
    report = verify(sealed, anchor)
    joined = "\n".join(report.violations)
    assert "block 2: hash" in joined and "the chain was rewritten" in joined
    assert "the chain ends at block 2 but the anchor" in joined
    with pytest.raises(AnchorMismatchError, match="nothing anchored"):
        seal(sealed, anchor=anchor)


@sqlite_only
@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (lambda data: data[: data.rindex(b"\n", 0, -1) + 1], "blocks 3–3 are sealed but not"),
        (lambda data: data[:-40], "line 3: not a JSON object (cut off"),
        (lambda data: b"", "is empty but 3 block(s) are sealed"),
        (lambda data: data[data.index(b"\n") + 1 :], "line 1: starts at block 2"),
    ],
    ids=["last line", "mid-line", "emptied", "first line"],
)
def test_truncating_the_anchor_file_is_caught(sealed, anchor, cut, message):
    path = anchor.file.path
    path.write_bytes(cut(path.read_bytes()))
    report = verify(sealed, anchor)
    assert not report.ok
    assert message in "\n".join(report.violations)
    assert "FAILED" in report.summary()


@sqlite_only
def test_an_edited_removed_or_foreign_line_is_caught(sealed, anchor, tmp_path):
    lines = anchor.file.lines()
    edited = json.loads(lines[1])
    edited["transfer_count"] = 2
    anchor.file.path.write_text("\n".join([lines[0], json.dumps(edited), lines[2]]) + "\n")
    assert "line 2: the signature does not verify" in "\n".join(verify(sealed, anchor).violations)
    anchor.file.path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    assert "line 2: block 3 does not extend" in "\n".join(verify(sealed, anchor).violations)
    other = AnchorKey.generate()  # a line re-signed by someone else's key
    forged = Anchor(other.verifier, FileAnchor(tmp_path / "forged.jsonl"), other)
    anchor_sealed(sealed, forged)
    anchor.file.path.write_text(forged.file.path.read_text())
    assert "signed by key" in "\n".join(verify(sealed, anchor).violations)


@sqlite_only
def test_an_auditor_verifies_with_the_public_key_alone(sealed, anchor):
    auditor = Anchor(anchor.verifier, anchor.file)
    assert verify(sealed, auditor).ok
    with pytest.raises(AnchorError, match="no anchor key"):
        anchor_sealed(sealed, auditor)


@sqlite_only
def test_the_anchor_command_gets_the_same_lines(db, anchor, tmp_path):
    copy = tmp_path / "copy.jsonl"
    script = f"import sys; open({str(copy)!r}, 'a').write(sys.stdin.read())"
    piped = Anchor(
        anchor.verifier,
        anchor.file,
        anchor.key,
        command=CommandAnchor(f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"),
    )
    service.create_accounts(db, [NewAccount("a", "PHP", 1), NewAccount("b", "PHP", 1)])
    service.create_transfers(db, [NewTransfer("x", "a", "b", 5, "PHP", 1)])
    assert seal(db, anchor=piped).anchored == 1
    assert copy.read_text() == anchor.file.path.read_text()
    failing = Anchor(anchor.verifier, anchor.file, anchor.key, command=CommandAnchor("false"))
    service.create_transfers(db, [NewTransfer("y", "a", "b", 5, "PHP", 1)])
    with pytest.raises(AnchorError, match="exited with 1"):
        seal(db, anchor=failing)
    assert len(anchor.file.lines()) == 1  # the file never claims what the command refused
    assert seal(db, anchor=piped).anchored == 1  # the next run catches up
    assert verify(db, anchor).ok


def _nats_or_skip(stream: str):
    from tindahan.anchor.config import nats_anchor

    sink = nats_anchor("nats://127.0.0.1:4222", stream)
    try:
        sink.lines()
    except AnchorError as exc:
        pytest.skip(f"no NATS JetStream at 127.0.0.1:4222: {exc}")
    return sink


async def _drop_stream(url: str, stream: str, delete_first: bool) -> str:
    import nats

    client = await nats.connect(url)
    try:
        js = client.jetstream()
        refused = ""
        if delete_first:
            try:
                await js.delete_msg(stream, 1)
            except Exception as exc:  # what JetStream answers a client that deletes
                refused = str(exc)
        await js.delete_stream(stream)
        return refused
    finally:
        await client.close()


@sqlite_only
def test_the_jetstream_copy_is_append_only_and_verified(sealed, anchor):
    import secrets

    stream = f"TINDAHAN_TEST_{secrets.token_hex(4).upper()}"
    sink = _nats_or_skip(stream)
    second = FileAnchor(anchor.file.path.with_suffix(".2"))
    streamed = Anchor(anchor.verifier, second, anchor.key, nats=sink)
    try:
        assert anchor_sealed(sealed, streamed).anchored == 3
        assert sink.lines() == anchor.file.lines()  # the same signed heads, in order
        report = verify(sealed, streamed)
        assert report.ok, report.violations
        assert f"nats stream {stream} signs the chain up to block 3" in report.summary()
        streamed.file.path.write_text("")  # the file is lost: the stream still tells
        joined = "\n".join(verify(sealed, streamed).violations)
        assert "is empty but 3 block(s)" in joined and f"nats stream {stream}" not in joined
    finally:
        refused = run_blocking(_drop_stream(sink.url, stream, delete_first=True))
    assert "delete" in refused.lower()  # deny_delete: a client cannot remove a head


@sqlite_only
def test_the_worker_anchors_and_keeps_working_when_the_anchor_refuses(sealed, anchor, caplog):
    from tindahan.services.unit import Platform
    from tindahan.store.vault import Vault
    from tindahan.worker import tick

    platform = Platform(sealed, Vault(b"\0" * 32), anchor)
    service.create_transfers(sealed, [NewTransfer("t9", "juan", "nena", 1, "PHP", 1)])
    assert tick(platform).sealed == 1
    assert json.loads(anchor.file.lines()[-1])["block_no"] == 4
    with sealed.begin() as conn:  # the chain rewritten under the worker
        _superuser(conn)
        conn.execute(text("UPDATE ledger_blocks SET hash = prev_hash WHERE block_no = 4"))
    service.create_transfers(sealed, [NewTransfer("t10", "juan", "nena", 1, "PHP", 1)])
    assert tick(platform).sealed == 1  # sealing and the other jobs go on …
    assert len(anchor.file.lines()) == 4  # … but nothing more is signed
    assert "anchoring refused: block 4 differs from its anchored head" in caplog.text
