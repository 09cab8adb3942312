"""Building the six messages from the domain's records, each validated before it leaves.

Conventions in what we send (the base schemas leave them open; no Philippine usage
guideline is public, so these are ours, written down here):

* amounts are ``IntrBkSttlmAmt`` with exactly the currency's decimals (``1234.50``), from
  integer minor units, never rounded (``rails.amounts``);
* ``SttlmMtd`` is ``CLRG`` (settled through the clearing system) and the clearing system is
  named as proprietary ``INSTAPAY`` or ``PESONET`` (neither has an ISO
  ``ExternalCashClearingSystem1Code``);
* the charge bearer is ``SLEV`` (each side pays its own bank, per the scheme's service level);
* agents are identified by BIC (``BICFI``); accounts by ``Othr/Id`` (a bank account number
  or a Tindahan wallet number: neither is an IBAN in the Philippines);
* ``CreDtTm`` is UTC with milliseconds and ``Z``.

Every builder returns the UTF-8 bytes of a document that validated against its schema;
anything else raises ``MessageError`` and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from lxml import etree

from tindahan import limits
from tindahan.money import from_minor
from tindahan.rails.amounts import to_text
from tindahan.rails.errors import MessageError, Problem
from tindahan.rails.model import (
    ClearingSystem,
    CreditTransfer,
    Entry,
    MessageType,
    Party,
    PaymentReturn,
    RecallAnswer,
    RecallRequest,
    StatusAnswer,
    StatusQuery,
)
from tindahan.rails.xml import schemas

SETTLEMENT_METHOD = "CLRG"
CHARGE_BEARER = "SLEV"


class _Tree:
    """Elements of one message's namespace, appended in schema order by the caller."""

    def __init__(self, message_type: MessageType) -> None:
        self.message_type = message_type
        self.ns = "{" + message_type.namespace + "}"
        self.root = etree.Element(self.ns + "Document", nsmap={None: message_type.namespace})  # type: ignore[dict-item]

    def add(
        self, parent: etree._Element, tag: str, text: str | None = None, **attrib: str
    ) -> etree._Element:
        element = etree.SubElement(parent, self.ns + tag, attrib)
        if text is not None:
            element.text = text
        return element

    def path(self, parent: etree._Element, tags: str, text: str) -> etree._Element:
        """``path(p, "Id/Othr/Id", "123")``: a chain of single children ending in text."""
        element = parent
        for tag in tags.split("/"):
            element = self.add(element, tag)
        element.text = text
        return element

    def amount(self, parent: etree._Element, tag: str, minor: int, currency: str) -> None:
        self.add(parent, tag, to_text(minor, currency), Ccy=currency)

    def agent(self, parent: etree._Element, tag: str, bic: str) -> None:
        self.path(self.add(parent, tag), "FinInstnId/BICFI", bic)

    def party(self, parent: etree._Element, tag: str, party: Party, account_tag: str) -> None:
        element = self.add(parent, tag)
        if party.name is not None:
            self.add(element, "Nm", party.name)
        if party.account is not None:
            self.path(self.add(parent, account_tag), "Id/Othr/Id", party.account)

    def agent_choice(self, parent: etree._Element, tag: str, bic: str) -> None:
        """A ``Party40Choice`` naming a bank: ``Agt/FinInstnId/BICFI``."""
        self.path(self.add(parent, tag), "Agt/FinInstnId/BICFI", bic)

    def assignment(
        self, parent: etree._Element, message_id: str, created_at: datetime, agents: tuple[str, str]
    ) -> None:
        """An investigation's ``Assgnmt`` (camt.056, camt.029): from one bank to another."""
        element = self.add(parent, "Assgnmt")
        self.add(element, "Id", message_id)
        self.agent_choice(element, "Assgnr", agents[0])
        self.agent_choice(element, "Assgne", agents[1])
        self.add(element, "CreDtTm", timestamp(created_at))

    def case(self, parent: etree._Element, tag: str, case_id: str, creator: str) -> None:
        element = self.add(parent, tag)
        self.add(element, "Id", case_id)
        self.agent_choice(element, "Cretr", creator)

    def party_choice(self, parent: etree._Element, tag: str, party: Party) -> None:
        """A ``Party40Choice`` (in references and statements): ``Pty/Nm``."""
        element = self.add(self.add(parent, tag), "Pty")
        if party.name is not None:
            self.add(element, "Nm", party.name)

    def header(self, parent: etree._Element, message_id: str, created_at: datetime) -> None:
        self.add(parent, "MsgId", message_id)
        self.add(parent, "CreDtTm", timestamp(created_at))

    def finish(self) -> bytes:
        schemas.check(self.root, self.message_type)
        return bytes(etree.tostring(self.root, xml_declaration=True, encoding="UTF-8"))


def timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise MessageError(Problem.INVALID, "a message time must carry its time zone")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _count(items: Sequence[object], what: str) -> str:
    if not 1 <= len(items) <= limits.MAX_RAIL_TRANSACTIONS:
        raise MessageError(
            Problem.INVALID,
            f"a message carries 1 to {limits.MAX_RAIL_TRANSACTIONS} {what}, got {len(items)}",
        )
    return str(len(items))


def _unique(uetrs: Sequence[str]) -> None:
    if len(set(uetrs)) != len(uetrs):
        raise MessageError(Problem.INVALID, "a UETR appears twice in one message")


def pacs008(
    *,
    message_id: str,
    created_at: datetime,
    settlement_date: date,
    clearing_system: ClearingSystem,
    instructing_agent: str,
    instructed_agent: str,
    transfers: Sequence[CreditTransfer],
) -> bytes:
    """A customer credit transfer (one for InstaPay, many in a PESONet batch)."""
    count = _count(transfers, "transfers")
    _unique([transfer.uetr for transfer in transfers])
    tree = _Tree(MessageType.PACS_008)
    body = tree.add(tree.root, "FIToFICstmrCdtTrf")
    head = tree.add(body, "GrpHdr")
    tree.header(head, message_id, created_at)
    tree.add(head, "NbOfTxs", count)
    currencies = {transfer.currency for transfer in transfers}
    if len(currencies) == 1:
        total = sum(transfer.amount_minor for transfer in transfers)
        tree.amount(head, "TtlIntrBkSttlmAmt", total, currencies.pop())
    tree.add(head, "IntrBkSttlmDt", settlement_date.isoformat())
    settlement = tree.add(head, "SttlmInf")
    tree.add(settlement, "SttlmMtd", SETTLEMENT_METHOD)
    tree.path(tree.add(settlement, "ClrSys"), "Prtry", clearing_system.value)
    tree.agent(head, "InstgAgt", instructing_agent)
    tree.agent(head, "InstdAgt", instructed_agent)
    for transfer in transfers:
        _transfer(tree, tree.add(body, "CdtTrfTxInf"), transfer)
    return tree.finish()


def _transfer(tree: _Tree, element: etree._Element, transfer: CreditTransfer) -> None:
    ids = tree.add(element, "PmtId")
    tree.add(ids, "EndToEndId", transfer.end_to_end_id)
    tree.add(ids, "UETR", transfer.uetr)
    tree.amount(element, "IntrBkSttlmAmt", transfer.amount_minor, transfer.currency)
    tree.add(element, "ChrgBr", CHARGE_BEARER)
    tree.party(element, "Dbtr", transfer.debtor, "DbtrAcct")
    tree.agent(element, "DbtrAgt", transfer.debtor_agent)
    tree.agent(element, "CdtrAgt", transfer.creditor_agent)
    tree.party(element, "Cdtr", transfer.creditor, "CdtrAcct")
    if transfer.remittance:
        tree.path(element, "RmtInf/Ustrd", transfer.remittance)


def pacs002(*, message_id: str, created_at: datetime, answers: Sequence[StatusAnswer]) -> bytes:
    """A status report: one ``TxInfAndSts`` per transaction answered."""
    _count(answers, "statuses")
    tree = _Tree(MessageType.PACS_002)
    body = tree.add(tree.root, "FIToFIPmtStsRpt")
    tree.header(tree.add(body, "GrpHdr"), message_id, created_at)
    for answer in answers:
        element = tree.add(body, "TxInfAndSts")
        _original_group(tree, element, answer.original_message_id, MessageType.PACS_008)
        tree.add(element, "OrgnlEndToEndId", answer.end_to_end_id)
        tree.add(element, "OrgnlUETR", answer.uetr)
        tree.add(element, "TxSts", answer.status)
        if answer.reason is not None or answer.note is not None:
            reason = tree.add(element, "StsRsnInf")
            if answer.reason is not None:
                tree.path(reason, "Rsn/Cd", answer.reason)
            if answer.note is not None:
                tree.add(reason, "AddtlInf", answer.note)
    return tree.finish()


def _original_group(
    tree: _Tree, parent: etree._Element, message_id: str, original: MessageType
) -> None:
    group = tree.add(parent, "OrgnlGrpInf")
    tree.add(group, "OrgnlMsgId", message_id)
    tree.add(group, "OrgnlMsgNmId", original.value)


def pacs028(*, message_id: str, created_at: datetime, queries: Sequence[StatusQuery]) -> bytes:
    """A status request for transactions that got no answer within the rail's time-out."""
    _count(queries, "queries")
    tree = _Tree(MessageType.PACS_028)
    body = tree.add(tree.root, "FIToFIPmtStsReq")
    tree.header(tree.add(body, "GrpHdr"), message_id, created_at)
    for query in queries:
        element = tree.add(body, "TxInf")
        _original_group(tree, element, query.original_message_id, MessageType.PACS_008)
        tree.add(element, "OrgnlEndToEndId", query.end_to_end_id)
        tree.add(element, "OrgnlUETR", query.uetr)
    return tree.finish()


def pacs004(
    *,
    message_id: str,
    created_at: datetime,
    settlement_date: date,
    clearing_system: ClearingSystem,
    returns: Sequence[PaymentReturn],
) -> bytes:
    """A payment return: settled money sent back, each with its return reason."""
    count = _count(returns, "returns")
    tree = _Tree(MessageType.PACS_004)
    body = tree.add(tree.root, "PmtRtr")
    head = tree.add(body, "GrpHdr")
    tree.header(head, message_id, created_at)
    tree.add(head, "NbOfTxs", count)
    tree.add(head, "IntrBkSttlmDt", settlement_date.isoformat())
    settlement = tree.add(head, "SttlmInf")
    tree.add(settlement, "SttlmMtd", SETTLEMENT_METHOD)
    tree.path(tree.add(settlement, "ClrSys"), "Prtry", clearing_system.value)
    for item in returns:
        element = tree.add(body, "TxInf")
        _original_group(tree, element, item.original_message_id, MessageType.PACS_008)
        tree.add(element, "OrgnlEndToEndId", item.end_to_end_id)
        tree.add(element, "OrgnlUETR", item.uetr)
        tree.amount(element, "RtrdIntrBkSttlmAmt", item.amount_minor, item.currency)
        tree.path(tree.add(element, "RtrRsnInf"), "Rsn/Cd", item.reason)
    return tree.finish()


def camt053(
    *,
    message_id: str,
    created_at: datetime,
    account: str,
    statement_id: str,
    opening_minor: int,
    closing_minor: int,
    currency: str,
    statement_date: date,
    entries: Sequence[Entry],
) -> bytes:
    """An end-of-day statement of ``account`` with its opening and closing booked balances."""
    tree = _Tree(MessageType.CAMT_053)
    body = tree.add(tree.root, "BkToCstmrStmt")
    tree.header(tree.add(body, "GrpHdr"), message_id, created_at)
    statement = tree.add(body, "Stmt")
    tree.add(statement, "Id", statement_id)
    tree.path(tree.add(statement, "Acct"), "Id/Othr/Id", account)
    for code, minor in (("OPBD", opening_minor), ("CLBD", closing_minor)):
        _balance(tree, statement, code, minor, currency, statement_date)
    _entries(tree, statement, entries)
    return tree.finish()


def _balance(
    tree: _Tree, parent: etree._Element, code: str, minor: int, currency: str, day: date
) -> None:
    balance = tree.add(parent, "Bal")
    tree.path(tree.add(balance, "Tp"), "CdOrPrtry/Cd", code)
    tree.add(balance, "Amt", str(from_minor(abs(minor), currency)), Ccy=currency)
    tree.add(balance, "CdtDbtInd", "CRDT" if minor >= 0 else "DBIT")
    tree.path(balance, "Dt/Dt", day.isoformat())


def camt054(
    *,
    message_id: str,
    created_at: datetime,
    account: str,
    notification_id: str,
    entries: Sequence[Entry],
) -> bytes:
    """A debit/credit notification: movements on ``account`` as they happen."""
    _count(entries, "entries")
    tree = _Tree(MessageType.CAMT_054)
    body = tree.add(tree.root, "BkToCstmrDbtCdtNtfctn")
    tree.header(tree.add(body, "GrpHdr"), message_id, created_at)
    notification = tree.add(body, "Ntfctn")
    tree.add(notification, "Id", notification_id)
    tree.path(tree.add(notification, "Acct"), "Id/Othr/Id", account)
    _entries(tree, notification, entries)
    return tree.finish()


def _entries(tree: _Tree, parent: etree._Element, entries: Sequence[Entry]) -> None:
    if len(entries) > limits.MAX_RAIL_TRANSACTIONS:
        _count(entries, "entries")
    for entry in entries:
        element = tree.add(parent, "Ntry")
        if entry.reference is not None:
            tree.add(element, "NtryRef", entry.reference)
        tree.amount(element, "Amt", entry.amount_minor, entry.currency)
        tree.add(element, "CdtDbtInd", "CRDT" if entry.credit else "DBIT")
        tree.path(element, "Sts/Cd", "BOOK")
        tree.path(element, "BookgDt/Dt", entry.booking_date.isoformat())
        tree.path(tree.add(element, "BkTxCd"), "Prtry/Cd", "TRF")
        details = tree.add(tree.add(element, "NtryDtls"), "TxDtls")
        references = tree.add(details, "Refs")
        tree.add(references, "EndToEndId", entry.end_to_end_id or "NOTPROVIDED")
        if entry.uetr is not None:
            tree.add(references, "UETR", entry.uetr)
        tree.amount(details, "Amt", entry.amount_minor, entry.currency)
        tree.add(details, "CdtDbtInd", "CRDT" if entry.credit else "DBIT")
        if entry.debtor is not None or entry.creditor is not None:
            _parties(tree, details, entry)


def _parties(tree: _Tree, details: etree._Element, entry: Entry) -> None:
    parties = tree.add(details, "RltdPties")
    for tag, party in (("Dbtr", entry.debtor), ("Cdtr", entry.creditor)):
        if party is None:
            continue
        tree.party_choice(parties, tag, party)
        if party.account is not None:
            tree.path(tree.add(parties, tag + "Acct"), "Id/Othr/Id", party.account)


def camt056(
    *,
    message_id: str,
    created_at: datetime,
    assigner: str,
    assignee: str,
    case_id: str,
    recalls: Sequence[RecallRequest],
) -> bytes:
    """A recall: the bank that sent the transfers (``assigner``, a BIC) asks for them back."""
    _count(recalls, "recalls")
    tree = _Tree(MessageType.CAMT_056)
    body = tree.add(tree.root, "FIToFIPmtCxlReq")
    tree.assignment(body, message_id, created_at, (assigner, assignee))
    tree.case(body, "Case", case_id, assigner)
    underlying = tree.add(body, "Undrlyg")
    for item in recalls:
        element = tree.add(underlying, "TxInf")
        _original_group(tree, element, item.original_message_id, MessageType.PACS_008)
        tree.add(element, "OrgnlEndToEndId", item.end_to_end_id)
        tree.add(element, "OrgnlUETR", item.uetr)
        tree.amount(element, "OrgnlIntrBkSttlmAmt", item.amount_minor, item.currency)
        tree.path(tree.add(element, "CxlRsnInf"), "Rsn/Cd", item.reason)
    return tree.finish()


def camt029(
    *,
    message_id: str,
    created_at: datetime,
    assigner: str,
    assignee: str,
    case_id: str,
    answers: Sequence[RecallAnswer],
) -> bytes:
    """The answer to a recall: ``CNCL`` when every transaction's recall was accepted, else
    ``RJCR``; per transaction ``ACCR`` or ``RJCR`` with the rejection's reason."""
    _count(answers, "answers")
    tree = _Tree(MessageType.CAMT_029)
    body = tree.add(tree.root, "RsltnOfInvstgtn")
    tree.assignment(body, message_id, created_at, (assigner, assignee))
    tree.case(body, "RslvdCase", case_id, assignee)
    confirmed = "CNCL" if all(answer.accepted for answer in answers) else "RJCR"
    tree.path(body, "Sts/Conf", confirmed)
    details = tree.add(body, "CxlDtls")
    for answer in answers:
        element = tree.add(details, "TxInfAndSts")
        _original_group(tree, element, answer.original_message_id, MessageType.PACS_008)
        tree.add(element, "OrgnlEndToEndId", answer.end_to_end_id)
        tree.add(element, "OrgnlUETR", answer.uetr)
        tree.add(element, "TxCxlSts", "ACCR" if answer.accepted else "RJCR")
        if answer.reason is not None:
            tree.path(tree.add(element, "CxlStsRsnInf"), "Rsn/Cd", answer.reason)
    return tree.finish()
