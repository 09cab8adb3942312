"""The ledger's rules, as a pure function from (batch, what the ledger holds) to a plan.

Every store (the in-memory reference ledger, SQLite, PostgreSQL) runs the same code: it
loads the accounts and transfers a batch touches (locking them where it must), asks
:func:`plan_transfers` what should happen, and writes the plan in one transaction. So the
rules — double entry, no overdraft of a flagged account, two-phase holds, linked chains,
balancing transfers, idempotent ids — are written once and tested without a database.

Semantics follow TigerBeetle's ``create_transfers``: events of a batch apply in order and
each sees the effects of those before it; a chain of ``linked`` events commits whole or not
at all; each event gets its own result code. One deliberate difference: inside a chain,
``exists`` counts as success only if *every* event of the chain exists (an idempotent replay
of a committed chain returns the originals); a chain mixing old and new ids fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tindahan.ledger.model import (
    Account,
    CreateTransferResult,
    NewTransfer,
    Transfer,
    TransferFlags,
    TransferOutcome,
)
from tindahan.ledger.validation import (
    BAL_CREDIT,
    BAL_DEBIT,
    CMNED,
    DMNEC,
    LINKED,
    MAX,
    NS_PER_S,
    PENDING,
    POST,
    RESOLVING,
    check_shape,
    flags_int,
    id_text,
    mismatch_with_pending,
    same_fields,
)

R = CreateTransferResult


@dataclass(slots=True)
class BatchView:
    """What a store loaded for one batch: the accounts it names, the transfers whose ids
    it uses (its own ids and the pending ids it posts or voids), and which of those
    pending transfers were already posted or voided."""

    accounts: Mapping[str, Account] = field(default_factory=dict)
    transfers: Mapping[str, Transfer] = field(default_factory=dict)
    resolved: Mapping[str, TransferFlags] = field(default_factory=dict)


@dataclass(slots=True)
class TransferPlan:
    """What to write: the new transfers in timestamp order, and per account the change of
    its four balances ``(debits_pending, debits_posted, credits_pending, credits_posted)``."""

    outcomes: list[TransferOutcome]
    created: list[Transfer]
    deltas: dict[str, tuple[int, int, int, int]]


def ids_to_load(batch: Sequence[NewTransfer]) -> set[str]:
    """Transfer ids a store must look up before planning: the batch's and its pending ids."""
    wanted: set[str] = set()
    for t in batch:
        if isinstance(t.id, str):
            wanted.add(t.id)
        if isinstance(t.pending_id, str):
            wanted.add(t.pending_id)
    return wanted


def accounts_to_load(batch: Sequence[NewTransfer], found: Mapping[str, Transfer]) -> set[str]:
    """Account ids a store must look up (and lock): those named by the batch and by the
    pending transfers it posts or voids."""
    wanted: set[str] = set()
    for t in batch:
        for account_id in (t.debit_account_id, t.credit_account_id):
            if isinstance(account_id, str):
                wanted.add(account_id)
        pending = found.get(t.pending_id) if isinstance(t.pending_id, str) else None
        if pending is not None:
            wanted.add(pending.debit_account_id)
            wanted.add(pending.credit_account_id)
    return wanted


def plan_transfers(
    batch: Sequence[NewTransfer],
    view: BatchView,
    *,
    now_ns: int,
    first_timestamp: int,
    system: bool = False,
) -> TransferPlan:
    """Decide every event of ``batch`` against ``view``; nothing here touches storage.

    ``system`` is for the ledger's own bookings (the expiry sweep): it allows ``~`` ids and
    voiding a pending transfer whose timeout has passed, which clients may not do.
    """
    return _Planner(view, now_ns, first_timestamp, system).run(batch)


def _chains(batch: Sequence[NewTransfer]) -> list[tuple[int, int, bool]]:
    """Split a batch into (first, last, open) chains; a lone event is a chain of one."""
    chains: list[tuple[int, int, bool]] = []
    start = 0
    for index, t in enumerate(batch):
        if not (flags_int(t.flags) & LINKED):
            chains.append((start, index, False))
            start = index + 1
    if start < len(batch):
        chains.append((start, len(batch) - 1, True))
    return chains


class _Planner:
    def __init__(self, view: BatchView, now_ns: int, first_timestamp: int, system: bool) -> None:
        self.view = view
        self.system = system
        self.now_ns = now_ns
        self.next_timestamp = first_timestamp
        self.balances: dict[str, list[int]] = {}
        self.created: dict[str, Transfer] = {}
        self.resolved: dict[str, TransferFlags] = {}
        self.undo: list[tuple[str, tuple[int, int, int, int]]] = []
        self.chain_created: list[str] = []
        self.chain_resolved: list[str] = []

    # -- batch and chains -------------------------------------------------------------
    def run(self, batch: Sequence[NewTransfer]) -> TransferPlan:
        outcomes: list[TransferOutcome] = []
        for first, last, is_open in _chains(batch):
            if is_open:
                outcomes.extend(
                    self._fail_chain(batch, first, last, last, R.LINKED_EVENT_CHAIN_OPEN)
                )
                continue
            outcomes.extend(self._run_chain(batch, first, last))
        return TransferPlan(outcomes, list(self.created.values()), self._deltas())

    def _run_chain(
        self, batch: Sequence[NewTransfer], first: int, last: int
    ) -> list[TransferOutcome]:
        self.undo.clear()
        self.chain_created.clear()
        self.chain_resolved.clear()
        saved_timestamp = self.next_timestamp
        done: list[TransferOutcome] = []
        for index in range(first, last + 1):
            outcome = self._event(batch[index], index)
            if not outcome.ok:
                self._rollback(saved_timestamp)
                return self._fail_chain(batch, first, last, index, outcome.result)
            done.append(outcome)
        exists = [o for o in done if o.result is R.EXISTS]
        if first != last and exists and len(exists) != len(done):
            self._rollback(saved_timestamp)
            return self._fail_chain(batch, first, last, exists[0].index, R.EXISTS)
        return done

    def _fail_chain(
        self, batch: Sequence[NewTransfer], first: int, last: int, culprit: int, result: R
    ) -> list[TransferOutcome]:
        out = []
        for index in range(first, last + 1):
            code = result if index == culprit else R.LINKED_EVENT_FAILED
            out.append(TransferOutcome(index, id_text(batch[index].id), code))
        return out

    def _rollback(self, saved_timestamp: int) -> None:
        for account_id, old in reversed(self.undo):
            self.balances[account_id][:] = old
        for transfer_id in self.chain_created:
            del self.created[transfer_id]
        for pending_id in self.chain_resolved:
            del self.resolved[pending_id]
        self.next_timestamp = saved_timestamp

    # -- one event --------------------------------------------------------------------
    def _event(self, t: NewTransfer, index: int) -> TransferOutcome:
        flags = flags_int(t.flags)
        problem = check_shape(t, flags, self.system)
        if problem is not None:
            return TransferOutcome(index, id_text(t.id), problem)
        existing = self.created.get(t.id) or self.view.transfers.get(t.id)
        if existing is not None:
            same = same_fields(t, existing)
            code = R.EXISTS if same else R.EXISTS_WITH_DIFFERENT_FIELDS
            return TransferOutcome(index, t.id, code, existing if same else None)
        if flags & RESOLVING:
            result, transfer = self._resolve(t, flags)
        else:
            result, transfer = self._move(t, flags)
        if transfer is None:
            return TransferOutcome(index, t.id, result)
        self.created[transfer.id] = transfer
        self.chain_created.append(transfer.id)
        return TransferOutcome(index, t.id, R.OK, transfer)

    def _move(self, t: NewTransfer, flags: int) -> tuple[R, Transfer | None]:
        assert t.debit_account_id is not None and t.credit_account_id is not None
        debit = self.view.accounts.get(t.debit_account_id)
        credit = self.view.accounts.get(t.credit_account_id)
        if debit is None:
            return R.DEBIT_ACCOUNT_NOT_FOUND, None
        if credit is None:
            return R.CREDIT_ACCOUNT_NOT_FOUND, None
        if debit.ledger != credit.ledger:
            return R.ACCOUNTS_MUST_HAVE_SAME_LEDGER, None
        if t.ledger != debit.ledger:
            return R.TRANSFER_MUST_HAVE_SAME_LEDGER_AS_ACCOUNTS, None
        d, c = self._balance(debit), self._balance(credit)
        amount = t.amount if t.amount is not None else MAX
        if flags & BAL_DEBIT:
            amount = min(amount, max(d[3] - d[1] - d[0], 0))
            if amount == 0:
                return R.EXCEEDS_CREDITS, None
        if flags & BAL_CREDIT:
            amount = min(amount, max(c[1] - c[3] - c[2], 0))
            if amount == 0:
                return R.EXCEEDS_DEBITS, None
        if d[0] + d[1] + amount > MAX:
            return R.OVERFLOWS_DEBITS, None
        if c[2] + c[3] + amount > MAX:
            return R.OVERFLOWS_CREDITS, None
        if int(debit.flags) & DMNEC and d[0] + d[1] + amount > d[3]:
            return R.EXCEEDS_CREDITS, None
        if int(credit.flags) & CMNED and c[2] + c[3] + amount > c[1]:
            return R.EXCEEDS_DEBITS, None
        pending = bool(flags & PENDING)
        self._change(debit.id, d, 0 if pending else 1, amount)
        self._change(credit.id, c, 2 if pending else 3, amount)
        expires = None
        if pending and t.timeout_seconds:
            expires = self.now_ns + t.timeout_seconds * NS_PER_S
        return R.OK, self._new(t, debit.id, credit.id, amount, t.ledger, t.code, expires)

    def _resolve(self, t: NewTransfer, flags: int) -> tuple[R, Transfer | None]:
        assert t.pending_id is not None
        p = self.created.get(t.pending_id) or self.view.transfers.get(t.pending_id)
        if p is None:
            return R.PENDING_TRANSFER_NOT_FOUND, None
        if not int(p.flags) & PENDING:
            return R.PENDING_TRANSFER_NOT_PENDING, None
        mismatch = mismatch_with_pending(t, p)
        if mismatch is not None:
            return mismatch, None
        done = self.resolved.get(p.id) or self.view.resolved.get(p.id)
        if done is not None:
            if int(done) & POST:
                return R.PENDING_TRANSFER_ALREADY_POSTED, None
            return R.PENDING_TRANSFER_ALREADY_VOIDED, None
        post = bool(flags & POST)
        expired = p.expires_at_ns is not None and self.now_ns >= p.expires_at_ns
        if expired and (post or not self.system):
            return R.PENDING_TRANSFER_EXPIRED, None
        amount = p.amount if t.amount is None else t.amount
        if post and amount > p.amount:
            return R.EXCEEDS_PENDING_TRANSFER_AMOUNT, None
        if not post and amount != p.amount:
            return R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT, None
        debit = self.view.accounts[p.debit_account_id]
        credit = self.view.accounts[p.credit_account_id]
        d, c = self._balance(debit), self._balance(credit)
        self._change(debit.id, d, 0, -p.amount)
        self._change(credit.id, c, 2, -p.amount)
        if post:
            self._change(debit.id, d, 1, amount)
            self._change(credit.id, c, 3, amount)
        self.resolved[p.id] = TransferFlags.POST_PENDING if post else TransferFlags.VOID_PENDING
        self.chain_resolved.append(p.id)
        return R.OK, self._new(
            t, p.debit_account_id, p.credit_account_id, amount, p.ledger, p.code, None
        )

    # -- state ------------------------------------------------------------------------
    def _balance(self, account: Account) -> list[int]:
        found = self.balances.get(account.id)
        if found is None:
            found = [
                account.debits_pending,
                account.debits_posted,
                account.credits_pending,
                account.credits_posted,
            ]
            self.balances[account.id] = found
        return found

    def _change(self, account_id: str, balance: list[int], slot: int, amount: int) -> None:
        self.undo.append((account_id, (balance[0], balance[1], balance[2], balance[3])))
        balance[slot] += amount

    def _new(
        self,
        t: NewTransfer,
        debit_id: str,
        credit_id: str,
        amount: int,
        ledger: str | None,
        code: int | None,
        expires_at_ns: int | None,
    ) -> Transfer:
        assert ledger is not None and code is not None
        timestamp = self.next_timestamp
        self.next_timestamp += 1
        return Transfer(
            id=t.id,
            debit_account_id=debit_id,
            credit_account_id=credit_id,
            amount=amount,
            ledger=ledger,
            code=code,
            flags=TransferFlags(int(t.flags)),
            pending_id=t.pending_id,
            timeout_seconds=t.timeout_seconds,
            expires_at_ns=expires_at_ns,
            metadata=dict(t.metadata),
            timestamp=timestamp,
            created_at_ns=self.now_ns,
        )

    def _deltas(self) -> dict[str, tuple[int, int, int, int]]:
        deltas: dict[str, tuple[int, int, int, int]] = {}
        for account_id, now in self.balances.items():
            a = self.view.accounts[account_id]
            change = (
                now[0] - a.debits_pending,
                now[1] - a.debits_posted,
                now[2] - a.credits_pending,
                now[3] - a.credits_posted,
            )
            if any(change):
                deltas[account_id] = change
        return deltas
