"""What another bank sends us through the clearing house, by message type.

The one entry of the connector's door (``POST /v1/rails/messages``): the bytes are read
once (hardened, schema-validated; ``MessageError`` otherwise, nothing done) and handed to
the use case of their type — a pacs.008 to ``inbound`` (credited or rejected, the pacs.002
is the answer), a camt.056 to ``recalls`` (pending for the operator: no answer yet, unless
the transfer is not ours: the camt.029 at once). Any other message is refused.
"""

from __future__ import annotations

from tindahan.kernel.refusals import invalid
from tindahan.rails import MessageType
from tindahan.rails import xml as rails_xml
from tindahan.services.rails import inbound, recalls
from tindahan.services.unit import Platform


def receive(platform: Platform, data: bytes) -> bytes | None:
    """The immediate answer to ``data``, or None when it comes later."""
    message = rails_xml.read(data)
    if message.message_type is MessageType.PACS_008:
        return inbound.answer(platform, message)
    if message.message_type is MessageType.CAMT_056:
        return recalls.receive(platform, message)
    raise invalid(
        "message_unexpected",
        f"we take a pacs.008 or a camt.056 here, not {message.message_type}",
        "message",
    )
