"""Tindahan: payments, selling and credit for Philippine MSMEs on one double-entry ledger."""
