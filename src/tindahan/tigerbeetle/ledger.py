"""The ledger port on a TigerBeetle cluster, through the official Python client.

Tindahan's ledger was modelled on TigerBeetle's, so most of the mapping is one to one:

* **ids** — Tindahan's are strings; TigerBeetle's are 128-bit integers. Each id maps to the
  first 16 bytes of BLAKE2b over the string (personalised ``tindahan-ids``): deterministic,
  so a retry after a crash names the same transfer and gets ``exists``, never a second
  movement; 0 and 2**128-1 (reserved by TigerBeetle) are never produced (``ids``). The hash
  cannot be read back, so the adapter remembers the strings it has seen (accounts opened or
  looked up, transfers made) and asks its *name book* (``use_names``: the name table in the
  main database, which the services write before the cluster sees a name) for the numbers
  it meets without one, in one call per answer; a number neither knows is ``tb:<hex>``.
* **ledgers** — a currency's ISO 4217 numeric code (PHP → 608); a three-letter code with
  none gets 1000 + its letters in base 26.
* **flags** — the same bits on both sides (linked, pending, post, void, balancing debit and
  credit; an account's ``debits_must_not_exceed_credits`` and its mirror); accounts also get
  TigerBeetle's ``history`` flag, so balances at a moment can be read.
* **metadata and owner** — TigerBeetle keeps no strings: a 128-bit hash of the transfer's
  metadata (of the account's owner) goes into ``user_data_128``, so a retry with other
  metadata is ``exists_with_different_fields`` as on the SQL ledger; the strings themselves
  are kept in the name table with the business records (and remembered in this process).
* **amounts** — posting a hold's whole amount (``amount=None``) sends ``AMOUNT_MAX``; a void
  sends 0; a balancing transfer without an amount sends ``AMOUNT_MAX``.
* **timestamps** — TigerBeetle's cluster time (nanoseconds since the epoch, unique and
  increasing) is both the transfer's ``timestamp`` and its ``created_at_ns``.

Requests are checked first with the same domain rules as the SQL ledger
(``validation.check_shape``), so a malformed event gets the same result code; TigerBeetle
then decides the rest. Holds expire inside TigerBeetle on their own (``expire_pending`` is 0).
"""

from __future__ import annotations

import functools
import json
import socket
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import tigerbeetle as tb
from tindahan.ledger import audit
from tindahan.ledger.accounts import check_account
from tindahan.ledger.model import (
    Account,
    AccountFlags,
    AccountOutcome,
    CreateAccountResult,
    CreateTransferResult,
    NewAccount,
    NewTransfer,
    Transfer,
    TransferFlags,
    TransferOutcome,
)
from tindahan.ledger.port import Balance
from tindahan.ledger.validation import (
    BALANCING,
    LINKED,
    PENDING,
    POST,
    RESOLVING,
    VOID,
    check_shape,
    flags_int,
    id_text,
)
from tindahan.money.currency import CURRENCIES
from tindahan.tigerbeetle.address import ClusterAddress, parse
from tindahan.tigerbeetle.bounded import BoundedClient
from tindahan.tigerbeetle.errors import TigerBeetleError
from tindahan.tigerbeetle.ids import hash128, id128, metadata_text

R = CreateTransferResult
A = CreateAccountResult
S = tb.CreateTransferStatus
AS = tb.CreateAccountStatus
#: TigerBeetle's largest request: a 1 MiB message of 128-byte events, less its header.
TB_BATCH = 8189
NS_PER_S = 1_000_000_000
_ACCOUNT_FLAGS = int(
    AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
)
_TB_ACCOUNT_FLAGS = {  # Tindahan's bit → TigerBeetle's
    int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS): int(
        tb.AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    ),
    int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS): int(
        tb.AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
    ),
}
#: Transfer flags keep their bits: Tindahan chose TigerBeetle's (checked at import).
assert int(TransferFlags.LINKED) == int(tb.TransferFlags.LINKED)
assert int(TransferFlags.PENDING) == int(tb.TransferFlags.PENDING)
assert int(TransferFlags.POST_PENDING) == int(tb.TransferFlags.POST_PENDING_TRANSFER)
assert int(TransferFlags.VOID_PENDING) == int(tb.TransferFlags.VOID_PENDING_TRANSFER)
assert int(TransferFlags.BALANCING_DEBIT) == int(tb.TransferFlags.BALANCING_DEBIT)
assert int(TransferFlags.BALANCING_CREDIT) == int(tb.TransferFlags.BALANCING_CREDIT)
_TRANSFER_FLAGS = int(TransferFlags.LINKED) | PENDING | POST | VOID | BALANCING

_TRANSFER_RESULTS: dict[S, R] = {
    S.CREATED: R.OK,
    S.EXISTS: R.EXISTS,
    S.ID_ALREADY_FAILED: R.ID_ALREADY_FAILED,
    S.ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER: R.ACCOUNTS_MUST_HAVE_SAME_LEDGER,
    S.TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS: R.TRANSFER_MUST_HAVE_SAME_LEDGER_AS_ACCOUNTS,
    S.OVERFLOWS_DEBITS_PENDING: R.OVERFLOWS_DEBITS,
    S.OVERFLOWS_DEBITS_POSTED: R.OVERFLOWS_DEBITS,
    S.OVERFLOWS_CREDITS_PENDING: R.OVERFLOWS_CREDITS,
    S.OVERFLOWS_CREDITS_POSTED: R.OVERFLOWS_CREDITS,
    S.OVERFLOWS_TIMEOUT: R.TIMEOUT_INVALID,
    S.PENDING_ID_MUST_BE_ZERO: R.PENDING_ID_MUST_BE_EMPTY,
    S.PENDING_ID_MUST_NOT_BE_ZERO: R.PENDING_ID_REQUIRED,
    S.LEDGER_MUST_NOT_BE_ZERO: R.LEDGER_INVALID,
    S.CODE_MUST_NOT_BE_ZERO: R.CODE_INVALID,
    S.RESERVED_FLAG: R.FLAGS_INVALID,
}
for _status in S:
    if _status.name.startswith("EXISTS_WITH_DIFFERENT"):
        _TRANSFER_RESULTS[_status] = R.EXISTS_WITH_DIFFERENT_FIELDS
    elif _status not in _TRANSFER_RESULTS and _status.name.lower() in R._value2member_map_:
        _TRANSFER_RESULTS[_status] = R(_status.name.lower())

_ACCOUNT_RESULTS: dict[AS, A] = {
    AS.CREATED: A.OK,
    AS.EXISTS: A.EXISTS,
    AS.FLAGS_ARE_MUTUALLY_EXCLUSIVE: A.FLAGS_ARE_MUTUALLY_EXCLUSIVE,
    AS.RESERVED_FLAG: A.FLAGS_INVALID,
    AS.LEDGER_MUST_NOT_BE_ZERO: A.LEDGER_INVALID,
    AS.CODE_MUST_NOT_BE_ZERO: A.CODE_INVALID,
}
for _account_status in AS:
    if _account_status.name.startswith("EXISTS_WITH_DIFFERENT"):
        _ACCOUNT_RESULTS[_account_status] = A.EXISTS_WITH_DIFFERENT_FIELDS


@functools.lru_cache(maxsize=1 << 16)
def account_number(name: str) -> int:
    """``id128`` of an account id, cached: accounts recur batch after batch."""
    return id128(name)


@functools.lru_cache(maxsize=1 << 10)
def _tb_flags(flags: int) -> tb.TransferFlags:
    return tb.TransferFlags(flags & _TRANSFER_FLAGS)


@functools.lru_cache(maxsize=1 << 10)
def _our_flags(flags: int) -> TransferFlags:
    return TransferFlags(flags & _TRANSFER_FLAGS)


_NO_METADATA: Mapping[str, str] = MappingProxyType({})


def number_of(name: str) -> int:
    """The TigerBeetle id behind a name this adapter gave: ``tb:<hex>`` or a Tindahan id."""
    if name.startswith("tb:"):
        try:
            return int(name[3:], 16)
        except ValueError:
            pass
    return id128(name)


_BY_NUMERIC = {int(c.numeric): code for code, c in CURRENCIES.items()}


def ledger_number(code: str) -> int:
    """``"PHP"`` → 608 (ISO 4217 numeric); a code without one → 1000 + base-26 letters."""
    known = CURRENCIES.get(code)
    if known is not None:
        return int(known.numeric)
    value = 0
    for letter in code:
        value = value * 26 + (ord(letter) - ord("A"))
    return 1000 + value


def ledger_code(number: int) -> str:
    if number < 1000:
        return _BY_NUMERIC.get(number, f"#{number}")
    value, letters = number - 1000, []
    for _ in range(3):
        value, rest = divmod(value, 26)
        letters.append(chr(ord("A") + rest))
    return "".join(reversed(letters))


@dataclass
class _Chain:
    first: int
    last: int
    problem: tuple[int, R] | None  # (culprit index, result) when judged before sending


def _chains(batch: Sequence[NewTransfer], flags: list[int]) -> list[_Chain]:
    chains: list[_Chain] = []
    start = 0
    for index, f in enumerate(flags):
        if f < 0 or not f & LINKED:
            chains.append(_Chain(start, index, None))
            start = index + 1
    if start < len(batch):
        chains.append(_Chain(start, len(batch) - 1, (len(batch) - 1, R.LINKED_EVENT_CHAIN_OPEN)))
    return chains


class NameBook(Protocol):
    """Where the names behind the numbers are kept (``store.ledger_names.StoredNames``)."""

    def names(self, numbers: Collection[int]) -> dict[int, str]:
        """The names found for ``numbers`` (absent ones are left out)."""
        ...


#: Numbers the name book did not know, remembered so as not to ask again: a name is written
#: before what it names reaches the cluster, so a number seen there without one has none.
_NAMELESS_MAX = 1 << 16


class TigerBeetleLedger:
    """``LedgerPort`` on a cluster. One client per process (it is thread-safe and batches
    concurrent requests itself); close it when done."""

    kind = "tigerbeetle"

    def __init__(
        self, address: ClusterAddress, *, probe: bool = True, timeout_ms: int | None = None
    ) -> None:
        """``timeout_ms``: each request gives up after it with ``LedgerUnavailableError``
        (``tigerbeetle.bounded``); None waits for the cluster as long as it takes."""
        if probe:
            _probe(address)
        self.address = address
        cluster, replicas = address.cluster_id, address.replica_addresses
        self.client = (
            tb.ClientSync(cluster_id=cluster, replica_addresses=replicas)
            if timeout_ms is None
            else BoundedClient(cluster, replicas, timeout_ms)
        )
        self._accounts: dict[int, str] = {}
        self._transfers: dict[int, str] = {}
        self._strings: dict[int, str] = {}  # hash128 → the owner or metadata it hashes
        self._book: NameBook | None = None
        self._nameless: set[int] = set()

    @classmethod
    def connect(cls, url: str, timeout_ms: int | None = None) -> TigerBeetleLedger:
        return cls(parse(url), timeout_ms=timeout_ms)

    def close(self) -> None:
        self.client.close()

    def use_names(self, book: NameBook | None) -> None:
        """Ask ``book`` for the names this process has not met (None: memory only)."""
        self._book = book

    def _learn(self, transfers: Sequence[Any] = (), accounts: Sequence[Any] = ()) -> None:
        """Before an answer is built: the numbers in it this process cannot name, asked of
        the name book in one call (nothing asked when all are known or there is no book)."""
        if self._book is None:
            return
        wanted: dict[int, dict[int, str]] = {}
        for t in transfers:
            for number, names in (
                (t.id, self._transfers),
                (t.pending_id, self._transfers),
                (t.debit_account_id, self._accounts),
                (t.credit_account_id, self._accounts),
                (t.user_data_128, self._strings),
            ):
                if number and number not in names and number not in self._nameless:
                    wanted[number] = names
        for a in accounts:
            for number, names in ((a.id, self._accounts), (a.user_data_128, self._strings)):
                if number and number not in names and number not in self._nameless:
                    wanted[number] = names
        if not wanted:
            return
        found = self._book.names(list(wanted))
        for number, names in wanted.items():
            name = found.get(number)
            if name is not None:
                names[number] = name
            else:
                if len(self._nameless) >= _NAMELESS_MAX:
                    self._nameless.clear()
                self._nameless.add(number)

    # -- accounts -------------------------------------------------------------------
    def create_accounts(self, batch: Sequence[NewAccount]) -> list[AccountOutcome]:
        outcomes: list[AccountOutcome | None] = [None] * len(batch)
        sending: list[tuple[int, NewAccount]] = []
        for index, new in enumerate(batch):
            problem = check_account(new)
            if problem is not None:
                outcomes[index] = AccountOutcome(index, id_text(new.id), problem)
            else:
                sending.append((index, new))
        for part in _parts(sending, TB_BATCH):
            requests = [self._tb_account(new) for _, new in part]
            results = self.client.create_accounts(requests)
            existing = [
                new.id for (_, new), r in zip(part, results, strict=True) if r.status == AS.EXISTS
            ]
            found = self.lookup_accounts(existing) if existing else {}
            for (index, new), result in zip(part, results, strict=True):
                outcomes[index] = self._account_outcome(index, new, result, found)
        return [o for o in outcomes if o is not None]

    def _tb_account(self, new: NewAccount) -> tb.Account:
        flags = int(tb.AccountFlags.HISTORY)
        for mine, theirs in _TB_ACCOUNT_FLAGS.items():
            if int(new.flags) & mine:
                flags |= theirs
        number = id128(new.id)
        self._accounts[number] = new.id
        owner = 0
        if new.owner:
            owner = hash128(new.owner)
            self._strings[owner] = new.owner
        return tb.Account(
            id=number,
            ledger=ledger_number(new.ledger),
            code=new.code,
            flags=tb.AccountFlags(flags),
            user_data_128=owner,
        )

    def _account_outcome(
        self, index: int, new: NewAccount, result: Any, found: dict[str, Account]
    ) -> AccountOutcome:
        status = AS(result.status)
        mapped = _ACCOUNT_RESULTS.get(status)
        if mapped is None:
            raise TigerBeetleError(f"TigerBeetle refused account {new.id!r}: {status.name}")
        if mapped is A.OK:
            account = Account(
                new.id,
                new.ledger,
                new.code,
                new.owner,
                AccountFlags(int(new.flags)),
                0,
                0,
                0,
                0,
                result.timestamp,
            )
            return AccountOutcome(index, new.id, A.OK, account)
        return AccountOutcome(index, new.id, mapped, found.get(new.id))

    def lookup_accounts(self, ids: Sequence[str]) -> dict[str, Account]:
        wanted = {number_of(i): i for i in ids if isinstance(i, str)}
        found: dict[str, Account] = {}
        numbers = list(wanted)
        _remember(self._accounts, wanted)
        for part in _parts(numbers, TB_BATCH):
            page = self.client.lookup_accounts(part)
            self._learn(accounts=page)
            for a in page:
                found[wanted[a.id]] = self._account(a, self._name(self._accounts, a.id))
        return found

    def _account(self, a: Any, name: str) -> Account:
        flags = 0
        for mine, theirs in _TB_ACCOUNT_FLAGS.items():
            if int(a.flags) & theirs:
                flags |= mine
        return Account(
            name,
            ledger_code(a.ledger),
            a.code,
            self._strings.get(a.user_data_128) if a.user_data_128 else None,
            AccountFlags(flags),
            a.debits_pending,
            a.debits_posted,
            a.credits_pending,
            a.credits_posted,
            a.timestamp,
        )

    # -- transfers ------------------------------------------------------------------
    def create_transfers(self, batch: Sequence[NewTransfer]) -> list[TransferOutcome]:
        flags = [flags_int(t.flags) for t in batch]
        outcomes: list[TransferOutcome | None] = [None] * len(batch)
        sending: list[_Chain] = []
        for chain in _chains(batch, flags):
            if chain.problem is None:
                for index in range(chain.first, chain.last + 1):
                    problem = check_shape(batch[index], flags[index], False)
                    if problem is not None:
                        chain.problem = (index, problem)
                        break
            if chain.problem is None:
                sending.append(chain)
                continue
            culprit, result = chain.problem
            for index in range(chain.first, chain.last + 1):
                code = result if index == culprit else R.LINKED_EVENT_FAILED
                outcomes[index] = TransferOutcome(index, id_text(batch[index].id), code)
        for group in _chain_groups(sending):
            indexes = [i for chain in group for i in range(chain.first, chain.last + 1)]
            results = self.client.create_transfers([self._tb_transfer(batch[i]) for i in indexes])
            by_index = dict(zip(indexes, results, strict=True))
            self._answer(batch, group, by_index, outcomes)
        return [o for o in outcomes if o is not None]

    def _tb_transfer(self, t: NewTransfer) -> tb.Transfer:
        flags = int(t.flags)
        number = id128(t.id)
        self._transfers[number] = t.id
        debit = account_number(t.debit_account_id) if t.debit_account_id else 0
        credit = account_number(t.credit_account_id) if t.credit_account_id else 0
        if debit:
            self._accounts[debit] = t.debit_account_id or ""
        if credit:
            self._accounts[credit] = t.credit_account_id or ""
        if t.amount is not None:
            amount = t.amount
        elif flags & VOID:
            amount = 0
        else:  # a whole post, or a balancing transfer of as much as the account allows
            amount = tb.AMOUNT_MAX
        digest = 0
        if t.metadata:
            metadata = metadata_text(t.metadata)
            digest = hash128(metadata)
            self._strings[digest] = metadata
        return tb.Transfer(
            id=number,
            debit_account_id=debit,
            credit_account_id=credit,
            amount=amount,
            pending_id=id128(t.pending_id) if t.pending_id else 0,
            user_data_128=digest,
            timeout=t.timeout_seconds,
            ledger=ledger_number(t.ledger) if t.ledger else 0,
            code=t.code or 0,
            flags=_tb_flags(flags),
        )

    def _answer(
        self,
        batch: Sequence[NewTransfer],
        group: list[_Chain],
        results: dict[int, Any],
        outcomes: list[TransferOutcome | None],
    ) -> None:
        mapped: dict[int, R] = {}
        for index, result in results.items():
            code = _TRANSFER_RESULTS.get(result.status)
            if code is None:
                raise TigerBeetleError(
                    f"TigerBeetle refused transfer {batch[index].id!r}: {result.status.name}"
                )
            mapped[index] = code
        # TigerBeetle fails a linked chain at its first ``exists``; the SQL ledger answers
        # ``exists`` for every event of a chain that was committed whole: do the same.
        for chain in group:
            span = range(chain.first, chain.last + 1)
            if chain.first != chain.last and mapped[chain.first] is R.EXISTS:
                found = self.lookup_transfers([batch[i].id for i in span])
                if all(batch[i].id in found for i in span):
                    for i in span:
                        mapped[i] = R.EXISTS
        # What the request did not say (a post's accounts, a balancing amount) and what an
        # ``exists`` answers with (the original) are read back in one look-up.
        unknown = [
            batch[i].id
            for i, code in mapped.items()
            if code is R.EXISTS
            or (code is R.OK and (int(batch[i].flags) & (RESOLVING | BALANCING)))
        ]
        found = self.lookup_transfers(unknown) if unknown else {}
        for index, code in mapped.items():
            t = batch[index]
            if code is R.OK and t.id not in found:
                transfer: Transfer | None = self._made(t, results[index].timestamp)
            elif code in (R.OK, R.EXISTS):
                transfer = found.get(t.id)
            else:
                transfer = None
            outcomes[index] = TransferOutcome(index, t.id, code, transfer)

    def _made(self, t: NewTransfer, timestamp: int) -> Transfer:
        """A transfer TigerBeetle created exactly as asked: built from the request."""
        assert t.debit_account_id and t.credit_account_id and t.ledger and t.amount
        expires = None
        if int(t.flags) & PENDING and t.timeout_seconds:
            expires = timestamp + t.timeout_seconds * NS_PER_S
        return Transfer(
            id=t.id,
            debit_account_id=t.debit_account_id,
            credit_account_id=t.credit_account_id,
            amount=t.amount,
            ledger=t.ledger,
            code=int(t.code or 0),
            flags=_our_flags(int(t.flags)),
            pending_id=None,
            timeout_seconds=t.timeout_seconds,
            expires_at_ns=expires,
            metadata=MappingProxyType(dict(t.metadata)) if t.metadata else _NO_METADATA,
            timestamp=timestamp,
            created_at_ns=timestamp,
        )

    def lookup_transfers(self, ids: Sequence[str]) -> dict[str, Transfer]:
        wanted = {number_of(i): i for i in ids if isinstance(i, str)}
        found: dict[str, Transfer] = {}
        _remember(self._transfers, wanted)
        for part in _parts(list(wanted), TB_BATCH):
            page = self.client.lookup_transfers(part)
            self._learn(page)
            for t in page:
                found[wanted[t.id]] = self._transfer(t)
        return found

    def _transfer(self, t: Any) -> Transfer:
        flags = int(t.flags) & _TRANSFER_FLAGS
        expires = None
        if flags & PENDING and t.timeout:
            expires = t.timestamp + t.timeout * NS_PER_S
        metadata: Mapping[str, str] = {}
        if t.user_data_128:
            text = self._strings.get(t.user_data_128)
            metadata = (
                json.loads(text)
                if text
                else {"tigerbeetle_user_data_128": f"{t.user_data_128:032x}"}
            )
        return Transfer(
            id=self._name(self._transfers, t.id),
            debit_account_id=self._name(self._accounts, t.debit_account_id),
            credit_account_id=self._name(self._accounts, t.credit_account_id),
            amount=t.amount,
            ledger=ledger_code(t.ledger),
            code=t.code,
            flags=TransferFlags(flags),
            pending_id=self._name(self._transfers, t.pending_id) if t.pending_id else None,
            timeout_seconds=t.timeout,
            expires_at_ns=expires,
            metadata=MappingProxyType(dict(metadata)),
            timestamp=t.timestamp,
            created_at_ns=t.timestamp,
        )

    @staticmethod
    def _name(names: dict[int, str], number: int) -> str:
        return names.get(number) or f"tb:{number:032x}"

    # -- statements, balances, totals ----------------------------------------------------
    def account_transfers(
        self, account_id: str, *, limit: int, before_timestamp: int | None = None
    ) -> list[Transfer]:
        number = number_of(account_id)
        _remember(self._accounts, {number: account_id})
        query = tb.AccountFilter(
            account_id=number,
            user_data_128=0,
            user_data_64=0,
            user_data_32=0,
            code=0,
            timestamp_min=0,
            timestamp_max=(before_timestamp - 1) if before_timestamp else 0,
            limit=min(limit, TB_BATCH),
            flags=tb.AccountFilterFlags.DEBITS
            | tb.AccountFilterFlags.CREDITS
            | tb.AccountFilterFlags.REVERSED,
        )
        found = self.client.get_account_transfers(query)
        self._learn(found)
        return [self._transfer(t) for t in found]

    def balance_at(self, account_id: str, timestamp: int) -> Balance | None:
        query = tb.AccountFilter(
            account_id=number_of(account_id),
            user_data_128=0,
            user_data_64=0,
            user_data_32=0,
            code=0,
            timestamp_min=0,
            timestamp_max=timestamp,
            limit=1,
            flags=tb.AccountFilterFlags.DEBITS
            | tb.AccountFilterFlags.CREDITS
            | tb.AccountFilterFlags.REVERSED,
        )
        found = self.client.get_account_balances(query)
        if not found:
            return None
        b = found[0]
        return Balance(
            account_id,
            b.timestamp,
            b.debits_pending,
            b.debits_posted,
            b.credits_pending,
            b.credits_posted,
        )

    def all_accounts(self) -> Iterator[Account]:
        """Every account of the cluster, oldest first, a page at a time (not atomic:
        run it on a quiet cluster for an exact answer)."""
        after = 0
        while True:
            query = _everything_after(after)
            page = self.client.query_accounts(query)
            self._learn(accounts=page)
            for a in page:
                yield self._account(a, self._name(self._accounts, a.id))
            if len(page) < TB_BATCH:
                return
            after = page[-1].timestamp

    def all_transfers(self) -> Iterator[Transfer]:
        """Every transfer of the cluster, oldest first, each once, a page at a time (not
        atomic: run it on a quiet cluster for an exact answer). One request per page, where
        reading each account's statement costs one per account and meets each transfer
        twice."""
        after = 0
        while True:
            query = _everything_after(after)
            page = self.client.query_transfers(query)
            self._learn(page)
            for t in page:
                yield self._transfer(t)
            if len(page) < TB_BATCH:
                return
            after = page[-1].timestamp

    def totals(self) -> list[audit.LedgerTotals]:
        return audit.totals(self.all_accounts())

    def expire_pending(self) -> int:
        """TigerBeetle voids expired holds itself."""
        return 0


def _remember(names: dict[int, str], asked: dict[int, str]) -> None:
    """The names a caller asked by (each is its number's name: the number is its hash); a
    ``tb:<hex>`` name is no name, so the name book is asked for those."""
    for number, name in asked.items():
        if not name.startswith("tb:"):
            names.setdefault(number, name)


def _parts(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _chain_groups(chains: list[_Chain]) -> list[list[_Chain]]:
    """Whole chains packed into requests of at most ``TB_BATCH`` events (a chain is never
    split: it commits whole or not at all)."""
    groups: list[list[_Chain]] = []
    size = 0
    for chain in chains:
        length = chain.last - chain.first + 1
        if length > TB_BATCH:
            raise TigerBeetleError(f"a linked chain of {length} transfers exceeds {TB_BATCH}")
        if not groups or size + length > TB_BATCH:
            groups.append([])
            size = 0
        groups[-1].append(chain)
        size += length
    return groups


def _probe(address: ClusterAddress) -> None:
    """Fail fast when no replica listens: the client itself would wait for ever."""
    for where in address.addresses:
        host, _, port = where.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=2):
                return
        except OSError:
            continue
    raise TigerBeetleError(f"no replica of {address.url} answers")


def _everything_after(after: int) -> tb.QueryFilter:
    """A query for the next page of every object (account or transfer) of the cluster,
    oldest first, after the timestamp ``after`` (0: from the first)."""
    return tb.QueryFilter(
        user_data_128=0,
        user_data_64=0,
        user_data_32=0,
        ledger=0,
        code=0,
        timestamp_min=after + 1 if after else 0,
        timestamp_max=0,
        limit=TB_BATCH,
        flags=tb.QueryFilterFlags.NONE,
    )
