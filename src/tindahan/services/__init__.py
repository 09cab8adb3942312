"""Use cases: one function per use case, each one database transaction (DESIGN.md, layer 3)."""
