"""Sanctions and watch lists, read into entries to screen names against.

* **The UN Security Council consolidated list** in its published XML form
  (``CONSOLIDATED_LIST`` with ``INDIVIDUALS/INDIVIDUAL`` and ``ENTITIES/ENTITY``; each has a
  ``DATAID``, a ``REFERENCE_NUMBER``, ``FIRST_NAME`` … ``FOURTH_NAME`` and
  ``INDIVIDUAL_ALIAS`` / ``ENTITY_ALIAS`` elements with an ``ALIAS_NAME``). It is parsed by
  ``defusedxml`` with DTDs forbidden: a file with a DOCTYPE, an entity declaration or an
  external reference is refused before anything is read (the list is public data fetched
  from outside: an XML bomb or an external entity must never reach a parser that expands
  it).
* **A local watch list** as CSV: ``id, name`` and optionally ``aliases`` (separated by
  ``;``), ``kind`` (individual or entity) and ``note`` — the operator's own list (people
  named in court orders, previous frauds, the AMLC's freeze orders).

Either file is read whole and checked before any entry is used: a bad one is refused with
the element or line that is wrong, and the previous list stays in force.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeXml

from tindahan import limits
from tindahan.risk.errors import RiskInputError


@dataclass(frozen=True, slots=True)
class Entry:
    source: str  # "un" or the watch list's file name
    ref: str  # the list's own reference (UN reference number, the watch list id)
    kind: str  # "individual" or "entity"
    names: tuple[str, ...]  # the primary name first, then aliases


NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > limits.SCREEN_MAX_LIST_BYTES:
            raise RiskInputError(f"{path.name}: larger than {limits.SCREEN_MAX_LIST_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise RiskInputError(f"cannot read {path}: {exc.strerror}") from None


def load_un(path: Path) -> list[Entry]:
    return parse_un(_read(path), path.name)


def parse_un(data: bytes, name: str) -> list[Entry]:
    try:
        root = SafeXml.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise RiskInputError(
            f"{name}: refused: {type(exc).__name__} (no DOCTYPE or entities)"
        ) from None
    except ParseError as exc:
        raise RiskInputError(f"{name}: not well-formed XML ({exc})") from None
    if root.tag != "CONSOLIDATED_LIST":
        raise RiskInputError(f"{name}: the root element is <{root.tag}>, not <CONSOLIDATED_LIST>")
    entries: list[Entry] = []
    for group, item, alias, kind in (
        ("INDIVIDUALS", "INDIVIDUAL", "INDIVIDUAL_ALIAS", "individual"),
        ("ENTITIES", "ENTITY", "ENTITY_ALIAS", "entity"),
    ):
        for index, element in enumerate(root.findall(f"{group}/{item}"), 1):
            entries.append(_un_entry(element, alias, kind, f"{name}: <{item}> #{index}"))
    _bounded(entries, name)
    return entries


def _text(element: Element, tag: str) -> str:
    found = element.find(tag)
    return "" if found is None or found.text is None else " ".join(found.text.split())


def _un_entry(element: Element, alias_tag: str, kind: str, where: str) -> Entry:
    data_id = _text(element, "DATAID")
    if not data_id:
        raise RiskInputError(f"{where}: no <DATAID>")
    where = f"{where} (DATAID {data_id})"
    primary = " ".join(p for p in (_text(element, t) for t in NAME_PARTS) if p)
    if not primary:
        raise RiskInputError(f"{where}: no <FIRST_NAME>")
    aliases = [_text(a, "ALIAS_NAME") for a in element.findall(alias_tag)]
    names = tuple(_bounded_name(n, where) for n in (primary, *aliases) if n)
    return Entry("un", _text(element, "REFERENCE_NUMBER") or data_id, kind, names)


def _bounded_name(name: str, where: str) -> str:
    if len(name) > limits.SCREEN_MAX_NAME_LENGTH:
        raise RiskInputError(f"{where}: a name longer than {limits.SCREEN_MAX_NAME_LENGTH}")
    return name


def _bounded(entries: list[Entry], name: str) -> None:
    if len(entries) > limits.SCREEN_MAX_ENTRIES:
        raise RiskInputError(f"{name}: more than {limits.SCREEN_MAX_ENTRIES} entries")


WATCH_COLUMNS = ("id", "name")
KINDS = ("individual", "entity")


def load_watchlist(path: Path) -> list[Entry]:
    try:
        text = _read(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RiskInputError(f"{path.name}: not UTF-8 text ({exc.reason})") from None
    return parse_watchlist(text.splitlines(), path.name)


def parse_watchlist(lines: Iterable[str], name: str) -> list[Entry]:
    reader = csv.DictReader(lines)
    try:
        header = reader.fieldnames
        if not header:
            raise RiskInputError(f"{name}: empty file (a header with id, name)")
        missing = [c for c in WATCH_COLUMNS if c not in header]
        if missing:
            raise RiskInputError(f"{name} line 1: missing column {missing[0]!r}")
        entries: list[Entry] = []
        seen: set[str] = set()
        for row in reader:
            where = f"{name} line {reader.line_num}"
            entries.append(_watch_entry(row, where, name, seen))
    except csv.Error as exc:
        raise RiskInputError(f"{name} line {reader.line_num}: {exc}") from None
    _bounded(entries, name)
    return entries


def _watch_entry(row: dict[str, str | None], where: str, source: str, seen: set[str]) -> Entry:
    ref = (row.get("id") or "").strip()
    primary = " ".join((row.get("name") or "").split())
    if not ref:
        raise RiskInputError(f"{where}: id: empty")
    if ref in seen:
        raise RiskInputError(f"{where}: id: {ref!r} appears twice")
    seen.add(ref)
    if not primary:
        raise RiskInputError(f"{where}: name: empty")
    kind = (row.get("kind") or "individual").strip() or "individual"
    if kind not in KINDS:
        raise RiskInputError(f"{where}: kind: {kind!r} is not individual or entity")
    aliases = [" ".join(a.split()) for a in (row.get("aliases") or "").split(";")]
    names = tuple(_bounded_name(n, where) for n in (primary, *aliases) if n)
    return Entry(source, ref, kind, names)
