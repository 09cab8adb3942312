"""Webhooks' rules: event types, the signature scheme, the retry schedule (plain Python)."""
