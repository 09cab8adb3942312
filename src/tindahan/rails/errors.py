"""The ways an ISO 20022 message is refused, each with a name a person can read.

``Problem`` is the short label the CLI prints first (``tindahan rails read`` exits 2 with
one line ``<problem>: <detail>``) and the API puts in its error code; the detail says where.
"""

from __future__ import annotations

from enum import StrEnum


class Problem(StrEnum):
    TOO_LARGE = "too large"
    NOT_XML = "not XML"
    ENTITIES = "entity declarations"
    UNKNOWN_MESSAGE = "unknown message"
    SCHEMA_INVALID = "schema-invalid"
    INVALID = "invalid"


class MessageError(ValueError):
    """A message refused before anything was done with it."""

    def __init__(self, problem: Problem, detail: str) -> None:
        super().__init__(f"{problem.value}: {detail}")
        self.problem = problem
        self.detail = detail
