"""An in-process clearing house for the tests: takes pacs.008, answers pacs.002/pacs.004.

It holds what a real one would: every transfer it was sent (read back through the same
hardened reader, so what we send must validate), a status per UETR it will give when asked
(pacs.028), and builds the answers the tests hand to ``services.rails.transfers.receive``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from tindahan.rails import ClearingSystem, MessageType, PaymentReturn, StatusAnswer, Transaction
from tindahan.rails import xml as rails_xml
from tindahan.rails.identifiers import new_reference

NOW = datetime(2026, 9, 1, 2, tzinfo=UTC)


class FakeRail:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.transactions: dict[str, tuple[str, Transaction]] = {}  # uetr -> (message id, tx)
        self.status_on_request: dict[str, tuple[str, str | None]] = {}
        self.requests = 0

    # RailPort
    def send(self, message: bytes) -> None:
        read = rails_xml.read(message)
        assert read.message_type is MessageType.PACS_008
        self.sent.append(message)
        for item in read.transactions:
            assert item.uetr is not None
            self.transactions[item.uetr] = (read.message_id, item)

    def request_status(self, message: bytes) -> bytes | None:
        self.requests += 1
        read = rails_xml.read(message)
        assert read.message_type is MessageType.PACS_028
        (item,) = read.transactions
        assert item.uetr is not None
        if item.uetr not in self.status_on_request:
            return None
        status, reason = self.status_on_request[item.uetr]
        return self.status(item.uetr, status, reason)

    def answers(self) -> list[bytes]:
        return []

    # what a bank answers
    def status(self, uetr: str, status: str, reason: str | None = None) -> bytes:
        message_id, item = self.transactions[uetr]
        assert item.end_to_end_id is not None
        answer = StatusAnswer(message_id, uetr, item.end_to_end_id, status, reason)
        return rails_xml.pacs002(message_id=new_reference("S"), created_at=NOW, answers=[answer])

    def returned(self, uetr: str, amount_minor: int, reason: str = "AC04") -> bytes:
        message_id, item = self.transactions[uetr]
        assert item.end_to_end_id is not None
        back = PaymentReturn(message_id, uetr, item.end_to_end_id, amount_minor, "PHP", reason)
        return rails_xml.pacs004(
            message_id=new_reference("R"),
            created_at=NOW,
            settlement_date=date(2026, 9, 1),
            clearing_system=ClearingSystem.INSTAPAY,
            returns=[back],
        )
