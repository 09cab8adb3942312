"""Tamper evidence outside the database: signed chain heads written where the database's
owner cannot reach (see ``tindahan.ledger.anchor`` for the format and the rules)."""
