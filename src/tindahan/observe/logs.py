"""Log lines a pipeline can read: one JSON object per line, each carrying its request's id.

``configure`` routes the standard library's ``logging`` (every module here logs through it,
as do uvicorn and the libraries) through structlog's ``ProcessorFormatter``: the record's
message and its ``extra`` fields, the request's context (``bind_request``: request id,
method, route), a UTC timestamp and the level, rendered as JSON (or, with ``text``, as
aligned key=value lines for a person at a terminal).

Nothing personal or secret may reach a line (Data Privacy Act; DESIGN.md). The modules log
ids, never names, numbers or keys; ``redact`` is the net under that rule: any field named
like a secret (``pin``, ``password``, ``secret``, ``key``/``api_key`` values, ``phone``,
``id_number``, ``authorization``, ``cookie``) is replaced, and in every string an API key
(``tk_live_…``/``tk_test_…``), a webhook secret (``whsec_…``), a Philippine mobile number in
any of its usual spellings and a long run of digits (a card, an account, an ID number) are
masked.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO

#: Fields whose value is never logged, whatever it is.
SECRET_FIELDS = frozenset(
    {
        "pin",
        "new_pin",
        "password",
        "secret",
        "api_key",
        "authorization",
        "cookie",
        "phone",
        "phone_number",
        "id_number",
        "account_number",
        "otp",
        "code",
    }
)
MASK = "[redacted]"
_PATTERNS = (
    re.compile(r"\b(?:tk|sk|pk)_(?:live|test)_[A-Za-z0-9_-]{8,}"),  # API keys
    re.compile(r"\bwhsec_[A-Za-z0-9_-]{8,}"),  # webhook secrets
    # Philippine mobiles: +63 917 123 4567, 639171234567, 09171234567, 0917-123-4567.
    re.compile(r"(?<!\d)(?:\+?63|0)[\s-]?9\d{2}[\s-]?\d{3}[\s-]?\d{4}(?!\d)"),
    re.compile(r"(?<![\w-])\d{9,}(?![\w-])"),  # long digit runs: accounts, cards, ID numbers
)
#: A request id taken from ``X-Request-Id`` must look like one (no log injection).
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def scrub(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: secret fields replaced, secret-looking text masked."""
    for name, value in list(event.items()):
        if name.lower() in SECRET_FIELDS:
            event[name] = MASK
        elif isinstance(value, str):
            event[name] = scrub(value)
    return event


def request_id(header: str | None) -> str:
    """The caller's ``X-Request-Id`` when it looks like an id, else a new one."""
    if header and REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


@contextmanager
def bind_request(**fields: Any) -> Iterator[None]:
    """Every line logged inside carries ``fields`` (the request id, method, route...).

    Set and reset by token rather than with structlog's ``bound_contextvars``, which first
    copies the whole context to save what it overwrites (about 20 µs on every request;
    issue 18): a token puts back exactly what was there, a value or nothing."""
    from structlog.contextvars import bind_contextvars, reset_contextvars

    tokens = bind_contextvars(**fields)
    try:
        yield
    finally:
        reset_contextvars(**tokens)


def configure(
    style: str = "json", stream: TextIO | None = None, level: int = logging.INFO
) -> logging.Handler:
    """Send the ``tindahan`` loggers' records to ``stream`` (stderr) as JSON lines
    (``style="json"``) or key=value text (``"text"``); returns the handler it installed.
    uvicorn's own start-up and error lines keep uvicorn's format."""
    import structlog

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if style == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, redact, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tindahan")
    for earlier in [h for h in logger.handlers if getattr(h, "tindahan_json", False)]:
        logger.removeHandler(earlier)
    handler.tindahan_json = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
