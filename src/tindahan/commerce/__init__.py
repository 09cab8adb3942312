"""Selling online: the catalog, the order state machine, escrow splits, FX quotes, disputes.

Pure rules (no database, no framework): ``services.catalog``, ``services.orders`` and the
rest apply them inside a transaction.
"""
