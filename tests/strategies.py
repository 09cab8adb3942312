"""Hypothesis strategies for random ledger workloads, shared by unit and store tests."""

from __future__ import annotations

from hypothesis import strategies as st

from tindahan.ledger import AccountFlags, NewAccount, NewTransfer, TransferFlags

F = TransferFlags
WALLET = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
ACCOUNTS = [
    NewAccount("bank", "PHP", 500),
    NewAccount("w1", "PHP", 100, flags=WALLET),
    NewAccount("w2", "PHP", 100, flags=WALLET),
    NewAccount("w3", "PHP", 100, flags=WALLET),
    NewAccount("loan", "PHP", 400, flags=AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS),
    NewAccount("usd-bank", "USD", 500),
    NewAccount("usd-w", "USD", 100, flags=WALLET),
]
PHP_IDS = ["bank", "w1", "w2", "w3", "loan"]
TRANSFER_IDS = [f"t{i}" for i in range(40)]

amounts = st.one_of(st.integers(1, 5_000), st.sampled_from([None, 0, -1, 2**63 - 1]))


@st.composite
def transfer(draw) -> NewTransfer:
    tid = draw(st.sampled_from(TRANSFER_IDS))
    kind = draw(st.sampled_from(["move", "move", "pending", "post", "void", "balance", "bad"]))
    linked = F.LINKED if draw(st.integers(0, 4)) == 0 else F.NONE
    if kind in ("post", "void"):
        flag = F.POST_PENDING if kind == "post" else F.VOID_PENDING
        return NewTransfer(
            tid,
            pending_id=draw(st.sampled_from(TRANSFER_IDS)),
            amount=draw(st.one_of(st.none(), st.integers(1, 5_000))),
            flags=flag | linked,
        )
    debit = draw(st.sampled_from(PHP_IDS))
    credit = draw(st.sampled_from(PHP_IDS))
    if kind == "bad":
        credit = draw(st.sampled_from(["usd-w", "ghost", debit]))
    flags = linked
    timeout = 0
    if kind == "pending":
        flags |= F.PENDING
        timeout = draw(st.sampled_from([0, 0, 10, 100]))
    if kind == "balance":
        flags |= draw(st.sampled_from([F.BALANCING_DEBIT, F.BALANCING_CREDIT]))
    amount = (
        draw(amounts) if kind != "balance" else draw(st.one_of(st.none(), st.integers(1, 9_000)))
    )
    return NewTransfer(
        tid, debit, credit, amount, "PHP", draw(st.integers(1, 3)), flags, None, timeout
    )


#: A workload: a list of steps, each a batch of transfers or a clock advance (seconds).
steps = st.lists(
    st.one_of(
        st.lists(transfer(), min_size=1, max_size=6),
        st.integers(1, 60),
    ),
    min_size=1,
    max_size=25,
)

FUNDING = [
    NewTransfer("fund-w1", "bank", "w1", 20_000, "PHP", 1),
    NewTransfer("fund-w2", "bank", "w2", 5_000, "PHP", 1),
    NewTransfer("fund-usd", "usd-bank", "usd-w", 5_000, "USD", 1),
    NewTransfer("draw-loan", "loan", "bank", 8_000, "PHP", 1),
]
