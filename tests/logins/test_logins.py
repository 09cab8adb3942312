"""Signing in to the web app: logins, sessions, and the audit trail they leave (the
throttles on wrong tries: tests/security/test_signin.py)."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from tests.logins.conftest import OPERATOR, PHONE, PIN, People, new_login, new_party
from tindahan import limits
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.platform import audit, logins, parties
from tindahan.services.unit import Platform
from tindahan.store.web_tables import audit_log, web_sessions
from tindahan.store.web_tables import logins as login_table


def refusal(call) -> RefusalError:
    with pytest.raises(RefusalError) as caught:
        call()
    return caught.value


def login_row(platform: Platform, login_id: str):
    query = select(login_table).where(login_table.c.id == login_id)
    return platform.run(lambda u: u.conn.execute(query).mappings().one(), write=False)


def session_row(platform: Platform, session_id: str):
    query = select(web_sessions).where(web_sessions.c.id == session_id)
    return platform.run(lambda u: u.conn.execute(query).mappings().one(), write=False)


def entries(platform: Platform, action: str) -> list:
    query = select(audit_log).where(audit_log.c.action == action)
    return platform.run(lambda u: list(u.conn.execute(query).mappings()), write=False)


def test_a_login_signs_in_and_its_session_says_who_it_is(platform: Platform, people: People):
    secret, viewer, _ = logins.sign_in(platform, "0917 123 4567", PIN)
    assert viewer.login_id == people.login
    assert (viewer.party_id, viewer.kind, viewer.operator) == (people.merchant, "merchant", False)
    assert viewer.name == "Aling Nena's Sari-Sari Store"
    assert viewer.caller == Caller(people.login, people.merchant, frozenset(DEFAULT_SCOPES))
    assert logins.viewer(platform, secret) == viewer
    row = session_row(platform, viewer.session_id)
    assert row["secret_hash"] == logins.digest(secret) != secret
    assert row["expires_at_ns"] - row["created_at_ns"] == limits.WEB_SESSION_MAX_SECONDS * 10**9
    assert login_row(platform, people.login)["last_signed_in_ns"] == platform.now()


def test_operator_staff_sign_in_as_the_operator(platform: Platform):
    made = platform.run(
        lambda u: logins.create(
            u, None, party_id=None, phone="+639170000001", secret="my long passphrase", name="Ana"
        )
    )
    assert made["operator"] and made["party_id"] is None and made["name"] == "Ana"
    assert made["object"] == "login" and made["phone_last4"] == "0001"
    _, viewer, _ = logins.sign_in(platform, "+639170000001", "my long passphrase")
    assert viewer.operator and viewer.kind == "operator" and viewer.name == "Ana"
    assert viewer.caller.operator
    assert entries(platform, "login.created")[0]["actor"] == "cli"


def test_a_wrong_pin_and_an_unknown_phone_get_the_same_answer(platform: Platform, people):
    wrong = refusal(lambda: logins.sign_in(platform, PHONE, "975318"))
    unknown = refusal(lambda: logins.sign_in(platform, "+639189999999", PIN))
    for answer in (wrong, unknown):
        assert answer.category is Category.AUTHENTICATION
        assert (answer.code, answer.message, answer.param) == (
            "signin_failed",
            "wrong phone number or PIN",
            "secret",
        )
    malformed = refusal(lambda: logins.sign_in(platform, "12345", PIN))
    assert (malformed.category, malformed.code, malformed.param) == (
        Category.INVALID,
        "phone_invalid",
        "phone",
    )


def test_an_idle_session_ends(platform: Platform, people: People, clock):
    secret, _, _ = logins.sign_in(platform, PHONE, PIN)
    clock.advance(limits.WEB_SESSION_IDLE_SECONDS - 1)
    assert logins.viewer(platform, secret) is not None  # and touches last_seen
    clock.advance(limits.WEB_SESSION_IDLE_SECONDS - 1)
    assert logins.viewer(platform, secret) is not None
    clock.advance(limits.WEB_SESSION_IDLE_SECONDS)
    assert logins.viewer(platform, secret) is None


def test_a_busy_session_still_ends_at_its_absolute_expiry(platform, people, clock):
    secret, _, _ = logins.sign_in(platform, PHONE, PIN)
    hour = 3600
    for _ in range(limits.WEB_SESSION_MAX_SECONDS // hour - 1):
        clock.advance(hour)
        assert logins.viewer(platform, secret) is not None
    clock.advance(hour - 1)
    assert logins.viewer(platform, secret) is not None
    clock.advance(1)
    assert logins.viewer(platform, secret) is None


def test_last_seen_is_written_at_most_once_a_minute(platform, people, clock):
    secret, viewer, _ = logins.sign_in(platform, PHONE, PIN)
    signed_in = clock.now
    clock.advance(limits.WEB_SESSION_TOUCH_SECONDS - 1)
    assert logins.viewer(platform, secret) is not None
    assert session_row(platform, viewer.session_id)["last_seen_ns"] == signed_in
    clock.advance(1)
    assert logins.viewer(platform, secret) is not None
    assert session_row(platform, viewer.session_id)["last_seen_ns"] == clock.now


def test_signing_out_ends_the_session(platform: Platform, people: People):
    secret, viewer, _ = logins.sign_in(platform, PHONE, PIN)
    other, _, _ = logins.sign_in(platform, PHONE, PIN)
    logins.sign_out(platform, secret)
    assert logins.viewer(platform, secret) is None
    assert logins.viewer(platform, other) is not None
    ended = session_row(platform, viewer.session_id)["ended_at_ns"]
    logins.sign_out(platform, secret)  # again: nothing
    assert session_row(platform, viewer.session_id)["ended_at_ns"] == ended
    logins.sign_out(platform, "no-such-session")
    logins.sign_out(platform, None)
    assert logins.viewer(platform, None) is None
    assert logins.viewer(platform, "no-such-session") is None
    assert platform.run(lambda u: logins.end_sessions(u, people.login)) == 1
    assert logins.viewer(platform, other) is None


def test_a_closed_party_cannot_sign_in_and_its_session_stops(platform, people):
    login = new_login(platform, people.customer, "+639181112222")
    secret, viewer, _ = logins.sign_in(platform, "+639181112222", PIN)
    assert viewer.kind == "customer" and viewer.login_id == login
    platform.run(lambda u: parties.update_party(u, OPERATOR, people.customer, "closed", None))
    assert logins.viewer(platform, secret) is None
    answer = refusal(lambda: logins.sign_in(platform, "+639181112222", PIN))
    assert (answer.category, answer.code) == (Category.AUTHENTICATION, "signin_failed")
    assert login_row(platform, login)["failed_attempts"] == 0


def test_a_party_renamed_is_seen_by_its_new_name(platform: Platform, people: People):
    from tindahan.store.payment_tables import parties as party_table

    secret, _, _ = logins.sign_in(platform, PHONE, PIN)
    rename = update(party_table).where(party_table.c.id == people.merchant).values(name="Nena's")
    platform.run(lambda u: u.conn.execute(rename))
    found = logins.viewer(platform, secret)
    assert found is not None and found.name == "Nena's"


@pytest.mark.parametrize(
    ("secret", "code"),
    [
        ("12345", "secret_invalid"),  # too short a PIN
        ("1234567890123", "secret_invalid"),  # too long a PIN
        ("short pw", "secret_invalid"),
        ("x" * (limits.PASSWORD_MAX_LENGTH + 1), "secret_invalid"),
        ("ten chars\x00!", "secret_invalid"),  # a control character
        ("", "secret_invalid"),
        ("111111", "secret_weak"),
        ("123456", "secret_weak"),
        ("654321", "secret_weak"),
        ("3456789012", "secret_weak"),
    ],
)
def test_check_secret_refuses(secret: str, code: str):
    answer = refusal(lambda: logins.check_secret(secret))
    assert (answer.category, answer.code, answer.param) == (Category.INVALID, code, "secret")
    assert answer.message.endswith(("digits", "characters", "only", "in a row)"))


@pytest.mark.parametrize("secret", ["240816", "135792468013", "correct horse", "x" * 128])
def test_check_secret_accepts(secret: str):
    assert logins.check_secret(secret) == secret


def test_the_phone_is_stored_encrypted_and_the_pin_only_as_argon2id(platform, people):
    row = login_row(platform, people.login)
    text = " ".join(str(v) for v in row.values())
    for form in (PHONE, PHONE[3:], "0" + PHONE[3:], PHONE[1:]):
        assert form not in text
    assert row["phone_last4"] == "4567"
    assert platform.vault.open(row["phone_cipher"], f"login_phone:{people.login}") == PHONE
    assert row["phone_index"] == platform.vault.index(PHONE)
    assert row["secret_hash"].startswith("$argon2id$")
    assert PIN not in row["secret_hash"]
    assert PasswordHasher().verify(row["secret_hash"], PIN)
    cost = (limits.PIN_HASH_MEMORY_KIB, limits.PIN_HASH_PASSES, limits.PIN_HASH_LANES)
    assert "$m={},t={},p={}$".format(*cost) in row["secret_hash"]


@pytest.mark.parametrize(
    "old",
    [
        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),  # weaker
        PasswordHasher(),  # RFC 9106's profile, the cost before issue 24's measurement
    ],
)
def test_a_hash_with_old_parameters_is_redone_at_sign_in(
    platform: Platform, people: People, old: PasswordHasher
):
    weak = old.hash(PIN)
    change = update(login_table).where(login_table.c.id == people.login).values(secret_hash=weak)
    platform.run(lambda u: u.conn.execute(change))
    logins.sign_in(platform, PHONE, PIN)
    renewed = login_row(platform, people.login)["secret_hash"]
    assert renewed != weak and not logins._hasher.check_needs_rehash(renewed)
    logins.sign_in(platform, PHONE, PIN)


def test_create_refuses(platform: Platform, people: People):
    def create(party_id, phone="+639180000000", secret=PIN, name=None, caller=OPERATOR):
        return refusal(
            lambda: platform.run(
                lambda u: logins.create(
                    u, caller, party_id=party_id, phone=phone, secret=secret, name=name
                )
            )
        )

    assert create(people.customer, phone=PHONE).code == "phone_taken"
    assert create(people.customer, phone="0917-123-4567").param == "phone"  # the same number
    assert create(people.merchant).code == "login_exists"
    assert create("cus_nosuchparty").category is Category.NOT_FOUND
    assert create(people.customer, phone="555").code == "phone_invalid"
    assert create(people.customer, secret="000000").code == "secret_weak"
    assert create(None).code == "parameter_missing"  # staff need a name
    party = Caller("key_x", people.customer, frozenset(DEFAULT_SCOPES))
    assert create(people.customer, caller=party).code == "operator_only"
    closed = new_party(platform, "customer", "Closed Customer")
    platform.run(lambda u: parties.update_party(u, OPERATOR, closed, "closed", None))
    assert create(closed).code == "party_closed"


def test_the_audit_log_records_logins_made_and_party_changes_with_the_note(platform, people):
    [made] = entries(platform, "login.created")
    assert (made["actor"], made["object_type"], made["object_id"]) == (
        "key_operator",
        "login",
        people.login,
    )
    why = "  ID verified at the barangay hall  "

    def upgrade(unit):
        return parties.update_party(unit, OPERATOR, people.customer, None, "full", note=why)

    platform.run(upgrade)
    platform.run(lambda u: parties.update_party(u, OPERATOR, people.customer, None, "full"))
    [changed] = entries(platform, "party.updated")  # the second changed nothing
    assert changed["note"] == "ID verified at the barangay hall"
    assert json.loads(changed["details"]) == {"tier": ["basic", "full"]}
    assert (changed["actor"], changed["object_id"]) == ("key_operator", people.customer)
    platform.run(lambda u: parties.update_party(u, OPERATOR, people.customer, "frozen", "basic"))
    latest = entries(platform, "party.updated")
    assert {tuple(json.loads(e["details"])) for e in latest} == {("tier",), ("status", "tier")}
    long = "x" * (limits.AUDIT_NOTE_MAX_LENGTH + 1)
    answer = refusal(
        lambda: platform.run(
            lambda u: parties.update_party(u, OPERATOR, people.customer, "active", None, long)
        )
    )
    assert (answer.code, answer.param) == ("note_invalid", "note")
    assert len(entries(platform, "party.updated")) == 2  # refused: nothing written


def test_audit_entries_are_listed_newest_first_for_operators_only(platform, people, clock):
    ids = []
    for n in range(5):
        clock.advance(1)
        ids.append(
            platform.run(
                lambda u, n=n: audit.record(u, "cli", "test.done", "party", "mer_x", f"#{n}")
            )
        )
    newest_first = list(reversed(ids))

    def listing(limit, after=None, object_id="mer_x", caller=OPERATOR):
        return platform.run(
            lambda u: audit.list_entries(u, caller, limit, after, object_id), write=False
        )

    first = listing(2)
    assert [e["id"] for e in first["data"]] == newest_first[:2] and first["has_more"]
    second = listing(2, first["data"][-1]["id"])
    third = listing(2, second["data"][-1]["id"])
    assert [e["id"] for e in second["data"] + third["data"]] == newest_first[2:]
    assert not third["has_more"]
    entry = first["data"][0]
    assert entry == {
        "id": ids[-1],
        "object": "audit_entry",
        "at": entry["at"],
        "actor": "cli",
        "action": "test.done",
        "object_type": "party",
        "object_id": "mer_x",
        "note": "#4",
        "details": {},
    }
    assert entry["at"].endswith("Z")
    everything = listing(50, object_id=None)["data"]
    assert len(everything) == 6  # and the login made in the fixture
    assert everything[-1]["action"] == "login.created"
    assert refusal(lambda: listing(2, "aud_nosuchentry")).code == "cursor_invalid"
    party = Caller("key_x", people.merchant, frozenset(DEFAULT_SCOPES))
    assert refusal(lambda: listing(2, caller=party)).code == "operator_only"
