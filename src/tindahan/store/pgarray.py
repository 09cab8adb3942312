"""PostgreSQL array literals made in Python, for statements that take a column as one array.

The risk gate sends its buckets (and a review's alerts) as one array per column, so its
statement text and parameter count stay fixed whatever the movement (psycopg caches their
parsing). psycopg's own list dumper is general — it finds each element's type and checks
every string for characters to quote (a regular expression per element) — and profiled at
a fifth of the gate's client CPU on PostgreSQL. These build the same array as its text
literal (``{"a","b"}``, ``{1,2}``), sent as one string parameter and cast in the statement
(``CAST(:p AS text[])``), which PostgreSQL parses: every string element is double-quoted
with its backslashes and double quotes escaped, so any text round-trips as it was (tested
against the server, ``tests/risk/test_pg_arrays.py``).
"""

from __future__ import annotations

from collections.abc import Iterable


def text_array(values: Iterable[str | None]) -> str:
    """The literal of a ``text[]``: each element quoted and escaped; None is NULL."""
    return "{" + ",".join("NULL" if v is None else _quoted(v) for v in values) + "}"


def int_array(values: Iterable[int]) -> str:
    """The literal of an integer array (``int[]``, ``bigint[]``)."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def bool_array(values: Iterable[bool]) -> str:
    """The literal of a ``boolean[]``."""
    return "{" + ",".join("t" if v else "f" for v in values) + "}"


def _quoted(value: str) -> str:
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + value + '"'
