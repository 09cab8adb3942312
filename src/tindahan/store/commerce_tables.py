"""Tables for storefronts, products, orders, escrow, shipments, disputes and FX.

What the database holds a second time, after the services' checks:
* a storefront's slug is unique, one storefront per merchant (UNIQUE);
* a variant's stock never goes below zero (CHECK): the conditional decrement at checkout is
  the first guard, this the second, so an item is never sold twice;
* an order's escrow figures add up: what was paid into escrow is what is still held plus
  what was released and refunded (CHECK), none negative;
* an order is paid at most once (its escrow account is UNIQUE and set once);
* each order has at most one open dispute (partial UNIQUE index);
* an FX quote is used by at most one order (UNIQUE ``orders.quote_id``).

Order lines copy the title and price at checkout: a later price change does not change
what the buyer agreed to.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from tindahan import limits
from tindahan.commerce.orders import OrderStatus
from tindahan.commerce.shipments import ShipmentStatus
from tindahan.store.payment_tables import _ID, _in
from tindahan.store.tables import metadata

storefronts = Table(
    "storefronts",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("merchant_id", String(_ID), ForeignKey("parties.id"), nullable=False, unique=True),
    Column("slug", String(limits.SLUG_MAX_LENGTH), nullable=False, unique=True),
    Column("name", String(limits.NAME_MAX_LENGTH), nullable=False),
    Column("description", Text),
    Column("city", String(limits.CITY_MAX_LENGTH), nullable=False),
    Column("province", String(limits.CITY_MAX_LENGTH), nullable=False),
    Column("shipping_fee_minor", BigInteger, nullable=False),
    #: Items at least this much ship free (the merchant pays the courier); null: never.
    Column("free_shipping_over_minor", BigInteger),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    CheckConstraint("shipping_fee_minor >= 0", name="shipping_fee"),
)

products = Table(
    "products",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("storefront_id", String(_ID), ForeignKey("storefronts.id"), nullable=False),
    Column("title", String(limits.TITLE_MAX_LENGTH), nullable=False),
    Column("description", Text),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("active", Integer, nullable=False),
    #: The storefront's category it is shelved under, if any (``categories``).
    Column("category_id", String(_ID), ForeignKey("categories.id")),
    #: Title and description as lowercase words joined by spaces (``commerce.search``):
    #: what SQLite's FTS5 table and PostgreSQL's full-text index both read, so the two
    #: engines see the same words and find the same products.
    Column("search_text", Text, nullable=False, server_default=""),
    #: Grams, packed: what couriers' rate cards price by (null: not given, and a checkout
    #: with a courier refuses the cart until the merchant gives it).
    Column("weight_g", Integer),
    #: What one piece costs the merchant, in the product's currency (null: not recorded);
    #: the merchant's own figure, for its margins, never shown to buyers (0037).
    Column("cost_minor", BigInteger),
    #: Days the merchant's supplier takes to deliver it (null: the reorder list's default);
    #: 0 to 60, the reorder advice's lead time for this product (0046).
    Column("lead_time_days", Integer),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    CheckConstraint("price_minor > 0", name="price_positive"),
    CheckConstraint("active IN (0, 1)", name="active"),
)
Index("ix_products_storefront", products.c.storefront_id, products.c.id)
Index("ix_products_category", products.c.category_id, products.c.id)

#: The full-text objects the migration makes outside these tables (SQLite: the FTS5 table
#: ``product_search``, its shadow tables and triggers; PostgreSQL: a GIN index over
#: ``to_tsvector('simple', search_text)``), left out of the metadata comparison.
SEARCH_OBJECTS = ("product_search", "ix_products_search")

categories = Table(
    "categories",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("storefront_id", String(_ID), ForeignKey("storefronts.id"), nullable=False),
    Column("name", String(limits.CATEGORY_NAME_MAX_LENGTH), nullable=False),
    #: The name casefolded: two categories of one storefront never differ by case alone.
    Column("name_key", String(limits.CATEGORY_NAME_MAX_LENGTH), nullable=False),
    Column("position", Integer, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    UniqueConstraint("storefront_id", "name_key"),
)

product_photos = Table(
    "product_photos",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("product_id", String(_ID), ForeignKey("products.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("alt", String(limits.PHOTO_ALT_MAX_LENGTH), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    #: JSON: ``[{"w": 320, "h": 240, "name": "<sha256>.webp"}, …]``, narrowest first.
    Column("renditions", Text, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint("width > 0 AND height > 0", name="size"),
    UniqueConstraint("product_id", "position"),
)

variants = Table(
    "product_variants",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("product_id", String(_ID), ForeignKey("products.id"), nullable=False),
    Column("name", String(limits.VARIANT_NAME_MAX_LENGTH)),
    Column("price_minor", BigInteger),  # None: the product's price
    Column("stock", BigInteger, nullable=False),
    Column("position", Integer, nullable=False),
    CheckConstraint("stock >= 0", name="stock_not_negative"),
    CheckConstraint("price_minor IS NULL OR price_minor > 0", name="price_positive"),
    UniqueConstraint("product_id", "position"),
)
Index("ix_product_variants_product", variants.c.product_id)

orders = Table(
    "orders",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("short_ref", String(8), nullable=False),  # services.platform.shortrefs
    Column("storefront_id", String(_ID), ForeignKey("storefronts.id"), nullable=False),
    Column("merchant_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("buyer_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("status", String(24), nullable=False),
    Column("currency", String(3), nullable=False),  # always PHP: what the merchant receives
    Column("items_minor", BigInteger, nullable=False),
    Column("shipping_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    #: Escrow, in PHP: paid in = held + released (to the merchant, fee included) + refunded.
    Column("escrow_account_id", String(limits.ID_MAX_LENGTH), unique=True),
    Column("paid_in_minor", BigInteger, nullable=False),
    Column("held_minor", BigInteger, nullable=False),
    Column("released_minor", BigInteger, nullable=False),
    Column("fee_minor", BigInteger, nullable=False),
    Column("refunded_minor", BigInteger, nullable=False),
    #: Buyers abroad: what they paid in their own currency, at the locked quote.
    Column("buyer_currency", String(3), nullable=False),
    Column("buyer_paid_minor", BigInteger, nullable=False),
    Column("buyer_refunded_minor", BigInteger, nullable=False),
    Column("quote_id", String(_ID), unique=True),
    Column("transfer_ids", Text, nullable=False),
    Column("expires_at_ns", BigInteger),  # unpaid orders: stock is held until then
    Column("paid_at_ns", BigInteger),
    Column("delivered_at_ns", BigInteger),
    Column("release_at_ns", BigInteger),  # delivered orders: auto-release time
    Column("completed_at_ns", BigInteger),
    #: Delivery (issue 25): the courier the buyer chose, the zone it was priced for, and the
    #: window (days) its rate card promised; null for a flat-fee storefront's order.
    Column("courier_code", String(limits.COURIER_CODE_MAX_LENGTH)),
    Column("delivery_zone", String(24)),
    Column("window_min_days", Integer),
    Column("window_max_days", Integer),
    #: 1: the window is the rate card's (an estimate); 0: learned from deliveries (item 2).
    Column("window_estimate", Integer),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    CheckConstraint(_in("status", tuple(OrderStatus)), name="status"),
    CheckConstraint("total_minor = items_minor + shipping_minor", name="total"),
    CheckConstraint(
        "paid_in_minor = held_minor + released_minor + refunded_minor", name="escrow_adds_up"
    ),
    CheckConstraint(
        "held_minor >= 0 AND released_minor >= 0 AND refunded_minor >= 0 AND fee_minor >= 0"
        " AND fee_minor <= released_minor",
        name="escrow_not_negative",
    ),
    CheckConstraint("paid_in_minor IN (0, total_minor)", name="paid_in_full"),
    CheckConstraint("buyer_refunded_minor <= buyer_paid_minor", name="buyer_refund"),
)
Index("ix_orders_buyer", orders.c.buyer_id, orders.c.created_at_ns)
Index("ix_orders_merchant", orders.c.merchant_id, orders.c.created_at_ns)
Index("ix_orders_status_expiry", orders.c.status, orders.c.expires_at_ns)
Index("ix_orders_status_release", orders.c.status, orders.c.release_at_ns)
Index("ix_orders_short_ref", orders.c.short_ref, unique=True)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(_ID), ForeignKey("orders.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("product_id", String(_ID), ForeignKey("products.id"), nullable=False),
    Column("variant_id", String(_ID), ForeignKey("product_variants.id"), nullable=False),
    Column("title", String(limits.TITLE_MAX_LENGTH + limits.VARIANT_NAME_MAX_LENGTH + 3)),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("shipped_quantity", BigInteger, nullable=False),
    Column("cancelled_quantity", BigInteger, nullable=False),
    CheckConstraint("quantity > 0", name="quantity"),
    CheckConstraint(
        "shipped_quantity >= 0 AND cancelled_quantity >= 0"
        " AND shipped_quantity + cancelled_quantity <= quantity",
        name="accounted",
    ),
)

order_events = Table(
    "order_events",
    metadata,
    Column("order_id", String(_ID), ForeignKey("orders.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("action", String(24), nullable=False),
    Column("from_status", String(24)),
    Column("to_status", String(24), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("actor_id", String(_ID)),  # the party or API key; None for the worker
    Column("amount_minor", BigInteger),
    Column("note", String(limits.DESCRIPTION_MAX_LENGTH)),
    Column("at_ns", BigInteger, nullable=False),
)

#: An order's escrow movement on a TigerBeetle ledger (issue 22): who asked for what, kept
#: with its place in the two-store order (``two_store_payments``, record ``order``, the same
#: id) so that C, in this request or in recovery's, makes the order's step as that actor
#: (``services.commerce.escrow_cluster``).
order_places = Table(
    "order_places",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("order_id", String(_ID), ForeignKey("orders.id"), nullable=False),
    Column("action", String(24), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("actor_id", String(_ID)),
    Column("created_at_ns", BigInteger, nullable=False),
    #: A refund's or cancel's reason, for the order's step at C.
    Column("note", String(limits.DESCRIPTION_MAX_LENGTH)),
    #: A refund by lines: the lines to cancel at C (JSON: [[line_no, quantity], ...]).
    Column("lines", Text),
)
Index("ix_order_places_order_id", order_places.c.order_id)

shipments = Table(
    "shipments",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("order_id", String(_ID), ForeignKey("orders.id"), nullable=False),
    Column("courier", String(limits.COURIER_NAME_MAX_LENGTH), nullable=False),
    Column("tracking_number", String(limits.TRACKING_NUMBER_MAX_LENGTH), nullable=False),
    Column("status", String(24), nullable=False),
    Column("lines", Text, nullable=False),  # JSON: [[line_no, quantity], ...]
    Column("promised_at_ns", BigInteger),
    Column("delivered_at_ns", BigInteger),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    CheckConstraint(_in("status", tuple(ShipmentStatus)), name="status"),
    UniqueConstraint("courier", "tracking_number"),
)
Index("ix_shipments_order", shipments.c.order_id)

shipment_events = Table(
    "shipment_events",
    metadata,
    Column("shipment_id", String(_ID), ForeignKey("shipments.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("status", String(24), nullable=False),
    Column("location", String(limits.CITY_MAX_LENGTH)),
    Column("note", String(limits.DESCRIPTION_MAX_LENGTH)),
    Column("source", String(16), nullable=False),  # merchant, courier, operator
    Column("occurred_at_ns", BigInteger, nullable=False),
    Column("recorded_at_ns", BigInteger, nullable=False),
)

couriers = Table(
    "couriers",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("name", String(limits.COURIER_NAME_MAX_LENGTH), nullable=False, unique=True),
    Column("secret_cipher", Text, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
)

disputes = Table(
    "disputes",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("order_id", String(_ID), ForeignKey("orders.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(limits.DESCRIPTION_MAX_LENGTH), nullable=False),
    Column("opened_by", String(_ID), nullable=False),
    Column("status_before", String(24), nullable=False),
    Column("resolution", String(16)),
    Column("refund_minor", BigInteger),
    Column("release_minor", BigInteger),
    Column("resolved_by", String(_ID)),
    Column("note", String(limits.DESCRIPTION_MAX_LENGTH)),
    Column("opened_at_ns", BigInteger, nullable=False),
    Column("resolved_at_ns", BigInteger),
    CheckConstraint(_in("status", ("open", "resolved")), name="status"),
    CheckConstraint(
        "resolution IS NULL OR resolution IN ('release', 'refund', 'split')", name="resolution"
    ),
    CheckConstraint("(status = 'resolved') = (resolution IS NOT NULL)", name="resolved"),
)
Index(
    "ux_disputes_open",
    disputes.c.order_id,
    unique=True,
    sqlite_where=text("status = 'open'"),
    postgresql_where=text("status = 'open'"),
)

fx_rates = Table(
    "fx_rates",
    metadata,
    Column("currency", String(3), primary_key=True),  # the foreign side; the other is PHP
    Column("mid_rate", String(40), nullable=False),  # Decimal as text: exact
    Column("spread_bps", Integer, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

fx_quotes = Table(
    "fx_quotes",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("order_id", String(_ID), ForeignKey("orders.id"), nullable=False),
    Column("buyer_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("mid_rate", String(40), nullable=False),
    Column("spread_bps", Integer, nullable=False),
    Column("customer_rate", String(60), nullable=False),
    Column("php_minor", BigInteger, nullable=False),
    Column("buyer_minor", BigInteger, nullable=False),
    Column("expires_at_ns", BigInteger, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint("php_minor > 0 AND buyer_minor > 0", name="amounts"),
)
Index("ix_fx_quotes_order", fx_quotes.c.order_id)

#: A buyer's address book. The address (recipient, phone, street, barangay, city, province,
#: postal code, notes) is personal data: one AES-GCM sealed JSON object bound to the row's id
#: (``store.vault``), never stored in clear. Removed entries are kept (marked) so a removal


def _psgc_columns() -> list[Column[str]]:
    """Where an address is, by the PSGC (``commerce.psgc.Codes``), in clear beside the sealed
    address: a barangay's code names a place of thousands, not a person, and delivery zones
    are drawn by them. Null: stored before the check and not matched by the backfill, or
    (``province_code`` only) in Metro Manila or an independent city."""
    names = ("barangay_code", "city_code", "province_code", "region_code")
    return [Column(name, String(10)) for name in names]


#: is an ordinary update, not a delete.
addresses = Table(
    "addresses",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("party_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("address_cipher", Text, nullable=False),
    *_psgc_columns(),
    Column("status", String(16), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    CheckConstraint(_in("status", ("active", "removed")), name="status"),
)
Index("ix_addresses_party", addresses.c.party_id, addresses.c.id)

#: Where an order goes: a sealed copy of the address taken at checkout, so editing or
#: removing the address book entry later never changes an order already placed (or shipped).
order_addresses = Table(
    "order_addresses",
    metadata,
    Column("order_id", String(_ID), ForeignKey("orders.id"), primary_key=True),
    Column("address_id", String(_ID), ForeignKey("addresses.id")),  # None: typed at checkout
    Column("address_cipher", Text, nullable=False),
    *_psgc_columns(),
    Column("created_at_ns", BigInteger, nullable=False),
)


#: Couriers' rate cards (``delivery.rates``), by the courier's code: the card is the
#: operator's JSON as ``RateCard.as_dict`` writes it, checked by ``rates.parse_card`` before
#: it is stored. (``couriers`` above are the couriers' tracking integrations, by id.)
rate_cards = Table(
    "rate_cards",
    metadata,
    Column("code", String(limits.COURIER_CODE_MAX_LENGTH), primary_key=True),
    Column("name", String(limits.NAME_MAX_LENGTH), nullable=False),
    Column("card", Text, nullable=False),
    Column("active", Integer, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    CheckConstraint("active IN (0, 1)", name="active"),
)

#: The couriers a storefront ships with, each optionally at the merchant's flat fee.
storefront_couriers = Table(
    "storefront_couriers",
    metadata,
    Column("storefront_id", String(_ID), ForeignKey("storefronts.id"), primary_key=True),
    Column(
        "courier_code",
        String(limits.COURIER_CODE_MAX_LENGTH),
        ForeignKey("rate_cards.code"),
        primary_key=True,
    ),
    Column("flat_fee_minor", BigInteger),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint("flat_fee_minor IS NULL OR flat_fee_minor >= 0", name="flat_fee"),
)


#: Delivered shipments a delivery-time model learns from (issue 25, item 2): the platform's
#: own, imported ones, or the simulator's (``source``). Times in ns since the epoch.
shipment_history = Table(
    "shipment_history",
    metadata,
    Column("shipment_id", String(64), primary_key=True),
    Column("courier_code", String(limits.COURIER_CODE_MAX_LENGTH), nullable=False),
    Column("origin_psgc", String(10), nullable=False),
    Column("destination_psgc", String(10), nullable=False),
    Column("zone", String(24), nullable=False),
    Column("picked_up_at_ns", BigInteger, nullable=False, index=True),
    Column("delivered_at_ns", BigInteger, nullable=False),
    Column("weight_g", Integer, nullable=False),
    Column("source", String(16), nullable=False),
    CheckConstraint("delivered_at_ns > picked_up_at_ns", name="delivered_after_pickup"),
    CheckConstraint("weight_g BETWEEN 1 AND 50000", name="weight"),
    CheckConstraint("source IN ('simulated', 'imported', 'platform')", name="source"),
)

#: Typhoon advisories the operator sets: a province (or independent city, or NCR's region
#: code) under a storm signal on a Philippine day (ISO date).
typhoon_advisories = Table(
    "typhoon_advisories",
    metadata,
    Column("area_psgc", String(10), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("created_at_ns", BigInteger, nullable=False),
)
