"""The typed views the services return (``services.payments.views``,
``services.commerce.views``, ``services.lending.views``) have exactly the fields the API
documents for them: the ``TypedDict`` a service fills and the Pydantic model the API
serialises it with cannot drift apart, so typing the views changed no JSON shape."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from tindahan.api import commerce_schemas, schemas
from tindahan.services.commerce import views as order_views
from tindahan.services.lending import views as loan_views
from tindahan.services.payments import views as payment_views


@pytest.mark.parametrize(
    ("view", "model"),
    [
        (payment_views.PaymentView, schemas.Payment),
        (payment_views.LedgerTransferView, schemas.LedgerTransfer),
        (payment_views.WalletView, schemas.Wallet),
        (order_views.OrderView, commerce_schemas.Order),
        (order_views.OrderLineView, commerce_schemas.OrderLine),
        (order_views.EscrowView, commerce_schemas.Escrow),
        (order_views.OrderEventView, commerce_schemas.OrderEvent),
    ],
)
def test_a_view_has_the_fields_of_its_api_model(view: type, model: type[BaseModel]) -> None:
    assert set(view.__annotations__) == set(model.model_fields)


def test_the_loan_views_are_complete_typed_dicts() -> None:
    for view in (
        loan_views.LoanView,
        loan_views.LoanBalance,
        loan_views.InstallmentView,
        loan_views.LoanTransactionView,
    ):
        assert view.__required_keys__ == frozenset(view.__annotations__)
    assert "order_id" in loan_views.LoanTransactionView.__annotations__
