"""Parsing bytes from outside (a bank, a file, an HTTP body) without trusting them.

In order: the size limit (``limits.MAX_RAIL_MESSAGE_BYTES``) before anything is parsed; a
plain search for ``<!DOCTYPE``/``<!ENTITY`` in the bytes; then libxml2 with DTD loading,
entity resolution and network access off and no "huge tree"; then, whatever the encoding
of the bytes was, the parsed document's own DOCTYPE and internal subset. ISO 20022
messages never carry a DTD, so any declaration is refused as "entity declarations" rather
than quietly ignored: a sender who tries one learns it, and nothing is expanded.
"""

from __future__ import annotations

import threading

from lxml import etree

from tindahan import limits
from tindahan.rails.errors import MessageError, Problem

_local = threading.local()
_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def parse(data: bytes) -> etree._Element:
    """The root element of ``data``; ``MessageError`` naming the problem otherwise."""
    if len(data) > limits.MAX_RAIL_MESSAGE_BYTES:
        raise MessageError(
            Problem.TOO_LARGE,
            f"{len(data)} bytes, more than the {limits.MAX_RAIL_MESSAGE_BYTES} a message may be",
        )
    if any(marker in data for marker in _DECLARATIONS):
        raise MessageError(Problem.ENTITIES, "DOCTYPE and ENTITY declarations are refused")
    if not data.strip():
        raise MessageError(Problem.NOT_XML, "the input is empty")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise MessageError(Problem.NOT_XML, _syntax(exc)) from None
    docinfo = root.getroottree().docinfo
    doctype: str = getattr(docinfo, "doctype", "")  # (missing from lxml-stubs)
    if doctype or docinfo.internalDTD is not None:
        raise MessageError(Problem.ENTITIES, "DOCTYPE and ENTITY declarations are refused")
    return root


def _syntax(exc: etree.XMLSyntaxError) -> str:
    line = exc.lineno if exc.lineno is not None else "?"
    return str(exc.msg) if exc.msg else f"line {line}"
