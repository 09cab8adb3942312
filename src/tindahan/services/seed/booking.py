"""The seed's money movements on either ledger (issue 22): each movement the demo makes, by
the path the deployment's ledger takes.

On the SQL ledger a movement is its use case in one transaction (``payments.pay``,
``cash.fund``…), as it always was. On a TigerBeetle deployment the same use case goes
through the two-store order (``payments.two_store``: A, the holds, B, the posts, C) by the
function the API's route calls there (``two_store.pay``, ``cash.fund_on_cluster``,
``refunds.create_on_cluster``…), under an Idempotency-Key of its own in the scope
``SCOPE``, so the demo's money is in the cluster and ``ledger verify`` finds every
movement's transfers there. The answer is the movement's view; a refusal is raised as it
is on the SQL path (the seed's callers skip a refused sale, as a real buyer would).

An order's payment into escrow (the buyer abroad's in dollars too, at its quote) and its
release go the same way (``escrow_cluster``'s A through ``two_store.run`` with the order's
record). A movement the cluster does not take yet (a raw sweep)
still calls its SQL path, which refuses it there with ``409 ledger_not_supported``; the
seed counts those by name (``Skipped``) and says what it skipped instead of failing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any, NoReturn

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.port import LedgerPort
from tindahan.services.commerce import escrow, escrow_cluster
from tindahan.services.payments import cash, payments, refunds, requests, two_store
from tindahan.services.platform import idempotency
from tindahan.services.unit import Platform, Unit

#: The idempotency scope of the seed's movements on a cluster (their keys are fresh UUIDs).
SCOPE = "seed"
#: The refusal a movement not ported to the cluster gets (``movement.sql_ledger_only``).
NOT_PORTED = "ledger_not_supported"

#: A cluster function's tail: scope, key, fingerprint, render, render_refusal.
_OnCluster = Callable[..., idempotency.Response]


class Skipped(Counter[str]):
    """What the seed left out on a TigerBeetle ledger, by what it was, with how many."""

    def note(self, what: str, refusal: RefusalError) -> bool:
        """Count ``refusal`` under ``what`` when it is the cluster's "not yet"; True if so."""
        if refusal.code != NOT_PORTED:
            return False
        self[what] += 1
        return True

    def lines(self) -> list[str]:
        return [f"{count} × {what}" for what, count in sorted(self.items())]


def _raise(refusal: RefusalError) -> NoReturn:
    raise refusal


def _render(view: Any) -> idempotency.Response:
    return idempotency.Response(200, dict(view))


def _on_cluster(call: _OnCluster) -> dict[str, Any]:
    key = uuid.uuid4().hex
    answer = call(scope=SCOPE, key=key, fingerprint=key, render=_render, render_refusal=_raise)
    return answer.body


def _either(platform: Platform, sql: Callable[[Unit], Any], cluster: _OnCluster) -> dict[str, Any]:
    if platform.ledger is None:
        return dict(platform.run(sql))
    return _on_cluster(cluster)


def pay(platform: Platform, caller: Caller, new: payments.NewPayment) -> dict[str, Any]:
    """A merchant payment or a P2P send."""
    return _either(
        platform,
        partial(payments.pay, caller=caller, new=new),
        partial(two_store.pay, platform, caller, new),
    )


def fund(
    platform: Platform,
    caller: Caller,
    wallet_id: str,
    amount_minor: int,
    currency: str,
    reference: str | None,
) -> dict[str, Any]:
    """An operator's funding of a wallet (in its currency)."""
    args = (caller, wallet_id, amount_minor, currency, reference)
    return _either(
        platform, lambda u: cash.fund(u, *args), partial(cash.fund_on_cluster, platform, *args)
    )


def cash_in(
    platform: Platform,
    caller: Caller,
    customer_id: str,
    amount_minor: int,
    currency: str,
    agent_id: str | None,
) -> dict[str, Any]:
    args = (caller, customer_id, amount_minor, currency, agent_id)
    return _either(
        platform,
        lambda u: cash.cash_in(u, *args),
        partial(cash.cash_in_on_cluster, platform, *args),
    )


def cash_out(
    platform: Platform,
    caller: Caller,
    agent_id: str,
    amount_minor: int,
    currency: str,
    customer_id: str | None,
) -> dict[str, Any]:
    """The customer's request (``pending``: it waits for the agent's ``confirm``)."""
    args = (caller, agent_id, amount_minor, currency, customer_id)
    return _either(
        platform,
        lambda u: cash.cash_out(u, *args),
        partial(cash.cash_out_on_cluster, platform, *args),
    )


def confirm(platform: Platform, caller: Caller, payment_id: str) -> dict[str, Any]:
    """The agent hands over the cash."""
    return _either(
        platform,
        lambda u: cash.confirm(u, caller, payment_id),
        partial(cash.confirm_on_cluster, platform, caller, payment_id),
    )


def refund(
    platform: Platform,
    caller: Caller,
    payment_id: str,
    amount_minor: int | None,
    reason: str | None,
) -> dict[str, Any]:
    args = (caller, payment_id, amount_minor, reason)
    return _either(
        platform,
        lambda u: refunds.create(u, *args),
        partial(refunds.create_on_cluster, platform, *args),
    )


def pay_request(
    platform: Platform, caller: Caller, request_id: str, payer_id: str | None = None
) -> dict[str, Any]:
    """A payment request paid by the caller."""

    def reserve(unit: Unit, ledger: LedgerPort) -> Any:
        return requests.reserve(unit, ledger, caller, request_id, payer_id)

    return _either(
        platform,
        lambda u: requests.pay(u, caller, request_id, payer_id),
        partial(two_store.run, platform, reserve=reserve),
    )


def accept_offer(platform: Platform, caller: Caller, offer_id: str) -> dict[str, Any]:
    """The merchant accepts a loan offer: the loan booked, its net proceeds disbursed."""
    from tindahan.services.lending import offers
    from tindahan.services.payments import loan_cluster

    return _either(
        platform,
        lambda u: offers.accept(u, caller, offer_id),
        partial(loan_cluster.accept, platform, caller, offer_id),
    )


def pay_order(
    platform: Platform, caller: Caller, order_id: str, quote_id: str | None
) -> dict[str, Any]:
    """An order paid into its escrow by its buyer (``quote_id``: a wallet in dollars)."""

    def reserve(unit: Unit, ledger: LedgerPort) -> Any:
        return escrow_cluster.reserve_pay(unit, caller, order_id, quote_id)

    return _either(
        platform,
        lambda u: escrow.pay(u, caller, order_id, quote_id),
        partial(two_store.run, platform, reserve=reserve, record=escrow_cluster.RECORD),
    )


def confirm_order(platform: Platform, caller: Caller, order_id: str) -> dict[str, Any]:
    """The buyer confirms receipt: escrow released to the merchant."""

    def reserve(unit: Unit, ledger: LedgerPort) -> Any:
        return escrow_cluster.reserve_confirm(unit, caller, order_id)

    return _either(
        platform,
        lambda u: escrow.confirm(u, caller, order_id),
        partial(two_store.run, platform, reserve=reserve, record=escrow_cluster.RECORD),
    )
