"""Who is calling, and what they may reach (DESIGN.md invariant 7: tenancy).

An API key belongs to one party or to the operator. A party's key reaches that party's own
objects only; anything else answers "no such …" (404), exactly as if it did not exist, so
ids cannot be probed. The operator's keys reach everything. Scopes narrow a key further:
a key for a shop's reporting needs ``payments:read`` and nothing that moves money.
"""

from __future__ import annotations

from dataclasses import dataclass

from tindahan.kernel.refusals import Category, RefusalError, invalid

SCOPES = (
    "parties:read",
    "parties:write",
    "wallets:read",
    "payments:read",
    "payments:write",
    "orders:read",
    "orders:write",
    "catalog:write",
    "credit:read",
    "credit:write",
    "loans:read",
    "loans:write",
    "webhooks:read",
    "webhooks:write",
    "keys:write",
    "risk:read",
    "risk:write",
)
#: What a key gets when ``--scopes`` is not given: everything a party may do.
DEFAULT_SCOPES = SCOPES
OPERATOR = "operator"


def unauthenticated(code: str, message: str) -> RefusalError:
    return RefusalError(Category.AUTHENTICATION, code, message)


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    party_id: str | None  # None: the operator
    scopes: frozenset[str]

    @property
    def operator(self) -> bool:
        return self.party_id is None

    @property
    def scope(self) -> str:
        """Whose namespace idempotency keys live in."""
        return self.party_id or OPERATOR

    def reaches(self, *party_ids: str | None) -> bool:
        """True for the operator, or when the caller is one of the parties."""
        return self.operator or (self.party_id is not None and self.party_id in party_ids)

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            message = f"this API key lacks the {scope} scope"
            raise RefusalError(Category.PERMISSION, "scope_missing", message, scope)

    def require_operator(self) -> None:
        if not self.operator:
            message = "only an operator key may do this"
            raise RefusalError(Category.PERMISSION, "operator_only", message)


def parse_scopes(text: str) -> frozenset[str]:
    wanted = frozenset(s.strip() for s in text.split(",") if s.strip())
    unknown = sorted(wanted - set(SCOPES))
    if unknown or not wanted:
        raise invalid(
            "scopes_invalid",
            f"unknown scope {unknown[0]!r}; known: {', '.join(SCOPES)}"
            if unknown
            else "give at least one scope",
            "scopes",
        )
    return wanted
