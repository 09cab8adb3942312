"""Refusals: why a request changed nothing, as a stable ``code`` and a sentence.

Every refusal names its category, which the API maps to an HTTP status and error type
(``tindahan.api.errors``); the CLI prints the message. Codes are part of the API contract:
integrators branch on them, so they never change meaning.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any


class Category(enum.StrEnum):
    INVALID = "invalid_request_error"  # the request itself is wrong (400)
    NOT_FOUND = "not_found"  # no such object, or not yours (404)
    CONFLICT = "conflict"  # the object's state forbids it now (409)
    REFUSED = "payment_error"  # well-formed, but the money cannot move (402)
    AUTHENTICATION = "authentication_error"  # no valid API key (401)
    PERMISSION = "permission_error"  # a valid key without the right (403)
    IDEMPOTENCY = "idempotency_error"  # a key reused with another request (409)


class RefusalError(Exception):
    """A request refused by a rule; nothing was written."""

    def __init__(
        self, category: Category, code: str, message: str, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.category = category
        self.code = code
        self.message = message
        self.param = param
        #: What must be kept although the request changed nothing — the risk gate's alert
        #: about a movement it refused: ``Platform.run`` commits it, given a unit of work,
        #: in a transaction of its own after this one rolled back.
        self.aftermath: Callable[[Any], None] | None = None


def invalid(code: str, message: str, param: str | None = None) -> RefusalError:
    return RefusalError(Category.INVALID, code, message, param)


def not_found(what: str, param: str | None = None) -> RefusalError:
    return RefusalError(Category.NOT_FOUND, "resource_missing", f"no such {what}", param)


def conflict(code: str, message: str, param: str | None = None) -> RefusalError:
    return RefusalError(Category.CONFLICT, code, message, param)


def refused(code: str, message: str, param: str | None = None) -> RefusalError:
    return RefusalError(Category.REFUSED, code, message, param)
