"""Payout fixtures: the lending ones — a platform on a settable business clock, a merchant
with a credit assessment, a funded buyer and a loan product."""

from tests.lending.conftest import clock, platform, shop  # noqa: F401  (fixtures)
