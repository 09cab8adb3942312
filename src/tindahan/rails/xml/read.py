"""Reading any of the six messages into a ``Message``: parse hardened, validate, extract.

Beyond the schema, reading holds the domain's own rules, each refused as "invalid" with
what and where: an amount with more decimals than its currency has or in a currency
outside ISO 4217 (``rails.amounts``), ``NbOfTxs`` that disagrees with the transactions,
a UETR twice in one message, more than ``limits.MAX_RAIL_TRANSACTIONS`` transactions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from lxml import etree

from tindahan import limits
from tindahan.rails.amounts import from_text
from tindahan.rails.errors import MessageError, Problem
from tindahan.rails.model import Message, MessageType, Party, Transaction
from tindahan.rails.xml import hardened, schemas


def read(data: bytes) -> Message:
    """The message in ``data``, validated; ``MessageError`` naming the problem otherwise."""
    root = hardened.parse(data)
    message_type = schemas.identify(root)
    schemas.check(root, message_type)
    message = _READERS[message_type](_Node(root, message_type.namespace)[0])
    _check_transactions(message)
    return message


class _Node:
    """An element with finders in its message's namespace: ``node.text("PmtId/UETR")``."""

    __slots__ = ("element", "ns")

    def __init__(self, element: etree._Element, ns: str) -> None:
        self.element = element
        self.ns = ns

    def __getitem__(self, index: int) -> _Node:
        return _Node(self.element[index], self.ns)

    def text(self, path: str) -> str | None:
        found = self.element.find(_qualified(self.ns, path))
        return None if found is None or found.text is None else found.text.strip()

    def first(self, *paths: str) -> str | None:
        for path in paths:
            value = self.text(path)
            if value is not None:
                return value
        return None

    def find(self, path: str) -> _Node | None:
        found = self.element.find(_qualified(self.ns, path))
        return None if found is None else _Node(found, self.ns)

    def all(self, path: str) -> Iterator[_Node]:
        for found in self.element.iterfind(_qualified(self.ns, path)):
            yield _Node(found, self.ns)

    def amount(self, path: str) -> tuple[int | None, str | None]:
        found = self.element.find(_qualified(self.ns, path))
        if found is None or found.text is None:
            return None, None
        currency = found.get("Ccy", "")
        return from_text(found.text, currency), currency

    def account(self, path: str) -> str | None:
        return self.first(path + "/Id/Othr/Id", path + "/Id/IBAN")


@functools.cache
def _qualified(ns: str, path: str) -> str:
    return "/".join("{" + ns + "}" + tag for tag in path.split("/"))


def _created(node: _Node) -> datetime | None:
    text = node.first("GrpHdr/CreDtTm", "Assgnmt/CreDtTm")
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # a valid xs:dateTime Python cannot hold (e.g. 7+ fraction digits)
        return None


def _message_id(node: _Node) -> str:
    return node.first("GrpHdr/MsgId", "Assgnmt/Id") or ""


def _reason(node: _Node, path: str) -> tuple[str | None, str | None]:
    code = node.first(path + "/Rsn/Cd", path + "/Rsn/Prtry")
    note = node.text(path + "/AddtlInf")
    return code, note


def _original_message(node: _Node) -> str | None:
    return node.text("OrgnlGrpInf/OrgnlMsgId")


def _pacs008(body: _Node) -> Message:
    transactions = []
    for item in body.all("CdtTrfTxInf"):
        minor, currency = item.amount("IntrBkSttlmAmt")
        transactions.append(
            Transaction(
                uetr=item.text("PmtId/UETR"),
                end_to_end_id=item.text("PmtId/EndToEndId"),
                amount_minor=minor,
                currency=currency,
                debtor=Party(item.text("Dbtr/Nm"), item.account("DbtrAcct")),
                creditor=Party(item.text("Cdtr/Nm"), item.account("CdtrAcct")),
                debtor_agent=item.text("DbtrAgt/FinInstnId/BICFI"),
                creditor_agent=item.text("CdtrAgt/FinInstnId/BICFI"),
                reference=item.text("RmtInf/Ustrd"),
            )
        )
    _check_count(body, len(transactions))
    return Message(
        MessageType.PACS_008,
        _message_id(body),
        _created(body),
        tuple(transactions),
        clearing_system=body.first("GrpHdr/SttlmInf/ClrSys/Prtry", "GrpHdr/SttlmInf/ClrSys/Cd"),
        settlement_method=body.text("GrpHdr/SttlmInf/SttlmMtd"),
    )


def _check_count(body: _Node, actual: int) -> None:
    stated = body.text("GrpHdr/NbOfTxs")
    if stated is not None and int(stated) != actual:
        raise MessageError(
            Problem.INVALID, f"NbOfTxs says {int(stated)} but the message has {actual}"
        )


def _reference_parties(item: _Node) -> tuple[Party | None, Party | None]:
    reference = item.find("OrgnlTxRef")
    if reference is None:
        return None, None
    debtor = Party(reference.text("Dbtr/Pty/Nm"), reference.account("DbtrAcct"))
    creditor = Party(reference.text("Cdtr/Pty/Nm"), reference.account("CdtrAcct"))
    return debtor, creditor


def _answering(item: _Node, amount: str, group_original: str | None, **said: Any) -> Transaction:
    """One transaction of a message that answers (pacs.002), asks about (pacs.028) or returns
    (pacs.004) an earlier one: the original's references, amount and parties, plus ``said``."""
    minor, currency = item.amount(amount)
    debtor, creditor = _reference_parties(item)
    return Transaction(
        uetr=item.text("OrgnlUETR"),
        end_to_end_id=item.text("OrgnlEndToEndId"),
        amount_minor=minor,
        currency=currency,
        debtor=debtor,
        creditor=creditor,
        original_message_id=_original_message(item) or group_original,
        **said,
    )


def _pacs002(body: _Node) -> Message:
    group_original = body.text("OrgnlGrpInfAndSts/OrgnlMsgId")
    transactions = []
    for item in body.all("TxInfAndSts"):
        reason, note = _reason(item, "StsRsnInf")
        transactions.append(
            _answering(
                item,
                "OrgnlTxRef/IntrBkSttlmAmt",
                group_original,
                status=item.text("TxSts"),
                reason=reason,
                note=note,
            )
        )
    return Message(MessageType.PACS_002, _message_id(body), _created(body), tuple(transactions))


def _pacs028(body: _Node) -> Message:
    group_original = body.text("OrgnlGrpInf/OrgnlMsgId")
    transactions = []
    for item in body.all("TxInf"):
        transactions.append(_answering(item, "OrgnlTxRef/IntrBkSttlmAmt", group_original))
    return Message(MessageType.PACS_028, _message_id(body), _created(body), tuple(transactions))


def _pacs004(body: _Node) -> Message:
    group_original = body.text("OrgnlGrpInf/OrgnlMsgId")
    transactions = []
    for item in body.all("TxInf"):
        reason, note = _reason(item, "RtrRsnInf")
        transactions.append(
            _answering(item, "RtrdIntrBkSttlmAmt", group_original, reason=reason, note=note)
        )
    _check_count(body, len(transactions))
    return Message(
        MessageType.PACS_004,
        _message_id(body),
        _created(body),
        tuple(transactions),
        clearing_system=body.first("GrpHdr/SttlmInf/ClrSys/Prtry", "GrpHdr/SttlmInf/ClrSys/Cd"),
        settlement_method=body.text("GrpHdr/SttlmInf/SttlmMtd"),
    )


def _report(message_type: MessageType, report_tag: str) -> Callable[[_Node], Message]:
    """camt.053 (``Stmt``) and camt.054 (``Ntfctn``): entries, one row per transaction."""

    def reader(body: _Node) -> Message:
        transactions: list[Transaction] = []
        account = day = report_id = None
        for report in body.all(report_tag):
            account = account or report.account("Acct")
            day = day or _day(report.first("Bal/Dt/Dt", "Bal/Dt/DtTm"))
            report_id = report_id or report.text("Id")
            for entry in report.all("Ntry"):
                transactions.extend(_entry(entry))
        return Message(
            message_type,
            _message_id(body),
            _created(body),
            tuple(transactions),
            account=account,
            statement_date=day,
            report_id=report_id,
        )

    return reader


def _entry(entry: _Node) -> Iterator[Transaction]:
    minor, currency = entry.amount("Amt")
    status = entry.first("Sts/Cd", "Sts/Prtry")
    side = entry.text("CdtDbtInd")
    booked = _day(entry.first("BookgDt/Dt", "BookgDt/DtTm"))
    reference = entry.first("NtryRef", "AcctSvcrRef")
    details = list(entry.all("NtryDtls/TxDtls"))
    if not details:
        yield Transaction(
            amount_minor=minor,
            currency=currency,
            status=status,
            credit_debit=side,
            booking_date=booked,
            reference=reference,
        )
        return
    for detail in details:
        detail_minor, detail_currency = detail.amount("Amt")
        reason, note = _reason(detail, "RtrInf")
        yield Transaction(
            uetr=detail.text("Refs/UETR"),
            end_to_end_id=detail.text("Refs/EndToEndId"),
            amount_minor=detail_minor if detail_minor is not None else minor,
            currency=detail_currency or currency,
            debtor=Party(
                detail.text("RltdPties/Dbtr/Pty/Nm"), detail.account("RltdPties/DbtrAcct")
            ),
            creditor=Party(
                detail.text("RltdPties/Cdtr/Pty/Nm"), detail.account("RltdPties/CdtrAcct")
            ),
            status=status,
            reason=reason,
            note=note,
            credit_debit=detail.text("CdtDbtInd") or side,
            booking_date=booked,
            reference=reference,
        )


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _check_transactions(message: Message) -> None:
    if len(message.transactions) > limits.MAX_RAIL_TRANSACTIONS:
        raise MessageError(
            Problem.INVALID,
            f"{len(message.transactions)} transactions, more than "
            f"{limits.MAX_RAIL_TRANSACTIONS} in one message",
        )
    if message.message_type not in {MessageType.PACS_008, MessageType.PACS_004}:
        return
    uetrs = [item.uetr for item in message.transactions if item.uetr is not None]
    if len(set(uetrs)) != len(uetrs):
        raise MessageError(Problem.INVALID, "a UETR appears twice in one message")


def _camt056(body: _Node) -> Message:
    """A recall: per transaction the original's references and amount, the reason (a
    cancellation reason code), the recalling bank (``debtor_agent``) and the case id
    (``reference``)."""
    assigner = body.text("Assgnmt/Assgnr/Agt/FinInstnId/BICFI")
    case_id = body.text("Case/Id")
    transactions = []
    for item in body.all("Undrlyg/TxInf"):
        reason, note = _reason(item, "CxlRsnInf")
        transactions.append(
            _answering(
                item,
                "OrgnlIntrBkSttlmAmt",
                None,
                reason=reason,
                note=note,
                debtor_agent=assigner,
                reference=item.text("Case/Id") or case_id,
            )
        )
    return Message(MessageType.CAMT_056, _message_id(body), _created(body), tuple(transactions))


def _camt029(body: _Node) -> Message:
    """A recall's answer: per transaction ``ACCR`` or ``RJCR`` (``status``) and the reason."""
    case_id = body.text("RslvdCase/Id")
    transactions = []
    for item in body.all("CxlDtls/TxInfAndSts"):
        reason, note = _reason(item, "CxlStsRsnInf")
        transactions.append(
            _answering(
                item,
                "OrgnlIntrBkSttlmAmt",
                None,
                status=item.text("TxCxlSts") or body.text("Sts/Conf"),
                reason=reason,
                note=note,
                reference=case_id,
            )
        )
    return Message(MessageType.CAMT_029, _message_id(body), _created(body), tuple(transactions))


_READERS: dict[MessageType, Callable[[_Node], Message]] = {
    MessageType.PACS_008: _pacs008,
    MessageType.PACS_002: _pacs002,
    MessageType.PACS_028: _pacs028,
    MessageType.PACS_004: _pacs004,
    MessageType.CAMT_053: _report(MessageType.CAMT_053, "Stmt"),
    MessageType.CAMT_054: _report(MessageType.CAMT_054, "Ntfctn"),
    MessageType.CAMT_056: _camt056,
    MessageType.CAMT_029: _camt029,
}
