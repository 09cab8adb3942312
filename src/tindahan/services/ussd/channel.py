"""One USSD step, answered (issue 24): ``answer`` takes what the aggregator sent and gives
the screen (``CON …`` or ``END …``, at most 182 characters).

How a step runs:

1. **Checks that need nothing**: the service code is one the operator serves, the phone is
   a Philippine mobile in E.164, the session id and text are what a phone sends.
2. **The session** (``sessions.step``, one short transaction): begun, or refused when it
   came from another phone or is older than ``limits.USSD_SESSION_TIMEOUT_S``.
3. **The menus** (``ussd.menu.route``, pure): a fixed prompt, a refusal of what was typed,
   or a stage this module looks something up for or acts on.
4. **Money moves only at the last step**, after the PIN, in one transaction through the very
   use cases the API calls (``payments.pay``, ``requests.pay``, ``cash.cash_out``,
   ``loans.repay``): the KYC tier's limits, the risk gate, the ledger's balance checks and
   the audit trail are theirs. The transaction runs under an idempotency key derived from
   the session and the step (``ussd:<sha256 of sessionId>:<inputs>``), so the network
   resending the last step gets the first answer again and moves nothing more; the
   request's fingerprint leaves the PIN out (a six-digit PIN under a fast hash would be
   read back in a second). On a TigerBeetle ledger a step with an ``_OnCluster`` (the
   payment, the send, the request payment, the loan repayment) runs its use case's A
   through the two-store order under that key instead.

The PIN is the login's payment PIN if one was set on the web, else its sign-in PIN (what a
USSD sign-up chose). Wrong PINs count in a USSD bucket that locks the PIN after
``limits.USSD_PIN_TRIES`` wrong tries (15 minutes, doubling) and in the number's sign-in
bucket the web uses, so wrong tries on the web and on USSD add up; a right PIN gives its
try back. No per-address or site-wide bucket: every USSD request comes from the
aggregator's one address, and every try from a SIM the network has authenticated.

Sign-up (a phone with no account): name, PIN, PIN again. The account is a customer in the
``basic`` KYC tier — the one the operator gives a phone-verified wallet: the network vouches
for the number (SIM registration, RA 11934, binds it to an ID the telco saw), but Tindahan
has seen no ID, so the wallet keeps the basic tier's limits until the operator verifies an
ID and raises it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update

from tindahan import limits
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.payments import parties as party_rules
from tindahan.payments import sends as send_rules
from tindahan.payments.model import PartyKind, PaymentKind, PaymentStatus, RequestStatus
from tindahan.services.lending import loans
from tindahan.services.payments import cash, repayment_cluster, requests, sends, two_store, wallets
from tindahan.services.payments import payments as payment_service
from tindahan.services.payments.views import PaymentView
from tindahan.services.platform import (
    audit,
    codes,
    idempotency,
    logins,
    parties,
    pins,
    shortrefs,
    signup,
    throttles,
)
from tindahan.services.unit import Platform, Unit
from tindahan.services.ussd import sessions
from tindahan.store.payment_tables import parties as party_table
from tindahan.store.payment_tables import payment_requests, payments
from tindahan.store.web_tables import logins as login_table
from tindahan.store.web_tables import signin_throttles
from tindahan.ussd import catalog, menu
from tindahan.ussd.catalog import N_, pesos, say
from tindahan.ussd.menu import Flow, Prompt, Refusal, Stage

CURRENCY = "PHP"
_SIGNUP = Caller("ussd", None, frozenset(DEFAULT_SCOPES))
USSD_PIN = throttles.Rule(
    "ussd_pin",
    limits.USSD_PIN_TRIES,
    limits.USSD_PIN_WINDOW_S,
    limits.USSD_PIN_FIRST_WAIT_S,
    limits.USSD_PIN_LONGEST_WAIT_S,
    cleared_by_success=True,
)


@dataclass(frozen=True)
class Dial:
    """One step as the aggregator sent it."""

    session_id: str
    service_code: str
    phone: str
    text: str


@dataclass(frozen=True)
class Person:
    login_id: str
    party_id: str
    kind: str
    name: str
    language: str
    phone_index: str

    @property
    def caller(self) -> Caller:
        return Caller(self.login_id, self.party_id, frozenset(DEFAULT_SCOPES))


@dataclass(frozen=True)
class _Context:
    platform: Platform
    dial: Dial
    phone: str
    index: str
    session: sessions.Session
    typed: Sequence[str]
    person: Person | None
    #: What this step's screen reads (``_LOOKUPS``), read in the step's first transaction;
    #: ``None`` when that transaction did not read it (the handler reads it then).
    looked: _Looked | None = None

    @property
    def lang(self) -> str:
        return self.person.language if self.person else catalog.DEFAULT


@dataclass(frozen=True)
class _Looked:
    """A look-up's result, or the refusal it raised."""

    value: Any


def _end(lang: str, msgid: str, params: dict[str, Any] | None = None) -> str:
    return catalog.screen(say(lang, msgid, params), end=True)


def _con(lang: str, msgid: str, params: dict[str, Any] | None = None) -> str:
    return catalog.screen(say(lang, msgid, params), end=False)


# --- the entry point ---------------------------------------------------------------------------
def answer(platform: Platform, dial: Dial, service_codes: Collection[str]) -> str:
    """The screen for this step: ``CON …`` or ``END …``."""
    lang = catalog.DEFAULT
    if dial.service_code not in service_codes:
        return _end(lang, N_("This service code is not served here."))
    try:
        phone = party_rules.phone_number(dial.phone)
    except RefusalError:
        return _end(lang, N_("This phone number cannot use this service."))
    sid = dial.session_id
    if not sid or len(sid) > limits.USSD_SESSION_ID_MAX_LENGTH or not sid.isprintable():
        return _end(lang, N_("The session could not be read. Dial again."))
    try:
        typed = menu.inputs(dial.text)
    except menu.MalformedTextError:
        return _end(lang, N_("The session could not be read. Dial again."))
    index = platform.vault.index(phone)

    def begin(unit: Unit) -> tuple[sessions.Session, Person | None, bool]:
        person, wallet_without_login = _person(unit, index)
        signup = person is None and not wallet_without_login
        session = sessions.step(unit, sid, index, len(typed), signup)
        return session, person, wallet_without_login

    def read(unit: Unit) -> tuple[sessions.Session | None, Person | None, bool, _Looked | None]:
        person, wallet_without_login = _person(unit, index)
        session = sessions.find(unit, sid, index)
        return session, person, wallet_without_login, _look_up(unit, person, session, typed)

    # The first step begins the session (one write); every later one is one read-only
    # transaction (a later step whose row is missing begins it then), which also reads what
    # the step's screen shows (the balance, the store's name, …): one transaction a step.
    found: sessions.Session | None = None
    looked: _Looked | None = None
    if typed:
        found, person, no_login, looked = platform.run(read, write=False)
    if found is None:
        found, person, no_login = platform.run(begin)
    session = found
    lang = person.language if person else lang
    if session.other_phone:
        return _end(lang, N_("The session could not be read. Dial again."))
    if session.timed_out:
        return _end(lang, N_("The session timed out. Nothing was done. Dial again."))
    if no_login:
        return _end(lang, N_("Your number has a wallet but no PIN. Ask the operator for one."))
    if person is None and not session.signup:
        return _end(lang, N_("The session could not be read. Dial again."))
    context = _Context(platform, dial, phone, index, session, typed, person, looked)
    step = menu.route(typed, signup=session.signup)
    if isinstance(step, Prompt) and step.msgid == menu.MAIN:
        text = menu.main_screen(lambda msgid: say(context.lang, msgid))
        return catalog.screen(text, end=False)
    if isinstance(step, Prompt):
        return _con(context.lang, step.msgid, dict(step.params))
    if isinstance(step, Refusal):
        return _end(context.lang, step.msgid, dict(step.params))
    return _HANDLERS[(step.flow, step.stage)](context, step)


def _look_up(
    unit: Unit, person: Person | None, session: sessions.Session | None, typed: Sequence[str]
) -> _Looked | None:
    """In the step's read transaction, what its screen will read (None: nothing to read,
    or the step will not get that far)."""
    if person is None or session is None or session.other_phone or session.timed_out:
        return None
    step = menu.route(typed, signup=session.signup)
    if not isinstance(step, Stage):
        return None
    read = _LOOKUPS.get((step.flow, step.stage))
    if read is None:
        return None
    return _Looked(read(unit, person, step))


def _looked_up(context: _Context, step: Stage) -> Any:
    """What this step's screen reads: from the step's first transaction, or read now."""
    if context.looked is not None:
        return context.looked.value
    person = context.person
    assert person is not None
    read = _LOOKUPS[(step.flow, step.stage)]
    return context.platform.run(lambda unit: read(unit, person, step), write=False)


def hashes(text: str) -> bool:
    """Whether the step with this session text may run Argon2 (the last step of paying,
    sending, cashing out, repaying, changing or resetting the PIN, or signing up): the HTTP
    adapter gives such steps their own lane of threads, so the menus never queue behind a
    PIN's hash. Read both ways (as a sign-up and not): a step either could be counts."""
    try:
        typed = menu.inputs(text)
    except menu.MalformedTextError:
        return False
    for as_signup in (False, True):
        step = menu.route(typed, signup=as_signup)
        if isinstance(step, Stage) and step.stage == "do" and step.pin:
            return True
    return False


def _person(unit: Unit, index: str) -> tuple[Person | None, bool]:
    """The login and party this phone belongs to; or (None, True) when a party has the
    number but no login (no PIN to confirm with); or (None, False): nobody."""
    query = (
        select(
            login_table.c.id,
            party_table.c.id.label("party_id"),
            party_table.c.kind,
            party_table.c.name,
            party_table.c.language,
        )
        .join(party_table, party_table.c.id == login_table.c.party_id)
        .where(login_table.c.phone_index == index)
    )
    row = unit.conn.execute(query).first()
    if row is not None:
        language = row.language if row.language in catalog.LANGUAGES else catalog.DEFAULT
        person = Person(row.id, row.party_id, row.kind, row.name, language, index)
        return person, False
    party = select(party_table.c.id).where(party_table.c.phone_index == index)
    login = select(login_table.c.id).where(login_table.c.phone_index == index)
    taken = unit.conn.execute(party).first() or unit.conn.execute(login).first()
    return None, taken is not None


UNKNOWN_MERCHANT = "merchant_code_unknown"
UNKNOWN_REQUEST = "payment_request_ref_unknown"
NO_LOAN = "loan_none"
UNKNOWN_AGENT = "agent_code_unknown"

# --- refusals in words -------------------------------------------------------------------------
_REFUSALS = {
    "insufficient_funds": N_("Your balance is too low. Nothing moved."),
    "limit_exceeded": N_("This is over your wallet's limit. Nothing moved."),
    "wallet_frozen": N_("A wallet in this payment is frozen. Nothing moved."),
    "wallet_closed": N_("A wallet in this payment is closed. Nothing moved."),
    "risk_blocked": N_("This payment is not allowed. Nothing moved."),
    "risk_review": N_("This payment is held for review. Nothing moved."),
    "payee_is_payer": N_("You cannot pay yourself."),
    #: Raised in A on a TigerBeetle ledger (where the step answers a refusal, not text).
    UNKNOWN_MERCHANT: N_("No store has merchant code {code}. Nothing moved."),
    UNKNOWN_REQUEST: N_("No request has reference {ref}."),
    UNKNOWN_AGENT: N_("No agent has code {code}. Nothing moved."),
    "recipient_is_sender": N_("You cannot send money to yourself."),
    "recipient_not_found": N_("No wallet has this number. Nothing moved."),
    "recipient_is_business": N_("This number is a store's. Pay it by its merchant code."),
    "insufficient_float": N_("The agent has too little cash float. Nothing moved."),
    "payment_request_paid": N_("This request is already paid."),
    "payment_request_canceled": N_("The store canceled this request."),
    "payment_request_expired": N_("This request has expired."),
    "overpayment": N_("That is more than you owe today. Nothing moved."),
    "loan_closed": N_("Your loan is already repaid."),
    NO_LOAN: N_("You have no loan to repay."),
    "loan_busy": N_("Your loan is being updated. Try again in a minute."),
    "pin_weak": N_("This PIN is too easy to guess. Choose another."),
    "pin_invalid": N_("A PIN is {digits} digits."),
    "code_wrong": N_(
        "The code is wrong or has expired. Nothing was saved. Dial again for a new code."
    ),
}


def refusal_text(lang: str, refusal: RefusalError, values: Mapping[str, Any] | None = None) -> str:
    """The refusal in words; ``values``: what the step typed (a code a message names)."""
    msgid = _REFUSALS.get(refusal.code)
    if msgid is None:
        return say(
            lang, N_("It could not be done ({code}). Nothing moved."), {"code": refusal.code}
        )
    return say(lang, msgid, {**(values or {}), "digits": limits.PAY_PIN_DIGITS})


# --- the PIN -----------------------------------------------------------------------------------
def _buckets(index: str) -> list[throttles.Bucket]:
    return [
        throttles.Bucket(USSD_PIN, f"ussd_pin:{index}"),
        throttles.Bucket(throttles.NUMBER, f"number:{index}"),
    ]


def _pin_refused(context: _Context, pin: str) -> str | None:
    """None when ``pin`` is the person's; else the screen that says why not."""
    platform, person, lang = context.platform, context.person, context.lang
    assert person is not None
    buckets = _buckets(context.index)

    def take(unit: Unit) -> tuple[throttles.Taken, Any]:
        """The try counted, and the PIN's hash read, in one transaction."""
        query = select(login_table.c.secret_hash, login_table.c.pay_pin_hash)
        taken = throttles.take(unit, buckets)
        return taken, unit.conn.execute(query.where(login_table.c.id == person.login_id)).one()

    taken, row = platform.run(take)
    if taken.wait_s:
        minutes = -(-taken.wait_s // 60)
        return _end(
            lang, N_("Your PIN is locked. Try again in {minutes} min."), {"minutes": minutes}
        )
    if logins.verify(row.pay_pin_hash or row.secret_hash, pin):
        platform.run(lambda unit: throttles.give_back(unit, buckets))
        return None
    key = f"ussd_pin:{context.index}"
    used = platform.run(
        lambda unit: unit.conn.execute(
            select(signin_throttles.c.tries).where(signin_throttles.c.key == key)
        ).scalar_one_or_none(),
        write=False,
    )
    left = limits.USSD_PIN_TRIES - (used or 0)
    if left <= 0:
        minutes = limits.USSD_PIN_FIRST_WAIT_S // 60
        message = N_("Wrong PIN. Your PIN is locked for {minutes} min. Nothing was done.")
        return _end(lang, message, {"minutes": minutes})
    return _end(lang, N_("Wrong PIN. {left} tries left. Nothing was done."), {"left": left})


@dataclass(frozen=True)
class _OnCluster:
    """A money step's way on a TigerBeetle ledger (issue 22): its part of transaction A
    (``reserve``: the use case's own reserve, the checks the SQL path makes, and the audit
    row), and the menu text for the payment it answers with (``said``: settled, or still
    ``pending`` when another request is finishing it).

    Why the view and not the text is stored under the session's key: the two-store runner
    reads the stored answer to find the payment (``two_store._payment_of``) and replaces it
    with the settled one at C; the text is made from it at every answer, so a resend of the
    step reads the same screen."""

    reserve: two_store.Reserve[Any]
    said: Callable[[Platform, Mapping[str, Any]], str]
    #: Whose record the reserved view is (``two_store.RECORDS``): a loan repayment's.
    record: str = "payment"


def _once(
    context: _Context,
    step: Stage,
    work: Callable[[Unit], str],
    cluster: _OnCluster | None = None,
) -> str:
    """Run the last step's ``work`` once per session and step: a resend answers the same.
    On a TigerBeetle ledger a step with ``cluster`` goes through the two-store order instead
    (``two_store.run`` under the same key); one without is refused there by its use case."""
    person = context.person
    assert person is not None
    pin_refused = _pin_refused(context, step.pin)
    if pin_refused is not None:
        return pin_refused
    key = f"ussd:{context.session.key[:40]}:{len(context.typed)}"
    what = {k: v for k, v in step.values.items() if k != "new"}
    fingerprint = idempotency.request_hash("USSD", str(step.flow), what)
    lang, platform = context.lang, context.platform

    def refused(refusal: RefusalError) -> idempotency.Response:
        return idempotency.Response(400, {"text": refusal_text(lang, refusal, step.values)})

    args = (person.caller.scope, key, fingerprint)
    try:
        if cluster is not None and two_store.applies(platform):
            response = two_store.run(
                platform,
                *args,
                cluster.reserve,
                lambda view: idempotency.Response(200, dict(view)),
                refused,
                cluster.record,
            )
        else:
            response = idempotency.run(
                platform,
                *args,
                work,
                lambda text: idempotency.Response(200, {"text": text}),
                refused,
            )
    except RefusalError as refusal:  # the same step sent again with other values
        return catalog.screen(refusal_text(lang, refusal), end=True)
    body = response.body
    if "text" not in body and cluster is not None:
        return catalog.screen(cluster.said(platform, body), end=True)
    return catalog.screen(str(body["text"]), end=True)


# --- sign-up -----------------------------------------------------------------------------------
def _signup_pin(context: _Context, step: Stage) -> str:
    try:
        pins.check_pin(step.pin)
    except RefusalError as refusal:
        return catalog.screen(refusal_text(context.lang, refusal), end=True)
    return _con(context.lang, N_("Enter the same PIN again:"))


def _signup(context: _Context, step: Stage) -> str:
    lang = context.lang
    try:
        pins.check_pin(step.pin)
    except RefusalError as refusal:
        return catalog.screen(refusal_text(lang, refusal), end=True)
    done = N_("Welcome, {name}! Your wallet is open. Dial again for the menu.")

    def create(unit: Unit) -> str:
        new = parties.NewParty("customer", step.values["name"], phone=context.phone, tier="basic")
        party = parties.create(unit, _SIGNUP, new)
        logins.create(unit, None, party_id=party["id"], phone=context.phone, secret=step.pin)
        details = {"channel": "ussd", "tier": "basic"}
        audit.record(unit, "ussd", "party.signed_up", "party", party["id"], None, details)
        return str(party["name"])

    try:
        made = context.platform.run(create)
    except RefusalError as refusal:
        if refusal.code != "phone_taken":
            return catalog.screen(refusal_text(lang, refusal), end=True)
        # The network resent the last step, or two arrived at once: the wallet is open.
        made = step.values["name"]
    return _end(lang, done, {"name": made})


# --- balance -----------------------------------------------------------------------------------
def _balance(context: _Context, step: Stage) -> str:
    return catalog.screen(str(_looked_up(context, step)), end=True)


def _balance_text(unit: Unit, person: Person, step: Stage) -> str:
    """The balance screen: the wallets' balances and the last five movements."""
    lang = person.language
    found = wallets.list_wallets(unit, person.caller, 10, None, None)["data"]
    by_kind = {w["kind"]: w for w in found}
    lines = [
        say(lang, N_("Balance {amount}"), {"amount": pesos(by_kind["main"]["available_minor"])})
    ]
    if "settlement" in by_kind:
        amount = pesos(by_kind["settlement"]["available_minor"])
        lines.append(say(lang, N_("Sales {amount}"), {"amount": amount}))
    if "float" in by_kind:
        amount = pesos(by_kind["float"]["available_minor"])
        lines.append(say(lang, N_("Float {amount}"), {"amount": amount}))
    lines.extend(_movements(unit, person.party_id, lang))
    return "\n".join(lines)


def _movements(unit: Unit, party_id: str, lang: str) -> list[str]:
    """The last five payments in or out, newest first: ``05/12 -P50.00 Aling Nena``."""
    query = (
        select(
            payments.c.payer_id,
            payments.c.payee_id,
            payments.c.amount_minor,
            payments.c.kind,
            payments.c.created_at_ns,
        )
        .where(
            or_(payments.c.payer_id == party_id, payments.c.payee_id == party_id),
            payments.c.status.in_((PaymentStatus.SUCCEEDED.value, PaymentStatus.PENDING.value)),
        )
        .order_by(payments.c.created_at_ns.desc(), payments.c.id.desc())
        .limit(5)
    )
    rows = list(unit.conn.execute(query))
    if not rows:
        return [say(lang, N_("No payments yet."))]
    others = {r.payee_id if r.payer_id == party_id else r.payer_id for r in rows} - {None}
    names = dict(
        unit.conn.execute(
            select(party_table.c.id, party_table.c.name).where(party_table.c.id.in_(others))
        ).all()
    )
    lines = []
    for r in rows:
        out = r.payer_id == party_id
        other = r.payee_id if out else r.payer_id
        if other is None:
            label = say(lang, N_("Top-up")) if r.kind == PaymentKind.FUNDING else ""
        else:
            label = str(names.get(other, ""))[:12]
        day = _day(r.created_at_ns)
        lines.append(f"{day} {pesos(-r.amount_minor if out else r.amount_minor)} {label}".rstrip())
    return lines


def _day(ns: int) -> str:
    """dd/mm in Philippine time."""
    seconds = ns // 10**9 + limits.BUSINESS_UTC_OFFSET_HOURS * 3600
    days = seconds // 86_400
    # civil-from-days (Howard Hinnant's algorithm): no datetime, no float
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return f"{d:02d}/{m:02d}"


# --- paying a store, cashing out ---------------------------------------------------------------
def _by_code(unit: Unit, code: str, kind: PartyKind) -> Any:
    query = select(party_table.c.id, party_table.c.name).where(
        party_table.c.short_code == code, party_table.c.kind == kind.value
    )
    return unit.conn.execute(query).first()


_UNKNOWN_CODE = {
    PartyKind.MERCHANT: N_("No store has merchant code {code}. Nothing moved."),
    PartyKind.AGENT: N_("No agent has code {code}. Nothing moved."),
}


def _coded(kind: PartyKind, ask: str, confirm: str) -> Callable[[_Context, Stage], str]:
    def handler(context: _Context, step: Stage) -> str:
        code = step.values["code"]
        found = _looked_up(context, step)
        if found is None:
            return _end(context.lang, _UNKNOWN_CODE[kind], {"code": code})
        params = {"name": found.name[:40]}
        if step.stage == "payee":
            return _con(context.lang, ask, params)
        params["amount"] = pesos(step.values["amount_minor"])
        return _con(context.lang, confirm, params)

    return handler


def _pay_merchant(context: _Context, step: Stage) -> str:
    person = context.person
    assert person is not None
    lang, code, amount = context.lang, step.values["code"], step.values["amount_minor"]

    def work(unit: Unit) -> str:
        found = _by_code(unit, code, PartyKind.MERCHANT)
        if found is None:
            return say(lang, _UNKNOWN_CODE[PartyKind.MERCHANT], {"code": code})
        new = payment_service.NewPayment(found.id, amount, CURRENCY, reference="USSD")
        paid = payment_service.pay(unit, person.caller, new)
        _audit(unit, person, "ussd.payment", "payment", paid["id"])
        message = _PAID_HELD if paid.get("under_review") else _PAID
        params = {
            "amount": pesos(amount),
            "name": found.name[:40],
            "ref": shortrefs.shown(paid["short_ref"]),
        }
        return say(lang, message, params)

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, list[NewTransfer]]:
        found = _by_code(unit, code, PartyKind.MERCHANT)
        if found is None:
            message = f"no store has merchant code {code}"
            raise RefusalError(Category.NOT_FOUND, UNKNOWN_MERCHANT, message, "code")
        new = payment_service.NewPayment(found.id, amount, CURRENCY, reference="USSD")
        view, legs = two_store.reserve_payment(unit, ledger, person.caller, new)
        _audit(unit, person, "ussd.payment", "payment", view["id"])
        return view, legs

    paid = _said(lang, (_PAID, _PAID_HELD), lambda name: name[:40])
    return _once(context, step, work, _OnCluster(reserve, paid))


_PAID = N_("Paid {amount} to {name}. Ref {ref}.")
_PAID_HELD = N_("Paid {amount} to {name}, held for review. Ref {ref}.")


def _said(
    lang: str, done: tuple[str, str], shown: Callable[[str], str]
) -> Callable[[Platform, Mapping[str, Any]], str]:
    """A payment on the cluster in words (``_OnCluster.said``): once settled, ``done``'s
    first, or its second when the risk rules held the money for review (the settled view's
    ``under_review``, kept with the answer at C, so a resend reads the same screen, as the SQL
    path's stored text does), with the payee's name as ``shown`` writes it; or still being
    finished (its order under way in another request; the worker's recovery finishes it)."""

    def said(platform: Platform, view: Mapping[str, Any]) -> str:
        query = select(party_table.c.name).where(party_table.c.id == view["payee_id"])
        name = platform.run(lambda unit: unit.conn.execute(query).scalar_one(), write=False)
        params = {
            "amount": pesos(view["amount_minor"]),
            "name": shown(str(name)),
            "ref": shortrefs.shown(view["short_ref"]),
        }
        if view["status"] == PaymentStatus.PENDING:
            return say(lang, _STILL_MOVING, params)
        return say(lang, done[1] if view.get("under_review") else done[0], params)

    return said


_STILL_MOVING = N_("Still moving {amount} to {name}, ref {ref}. Check your balance soon.")


def _cash_out(context: _Context, step: Stage) -> str:
    person = context.person
    assert person is not None
    lang, code, amount = context.lang, step.values["code"], step.values["amount_minor"]

    def work(unit: Unit) -> str:
        found = _by_code(unit, code, PartyKind.AGENT)
        if found is None:
            return say(lang, _UNKNOWN_CODE[PartyKind.AGENT], {"code": code})
        made = cash.cash_out(unit, person.caller, found.id, amount, CURRENCY, None)
        _audit(unit, person, "ussd.cash_out", "payment", made["id"])
        message = _CASH_OUT_READY
        params = {
            "amount": pesos(amount),
            "name": found.name[:30],
            "ref": shortrefs.shown(made["short_ref"]),
            "minutes": limits.CASH_OUT_CONFIRM_SECONDS // 60,
        }
        return say(lang, message, params)

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, list[NewTransfer]]:
        found = _by_code(unit, code, PartyKind.AGENT)
        if found is None:
            message = f"no agent has code {code}"
            raise RefusalError(Category.NOT_FOUND, UNKNOWN_AGENT, message, "code")
        view, legs = cash.reserve_cash_out(unit, person.caller, found.id, amount, CURRENCY, None)
        _audit(unit, person, "ussd.cash_out", "payment", view["id"])
        return view, legs

    return _once(context, step, work, _OnCluster(reserve, _ready(lang)))


def _ready(lang: str) -> Callable[[Platform, Mapping[str, Any]], str]:
    """A cash-out on the cluster in words (``_OnCluster.said``): its answer is the payment
    ``pending`` whatever follows, so the words come from its place in the order — held in
    the cluster (or past it: confirmed, canceled, expired), the code to show the agent, the
    same screen on a resend; not held yet (another request finishing it), still moving."""

    def said(platform: Platform, view: Mapping[str, Any]) -> str:
        def read(unit: Unit) -> tuple[str, str | None]:
            query = select(party_table.c.name).where(party_table.c.id == view["payee_id"])
            return unit.conn.execute(query).scalar_one(), two_store.state_of(unit, view["id"])

        name, state = platform.run(read, write=False)
        params = {
            "amount": pesos(view["amount_minor"]),
            "name": str(name)[:30],
            "ref": shortrefs.shown(view["short_ref"]),
            "minutes": limits.CASH_OUT_CONFIRM_SECONDS // 60,
        }
        if state in ("reserving", None):
            return say(lang, _STILL_MOVING, params)
        return say(lang, _CASH_OUT_READY, params)

    return said


_CASH_OUT_READY = N_(
    "Cash-out of {amount} at {name} is ready. Show ref {ref} to the agent within {minutes} min."
)


# --- sending to a mobile number ------------------------------------------------------------------
def _send_to(context: _Context, step: Stage) -> str:
    """Whom the number reaches (first name and initials: enough to catch a mistyped number,
    not a stranger's full name), then the amount, then the PIN."""
    person = context.person
    assert person is not None
    lang, mobile = context.lang, step.values["mobile"]
    found = _looked_up(context, step)
    if isinstance(found, RefusalError):
        return catalog.screen(refusal_text(lang, found), end=True)
    if step.stage == "payee":
        return _con(lang, N_("Send to {name}\nEnter the amount in pesos:"), {"name": found["name"]})
    params = {"amount": pesos(step.values["amount_minor"]), "name": found["name"], "mobile": mobile}
    return _con(lang, N_("Send {amount} to {name} ({mobile})?\nEnter your PIN:"), params)


def _recipient(unit: Unit, person: Person, step: Stage) -> Any:
    """Whom the number reaches, or the refusal (the same as a send's)."""
    try:
        return sends.recipient(unit, person.caller, step.values["mobile"])
    except RefusalError as refusal:
        return refusal


def _send(context: _Context, step: Stage) -> str:
    person = context.person
    assert person is not None
    lang, mobile, amount = context.lang, step.values["mobile"], step.values["amount_minor"]

    def work(unit: Unit) -> str:
        name = sends.recipient(unit, person.caller, mobile)["name"]
        sent = sends.send_to_mobile(unit, person.caller, sends.MobileSend(mobile, amount))
        _audit(unit, person, "ussd.send", "payment", sent["id"])
        message = _SENT_HELD if sent.get("under_review") else _SENT
        ref = shortrefs.shown(sent["short_ref"])
        return say(lang, message, {"amount": pesos(amount), "name": name, "ref": ref})

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, list[NewTransfer]]:
        new = sends.MobileSend(mobile, amount)
        view, legs = sends.reserve_mobile(unit, ledger, person.caller, new)
        _audit(unit, person, "ussd.send", "payment", view["id"])
        return view, legs

    sent = _said(lang, (_SENT, _SENT_HELD), send_rules.masked_name)
    return _once(context, step, work, _OnCluster(reserve, sent))


_SENT = N_("Sent {amount} to {name}, ref {ref}.")
_SENT_HELD = N_("Sent {amount} to {name}, held for review, ref {ref}.")


# --- paying a request --------------------------------------------------------------------------
def _request_row(unit: Unit, ref: str) -> Any:
    stored = shortrefs.normalize(ref)
    if stored is None:
        return None
    query = (
        select(payment_requests, party_table.c.name.label("merchant_name"))
        .join(party_table, party_table.c.id == payment_requests.c.merchant_id)
        .where(payment_requests.c.short_ref == stored)
    )
    return unit.conn.execute(query).mappings().first()


def _request_confirm(context: _Context, step: Stage) -> str:
    lang, ref = context.lang, step.values["ref"]
    row = _looked_up(context, step)
    if row is None:
        return _end(lang, N_("No request has reference {ref}."), {"ref": ref})
    if row["status"] == RequestStatus.PAID:
        return _end(lang, _REFUSALS["payment_request_paid"])
    if row["status"] == RequestStatus.CANCELED:
        return _end(lang, _REFUSALS["payment_request_canceled"])
    if row["expires_at_ns"] <= context.platform.now():
        return _end(lang, _REFUSALS["payment_request_expired"])
    params = {
        "amount": pesos(row["amount_minor"]),
        "name": str(row["merchant_name"])[:30],
        "what": (row["description"] or row["reference"] or "")[:30],
    }
    return _con(lang, N_("Pay {amount} to {name} for {what}?\nEnter your PIN:"), params)


def _request_pay(context: _Context, step: Stage) -> str:
    person = context.person
    assert person is not None
    lang, ref = context.lang, step.values["ref"]

    def work(unit: Unit) -> str:
        row = _request_row(unit, ref)
        if row is None:
            return say(lang, N_("No request has reference {ref}."), {"ref": ref})
        paid = requests.pay(unit, person.caller, row["id"], None)
        _audit(unit, person, "ussd.payment", "payment", paid["id"])
        params = {
            "amount": pesos(paid["amount_minor"]),
            "name": str(row["merchant_name"])[:40],
            "ref": shortrefs.shown(paid["short_ref"]),
        }
        return say(lang, _PAID_HELD if paid.get("under_review") else _PAID, params)

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, list[NewTransfer]]:
        row = _request_row(unit, ref)
        if row is None:
            message = f"no request has reference {ref}"
            raise RefusalError(Category.NOT_FOUND, UNKNOWN_REQUEST, message, "ref")
        view, legs = requests.reserve(unit, ledger, person.caller, row["id"], None)
        _audit(unit, person, "ussd.payment", "payment", view["id"])
        return view, legs

    paid = _said(lang, (_PAID, _PAID_HELD), lambda name: name[:40])
    return _once(context, step, work, _OnCluster(reserve, paid))


# --- the loan ----------------------------------------------------------------------------------
def _open_loan(unit: Unit, person: Person) -> Any:
    if person.kind != PartyKind.MERCHANT:
        return None
    found = loans.list_loans(unit, person.caller)["data"]
    return next((loan for loan in found if loan["status"] == "active"), None)


def _loan_show(context: _Context, step: Stage) -> str:
    person = context.person
    assert person is not None
    lang = context.lang
    loan = _looked_up(context, step)
    if loan is None:
        return _end(lang, N_("You have no loan to repay."))
    lines = []
    due = loan["next_due"]
    if due is not None:
        day = due["due_date"][8:10] + "/" + due["due_date"][5:7]
        params = {"amount": pesos(due["amount_minor"]), "day": day}
        lines.append(say(lang, N_("Next due {amount} on {day}"), params))
    balance = loan["balance"]
    if balance["due_today_minor"]:
        lines.append(
            say(lang, N_("Due now {amount}"), {"amount": pesos(balance["due_today_minor"])})
        )
    lines.append(
        say(lang, N_("To close today {amount}"), {"amount": pesos(balance["payoff_minor"])})
    )
    lines.append(say(lang, N_("1 Repay")))
    return catalog.screen("\n".join(lines), end=False)


def _loan_confirm(context: _Context, step: Stage) -> str:
    params = {"amount": pesos(step.values["amount_minor"])}
    return _con(context.lang, N_("Repay {amount} on your loan?\nEnter your PIN:"), params)


def _loan_repay(context: _Context, step: Stage) -> str:
    person = context.person
    assert person is not None
    lang, amount = context.lang, step.values["amount_minor"]

    def work(unit: Unit) -> str:
        loan = _open_loan(unit, person)
        if loan is None:
            return say(lang, N_("You have no loan to repay."))
        fresh = loans.repay(unit, person.caller, loan["id"], amount, "main")
        _audit(unit, person, "ussd.loan_repaid", "loan", loan["id"])
        return _repaid(lang, amount, fresh)

    def reserve(
        unit: Unit, ledger: LedgerPort
    ) -> tuple[Mapping[str, Any], list[NewTransfer] | None]:
        loan = _open_loan(unit, person)
        if loan is None:
            raise RefusalError(Category.NOT_FOUND, NO_LOAN, "no loan to repay", "id")
        repaying = repayment_cluster.reserving(person.caller, loan["id"], amount, "main")
        view, legs = repaying(unit, ledger)
        _audit(unit, person, "ussd.loan_repaid", "loan", loan["id"])
        return view, legs

    def said(platform: Platform, view: Mapping[str, Any]) -> str:
        if view["object"] == repayment_cluster.RECORD:  # still being finished elsewhere
            still = N_("Still paying {amount} on your loan. Check it soon.")
            return say(lang, still, {"amount": pesos(amount)})
        return _repaid(lang, amount, view)

    return _once(context, step, work, _OnCluster(reserve, said, repayment_cluster.RECORD))


def _repaid(lang: str, amount: int, loan: Mapping[str, Any]) -> str:
    """A repayment done, in words: the loan closed, or what is still to pay."""
    if loan["status"] == "closed":
        return say(lang, N_("Repaid {amount}. Your loan is closed."), {"amount": pesos(amount)})
    left = pesos(loan["balance"]["payoff_minor"])
    return say(
        lang, N_("Repaid {amount}. Still to pay {left}."), {"amount": pesos(amount), "left": left}
    )


# --- the PIN and the language ------------------------------------------------------------------
def _new_pin(context: _Context, step: Stage) -> str:
    try:
        pins.check_pin(step.pin)
    except RefusalError as refusal:
        return catalog.screen(refusal_text(context.lang, refusal), end=True)
    return _con(context.lang, N_("Enter the new PIN again:"))


def _change_pin(context: _Context, step: Stage) -> str:
    person = context.person
    assert person is not None
    lang, new_pin = context.lang, step.values["new"]
    try:
        pins.check_pin(new_pin)
    except RefusalError as refusal:
        return catalog.screen(refusal_text(lang, refusal), end=True)
    refused = _pin_refused(context, step.pin)
    if refused is not None:
        return refused
    hashed = logins.hash_secret(new_pin)

    def store(unit: Unit) -> None:
        where = login_table.c.id == person.login_id
        has_pay_pin = unit.conn.execute(select(login_table.c.pay_pin_hash).where(where)).scalar()
        column = "pay_pin_hash" if has_pay_pin else "secret_hash"
        unit.conn.execute(update(login_table).where(where).values({column: hashed}))
        details = {"channel": "ussd", "which": column}
        audit.record(
            unit, person.login_id, "login.pin_changed", "login", person.login_id, None, details
        )

    context.platform.run(store)
    return _end(lang, N_("Your PIN is changed."))


def _language(context: _Context, step: Stage) -> str:
    person = context.person
    assert person is not None
    chosen = str(step.values["language"])

    def store(unit: Unit) -> None:
        where = party_table.c.id == person.party_id
        unit.conn.execute(update(party_table).where(where).values(language=chosen))

    context.platform.run(store)
    return _end(chosen, N_("Language: {name}."), {"name": catalog.NAMES[chosen]})


# --- forgot PIN: a reset code by SMS ---------------------------------------------------------
def _client(context: _Context) -> str:
    """What the code limits count as the asking client. Not the address: every USSD request
    comes from the aggregator's one address, so a per-address bucket would be one bucket for
    the whole country; the network has authenticated the SIM, so the number is the client
    (its per-number, per-client and site-wide buckets still apply, as on the web)."""
    return f"ussd:{context.index}"


def _throttled(lang: str, wait_s: int) -> str:
    minutes = -(-wait_s // 60)
    return say(lang, N_("Too many codes. Try again in {minutes} min."), {"minutes": minutes})


def _reset_send(context: _Context, step: Stage) -> str:
    """Send the reset code (the same limits as the web's) and ask for it. A code sent a
    moment ago (the network resent this step, or the person redialled) is not sent again:
    the same question, for the code already on its way."""
    lang = context.lang
    try:
        codes.send(context.platform, context.phone, "reset", _client(context), lang)
    except codes.CodeThrottledError as refusal:
        return catalog.screen(_throttled(lang, refusal.retry_after), end=True)
    except codes.ResendTooSoonError:
        pass
    return _con(lang, menu.ASK_CODE, {"digits": limits.OTP_DIGITS})


def _reset(context: _Context, step: Stage) -> str:
    """The new PIN, proved by the code (``signup.reset_in``: the code spent, the sign-in PIN
    set, the payment PIN cleared, web sessions ended, audited), under the session's
    idempotency key so a resent step answers the same; and the PIN's locks cleared: whoever
    proved the SIM by its code chose a PIN nobody has guessed at yet."""
    person = context.person
    assert person is not None
    lang = context.lang
    try:
        hashed = logins.hash_secret(signup.check_new_pin(step.pin, step.pin))
    except RefusalError as refusal:
        return catalog.screen(refusal_text(lang, refusal), end=True)

    def work(unit: Unit) -> str:
        number = context.phone
        signup.reset_in(unit, number, step.code, hashed, _client(context), {"channel": "ussd"})
        keys = [bucket.key for bucket in _buckets(context.index)]
        unit.conn.execute(delete(signin_throttles).where(signin_throttles.c.key.in_(keys)))
        return say(lang, N_("Your PIN is reset. Use the new PIN here and on the web."))

    def refused(refusal: RefusalError) -> idempotency.Response:
        if isinstance(refusal, codes.CodeThrottledError):
            return idempotency.Response(400, {"text": _throttled(lang, refusal.retry_after)})
        return idempotency.Response(400, {"text": refusal_text(lang, refusal)})

    key = f"ussd:{context.session.key[:40]}:{len(context.typed)}"
    fingerprint = idempotency.request_hash("USSD", str(step.flow), {})
    try:
        response = idempotency.run(
            context.platform,
            person.caller.scope,
            key,
            fingerprint,
            work,
            lambda text: idempotency.Response(200, {"text": text}),
            refused,
        )
    except RefusalError as refusal:
        return catalog.screen(refusal_text(lang, refusal), end=True)
    return catalog.screen(str(response.body["text"]), end=True)


def short_code(platform: Platform, party_id: str) -> str | None:
    """A merchant's or agent's code, as its poster prints it (None for a customer)."""
    query = select(party_table.c.short_code).where(party_table.c.id == party_id)
    return platform.run(lambda unit: unit.conn.execute(query).scalar_one_or_none(), write=False)


def _audit(unit: Unit, person: Person, action: str, kind: str, object_id: str) -> None:
    audit.record(unit, person.login_id, action, kind, object_id, None, {"channel": "ussd"})


#: Who a merchant or agent code names, then the amount: one handler for both stages.
_AT_MERCHANT = _coded(
    PartyKind.MERCHANT,
    N_("Pay {name}.\nEnter the amount in pesos:"),
    N_("Pay {amount} to {name}?\nEnter your PIN:"),
)
_AT_AGENT = _coded(
    PartyKind.AGENT,
    N_("Cash out at {name}.\nEnter the amount in pesos:"),
    N_("Cash out {amount} at {name}?\nEnter your PIN:"),
)

#: What a step's screen reads, by flow and stage: read in the step's first (read-only)
#: transaction with the person and the session, so a look-up screen is one transaction.
_LOOKUPS: dict[tuple[Flow, str], Callable[[Unit, Person, Stage], Any]] = {
    (Flow.BALANCE, "show"): _balance_text,
    (Flow.SEND, "payee"): _recipient,
    (Flow.SEND, "confirm"): _recipient,
    (Flow.MERCHANT, "payee"): lambda unit, _p, step: _by_code(
        unit, step.values["code"], PartyKind.MERCHANT
    ),
    (Flow.MERCHANT, "confirm"): lambda unit, _p, step: _by_code(
        unit, step.values["code"], PartyKind.MERCHANT
    ),
    (Flow.CASH_OUT, "payee"): lambda unit, _p, step: _by_code(
        unit, step.values["code"], PartyKind.AGENT
    ),
    (Flow.CASH_OUT, "confirm"): lambda unit, _p, step: _by_code(
        unit, step.values["code"], PartyKind.AGENT
    ),
    (Flow.REQUEST, "confirm"): lambda unit, _p, step: _request_row(unit, step.values["ref"]),
    (Flow.LOAN, "show"): lambda unit, person, _s: _open_loan(unit, person),
}

_HANDLERS: dict[tuple[Flow, str], Callable[[_Context, Stage], str]] = {
    (Flow.SIGNUP, "pin_chosen"): _signup_pin,
    (Flow.SIGNUP, "do"): _signup,
    (Flow.BALANCE, "show"): _balance,
    (Flow.SEND, "payee"): _send_to,
    (Flow.SEND, "confirm"): _send_to,
    (Flow.SEND, "do"): _send,
    (Flow.MERCHANT, "payee"): _AT_MERCHANT,
    (Flow.MERCHANT, "confirm"): _AT_MERCHANT,
    (Flow.MERCHANT, "do"): _pay_merchant,
    (Flow.CASH_OUT, "payee"): _AT_AGENT,
    (Flow.CASH_OUT, "confirm"): _AT_AGENT,
    (Flow.CASH_OUT, "do"): _cash_out,
    (Flow.REQUEST, "confirm"): _request_confirm,
    (Flow.REQUEST, "do"): _request_pay,
    (Flow.LOAN, "show"): _loan_show,
    (Flow.LOAN, "confirm"): _loan_confirm,
    (Flow.LOAN, "do"): _loan_repay,
    (Flow.PIN, "new"): _new_pin,
    (Flow.PIN, "do"): _change_pin,
    (Flow.LANGUAGE, "do"): _language,
    (Flow.RESET, "send"): _reset_send,
    (Flow.RESET, "new"): _new_pin,
    (Flow.RESET, "do"): _reset,
}
