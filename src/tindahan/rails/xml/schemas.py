"""The ISO 20022 schemas, compiled once per process, and checking a document against one.

The ``.xsd`` files beside this module are the unmodified base schemas (``schemas/SOURCES.md``
says where from, with their SHA-256); no Philippine usage guideline is public, so the base
schema is what we hold messages to, and the domain adds its own rules (amount decimals,
currencies, counts) on top when reading.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import resources
from typing import Any, cast

from lxml import etree

from tindahan.rails.errors import MessageError, Problem
from tindahan.rails.model import MessageType

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"


@functools.cache
def schema(message_type: MessageType) -> etree.XMLSchema:
    path = resources.files("tindahan.rails.xml") / "schemas" / f"{message_type.value}.xsd"
    with resources.as_file(path) as file:
        return etree.XMLSchema(etree.parse(str(file)))


def identify(root: etree._Element) -> MessageType:
    """Which message ``root`` is, from its namespace; refused when not one we read."""
    qname = etree.QName(root)
    namespace = qname.namespace or ""
    known = ", ".join(kind.value for kind in MessageType)
    if qname.localname != "Document" or not namespace.startswith(NAMESPACE_PREFIX):
        raise MessageError(
            Problem.UNKNOWN_MESSAGE,
            f"root element {root.tag} is not an ISO 20022 Document (we read {known})",
        )
    identifier = namespace.removeprefix(NAMESPACE_PREFIX)
    try:
        return MessageType(identifier)
    except ValueError:
        raise MessageError(
            Problem.UNKNOWN_MESSAGE, f"{identifier} is not a message we read (we read {known})"
        ) from None


def check(root: etree._Element, message_type: MessageType) -> None:
    """Validate against the message's schema; the first error, with its line, otherwise."""
    validator = schema(message_type)
    if validator.validate(root):
        return
    log = cast("Iterable[Any]", validator.error_log)  # (lxml-stubs leave it opaque)
    error = next(iter(log))
    text = str(error.message).replace("{" + message_type.namespace + "}", "")
    raise MessageError(Problem.SCHEMA_INVALID, f"{message_type.value} line {error.line}: {text}")
