"""The one door to a clearing house: what the services need of any connector.

``RailPort`` is a protocol: the in-process fake of the tests, the simulated switch process
(item 6, not yet) and a real connector (a bank's API, a message gateway) each implement it,
and the services never know which. Messages cross it as ISO 20022 bytes, built and read by
``rails.xml``; the connector only carries them.
"""

from __future__ import annotations

from typing import Protocol


class RailPort(Protocol):
    def send(self, message: bytes) -> None:
        """Hand over a pacs.008 (the answer comes later, through ``answers``), or a recall's
        pacs.004 and camt.029."""

    def request_status(self, message: bytes) -> bytes | None:
        """Ask with a pacs.028; a pacs.002 when the clearing house answers at once, else None."""

    def answers(self) -> list[bytes]:
        """The pacs.002 and pacs.004 messages received since the last call."""
