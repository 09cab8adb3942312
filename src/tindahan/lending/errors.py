"""Why a loan rule refused something: a stable code, a sentence, and the field at fault.

The services turn a ``LendingError`` into the platform's refusal (400 on the API, exit 2
on the CLI); the domain never knows about either.
"""

from __future__ import annotations


class LendingError(ValueError):
    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
