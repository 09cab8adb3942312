"""Tables for people signing in to the web app, their browser sessions, and the audit log.

What the database holds a second time, after the services' checks (DESIGN.md):
* a login belongs to one party or is operator staff, never both (CHECK), and a party has at
  most one login (UNIQUE ``party_id``);
* a phone number opens one login: only its keyed hash (``phone_index``, UNIQUE) and its
  ciphertext are stored, never the number;
* the PIN or password is stored only as an Argon2 hash, and a session only as the SHA-256
  of its cookie secret (UNIQUE);
* the failure count is never negative (CHECK);
* sign-in throttles (``signin_throttles``) hold counts that are never negative and are keyed
  by keyed hashes (blind indexes) of what they count, never a phone number, an address or a
  PIN; a browser its owner signed in from (``signin_devices``) only as the SHA-256 of its
  cookie. (``logins.failed_attempts`` and ``locked_until_ns`` are no longer used: the hard
  lock-out they held was replaced by the throttles.)

The audit log is append-only by use: the services insert rows and never update them.
Times are ``*_ns``: integer nanoseconds since the epoch, UTC, like the ledger's.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from tindahan import limits
from tindahan.store.payment_tables import _ID
from tindahan.store.tables import metadata

logins = Table(
    "logins",
    metadata,
    Column("id", String(_ID), primary_key=True),
    #: NULL: operator staff.
    Column("party_id", String(_ID), ForeignKey("parties.id"), unique=True),
    Column("is_operator", Boolean, nullable=False),
    #: Staff: their display name; a party's login: the party's name when it was made.
    Column("name", String(limits.NAME_MAX_LENGTH), nullable=False),
    Column("phone_index", String(64), nullable=False, unique=True),
    Column("phone_cipher", Text, nullable=False),
    Column("phone_last4", String(4), nullable=False),
    Column("secret_hash", Text, nullable=False),  # Argon2 encoded hash
    #: The PIN asked before money leaves (``services.platform.pins``), Argon2 as well; NULL:
    #: not set, the sign-in secret is asked instead.
    Column("pay_pin_hash", Text),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("locked_until_ns", BigInteger),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("last_signed_in_ns", BigInteger),
    CheckConstraint("failed_attempts >= 0", name="failed_attempts"),
    CheckConstraint("is_operator = (party_id IS NULL)", name="operator_has_no_party"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),  # SHA-256 hex
    Column("login_id", String(_ID), ForeignKey("logins.id"), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("last_seen_ns", BigInteger, nullable=False),
    Column("expires_at_ns", BigInteger, nullable=False),
    Column("ended_at_ns", BigInteger),
)
Index("ix_web_sessions_login", web_sessions.c.login_id)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("at_ns", BigInteger, nullable=False, index=True),
    #: Who: an API key id (``key_…``), a login id (``lgn_…``), or ``cli`` / ``demo``.
    Column("actor", String(64), nullable=False),
    Column("action", String(60), nullable=False),  # party.updated, login.created, ...
    Column("object_type", String(40), nullable=False),
    Column("object_id", String(64), nullable=False),
    Column("note", Text),
    Column("details", Text, nullable=False),  # JSON object
)
Index("ix_audit_log_object", audit_log.c.object_id, audit_log.c.at_ns)

signin_throttles = Table(
    "signin_throttles",
    metadata,
    #: ``site``, ``client:<index>``, ``secret:<index>``, ``number:<index>``, ``pair:<i>:<i>``
    Column("key", String(160), primary_key=True),
    Column("window_start_ns", BigInteger, nullable=False),
    Column("tries", Integer, nullable=False),
    Column("blocked_until_ns", BigInteger, nullable=False),
    Column("strikes", Integer, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False, index=True),
    CheckConstraint("tries >= 0 AND strikes >= 0", name="counts"),
)

signin_devices = Table(
    "signin_devices",
    metadata,
    Column("digest", String(64), primary_key=True),  # SHA-256 hex of the cookie's secret
    Column("login_id", String(_ID), ForeignKey("logins.id"), nullable=False, index=True),
    Column("created_at_ns", BigInteger, nullable=False),
)


#: One-time codes sent by SMS (``services.platform.codes``): only a keyed hash of the code
#: (HMAC under the vault's index key, bound to the code's id), never the code; one live code
#: per (number, purpose); ``tries`` never above the limit (CHECK).
one_time_codes = Table(
    "one_time_codes",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("phone_index", String(64), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("tries", Integer, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("expires_at_ns", BigInteger, nullable=False),
    Column("used_at_ns", BigInteger),
    CheckConstraint("purpose IN ('signup', 'reset')", name="purpose"),
    CheckConstraint(f"tries >= 0 AND tries <= {limits.OTP_MAX_TRIES}", name="tries"),
)
Index("ix_one_time_codes_number", one_time_codes.c.phone_index, one_time_codes.c.purpose)
