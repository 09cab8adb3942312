"""Insights for a merchant (issue 26): what to reorder, from its own online sales."""
