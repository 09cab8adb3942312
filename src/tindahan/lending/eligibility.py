"""Whether a merchant may be offered a loan of a product, and how much: the offer's rules on
plain values, so they are tested without a database (``services.lending.offers`` loads the
assessment, the product and the KYC tier, calls ``decide`` and stores the offer).

The rules (README, "Lending"):

* the credit assessment must be *scored* (not "too little history"), at most
  ``limits.LOAN_ASSESSMENT_MAX_AGE_SECONDS`` old, with a probability of default at or below
  the product's ``max_probability``;
* the **limit** is the least of the product's maximum, the KYC tier's per-transaction maximum
  (the disbursement is one transaction into the wallet) and
  ``limits.LOAN_LIMIT_SALES_MONTHS`` months of the merchant's average monthly sales, rounded
  ``DOWN`` to the whole peso (in the lender's favour: never lend on a centavo not sold);
* the limit must reach the product's minimum principal.

``decide`` returns every reason that refuses, in that order, so a caller can show them all;
the service refuses with the first (the one a merchant has to fix first). A requested
principal and term are then checked against the limit and the product (``choose``): that is
bad input, not a credit decision, so it raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tindahan import limits
from tindahan.kernel.refusals import invalid
from tindahan.money import Rounding

#: How many days an assessment stays good for an offer (for the messages).
MAX_AGE_DAYS = limits.LOAN_ASSESSMENT_MAX_AGE_SECONDS // 86_400
_CENTAVOS_PER_PESO = 100


@dataclass(frozen=True)
class Assessment:
    """What an offer needs of a credit assessment."""

    scored: bool
    probability: Decimal | None  # of default; None when not scored
    created_at_ns: int
    sales_month_avg_minor: Decimal  # a feature: average monthly sales, in centavos


@dataclass(frozen=True)
class Product:
    """What an offer needs of a loan product."""

    min_principal_minor: int
    max_principal_minor: int
    min_term: int
    max_term: int
    max_probability: Decimal


@dataclass(frozen=True)
class Reason:
    """Why an offer is refused, in the API's error terms."""

    code: str
    message: str
    param: str


@dataclass(frozen=True)
class Decision:
    limit_minor: int
    reasons: tuple[Reason, ...]

    @property
    def eligible(self) -> bool:
        return not self.reasons


def sales_limit(sales_month_avg_minor: Decimal) -> int:
    """``LOAN_LIMIT_SALES_MONTHS`` months of sales, ``DOWN`` to the whole peso, in centavos."""
    months = Decimal(limits.LOAN_LIMIT_SALES_MONTHS)
    pesos = (sales_month_avg_minor * months / _CENTAVOS_PER_PESO).to_integral_value(
        rounding=Rounding.DOWN.value
    )
    return max(0, int(pesos)) * _CENTAVOS_PER_PESO


def loan_limit(sales_month_avg_minor: Decimal, product_max: int, tier_max: int | None) -> int:
    """The least of the product's maximum, the tier's per-transaction maximum and sales."""
    found = min(product_max, sales_limit(sales_month_avg_minor))
    return min(found, tier_max) if tier_max is not None else found


def decide(
    assessment: Assessment, product: Product, tier_max_minor: int | None, now_ns: int
) -> Decision:
    """The credit decision for an offer: the limit, and every reason that refuses it."""
    reasons: list[Reason] = []
    if not assessment.scored or assessment.probability is None:
        message = "the assessment found too little history to lend on"
        reasons.append(Reason("credit_not_approved", message, "assessment_id"))
    if now_ns - assessment.created_at_ns > limits.LOAN_ASSESSMENT_MAX_AGE_SECONDS * 10**9:
        message = f"the assessment is over {MAX_AGE_DAYS} days old: assess again"
        reasons.append(Reason("assessment_stale", message, "assessment_id"))
    probability = assessment.probability
    if assessment.scored and probability is not None and probability > product.max_probability:
        message = (
            f"the probability of default ({probability}) is above what this "
            f"product lends at ({product.max_probability})"
        )
        reasons.append(Reason("credit_not_approved", message, "assessment_id"))
    limit = loan_limit(
        assessment.sales_month_avg_minor, product.max_principal_minor, tier_max_minor
    )
    if limit < product.min_principal_minor:
        message = f"the limit ({limit} centavos, from recent sales) is below this product's minimum"
        reasons.append(Reason("limit_below_minimum", message, "product_id"))
    return Decision(limit, tuple(reasons))


def choose(limit_minor: int, product: Product, principal: object, term: object) -> tuple[int, int]:
    """The principal and term of the offer: as requested, or the limit and the longest term;
    a request outside ``[minimum, limit]`` or the product's terms is refused."""
    chosen = limit_minor if principal is None else principal
    low = product.min_principal_minor
    if isinstance(chosen, bool) or not isinstance(chosen, int) or not low <= chosen <= limit_minor:
        message = f"principal_minor is from {low} to {limit_minor} (the limit)"
        raise invalid("amount_out_of_range", message, "principal_minor")
    length = product.max_term if term is None else term
    shortest, longest = product.min_term, product.max_term
    if isinstance(length, bool) or not isinstance(length, int) or not shortest <= length <= longest:
        message = f"term is from {shortest} to {longest} installments"
        raise invalid("term_out_of_range", message, "term")
    return chosen, length
