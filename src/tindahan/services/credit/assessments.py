"""Credit assessments of merchants: their history from the database, a score, the reasons.

**Where history comes from.** ``load_events`` reads, for the merchants asked about and
strictly before the as-of time, the rows ``credit.events`` describes:

* sales: succeeded merchant payments (QR and direct) at their creation, and paid online
  orders at payment (``paid_at_ns``), each with its buyer;
* refunds: refunds of merchant payments at their creation; an order's refunds at the
  order's last change (``updated_at_ns``) — never earlier than they happened, so the
  approximation can only under-count, never leak;
* disputes at their opening; cash-outs (succeeded) at their last change;
* postings: every posted ledger transfer on the merchant's PHP wallets (pending holds are
  not balance changes until posted; voids are not changes), signed for the wallet.

The cut by time is in SQL *and* again in ``credit.features``.

**Which model.** The folder in ``TINDAHAN_CREDIT_MODEL``, or ``var/models/merchant`` beside
the database; ``serve --demo`` trains one from a simulated population when there is none.
A loaded model is cached by folder and modification time.

**Decisions.** A merchant below the history thresholds in ``limits`` gets
``insufficient_history`` with the reasons, never a score. Every decision is stored in
``credit_assessments`` with the feature values it read (the Data Privacy Act's right to an
explanation of automated profiling).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    String,
    bindparam,
    cast,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
)

from tindahan.credit import events, features, simulate
from tindahan.credit.dataset import Columns
from tindahan.credit.errors import CreditError
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found
from tindahan.ledger.model import TransferFlags
from tindahan.lending.calendar import business_date, day_start_ns
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.commerce_tables import disputes, orders
from tindahan.store.credit_tables import credit_assessments
from tindahan.store.lending_tables import loan_installments, loans
from tindahan.store.payment_tables import parties, payments, refunds, wallets
from tindahan.store.tables import transfers

if TYPE_CHECKING:
    # scikit-learn, optbinning and matplotlib (about 17 s of CPU on a busy machine, most of
    # the API's import): loaded when a model is loaded or trained, not by every process that
    # imports the API (``tindahan.api.credit``), most of which never scores a merchant.
    from tindahan.credit import artifact

MODEL_ENV = "TINDAHAN_CREDIT_MODEL"
DEFAULT_MODEL_DIR = Path("var") / "models" / "merchant"
SALE_STATUSES = ("succeeded", "refunded", "partially_refunded")
PROBABILITY_PLACES = Decimal("0.000001")
#: The as-of date of the simulated training population (2026-05-01 UTC): any fixed date
#: would do; fixing it keeps the default model the same from run to run.
SIMULATION_AS_OF_NS = 1_777_593_600 * 10**9


def model_dir() -> Path:
    return Path(os.environ.get(MODEL_ENV) or DEFAULT_MODEL_DIR)


_cache: dict[tuple[str, float], artifact.Loaded] = {}
_cache_lock = threading.Lock()


def current_model(folder: Path | None = None) -> artifact.Loaded:
    path = folder or model_dir()
    meta = path / "metadata.json"
    if not meta.exists():
        raise conflict(
            "credit_model_unavailable",
            "no credit model is installed: train one with `tindahan credit train` and point "
            f"{MODEL_ENV} at its folder",
        )
    key = (str(path.resolve()), meta.stat().st_mtime)
    from tindahan.credit import artifact

    with _cache_lock:
        if key not in _cache:
            try:
                _cache[key] = artifact.load(path)
            except CreditError as error:
                raise conflict("credit_model_unavailable", str(error)) from None
        return _cache[key]


def default_directions() -> dict[str, int]:
    """The merchant features' directions a default model is trained with."""
    return {k: v for k, v in features.DIRECTIONS.items() if v}


def is_stale_default(metadata: dict[str, Any]) -> bool:
    """A default model (trained on the simulator) with other directions than today's: the
    demo trains it again, so its reasons follow the current rules. A model trained on real
    data is never touched."""
    simulated = str(metadata.get("source", "")).startswith("simulated population")
    return simulated and metadata.get("directions") != default_directions()


def train_default_model(
    folder: Path, merchants: int = 2_000, seed: int = 0, kind: str = "scorecard"
) -> artifact.Trained:
    """The platform's merchant model before any loan has matured: learned on a simulated
    population (``credit.simulate``) — features as of a date, the defaults after it — and
    written with its card. Replaced by one trained on real outcomes once loans exist."""
    population = simulate.recent(
        merchants, as_of_ns=SIMULATION_AS_OF_NS, history_days=365, seed=seed
    )
    frame = simulate.labelled(population)
    table = features.as_table(frame, frame["defaulted"].to_numpy())
    table.data_hash = f"simulated-{merchants}-seed{seed}"
    source = f"simulated population ({merchants} merchants, seed {seed})"
    from tindahan.credit import artifact, card

    trained = artifact.train(table, kind, seed, default_directions(), source=source)
    artifact.save(trained, folder, card.write)
    return trained


# --- history ---------------------------------------------------------------------------


def _rows(conn: Connection, query: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.execute(query)]


def load_events(conn: Connection, merchant_ids: list[str], before_ns: int) -> events.Events:
    """The merchants' history strictly before ``before_ns``: two statements, the parties and
    one ``UNION ALL`` of every kind of event (scoring one merchant is a round trip or two,
    not nine)."""
    ids = list(merchant_ids)
    merchants = _rows(
        conn,
        select(parties.c.id, parties.c.created_at_ns, parties.c.province, parties.c.mcc).where(
            parties.c.id.in_(ids), parties.c.kind == "merchant", parties.c.created_at_ns < before_ns
        ),
    )
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in KINDS.values()}
    for kind, merchant, buyer, at, amount in _rows(conn, _history(ids, before_ns)):
        name = KINDS[kind]
        if name == "sales":
            rows[name].append((merchant, buyer or "", at, amount, "order" if kind == 2 else "qr"))
        elif name == "disputes":
            rows[name].append((merchant, at))
        else:
            rows[name].append((merchant, at, amount))
    rows["installments"] = _installments(conn, ids, before_ns)
    return events.build(
        merchants=events.frame("merchants", [(m, t, p or "", c or "") for m, t, p, c in merchants]),
        **{name: events.frame(name, found) for name, found in rows.items()},
    )


def _installments(conn: Connection, ids: list[str], before_ns: int) -> list[tuple[Any, ...]]:
    """On-platform loan installments due before the cut (every schedule version: a line
    restructured away unpaid counts as unpaid), each paid only if paid before the cut — the
    features ``loan_on_time_share`` and ``loan_worst_dpd`` read them (``credit.features``).
    A cancelled loan's are left out: the merchant never had the money."""
    cut_day = business_date(before_ns).isoformat()
    query = (
        select(
            loans.c.merchant_id,
            loan_installments.c.due_date,
            loan_installments.c.paid_date,
            loan_installments.c.principal_minor
            + loan_installments.c.interest_minor
            + loan_installments.c.fee_minor,
        )
        .join(loans, loans.c.id == loan_installments.c.loan_id)
        .where(
            loans.c.merchant_id.in_(ids),
            loan_installments.c.due_date < cut_day,
            loans.c.status != "cancelled",  # its disbursement returned: never lent
        )
    )
    found = []
    for merchant, due, paid, amount in conn.execute(query):
        due_ns = day_start_ns(date.fromisoformat(due))
        paid_ns = day_start_ns(date.fromisoformat(paid)) if paid else -1
        if due_ns >= before_ns:
            continue
        found.append((merchant, due_ns, paid_ns if 0 <= paid_ns < before_ns else -1, amount))
    return found


#: The first column of the history query: which kind of event a row is.
KINDS = {1: "sales", 2: "sales", 3: "refunds", 4: "refunds", 5: "disputes", 6: "cash_outs"}
KINDS.update({7: "postings", 8: "postings"})


def kind(number: int) -> Any:
    return literal(number, Integer)


def _history(ids: list[str], before: int) -> Any:
    """Each part names its time column and cuts at ``before`` (see the module docstring)."""
    no_buyer = null().cast(String)
    no_amount = null().cast(BigInteger)
    php_wallets = (
        select(wallets.c.account_id, wallets.c.party_id)
        .where(wallets.c.party_id.in_(ids), wallets.c.currency == "PHP")
        .subquery()
    )
    posted = transfers.c.flags.op("&")(int(TransferFlags.PENDING | TransferFlags.VOID_PENDING)) == 0
    parts = [
        select(
            kind(1),
            payments.c.payee_id,
            payments.c.payer_id,
            payments.c.created_at_ns,
            payments.c.amount_minor,
        ).where(
            payments.c.payee_id.in_(ids),
            payments.c.kind == "merchant",
            payments.c.currency == "PHP",
            payments.c.status.in_(SALE_STATUSES),
            payments.c.created_at_ns < before,
        ),
        select(
            kind(2),
            orders.c.merchant_id,
            orders.c.buyer_id,
            orders.c.paid_at_ns,
            orders.c.total_minor,
        ).where(
            orders.c.merchant_id.in_(ids),
            orders.c.paid_at_ns.is_not(None),
            orders.c.paid_at_ns < before,
        ),
        select(
            kind(3), payments.c.payee_id, no_buyer, refunds.c.created_at_ns, refunds.c.amount_minor
        )
        .join(payments, payments.c.id == refunds.c.payment_id)
        .where(
            payments.c.payee_id.in_(ids),
            payments.c.kind == "merchant",
            refunds.c.created_at_ns < before,
        ),
        select(
            kind(4), orders.c.merchant_id, no_buyer, orders.c.updated_at_ns, orders.c.refunded_minor
        ).where(
            orders.c.merchant_id.in_(ids),
            orders.c.refunded_minor > 0,
            orders.c.updated_at_ns < before,
        ),
        select(kind(5), orders.c.merchant_id, no_buyer, disputes.c.opened_at_ns, no_amount)
        .join(orders, orders.c.id == disputes.c.order_id)
        .where(orders.c.merchant_id.in_(ids), disputes.c.opened_at_ns < before),
        select(
            kind(6),
            payments.c.payer_id,
            no_buyer,
            payments.c.updated_at_ns,
            payments.c.amount_minor,
        ).where(
            payments.c.payer_id.in_(ids),
            payments.c.kind == "cash_out",
            payments.c.status == "succeeded",
            payments.c.updated_at_ns < before,
        ),
        # Postings: credits to a wallet add, debits take away; a move between a merchant's
        # own two wallets appears twice and nets to zero.
        select(
            kind(7), php_wallets.c.party_id, no_buyer, transfers.c.created_at_ns, transfers.c.amount
        )
        .join(php_wallets, php_wallets.c.account_id == transfers.c.credit_account_id)
        .where(posted, transfers.c.created_at_ns < before),
        select(
            kind(8),
            php_wallets.c.party_id,
            no_buyer,
            transfers.c.created_at_ns,
            -transfers.c.amount,
        )
        .join(php_wallets, php_wallets.c.account_id == transfers.c.debit_account_id)
        .where(posted, transfers.c.created_at_ns < before),
    ]
    return union_all(*parts)


# --- one merchant: the same history, as plain arrays ----------------------------------------

#: The windows ``features`` reads (``features.compute``): sales, refunds and disputes 180
#: days back, cash-outs 90, postings by day over the last 90 and as one sum before that.
SALES_DAYS = 2 * features.RECENT_DAYS


def _one_history() -> Any:
    """``_history`` for one merchant (``:merchant``), cut to the windows the features read
    and to ``:before``, only the columns they need: ``(kind, buyer, at, amount)`` rows, kinds
    as in ``KINDS``. Two differences, neither changing a feature: the postings come summed
    per day of age (kinds 7 and 8, ``at`` holding the age in days: features only add them
    up by day) and the older ones as one sum (kinds 9 and 10); and kind 0 is the merchant's
    own row (``at``: when the party was created), so a score reads one statement."""
    # Values here only so that the compiled statement knows each parameter's name and type.
    merchant = bindparam("merchant", "", type_=String)
    before = bindparam("before", 0, type_=BigInteger)
    sales_from = bindparam("sales_from", 0, type_=BigInteger)
    cash_from = bindparam("cash_from", 0, type_=BigInteger)
    recent_from = bindparam("recent_from", 0, type_=BigInteger)
    day = bindparam("day", features.DAY_NS, type_=BigInteger)
    no_buyer = null().cast(String)
    no_at = null().cast(BigInteger)
    no_amount = null().cast(BigInteger)
    php_wallets = (
        select(wallets.c.account_id)
        .where(wallets.c.party_id == merchant, wallets.c.currency == "PHP")
        .subquery()
    )
    posted = transfers.c.flags.op("&")(int(TransferFlags.PENDING | TransferFlags.VOID_PENDING)) == 0
    parts: list[Any] = [
        select(kind(0), no_buyer, parties.c.created_at_ns, no_amount).where(
            parties.c.id == merchant, parties.c.kind == "merchant"
        ),
        select(
            kind(1), payments.c.payer_id, payments.c.created_at_ns, payments.c.amount_minor
        ).where(
            payments.c.payee_id == merchant,
            payments.c.kind == "merchant",
            payments.c.currency == "PHP",
            or_(*(payments.c.status == status for status in SALE_STATUSES)),
            payments.c.created_at_ns >= sales_from,
            payments.c.created_at_ns < before,
        ),
        select(kind(2), orders.c.buyer_id, orders.c.paid_at_ns, orders.c.total_minor).where(
            orders.c.merchant_id == merchant,
            orders.c.paid_at_ns.is_not(None),
            orders.c.paid_at_ns >= sales_from,
            orders.c.paid_at_ns < before,
        ),
        select(kind(3), no_buyer, refunds.c.created_at_ns, refunds.c.amount_minor)
        .join(payments, payments.c.id == refunds.c.payment_id)
        .where(
            payments.c.payee_id == merchant,
            payments.c.kind == "merchant",
            refunds.c.created_at_ns >= sales_from,
            refunds.c.created_at_ns < before,
        ),
        select(kind(4), no_buyer, orders.c.updated_at_ns, orders.c.refunded_minor).where(
            orders.c.merchant_id == merchant,
            orders.c.refunded_minor > 0,
            orders.c.updated_at_ns >= sales_from,
            orders.c.updated_at_ns < before,
        ),
        select(kind(5), no_buyer, disputes.c.opened_at_ns, no_amount)
        .join(orders, orders.c.id == disputes.c.order_id)
        .where(
            orders.c.merchant_id == merchant,
            disputes.c.opened_at_ns >= sales_from,
            disputes.c.opened_at_ns < before,
        ),
        select(kind(6), no_buyer, payments.c.updated_at_ns, payments.c.amount_minor).where(
            payments.c.payer_id == merchant,
            payments.c.kind == "cash_out",
            payments.c.status == "succeeded",
            payments.c.updated_at_ns >= cash_from,
            payments.c.updated_at_ns < before,
        ),
    ]
    for number, column, sign in (
        (7, transfers.c.credit_account_id, 1),
        (8, transfers.c.debit_account_id, -1),
    ):
        joined = transfers.join(php_wallets, php_wallets.c.account_id == column)
        # Positive and below the ranges where division rounds differently: whole days.
        age = (before - transfers.c.created_at_ns).self_group().op("/")(day).label("age")
        recent = (
            select(age, transfers.c.amount)
            .select_from(joined)
            .where(posted, transfers.c.created_at_ns >= recent_from)
            .where(transfers.c.created_at_ns < before)
            .subquery()
        )
        parts.append(
            select(
                kind(number),
                no_buyer,
                recent.c.age,
                cast(sign * func.sum(recent.c.amount), BigInteger),
            ).group_by(recent.c.age)
        )
        parts.append(
            select(
                kind(number + 2),
                no_buyer,
                no_at,
                cast(sign * func.sum(transfers.c.amount), BigInteger),
            )
            .select_from(joined)
            .where(posted, transfers.c.created_at_ns < recent_from)
        )
    return union_all(*parts)


def _one_installments() -> Any:
    """``_installments`` for one merchant (``:merchant``, due before ``:cut_day``)."""
    merchant = bindparam("merchant", "", type_=String)
    cut_day = bindparam("cut_day", "", type_=String)
    return (
        select(
            loan_installments.c.due_date,
            loan_installments.c.paid_date,
            loan_installments.c.principal_minor
            + loan_installments.c.interest_minor
            + loan_installments.c.fee_minor,
        )
        .join(loans, loans.c.id == loan_installments.c.loan_id)
        .where(loans.c.merchant_id == merchant, loan_installments.c.due_date < cut_day)
    )


class _Statement:
    """A statement compiled once for a dialect, run on the driver's cursor: its SQL, the
    order of its parameters (positional drivers, SQLite's ``?``) and their fixed values."""

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.order = tuple(compiled.positiontup or ()) if compiled.positional else None
        self.fixed: dict[str, Any] = compiled.construct_params()

    def rows(self, conn: Connection, **values: Any) -> list[tuple[Any, ...]]:
        params = {**self.fixed, **values}
        args: Any = params if self.order is None else tuple(params[k] for k in self.order)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, args)
            found: list[tuple[Any, ...]] = cursor.fetchall()
        finally:
            cursor.close()
        return found


_STATEMENTS: dict[tuple[str, str], _Statement] = {}
_STATEMENTS_LOCK = threading.Lock()
_BUILDERS = {"history": _one_history, "installments": _one_installments}


def _statement(conn: Connection, name: str) -> _Statement:
    key = (conn.dialect.name, name)
    found = _STATEMENTS.get(key)
    if found is None:
        with _STATEMENTS_LOCK:
            found = _STATEMENTS[key] = _Statement(_BUILDERS[name](), conn.dialect)
    return found


def load_one(conn: Connection, merchant_id: str, before_ns: int) -> tuple[int, dict[str, Any]]:
    """When the merchant opened (``not_found`` if ``merchant_id`` is no merchant) and their
    history strictly before ``before_ns`` as ``features.compute_one`` reads it: one
    statement on the driver's cursor for the events (plain tuples: no result objects, no
    data frames), one for the installments. Within the windows the features read these are
    ``load_events``'s rows, except the postings, which come summed by day (balances only add
    them up by day, so the features are the same)."""
    day = features.DAY_NS
    recent_from = before_ns - features.RECENT_DAYS * day + 1
    rows = _statement(conn, "history").rows(
        conn,
        merchant=merchant_id,
        before=before_ns,
        sales_from=before_ns - SALES_DAYS * day,
        cash_from=before_ns - features.RECENT_DAYS * day,
        recent_from=recent_from,
    )
    opened: int | None = None
    sales: list[tuple[Any, ...]] = []
    refunded: list[tuple[int, int]] = []
    disputed: list[int] = []
    cashed: list[tuple[int, int]] = []
    posted: list[tuple[int, int]] = []
    for number, buyer, at, amount in rows:
        if number == 0:
            opened = at
        elif number <= 2:
            sales.append((buyer or "", at, amount, "order" if number == 2 else "qr"))
        elif number <= 4:
            refunded.append((at, amount))
        elif number == 5:
            disputed.append(at)
        elif number == 6:
            cashed.append((at, amount))
        elif number <= 8:  # a day's postings: ``at`` is their age in whole days
            posted.append((before_ns - int(at) * day - 1, int(amount)))
        elif amount is not None:  # the older postings' sum, at the window's edge
            posted.append((recent_from - 1, int(amount)))
    if opened is None:
        raise not_found("merchant", "merchant_id")
    cut_day = business_date(before_ns).isoformat()
    installments = []
    for due, paid, amount in _statement(conn, "installments").rows(
        conn, merchant=merchant_id, cut_day=cut_day
    ):
        due_ns = day_start_ns(date.fromisoformat(due))
        paid_ns = day_start_ns(date.fromisoformat(paid)) if paid else -1
        if due_ns < before_ns:  # as ``_installments``
            installments.append((due_ns, paid_ns if 0 <= paid_ns < before_ns else -1, amount))
    return int(opened), {
        "sales": _columns(sales, ("buyer_id", "at_ns", "amount_minor", "channel"), "OiiO"),
        "refunds": _columns(refunded, ("at_ns", "amount_minor"), "ii"),
        "disputes": {"at_ns": np.array(disputed, dtype=np.int64)},
        "cash_outs": _columns(cashed, ("at_ns", "amount_minor"), "ii"),
        "postings": _columns(posted, ("at_ns", "delta_minor"), "ii"),
        "installments": _columns(installments, ("due_at_ns", "paid_at_ns", "amount_minor"), "iii"),
    }


def _columns(rows: list[Any], names: tuple[str, ...], kinds: str) -> features.Arrays:
    data = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return {
        name: np.array(values, dtype=object if k == "O" else np.int64)
        for name, values, k in zip(names, data, kinds, strict=True)
    }


def features_one(conn: Connection, merchant_id: str, cut: int) -> dict[str, Any]:
    """``features.compute``'s row for one merchant, by the single path; ``not_found`` for
    anyone who is not a merchant, ``merchant_not_open`` for one created at ``cut`` or after."""
    opened, tables = load_one(conn, merchant_id, cut)
    if opened >= cut:
        raise conflict("merchant_not_open", "the merchant was created after this moment")
    row: dict[str, Any] = features.compute_one(opened, tables, cut)
    row.update(merchant_id=merchant_id, as_of_ns=cut)
    return row


def platform_features(conn: Connection, as_of_ns: int) -> pd.DataFrame:
    """Every merchant's features as of a moment, in one batch (for drift checks and
    portfolio scoring): the scorable ones only."""
    ids = [row[0] for row in conn.execute(select(parties.c.id).where(parties.c.kind == "merchant"))]
    frame = features.compute(load_events(conn, ids, as_of_ns), as_of_ns)
    return frame[features.scorable(frame)]


# --- decisions -------------------------------------------------------------------------


def _merchant(unit: Unit, caller: Caller, merchant_id: str) -> Any:
    if not caller.reaches(merchant_id):
        raise not_found("merchant", "merchant_id")
    row = unit.conn.execute(select(parties).where(parties.c.id == merchant_id)).mappings().first()
    if row is None or row["kind"] != "merchant":
        raise not_found("merchant", "merchant_id")
    return row


def probability_text(p: float) -> str:
    """The probability as a decimal string, six places, rounded half up."""
    return str(Decimal(repr(float(p))).quantize(PROBABILITY_PLACES, rounding=ROUND_HALF_UP))


def decide(model: artifact.Loaded, row: Mapping[str, Any] | pd.Series) -> dict[str, Any]:
    """The decision for one row of ``features.compute``'s output (or ``features_one``'s)."""
    missing = features.insufficient(row)
    if missing:
        return {
            "decision": "insufficient_history",
            "model_version": None,
            "probability_of_default": None,
            "score": None,
            "reasons": [
                {"code": "insufficient_history", "points_lost": None, "text": t} for t in missing
            ],
        }
    rows = Columns({name: np.array([float(row[name])]) for name in features.FEATURES})
    decision = model.scorer.decide(rows, features.describe)[0]
    return {
        "decision": "scored",
        "model_version": model.metadata["version"],
        "probability_of_default": probability_text(decision.probability),
        "score": decision.points,
        "reasons": [r.as_dict() for r in decision.reasons],
    }


def assess(
    unit: Unit, caller: Caller, merchant_id: str | None, model: artifact.Loaded | None = None
) -> dict[str, Any]:
    """Score a merchant now from their own history, store the decision, return it."""
    caller.require("credit:write")
    if merchant_id is None:
        if caller.operator:
            raise invalid("parameter_missing", "merchant_id is required", "merchant_id")
        merchant_id = caller.party_id
    assert merchant_id is not None
    _merchant(unit, caller, merchant_id)
    loaded = model or current_model()
    now = unit.now()
    # Everything that had happened when the assessment is made counts, this instant too.
    cut = now + 1
    row = features_one(unit.conn, merchant_id, cut)
    result = decide(loaded, row)
    values = {k: _plain(row[k]) for k in ("tenure_days", "sales_count_90d", *features.FEATURES)}
    record = {
        "id": new_id("cra"),
        "merchant_id": merchant_id,
        "decision": result["decision"],
        "model_version": result["model_version"],
        "probability": result["probability_of_default"],
        "score": result["score"],
        "reasons": json.dumps(result["reasons"]),
        "features": json.dumps(values),
        "as_of_ns": cut,
        "created_at_ns": now,
    }
    unit.conn.execute(insert(credit_assessments), record)
    return view(record)


def _plain(value: Any) -> Any:
    x = float(value)
    return None if np.isnan(x) else round(x, 6)


def view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "credit_assessment",
        "merchant_id": row["merchant_id"],
        "decision": row["decision"],
        "model_version": row["model_version"],
        "probability_of_default": row["probability"],
        "score": row["score"],
        "reasons": json.loads(row["reasons"]),
        "features": json.loads(row["features"]),
        "as_of": iso(row["as_of_ns"]),
        "created": iso(row["created_at_ns"]),
    }


def get(unit: Unit, caller: Caller, assessment_id: str) -> dict[str, Any]:
    caller.require("credit:read")
    row = (
        unit.conn.execute(
            select(credit_assessments).where(credit_assessments.c.id == assessment_id)
        )
        .mappings()
        .first()
    )
    if row is None or not caller.reaches(row["merchant_id"]):
        raise not_found("credit assessment", "id")
    return view(row)


def latest(unit: Unit, caller: Caller, merchant_id: str | None = None) -> dict[str, Any] | None:
    """The merchant's newest assessment (newest by ``created_at_ns``, then id, as
    ``loan_offers`` picks the one to lend on), or None before the first: what a merchant is
    shown of their own credit check. ``merchant_id`` None means the caller's own party;
    another merchant's id is not found, as in ``assess``."""
    caller.require("credit:read")
    if merchant_id is None:
        if caller.operator:
            raise invalid("parameter_missing", "merchant_id is required", "merchant_id")
        merchant_id = caller.party_id
    assert merchant_id is not None
    _merchant(unit, caller, merchant_id)
    row = (
        unit.conn.execute(
            select(credit_assessments)
            .where(credit_assessments.c.merchant_id == merchant_id)
            .order_by(credit_assessments.c.created_at_ns.desc(), credit_assessments.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else view(row)
