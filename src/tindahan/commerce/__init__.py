"""Selling online: the catalog, the order state machine, escrow splits, FX quotes, disputes.

Pure rules (no database, no framework): ``services.commerce.catalog``, ``services.commerce.orders``
and the rest apply them inside a transaction.
"""
