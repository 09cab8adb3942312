"""Storage: tables, connections, migrations and the ledger repository (SQLAlchemy 2)."""
