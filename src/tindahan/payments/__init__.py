"""Payments' rules, in plain Python: parties, KYC tiers and their limits, fees, states.

The services layer (``tindahan.services.payments.payments``) runs these rules inside one database
transaction with the ledger write; nothing here knows about a database or HTTP.
"""
