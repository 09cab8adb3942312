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
#: Seconds the anchor may take to answer: a NATS JetStream request, or the operator's
#: anchor command (which gets the new signed heads on its standard input).
ANCHOR_NATS_TIMEOUT_S: Final = 5
ANCHOR_COMMAND_TIMEOUT_S: Final = 30
#: Bytes read back from the end of the anchor file to find its newest line (a line is
#: about 330 bytes).
ANCHOR_TAIL_BYTES: Final = 4096
#: The worker seals and sweeps expired pending transfers this often.
WORKER_INTERVAL_S: Final = 1.0
#: Expired pending transfers voided per sweep transaction.
SWEEP_BATCH: Final = 1000

# --- Reads -----------------------------------------------------------------------------
#: Rows per page when listing, and the default.
MAX_PAGE_SIZE: Final = 200
DEFAULT_PAGE_SIZE: Final = 50
#: Agents read to rank the nearest for a customer's "Cash in" page (``payments.agents``):
#: a national network is a few thousand; past this the page ranks the first ones read.
AGENT_SCAN_MAX: Final = 5_000
#: Notifications a list page shows, and how many unread the header's badge counts up to.
NOTIFICATIONS_PAGE: Final = 30
NOTIFICATIONS_BADGE_MAX: Final = 99

# --- Bench -----------------------------------------------------------------------------
MAX_BENCH_CLIENTS: Final = 64
MAX_BENCH_TRANSFERS: Final = 10_000_000

# --- Payments: KYC tiers ----------------------------------------------------------------
# Wallet limits per KYC tier, in centavos (PHP minor units); None means no limit.
# Source: BSP Circular No. 649 (2009) §5 capped e-money at an aggregate monthly load of
# ₱100,000 per holder; BSP Circular No. 1166 (2023, effective 2 March 2023) superseded it
# and leaves limits to each issuer's risk-based customer due diligence, so these are
# Tindahan's defaults, not the regulator's: a phone-verified ("basic") wallet stays at the
# old ₱100,000 monthly figure and under the ₱50,000 InstaPay per-transfer cap; an
# ID-verified ("full") wallet gets ₱500,000 a month, the AMLA covered-transaction figure
# (RA 9160 as amended) for one banking day, so a month's total never hides one. Merchants'
# and agents' "business" tier is wider. The operator changes tiers at run time
# (``PUT /v1/kyc_tiers/{name}``); these figures seed a new database.
KYC_TIER_DEFAULTS: Final = {
    "basic": {
        "per_transaction_max_minor": 1_000_000,  # ₱10,000
        "daily_outgoing_max_minor": 2_000_000,  # ₱20,000
        "monthly_outgoing_max_minor": 10_000_000,  # ₱100,000
        "monthly_incoming_max_minor": 10_000_000,  # ₱100,000
        "max_balance_minor": 10_000_000,  # ₱100,000
    },
    "full": {
        "per_transaction_max_minor": 5_000_000,  # ₱50,000 (InstaPay's per-transfer cap)
        "daily_outgoing_max_minor": 10_000_000,  # ₱100,000
        "monthly_outgoing_max_minor": 50_000_000,  # ₱500,000
        "monthly_incoming_max_minor": 50_000_000,  # ₱500,000
        "max_balance_minor": 50_000_000,  # ₱500,000
    },
    "business": {
        "per_transaction_max_minor": 50_000_000,  # ₱500,000
        "daily_outgoing_max_minor": 100_000_000,  # ₱1,000,000
        "monthly_outgoing_max_minor": 1_000_000_000,  # ₱10,000,000
        "monthly_incoming_max_minor": 1_000_000_000,  # ₱10,000,000
        "max_balance_minor": 300_000_000,  # ₱3,000,000 (RA 9501's micro-enterprise ceiling)
    },
}
#: Tier names: lowercase words, as in the table above.
TIER_NAME_MAX_LENGTH: Final = 32

# --- Payments: fees and commissions (basis points; operator-configurable) -----------------
#: Merchant discount rate on a merchant payment, booked to fees revenue in the same linked
#: batch. 1% is Tindahan's default; QR Ph leaves MDR to participants (BSP Circular 1055).
MERCHANT_DISCOUNT_BPS: Final = 100
#: What the operator pays an agent per cash-in and per cash-out, as a share of the amount.
AGENT_COMMISSION_BPS: Final = 50
#: The operator's fees and commissions accounts are each split into this many ledger
#: accounts (``op.fees.00`` …), chosen by payment id: every merchant payment credits a fee,
#: and one account would be one row lock that all payments queue on (measured: 82 payments/s
#: with one fees account against 138/s with no fee at all). Revenue is the sum of the shards.
OPERATOR_ACCOUNT_SHARDS: Final = 32
#: Highest rate an operator may set for either (10%).
MAX_FEE_BPS: Final = 1000
#: Highest flat fee an operator may set per bank transfer, per rail and kind (₱500;
#: ``rails.fees``). The default of every rail fee is 0 until the operator sets one.
MAX_RAIL_FEE_MINOR: Final = 50_000
#: A cash-out holds the customer's money until the agent hands the cash over and confirms;
#: unconfirmed after this long, it fails and the hold is released.
CASH_OUT_CONFIRM_SECONDS: Final = 15 * 60
#: The ledger hold behind it outlives that, so the payments sweep (which also marks the
#: cash-out failed) normally resolves it before the ledger's own expiry sweep would.
CASH_OUT_HOLD_SECONDS: Final = CASH_OUT_CONFIRM_SECONDS + 5 * 60
#: Payment requests expire after this long unless the merchant sets a shorter time.
PAYMENT_REQUEST_MAX_SECONDS: Final = 30 * 24 * 3600

# --- Parties and text fields -----------------------------------------------------------------
NAME_MAX_LENGTH: Final = 120
CITY_MAX_LENGTH: Final = 80
REFERENCE_MAX_LENGTH: Final = 64
DESCRIPTION_MAX_LENGTH: Final = 500
ID_NUMBER_MAX_LENGTH: Final = 40

# --- Database connections ----------------------------------------------------------------
#: Connections each process keeps open, and how many more it may open under a burst. An API
#: process runs up to 40 requests at once (its thread pool); fewer connections queue them,
#: more than PostgreSQL's default 100 across several processes would be refused.
DB_POOL_SIZE: Final = 20
DB_POOL_OVERFLOW: Final = 10
#: PostgreSQL: libpq gives up on one host after this long and tries the next of a multi-host
#: URL (``connect_timeout``; a URL that sets it wins). A dead machine's address often
#: answers nothing at all, so without a bound a failover would wait on TCP's own minutes.
DB_CONNECT_TIMEOUT_S: Final = 5

# --- Database failover (README "Operating it") --------------------------------------------
#: A request that met a failover (connection lost, a read-only standby, an admin shutdown)
#: and is safe to run again (a read, or a POST under an Idempotency-Key) is run again inside
#: the server for at most this long, backing off from the base up to the cap; then it is
#: answered 503 with Retry-After so the client retries under its key. pg_auto_failover's
#: defaults promote the standby in about 20-40 s; the server bridges a reconnect, the client
#: bridges a promotion.
FAILOVER_RETRY_WINDOW_MS: Final = 10_000
FAILOVER_BACKOFF_BASE_MS: Final = 100
FAILOVER_BACKOFF_CAP_MS: Final = 1_000
#: Retry-After on a 503 for a failover: long enough for a reconnect, short against a payment.
FAILOVER_RETRY_AFTER_S: Final = 2
#: How long an API request waits for the TigerBeetle cluster (issue 22) before answering 503
#: ``ledger_unavailable`` with Retry-After: a quorum lost to a replica's restart comes back in
#: seconds; a batch of 8,000 transfers took under 1.5 s on this loaded machine.
LEDGER_REQUEST_TIMEOUT_MS: Final = 10_000
LEDGER_RETRY_AFTER_S: Final = 2
#: The worker's bound per cluster request: past it, its round logs the cluster as not
#: answering and goes on with the jobs that need only the database; recovery tries again
#: next round (``WORKER_INTERVAL_S`` later). Longer than the API's: no client waits on it.
LEDGER_WORKER_TIMEOUT_MS: Final = 30_000
#: The tools' (``ledger verify``, ``ledger migrate-to-tigerbeetle``) bound per cluster
#: request (each at most 8,000 events): past it they stop with exit 2 naming the cluster.
LEDGER_TOOL_TIMEOUT_MS: Final = 60_000

# --- Group commit (services.platform.groupcommit) --------------------------------------------
#: How long the committer waits for more requests once one is waiting (µs; ``0``: only what
#: is already queued), and the bound an operator may set it to (0.1 s).
GROUP_COMMIT_WINDOW_US: Final = 1_000
GROUP_COMMIT_WINDOW_MAX_US: Final = 100_000
#: Requests in one group at most (every member's row locks are held until the group's one
#: COMMIT), and the bound an operator may raise it to.
GROUP_COMMIT_MAX: Final = 64
GROUP_COMMIT_MAX_BOUND: Final = 1000

# --- HTTP API --------------------------------------------------------------------------------
#: Largest request body accepted (bytes); larger gets 413 before it is read.
MAX_REQUEST_BODY_BYTES: Final = 64 * 1024
#: A photo of a QR code sent to "Scan QR" (``qr.image``): a phone camera's JPEG is 2-6 MB,
#: so 10 MB; at most 64 million pixels (a 48 MP camera's photo fits, a decompression bomb
#: is refused from its header); shrunk to 1,600 px on its longer side before decoding,
#: enough for a code that fills a tenth of the frame.
QR_IMAGE_MAX_BYTES: Final = 10 * 1024 * 1024
QR_IMAGE_MAX_PIXELS: Final = 64_000_000
QR_IMAGE_DECODE_SIDE: Final = 1600
#: The body of "Scan QR"'s form: the photo and a little more (``api.app.BodyLimit``).
QR_IMAGE_UPLOAD_BODY_MAX_BYTES: Final = QR_IMAGE_MAX_BYTES + 64 * 1024
#: Idempotency keys: at most this long; a stored response is kept this long (Stripe: 24 h).
IDEMPOTENCY_KEY_MAX_LENGTH: Final = 255
IDEMPOTENCY_TTL_SECONDS: Final = 24 * 3600
#: Requests per second per API key (token bucket: this rate, this burst). With several API
#: processes each holds rate/processes, so the total per key stays the figure.
RATE_LIMIT_PER_SECOND: Final = 200
RATE_LIMIT_BURST: Final = 400
#: A verified API key is remembered this long per process (a revoked key stops within it).
API_KEY_CACHE_SECONDS: Final = 10
API_KEY_CACHE_SIZE: Final = 10_000
#: Random bytes in an API key's secret part (256 bits).
API_KEY_BYTES: Final = 32
#: Fee settings are remembered this long per process (a change elsewhere lands within it).
SETTINGS_CACHE_SECONDS: Final = 5
#: HTTP server processes ``tindahan serve --workers`` may start.
MAX_SERVER_WORKERS: Final = 32
#: Connections the kernel queues on `serve`'s socket before they are accepted (uvicorn's default).
SERVER_BACKLOG: Final = 2048
#: Seconds a `serve --workers N` worker process may take to answer the supervisor's health
#: ping. uvicorn's default (5 s) counts the spawn start-up, before the worker's answering
#: thread exists: a worker that imports the CLI for longer than that (a busy machine, a slow
#: disk) was killed and restarted for ever, and the server never answered.
SERVER_WORKER_HEALTHCHECK_S: Final = 120

# --- Webhooks ----------------------------------------------------------------------------
#: A receiver must check the signed timestamp is within this many seconds of its clock.
WEBHOOK_TOLERANCE_SECONDS: Final = 300
#: Delivery attempts before a delivery is marked failed (``tindahan webhooks replay`` retries).
#: With the backoff below, the 19 waits add up to at most 192,150 s (about 2.2 days) and,
#: with jitter, at least half that: a receiver may be down for a day and lose nothing.
WEBHOOK_MAX_ATTEMPTS: Final = 20
#: Backoff between attempts: base × 2^(attempt-1), capped.
WEBHOOK_BACKOFF_BASE_S: Final = 10
WEBHOOK_BACKOFF_CAP_S: Final = 6 * 3600
#: Seconds a receiver has to answer one delivery, and to accept the connection: short, so a
#: slow or hanging receiver (or an attacker's tarpit) cannot hold the worker.
WEBHOOK_TIMEOUT_S: Final = 5
WEBHOOK_CONNECT_TIMEOUT_S: Final = 3
#: Deliveries attempted per worker round, and how long a claimed one stays claimed.
WEBHOOK_BATCH: Final = 100
WEBHOOK_LEASE_SECONDS: Final = 60
WEBHOOK_URL_MAX_LENGTH: Final = 2048
#: Endpoints per party.
MAX_WEBHOOK_ENDPOINTS: Final = 16

# --- Events on NATS JetStream (``worker.stream``; when ``TINDAHAN_NATS_URL`` is set) ---------
#: Events the relay publishes per worker round (the rest wait for the next round).
NATS_RELAY_BATCH: Final = 500
#: The stream drops a message whose id (the event id) it saw within this window: a relay
#: that died after publishing and before marking re-publishes within seconds, far inside it.
NATS_DUPLICATE_WINDOW_S: Final = 3600
#: How long a consumer has to finish a message before JetStream gives it to another worker;
#: it is also the lease on the deliveries the message claims, so a dead worker's delivery is
#: free again when its message is redelivered. At least a whole batch of timeouts: 12 × 5 s.
NATS_ACK_WAIT_S: Final = 60
#: Messages a worker takes per fetch, how long a fetch waits for the first one, and the most
#: a round takes (fetch after fetch while they come full): a backlog drains at up to this
#: many events a round, and an idle stream costs a round one short wait.
NATS_FETCH_BATCH: Final = 100
NATS_FETCH_WAIT_MS: Final = 200
NATS_ROUND_MESSAGES: Final = 1000
#: Seconds to connect, publish or ask JetStream anything before the round gives up.
NATS_TIMEOUT_S: Final = 5
#: With NATS, the database sweep only takes deliveries overdue by this much: the consumer
#: handles the rest; the sweep catches replays (``tindahan webhooks replay``) and any event
#: whose message the stream no longer holds.
NATS_SWEEP_GRACE_S: Final = 300

# --- commerce: storefronts, orders, escrow, shipments, disputes, buyers abroad -----------
#: The marketplace fee on what escrow releases to a merchant, in basis points (2%): below the
#: 5-10% commission of the big PH marketplaces, above the 1% QR merchant discount, because
#: escrow, disputes and shipment tracking are work the operator does. ``HALF_UP`` to the
#: centavo. The operator changes it (``/v1/settings/fees``).
MARKETPLACE_FEE_BPS: Final = 200
#: A delivered order with no dispute completes (escrow released) this many days after
#: delivery. Taobao confirms receipt automatically after 10 days, Shopee PH after 3-7; a
#: sari-sari store's cash flow argues for the short end. The operator changes it.
ESCROW_AUTO_RELEASE_DAYS: Final = 7
MAX_AUTO_RELEASE_DAYS: Final = 60
#: The buyer may open a dispute on a delivered order until it auto-completes: the window is
#: the auto-release period (there is no money left in escrow to freeze after that).
#: An unpaid order holds its stock this long, then the worker cancels it and restocks.
ORDER_PAYMENT_SECONDS: Final = 30 * 60
#: An FX quote's life: long enough to read the price and pay, short enough that the rate
#: the operator took the risk on is still near the market.
FX_QUOTE_SECONDS: Final = 10 * 60
#: The currencies a buyer abroad may hold (the issue's list); merchants receive PHP only.
FX_CURRENCIES: Final = ("CNY", "EUR", "USD")
FX_SPREAD_BPS: Final = 150
MAX_FX_SPREAD_BPS: Final = 1000
#: An operator-entered rate (PHP per unit of the foreign currency) has at most this many
#: significant digits and lies within these bounds: a typo of 1000x is refused.
FX_RATE_MAX_DIGITS: Final = 12
FX_RATE_MIN: Final = "0.0001"
FX_RATE_MAX: Final = "10000"
SLUG_MIN_LENGTH: Final = 3
SLUG_MAX_LENGTH: Final = 48
TITLE_MAX_LENGTH: Final = 120
PRODUCT_DESCRIPTION_MAX_LENGTH: Final = 2000
VARIANT_NAME_MAX_LENGTH: Final = 40
MAX_VARIANTS: Final = 50
MAX_STOCK: Final = 1_000_000
MAX_ORDER_LINES: Final = 50
MAX_LINE_QUANTITY: Final = 10_000
COURIER_NAME_MAX_LENGTH: Final = 60
#: Product photos (issue 21): an upload is at most 5 MiB (a phone's photo is 2 to 4 MB) and
#: 40 megapixels (a 48 MP phone camera's full frame is refused; its default 12 MP is not);
#: the pixel cap is checked from the header before any pixel is decoded, so a decompression
#: bomb (a few KB that would expand to gigabytes) is refused unread. Each photo is kept as
#: WebP at these widths (a phone on a slow connection takes the 320 one) and its alt text
#: is at most 200 characters; a product has at most 8 photos.
PHOTO_MAX_BYTES: Final = 5 * 1024 * 1024
PHOTO_MAX_PIXELS: Final = 40_000_000
PHOTO_WIDTHS: Final = (320, 640, 1080)
PHOTO_WEBP_QUALITY: Final = 80
PHOTO_ALT_MAX_LENGTH: Final = 200
MAX_PHOTOS_PER_PRODUCT: Final = 8
#: The body of a photo upload; other requests keep ``MAX_REQUEST_BODY_BYTES``. Twice the
#: photo's bound, so a photo a little too large reaches the check that says "at most 5 MB"
#: beside the field, instead of a bare "too large".
PHOTO_UPLOAD_BODY_MAX_BYTES: Final = 2 * PHOTO_MAX_BYTES
#: The console's onboarding form (issue 21, item 9): two ID images checked like photos,
#: each up to ``PHOTO_MAX_BYTES``, and the text fields.
ONBOARDING_BODY_MAX_BYTES: Final = 3 * PHOTO_MAX_BYTES
#: Categories: a storefront has at most 50 (a sari-sari store's shelves are a dozen), each
#: name at most 40 characters.
MAX_CATEGORIES: Final = 50
CATEGORY_NAME_MAX_LENGTH: Final = 40
#: Search: at most 8 words of at most 40 characters each are looked up.
SEARCH_MAX_TERMS: Final = 8
SEARCH_TERM_MAX_LENGTH: Final = 40
SEARCH_QUERY_MAX_LENGTH: Final = 200
#: Products on one storefront page (a phone scrolls 24 cards; "More" pages past them).
STOREFRONT_PAGE_SIZE: Final = 24
TRACKING_NUMBER_MAX_LENGTH: Final = 60
MAX_SHIPMENT_EVENTS: Final = 200

# --- Payouts: settlement wallet to main wallet (issue 19) --------------------------------
#: A merchant payment may be refunded from the settlement wallet at any time, but a payout
#: guarantees the money for the refunds of the sales of this many days: what those sales
#: could still send back stays behind. Seven days is the escrow's auto-release period
#: (``ESCROW_AUTO_RELEASE_DAYS``), the window a buyer online has to complain, so a buyer
#: paying by QR gets the same; an older sale's refund is paid if the wallet has the money.
PAYOUT_REFUND_WINDOW_DAYS: Final = 7
#: The automatic daily payout's default time of day, Manila (minutes after midnight): 9 p.m.,
#: after a store's day of sales, before the loans' close at midnight.
PAYOUT_DEFAULT_MINUTE: Final = 21 * 60
#: Merchants the automatic payout runs per round of the worker (each in its own transaction).
PAYOUT_RUN_CHUNK: Final = 500

# --- Credit scoring (issue 6) ----------------------------------------------------------
#: A merchant is scored only with this much history; below it the decision is
#: "insufficient history", with the reason, never a made-up score. Sixty days give two
#: payday cycles and a first month-on-month comparison; ten sales in the last ninety days
#: separate a shop that trades on Tindahan from one that tried it once.
CREDIT_MIN_TENURE_DAYS: Final = 60
CREDIT_MIN_SALES_90D: Final = 10
#: Reasons returned with a decision (the largest point losses first).
CREDIT_MAX_REASONS: Final = 4
#: Rows in a CSV scored or trained on at once (the generic CLI), and its file size.
CREDIT_MAX_ROWS: Final = 5_000_000
CREDIT_MAX_CSV_BYTES: Final = 2 * 1024**3

# --- Lending (issue 7) -----------------------------------------------------------------
#: The small-loan ceilings. BSP Circular No. 1133 (series of 2021, in force 3 January 2022),
#: on unsecured, general-purpose loans by lending and financing companies of at most
#: ₱10,000 payable within four months: nominal interest at most 6% a month (about 0.2% a
#: day); effective interest rate (nominal interest plus every fee and charge, penalties
#: excluded) at most 15% a month; penalties for late payment or non-payment at most 5% a
#: month on the outstanding scheduled amount due; a total cost of at most 100% of the total
#: amount borrowed, covering interest, fees, charges and penalties, however long the loan is
#: outstanding. SEC Memorandum Circular No. 14, series of 2025 (10 December 2025),
#: recalibrates the EIR ceiling to 12% a month (about 0.4% a day) and keeps the others; the
#: 1 April 2026 start date is the one this project was given for it.
SMALL_LOAN_SOURCE: Final = "BSP Circular No. 1133 (2021)"
SMALL_LOAN_MAX_PRINCIPAL_MINOR: Final = 1_000_000  # ₱10,000
SMALL_LOAN_MAX_MONTHS: Final = 4
SMALL_LOAN_NOMINAL_MONTHLY_MAX: Final = "0.06"
SMALL_LOAN_PENALTY_MONTHLY_MAX: Final = "0.05"
SMALL_LOAN_TOTAL_COST_MAX_SHARE: Final = "1"
#: (in force from, monthly EIR ceiling, source), oldest first.
SMALL_LOAN_EIR_MONTHLY_MAX: Final = (
    ("2022-01-03", "0.15", "BSP Circular No. 1133 (2021)"),
    ("2026-04-01", "0.12", "SEC Memorandum Circular No. 14, series of 2025"),
)
#: Bounds of any loan product, whatever the operator sets: a platform for micro and small
#: enterprises lends at most ₱3,000,000 (RA 9501's micro-enterprise asset ceiling) and at
#: most 10% a month; terms at most two years in any frequency.
LOAN_MAX_PRINCIPAL_MINOR: Final = 300_000_000
LOAN_MAX_MONTHLY_RATE: Final = "0.10"
LOAN_MAX_TERM: Final = {"daily": 730, "weekly": 104, "biweekly": 52, "monthly": 24}
#: A quote (``tindahan loan quote``) may go further, to compare any offer a merchant was
#: shown: up to 100% per period and 1,000 installments.
QUOTE_MAX_RATE_PERCENT: Final = 100
QUOTE_MAX_TERM: Final = 1000
#: Rates are typed with at most this many decimal places (percent: 4 → 0.0001%).
RATE_MAX_PLACES: Final = 4
#: An offer stands this long; accepting later gets ``offer_expired``.
LOAN_OFFER_SECONDS: Final = 7 * 24 * 3600
#: An offer is made only from an assessment at most this old (the merchant's sales move).
LOAN_ASSESSMENT_MAX_AGE_SECONDS: Final = 30 * 24 * 3600
#: Default limit rule: one month of the merchant's average monthly sales over the last three
#: months, rounded down to the peso; products narrow it further.
LOAN_LIMIT_SALES_MONTHS: Final = "1"
#: Loans a merchant may have open at once (the auto-deduction needs to know which one a
#: sale repays; a second loan comes after the first is closed).
MAX_OPEN_LOANS_PER_MERCHANT: Final = 1
#: Share of each sale an auto-deducting product may take, at most (50%): a sale must leave
#: the merchant money to restock, and the merchant discount comes out of the rest.
MAX_AUTO_DEDUCT_BPS: Final = 5000
#: Grace days before penalties run, at most; reminders this many days before a due date.
MAX_GRACE_DAYS: Final = 30
LOAN_REMINDER_DAYS: Final = 3
#: Loans processed per transaction by the daily close (a loan books at most 6 transfers a
#: day; the close splits a chunk's postings into ledger batches of at most MAX_BATCH, never
#: splitting a loan's chain).
LOAN_CLOSE_CHUNK: Final = 2000
#: Threads the worker's daily close runs on PostgreSQL, each closing its own chunks (rows
#: taken with SKIP LOCKED): while one waits on the server, another runs the rules
#: (README, "The loans' daily close", close18b). SQLite has one writer: there it is 1.
LOAN_CLOSE_WORKERS: Final = 2
#: Days the worker catches up at once when it was stopped over several days.
LOAN_CLOSE_MAX_CATCH_UP_DAYS: Final = 366
#: The business day is the Philippine one (UTC+8, no daylight saving).
BUSINESS_UTC_OFFSET_HOURS: Final = 8
#: Rows in one loan-tape export page (the CSV streams all pages).
LOAN_TAPE_PAGE: Final = 5000

# --- Web sign-in (people at the dashboard) ---------------------------------------------------
#: A PIN is digits only, as on every Philippine e-wallet (GCash and Maya use 4-6): six is the
#: fewest (a million guesses, against ten thousand for four) and twelve the most anyone types.
PIN_MIN_DIGITS: Final = 6
PIN_MAX_DIGITS: Final = 12
#: The PIN asked before money leaves the web app (``services.platform.pins``): six digits,
#: as Maya's and GCash's MPIN today; the issue allowed 4-6, and four (ten thousand guesses)
#: is what the sign-in rule above already refused.
PAY_PIN_DIGITS: Final = 6
#: Within this long after signing in, paying asks no PIN: the secret was typed moments ago,
#: and asking again adds a step, not a proof. Three minutes covers "sign in, then pay the
#: order you came for"; after that, a phone left unlocked on the counter is the risk the PIN
#: answers, so it is asked.
PAY_FRESH_SIGNIN_S: Final = 3 * 60
#: Draws of a new short reference (``services.platform.shortrefs``) before giving up: with
#: 32^8 references the chance that even two are taken is below one in a hundred million
#: while a table holds fewer than ten million rows.
SHORT_REF_TRIES: Final = 8
#: A password instead of a PIN: NIST SP 800-63B asks at least 8 characters and allowing at
#: least 64; ten keeps a password longer than the longest PIN, and 128 bounds the Argon2 input.
PASSWORD_MIN_LENGTH: Final = 10
PASSWORD_MAX_LENGTH: Final = 128
#: Sign-in throttles (issue 17; ``services.platform.throttles`` says why each exists). Tries
#: are counted before the PIN is checked and given back when it is right, so only wrong ones
#: stay counted. A phone number *from one client* (browser or address): five tries a quarter
#: hour, then waits from one minute doubling to an hour; a stranger slows only himself.
SIGNIN_PAIR_TRIES: Final = 5
SIGNIN_PAIR_WINDOW_S: Final = 15 * 60
SIGNIN_PAIR_FIRST_WAIT_S: Final = 60
SIGNIN_PAIR_LONGEST_WAIT_S: Final = 3600
#: A phone number from every client but its owner's known browsers: twenty tries an hour,
#: then waits from one minute doubling to fifteen, and a notice in the audit log. With the
#: pair limit, a million-PIN space holds for years against one number.
SIGNIN_NUMBER_TRIES: Final = 20
SIGNIN_NUMBER_WINDOW_S: Final = 3600
SIGNIN_NUMBER_FIRST_WAIT_S: Final = 60
SIGNIN_NUMBER_LONGEST_WAIT_S: Final = 15 * 60
#: One client address, over every number: thirty wrong tries a quarter hour (a shop's
#: staff behind one carrier-grade NAT address stay well under it).
SIGNIN_CLIENT_TRIES: Final = 30
SIGNIN_CLIENT_WINDOW_S: Final = 15 * 60
#: One secret tried over many numbers (a spray of 123123 across the phone book): ten wrong
#: tries of the same PIN a quarter hour, site-wide.
SIGNIN_SECRET_TRIES: Final = 10
SIGNIN_SECRET_WINDOW_S: Final = 15 * 60
#: Every wrong try on the site: a ceiling for a spray from many addresses with many PINs.
SIGNIN_SITE_TRIES: Final = 600
SIGNIN_SITE_WINDOW_S: Final = 60
#: Growing waits are forgotten after a day without a try.
SIGNIN_STRIKES_FORGET_S: Final = 24 * 3600
#: The browser cookie that marks a browser its owner signed in from (a year).
SIGNIN_DEVICE_SECONDS: Final = 365 * 86_400
#: A browser session ends after two hours without a request, and after twelve hours in any
#: case (one working day at the counter), whatever its activity.
WEB_SESSION_IDLE_SECONDS: Final = 2 * 3600
WEB_SESSION_MAX_SECONDS: Final = 12 * 3600
#: A session's last_seen is written at most this often: every page view would otherwise be a
#: write, and the idle limit needs minutes, not nanoseconds.
WEB_SESSION_TOUCH_SECONDS: Final = 60
#: An operator's note in the audit log (why a party was frozen, a tier changed): a sentence or
#: a short paragraph, like a payment's description.
AUDIT_NOTE_MAX_LENGTH: Final = 500

# --- Web cart (the buyer's basket, kept in the tdh_cart cookie by web/cart.py) ----------------
#: The cookie holds ids and quantities only (prices always come from the catalog). Browsers
#: keep at least 4,096 bytes per cookie (RFC 6265 §6.1); 3,000 for the value leaves room for
#: the name and attributes. Twenty lines fill a basket at a sari-sari store's web shop, and 99
#: of one item is a box; bigger orders go through the API. A cart is kept for a week.
CART_COOKIE_MAX_BYTES: Final = 3_000
CART_MAX_LINES: Final = 20
CART_MAX_QUANTITY: Final = 99
CART_COOKIE_DAYS: Final = 7

# --- Web: the merchant's statements --------------------------------------------------------
#: Lines in one wallet's monthly statement CSV (a busy store's month is a few thousand);
#: a longer month is refused with a message, never cut short silently.
STATEMENT_CSV_MAX_ROWS: Final = 50_000

# --- Risk and compliance (issue 20) ------------------------------------------------------
#: Cash over this in one banking day is a covered transaction (AMLA, RA 9160 §3(b) as amended
#: by RA 9194: "a transaction in cash or other equivalent monetary instrument involving a
#: total amount in excess of five hundred thousand pesos within one banking day").
RISK_COVERED_THRESHOLD_MINOR: Final = 500_000_00
#: Covered and suspicious transactions are reported within five working days (AMLA §9(c)).
RISK_REPORT_WORKING_DAYS: Final = 5
#: A rules file is a page of TOML, not a database.
RISK_MAX_RULES_FILE_BYTES: Final = 256 * 1024
#: A CSV of movements for ``tindahan risk evaluate`` (about ten million rows).
RISK_MAX_EVENTS_CSV_BYTES: Final = 1024**3
#: Movement ids and party references in that CSV.
RISK_MAX_REF_LENGTH: Final = 64
#: Recent payees remembered per party for round-trip detection (a merchant's thousands of
#: buyers are not a cycle; the newest payees are what a round trip goes through).
RISK_MAX_RECENT_PAYEES: Final = 64
#: Sanctions and watch lists: the file size, the entries, and a name's length.
SCREEN_MAX_LIST_BYTES: Final = 64 * 1024**2
SCREEN_MAX_ENTRIES: Final = 200_000
SCREEN_MAX_NAME_LENGTH: Final = 200

# --- Bank rails: InstaPay, PESONet, ISO 20022 messages (issue 19) ---------------------------
#: InstaPay's cap per transfer (₱50,000.00), as the issue and DESIGN.md state it; PESONet, the
#: batch rail, has no scheme cap. A transfer above the cap, or to a bank that is not an
#: InstaPay member, goes by PESONet.
INSTAPAY_MAX_MINOR: Final = 50_000_00
#: Largest ISO 20022 message read or parsed (bytes), checked before any parsing: an
#: end-of-day camt.053 of a busy day or a PESONet batch of a few thousand transfers fits;
#: a 50 MB body does not.
MAX_RAIL_MESSAGE_BYTES: Final = 16 * 1024 * 1024
#: Transactions in one message we build or read (a PESONet batch, a statement's entries).
MAX_RAIL_TRANSACTIONS: Final = 10_000
#: A bank account number as people write it, digits only once spaces and dashes are gone:
#: Philippine banks use 10 to 16 digits, e-money wallets the 11-digit mobile number; the
#: bounds leave room for older 6-digit rural-bank accounts and the ISO ``Max34Text``.
BANK_ACCOUNT_NUMBER_MIN_DIGITS: Final = 6
BANK_ACCOUNT_NUMBER_MAX_DIGITS: Final = 20
#: Bank accounts one party may keep registered at once.
MAX_BANK_ACCOUNTS_PER_PARTY: Final = 10
#: Delivery addresses: how many a buyer keeps in the address book, and each field's length
#: (a street line fits a courier's waybill; notes are a landmark, not a letter).
MAX_ADDRESSES_PER_PARTY: Final = 20
ADDRESS_LINE_MAX_LENGTH: Final = 200
ADDRESS_NOTES_MAX_LENGTH: Final = 300
#: A participant's short code in the directory (e.g. ``BDO``, ``GCASH``).
PARTICIPANT_CODE_MAX_LENGTH: Final = 16
#: Rows in the participants CSV (the real lists hold about a hundred institutions).
MAX_PARTICIPANTS: Final = 1_000
#: How long a sent credit transfer waits for its pacs.002 before we ask (pacs.028): InstaPay
#: answers in seconds (its scheme time-out is well under a minute); PESONet settles in
#: clearing cycles, so it is asked about after a cycle, not after seconds.
INSTAPAY_ANSWER_SECONDS: Final = 60
PESONET_ANSWER_SECONDS: Final = 6 * 3600
#: Sent transfers handled per sweep (dispatching, asking about them).
RAIL_SWEEP_BATCH: Final = 200
#: PESONet batches close at these times of a banking day (minutes after midnight, Manila):
#: a PESONet transfer waits for the first cut-off after it was made, on a banking day
#: (Monday to Friday, not a holiday of the operator's calendar), and goes with every other
#: transfer waiting for it as one pacs.008. PCHC's own clearing windows are not public in a
#: form we could check; these two are our assumption, to be set to the sending bank's
#: actual cut-offs.
PESONET_CUTOFF_MINUTES: Final = (10 * 60, 15 * 60)
#: The simulated clearing switch's side of a cut-off (``rails.batches.settles_at``): a
#: PESONet batch arriving within this long after a cut-off on a banking day is that
#: session's and settles at once (the sender closed it at the cut-off and sent it in the
#: following moments); one arriving at any other time waits for the next cut-off.
PESONET_SESSION_WINDOW_SECONDS: Final = 30 * 60
#: Reconciliation looks this many days either side of the day reconciled for the movement
#: a statement entry names: found there, it is a date mismatch; not found, missing on our
#: side. A week covers a long weekend's PESONet wait and a statement a day late.
RECONCILE_NEARBY_DAYS: Final = 7
#: Breaks listed on the console's rails monitor (the newest days first).
RECONCILE_BREAKS_SHOWN: Final = 100
#: Transfers and batches in each list of the console's rails monitor (newest first).
RAILS_MONITOR_ROWS: Final = 50
#: ``serve --demo`` starts the simulated clearing switch as a child process: how long it may
#: take to listen (a Python process importing FastAPI takes a few seconds on a busy machine)
#: and how long it has to stop when asked before it is killed.
SWITCH_START_SECONDS: Final = 60
SWITCH_STOP_SECONDS: Final = 5
#: The switch looks this often (seconds) for its banks' PESONet transfers to Tindahan wallets
#: whose cut-off has come, and delivers them (``switch.app.deliver_due``).
SWITCH_INBOUND_TICK_S: Final = 1.0

# --- Risk and compliance, the live path (issue 20) --------------------------------------
#: Releasing or returning held money above this needs a second operator (four eyes): one
#: approves, another decides. ₱50,000 is the InstaPay cap — more than a micro wallet's week.
RISK_FOUR_EYES_MINOR: Final = 50_000_00
#: Alerts on one page of the queue.
RISK_ALERTS_PAGE: Final = 100
#: Movements one backtest replays (a year of a mid-sized issuer's wallets), and the days of
#: history before ``--from`` replayed only to fill the rules' windows (the longest is 30).
RISK_BACKTEST_MAX_MOVEMENTS: Final = 5_000_000
RISK_BACKTEST_WARMUP_DAYS: Final = 30

# --- Insights: forecasts (issue 26) ------------------------------------------------------
#: The largest sales CSV ``tindahan insights evaluate`` reads (two years of 10,000 products
#: at one row a product a day is about 250 MB).
INSIGHTS_MAX_CSV_BYTES: Final = 512 * 1024 * 1024
#: Series times days held in memory at once (8 bytes each: 320 MB at the bound).
INSIGHTS_MAX_CELLS: Final = 40_000_000
#: The longest forecast horizon: a quarter. Past that a daily forecast from sales alone says
#: little a merchant can act on.
INSIGHTS_MAX_HORIZON_DAYS: Final = 92
#: A series with fewer days of history than this is forecast by its mean (said so).
INSIGHTS_MIN_HISTORY_DAYS: Final = 14
#: The days of order history a merchant's reorder advice is forecast from (a half-year: two
#: paydays a month and the weekday pattern many times over, still one small read).
INSIGHTS_REORDER_HISTORY_DAYS: Final = 182
#: The supplier lead time assumed when the merchant names none (a sari-sari store's weekly
#: trip to the wholesaler is two to three days away at most), and the longest accepted.
INSIGHTS_DEFAULT_LEAD_TIME_DAYS: Final = 3
INSIGHTS_MAX_LEAD_TIME_DAYS: Final = 60
#: The operator's aggregates (issue 26, item 6): a figure of fewer merchants than this is
#: suppressed (k-anonymity; the issue's "fewer than 10 merchants"), and the period a call may
#: ask for (a year).
INSIGHTS_MIN_CELL_MERCHANTS: Final = 10
INSIGHTS_DEFAULT_AGGREGATE_DAYS: Final = 30
INSIGHTS_MAX_AGGREGATE_DAYS: Final = 366
#: Lessons (issue 26, item 5): what one lesson written in the console may hold — a few
#: phone screens and a short quiz; the title and summary fit a list on a phone.
LESSON_TITLE_MAX_CHARS: Final = 120
LESSON_SUMMARY_MAX_CHARS: Final = 300
LESSON_BODY_MAX_CHARS: Final = 20_000
LESSON_MAX_SCREENS: Final = 12
LESSON_QUIZ_MAX_CHARS: Final = 5_000
LESSON_MAX_QUESTIONS: Final = 10
LESSON_MAX_CHOICES: Final = 6

# --- SMS and one-time codes (issue 24) ------------------------------------------------------
#: A name put into an SMS is cut to this many characters, so every text fits one part.
SMS_NAME_MAX_CHARS: Final = 24
#: Attempts before a message is given up as failed (about two days with the backoff below:
#: a code or a payment confirmation is worthless later, a reminder too).
SMS_MAX_ATTEMPTS: Final = 12
SMS_BACKOFF_BASE_S: Final = 15
SMS_BATCH: Final = 100
SMS_LEASE_SECONDS: Final = 60
SMS_TIMEOUT_S: Final = 10
SMS_CONNECT_TIMEOUT_S: Final = 3
SMS_CONSOLE_PAGE: Final = 100
#: One-time codes (sign-up, PIN reset): six digits, single use, five minutes, three tries
#: (NIST SP 800-63B 5.1.3: an out-of-band secret of at least 6 digits, valid at most 10 min,
#: with rate-limited tries).
OTP_DIGITS: Final = 6
OTP_TTL_S: Final = 5 * 60
OTP_MAX_TRIES: Final = 3
#: A new code for the same number and purpose only after this long ("send again").
OTP_RESEND_AFTER_S: Final = 60
#: Codes sent to one number per hour (each costs the operator an SMS; a number is not
#: bombarded), and per client address (one address cannot walk through numbers).
OTP_NUMBER_SENDS: Final = 5
OTP_NUMBER_WINDOW_S: Final = 3600
OTP_CLIENT_SENDS: Final = 10
OTP_CLIENT_WINDOW_S: Final = 3600
#: Codes checked per client address per 15 minutes (wrong or right): spraying guesses
#: over many numbers' codes from one address stops here.
OTP_CLIENT_CHECKS: Final = 20
OTP_CLIENT_CHECK_WINDOW_S: Final = 15 * 60
#: All codes sent site-wide per minute (an SMS-pumping attack costs at most this).
OTP_SITE_SENDS: Final = 120
OTP_SITE_WINDOW_S: Final = 60
# --- USSD (issue 24) ------------------------------------------------------------------------
#: One screen: what aggregators and handsets show (GSM 03.90 allows 182 characters in a USSD
#: string); the ``CON ``/``END `` prefix counts.
USSD_SCREEN_MAX_CHARS: Final = 182
#: A session lasts this long from its first step, as the networks' own do (about 180 s on
#: Globe and Smart); a step after it ends the session and does nothing.
USSD_SESSION_TIMEOUT_S: Final = 180
#: The session text (every input joined by ``*``): a menu is at most five inputs of a name,
#: a number or a PIN, far below this; longer is not a phone's.
USSD_TEXT_MAX_LENGTH: Final = 160
#: The aggregator's session id: printable characters; kept only as its SHA-256.
USSD_SESSION_ID_MAX_LENGTH: Final = 128
#: Amounts are typed in whole pesos: seven digits is ₱9,999,999, above every KYC tier's
#: per-transaction limit (those refuse what is over them, with their own words).
USSD_AMOUNT_MAX_DIGITS: Final = 7
#: A name typed at sign-up on a keypad.
USSD_NAME_MAX_LENGTH: Final = 60
#: A payment request's short reference (``services.platform.shortrefs``): eight characters.
USSD_REQUEST_REF_LENGTH: Final = 8
#: Wrong PINs on USSD before the PIN is locked (the issue: three, as banks' cards); the lock
#: lasts 15 minutes, doubling with each new lock up to a day. The wrong tries also count in
#: the number's sign-in throttle (``services.platform.throttles``), shared with the web.
USSD_PIN_TRIES: Final = 3
USSD_PIN_WINDOW_S: Final = 24 * 3600
USSD_PIN_FIRST_WAIT_S: Final = 15 * 60
USSD_PIN_LONGEST_WAIT_S: Final = 24 * 3600
#: Sessions kept after their end for the resends of a final step, then deleted by the worker.
USSD_SESSION_KEEP_S: Final = 24 * 3600
#: Draws of a new merchant or agent code (``ussd.codes``) before giving up: 900,000 codes.
USSD_CODE_TRIES: Final = 20


# Operations (issue 23).
#: ``/ready`` wants a worker round no older than this (rounds run every WORKER_INTERVAL_S;
#: a round may take long: a loans' close, a slow webhook endpoint's timeouts).
WORKER_READY_S: Final = 120
#: A worker process's heartbeat row is deleted after this long without a beat.
WORKER_BEAT_FORGET_S: Final = 86_400
#: ``/metrics`` reads its database figures at most this often (seconds).
METRICS_DB_CACHE_S: Final = 5
#: Retention (issue 23, item 9), run by the worker every RETENTION_INTERVAL_S: a delivered
#: webhook (and its attempts) is kept 30 days — the window in which `webhooks replay` can
#: send it again — a failed one 90 days (the evidence that a receiver missed an event);
#: a web session 30 days after it ended or expired (sign-ins stay in the audit log).
WEBHOOK_DELIVERED_KEEP_DAYS: Final = 30
WEBHOOK_FAILED_KEEP_DAYS: Final = 90
WEB_SESSION_KEEP_DAYS: Final = 30
RETENTION_INTERVAL_S: Final = 600
#: Rows deleted per table per retention run: a backlog is worked off over several runs,
#: never in one long transaction.
RETENTION_BATCH: Final = 5_000

# Delivery (issue 25).
#: The heaviest parcel a rate card prices and a product may weigh, in grams: 50 kg, the
#: most J&T Express and LBC take as one parcel at a branch.
MAX_PARCEL_WEIGHT_G: Final = 50_000
#: A rate card's weight tiers per zone, couriers per card list and on one storefront.
MAX_RATE_TIERS: Final = 20
MAX_COURIERS_PER_STOREFRONT: Final = 10
#: The longest delivery window a card may promise, in days.
MAX_DELIVERY_DAYS: Final = 60
#: The largest cash-on-delivery fee rate, in basis points (10%).
MAX_COD_BPS: Final = 1_000
#: A courier's code: lowercase letters, digits and dashes ("jnt", "lbc", "flash").
COURIER_CODE_MAX_LENGTH: Final = 24
#: Shipments in one history file (``tindahan delivery evaluate``, the simulator's CSV).
MAX_SHIPMENT_HISTORY_ROWS: Final = 1_000_000
#: Delivered shipments of one courier in one zone before its learned window replaces the
#: card's (the rule-based prior, shown as an estimate, until then).
MIN_ZONE_HISTORY: Final = 30

#: Argon2id's cost for PINs and passwords (``services.platform.logins``): OWASP's Password
#: Storage Cheat Sheet's first configuration for Argon2id — 19 MiB of memory, two passes, one
#: lane. Why not argon2-cffi's default (RFC 9106's second profile: 64 MiB, three passes,
#: four lanes, about 7 times the CPU): what protects a six-digit PIN is the throttles and the
#: lock-out, on line; off line, a million guesses fall under either cost (hours of one core,
#: not years), so the larger cost bought little and made every PIN step of a USSD session
#: (issue 24: p99 ≤ 50 ms) and every sign-in wait for it. Hashes made under other parameters
#: are redone at the next successful sign-in (``check_needs_rehash``).
PIN_HASH_MEMORY_KIB: Final = 19_456
PIN_HASH_PASSES: Final = 2
PIN_HASH_LANES: Final = 1
#: Argon2 hashes and verifications run on this many threads per server process
#: (``services.platform.logins``): one a core, so more at once would only share the cores
#: and hold more memory (19 MiB a hash in flight).
PIN_HASH_THREADS: Final = 2
#: How much lower (nice) those threads run than the rest of the process: when the CPU is
#: short, the menus and pages go first and the PIN's hash waits (it gets about a tenth of a
#: contended core at +10, never nothing).
PIN_HASH_NICE: Final = 10
#: Threads per server process for the USSD steps that may hash a PIN (``api.ussd``): their
#: own lane, so that the menu steps never wait for a thread behind them.
USSD_PIN_LANE_THREADS: Final = 8
