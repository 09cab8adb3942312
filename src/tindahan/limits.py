"""Every bound Tindahan enforces, in one place (DESIGN.md invariant 9).

A limit that lives anywhere else is a bug: code reads these names, tests read these names,
and an operator who must change one changes it here (or through the environment where a
setting says so). Each figure says where it comes from.
"""

from __future__ import annotations

from typing import Final

# --- Money -----------------------------------------------------------------------------
#: Largest amount, and largest balance field, in minor units: a signed 64-bit integer, which
#: is what both SQLite INTEGER and PostgreSQL BIGINT hold exactly.
MAX_AMOUNT_MINOR: Final = 2**63 - 1
#: Decimal digits of the context in which amount × rate is computed exactly; a rate carries at
#: most MAX_RATE_DIGITS significant digits within 1E-30..1E+30, so 19 digits of amount plus 30
#: of rate fit, and the only rounding is the one the caller names.
RATE_CONTEXT_PRECISION: Final = 50
MAX_RATE_DIGITS: Final = 30
MIN_RATE_EXPONENT: Final = -30
MAX_RATE_EXPONENT: Final = 29
#: Characters accepted by the money parser; the longest well-formed amount is far shorter.
MAX_MONEY_TEXT_LENGTH: Final = 64

# --- Ledger ----------------------------------------------------------------------------
#: Transfers (or accounts) in one request to the ledger. TigerBeetle's own batch limit is
#: 8,190 events; we keep the same figure so a client written for one fits the other.
MAX_BATCH: Final = 8190
#: Ledger timestamps are ``sequence_value * TIMESTAMP_STRIDE + index_in_batch``: one sequence
#: call per batch, strictly increasing across batches and within one. Must exceed MAX_BATCH.
TIMESTAMP_STRIDE: Final = 8192
#: Client-supplied ids of accounts and transfers (the ledger's idempotency keys).
ID_MAX_LENGTH: Final = 64
#: Ids the ledger makes itself (e.g. the void of an expired pending transfer) add a prefix
#: that clients cannot use, so they may be this much longer.
SYSTEM_ID_MAX_LENGTH: Final = 80
#: Account owner references (a party id, "operator", ...).
OWNER_MAX_LENGTH: Final = 64
#: Account and transfer codes are unsigned 16-bit, as in TigerBeetle.
MAX_CODE: Final = 65535
#: Transfer metadata: at most this many keys, each key and value this long, string values only.
METADATA_MAX_KEYS: Final = 16
METADATA_KEY_MAX_LENGTH: Final = 40
METADATA_VALUE_MAX_LENGTH: Final = 200
#: Longest hold a pending transfer may have (escrow waits for delivery plus a dispute window).
MAX_PENDING_TIMEOUT_SECONDS: Final = 90 * 24 * 3600

# --- Concurrency -----------------------------------------------------------------------
#: Times a ledger transaction is retried after a serialization failure (SQLSTATE 40001), a
#: deadlock (40P01), a busy SQLite database or a lost race on a unique id, before the caller
#: sees an error. Backoff starts at the base and doubles, with jitter, up to the cap.
LEDGER_RETRIES: Final = 12
RETRY_BACKOFF_BASE_S: Final = 0.002
RETRY_BACKOFF_CAP_S: Final = 0.2
#: SQLite waits this long for the write lock before reporting "database is locked".
SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
#: SQLite page cache per connection, KiB (its default is 2 MiB, less than the indexes of a
#: few hundred thousand transfers; a server has the memory).
SQLITE_CACHE_KIB: Final = 65_536
#: WAL pages (4 KiB) between automatic checkpoints (SQLite's default: 1,000). A checkpoint
#: runs inside a committing writer and fsyncs the database; fewer, larger ones cost writers
#: less (measured with the batch bench: p99 118 ms -> 90 ms). About 40 MiB of WAL at most.
SQLITE_WAL_CHECKPOINT_PAGES: Final = 10_000
#: PostgreSQL: a ledger statement waiting this long for a row lock gives up (and is retried).
POSTGRES_LOCK_TIMEOUT_MS: Final = 10_000

# --- Tamper evidence -------------------------------------------------------------------
#: Transfers sealed into one hash-chained block at most.
SEAL_BLOCK_MAX: Final = 10_000
#: The worker seals and sweeps expired pending transfers this often.
WORKER_INTERVAL_S: Final = 1.0
#: Expired pending transfers voided per sweep transaction.
SWEEP_BATCH: Final = 1000

# --- Reads -----------------------------------------------------------------------------
#: Rows per page when listing, and the default.
MAX_PAGE_SIZE: Final = 200
DEFAULT_PAGE_SIZE: Final = 50

# --- Bench -----------------------------------------------------------------------------
MAX_BENCH_CLIENTS: Final = 64
MAX_BENCH_TRANSFERS: Final = 10_000_000
