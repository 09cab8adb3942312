"""Security through the HTTP API, on SQLite and PostgreSQL: API keys (hashed, shown once,
scoped, revocable), authentication errors, operator-only changes, rate limits, body limits,
and personal data and webhook secrets encrypted at rest (Data Privacy Act, RA 10173).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select

from tests.servers import running
from tindahan import limits
from tindahan.api.app import create_app
from tindahan.api.ratelimit import RateLimiter
from tindahan.services.platform import keys

PHP = "PHP"
PHONE = "+639171234567"
PHONE_DIGITS = "9171234567"  # the national number: what must never be stored in clear
ID_NUMBER = "N01-23-456789"


def _rows(platform: Any, table: str) -> list[dict[str, Any]]:
    metadata = MetaData()
    metadata.reflect(platform.db.engine, only=[table])
    with platform.db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(metadata.tables[table])).mappings()]


def _where_in_database(platform: Any, needle: str) -> list[str]:
    """Every ``table.column`` whose stored value contains ``needle`` (as text)."""
    metadata = MetaData()
    metadata.reflect(platform.db.engine)
    found = []
    with platform.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    if needle in text:
                        found.append(f"{table.name}.{column}")
    return sorted(set(found))


def assert_error(response: Any, status: int, code: str, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"type", "code", "message", "param"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    if kind is not None:
        assert error["type"] == kind, error
    return error


def _key_ids(api: Any, operator: str, party_id: str | None) -> set[str]:
    return {
        k["id"]
        for k in api.ok(api.get("/v1/api_keys", operator))["data"]
        if k["party_id"] == party_id
    }


# --- API keys ----------------------------------------------------------------------------------
def test_key_secret_is_shown_once_and_stored_only_as_sha256(world, platform):
    api, buyer = world.api, world.buyer
    made = api.ok(api.post("/v1/api_keys", world.operator, {"party_id": buyer.id}))
    secret = made["secret"]
    assert secret.startswith("tk_test_")
    assert len(secret) >= len("tk_test_") + 43  # 256 random bits, URL-safe base64
    assert made["display"] == secret[:8] + "…" + secret[-4:]
    # never again through the API
    for key in (world.operator, buyer.key, secret):
        listed = api.get("/v1/api_keys", key)
        assert listed.status_code == 200 and secret not in listed.text
        assert all("secret" not in k for k in listed.json()["data"])
    # the table holds its SHA-256 and nothing from which the secret can be read back
    rows = [r for r in _rows(platform, "api_keys") if r["id"] == made["id"]]
    assert len(rows) == 1
    assert rows[0]["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    random_part = secret[len("tk_test_") :]
    for column, value in rows[0].items():
        assert secret not in str(value), column
        assert random_part[:-4] not in str(value), column
    # and the secret works
    assert api.ok(api.get(f"/v1/parties/{buyer.id}", secret))["id"] == buyer.id


def test_key_secret_is_nowhere_in_the_database(api, operator_key, platform):
    made = api.ok(api.post("/v1/api_keys", operator_key, {}))
    assert made["operator"] is True
    assert _where_in_database(platform, made["secret"]) == []
    assert _where_in_database(platform, made["secret"][len("tk_test_") :]) == []


def test_keys_carry_the_test_prefix_on_a_test_database(world, operator_key):
    assert operator_key.startswith("tk_test_")
    for party in world.parties:
        assert party.key.startswith("tk_test_")
    for key in world.api.ok(world.api.get("/v1/api_keys", operator_key))["data"]:
        assert key["display"].startswith("tk_test_")


def test_a_revoked_key_gets_401(world):
    api, buyer = world.api, world.buyer
    spare = api.ok(api.post("/v1/api_keys", world.operator, {"party_id": buyer.id}))
    # used once, so this process has it cached as valid
    assert api.ok(api.get(f"/v1/parties/{buyer.id}", spare["secret"]))["id"] == buyer.id
    revoked = api.ok(api.post(f"/v1/api_keys/{spare['id']}/revoke", world.operator))
    assert revoked["revoked"] is not None
    refused = api.get(f"/v1/parties/{buyer.id}", spare["secret"])
    assert_error(refused, 401, "api_key_revoked", "authentication_error")
    before = world.balance(buyer)
    paying = api.post(
        "/v1/payments",
        spare["secret"],
        {"payee_id": world.merchant.id, "amount_minor": 100, "currency": PHP},
    )
    assert_error(paying, 401, "api_key_revoked")
    assert world.balance(buyer) == before
    # the party's other key is untouched
    assert api.ok(api.get(f"/v1/parties/{buyer.id}", buyer.key))["id"] == buyer.id


def test_a_party_revokes_its_own_key(world):
    api, buyer = world.api, world.buyer
    spare = api.ok(api.post("/v1/api_keys", buyer.key, {"scopes": ["payments:read"]}))
    assert api.ok(api.get("/v1/payments", spare["secret"]))["object"] == "list"
    api.ok(api.post(f"/v1/api_keys/{spare['id']}/revoke", buyer.key))
    assert_error(api.get("/v1/payments", spare["secret"]), 401, "api_key_revoked")


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "api_key_missing"),
        ("Bearer", "api_key_missing"),
        ("Basic dXNlcjpwYXNz", "api_key_missing"),
        ("Bearer garbage", "api_key_invalid"),
        ("Bearer tk_test_" + "x" * 43, "api_key_invalid"),
        ("Bearer tk_live_" + "x" * 43, "api_key_invalid"),
        ("Bearer tk_test_" + "x" * 200, "api_key_invalid"),
    ],
    ids=["none", "empty", "basic", "garbage", "unknown", "live", "too_long"],
)
def test_a_missing_or_bad_key_gets_401(api, operator_key, authorization, code):
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = api.http.get("/v1/payments", headers=headers)
    assert_error(answer, 401, code, "authentication_error")
    headers["Idempotency-Key"] = "k-1"
    made = api.http.post("/v1/parties", headers=headers, json={"kind": "agent", "name": "Sneaky"})
    assert_error(made, 401, code)
    assert api.ok(api.get("/v1/parties", operator_key))["data"] == []


def test_a_key_lacking_a_scope_gets_403(world):
    api, buyer = world.api, world.buyer
    made = api.ok(
        api.post(
            "/v1/api_keys", world.operator, {"party_id": buyer.id, "scopes": ["payments:read"]}
        )
    )
    assert made["scopes"] == ["payments:read"] and made["party_id"] == buyer.id
    reader = made["secret"]
    assert api.ok(api.get("/v1/payments", reader))["object"] == "list"
    before = world.balance(buyer)
    paying = api.post(
        "/v1/payments",
        reader,
        {"payee_id": world.merchant.id, "amount_minor": 100, "currency": PHP},
    )
    error = assert_error(paying, 403, "scope_missing", "permission_error")
    assert error["param"] == "payments:write"
    assert world.balance(buyer) == before
    for path in (f"/v1/wallets/{buyer.wallets['main']}", f"/v1/parties/{buyer.id}"):
        assert_error(api.get(path, reader), 403, "scope_missing")
    assert_error(api.get("/v1/webhook_endpoints", reader), 403, "scope_missing")


@pytest.mark.parametrize(
    "change",
    ["create_party", "own_tier", "fund_own_wallet", "kyc_tier", "fee_settings"],
)
def test_a_party_key_cannot_make_operator_changes(world, change):
    api, buyer = world.api, world.buyer
    requests = {
        "create_party": ("/v1/parties", {"kind": "customer", "name": "Ghost"}),
        "own_tier": (f"/v1/parties/{buyer.id}", {"tier": "business"}),
        "fund_own_wallet": (
            "/v1/fundings",
            {"wallet_id": buyer.wallets["main"], "amount_minor": 1_000_000, "currency": PHP},
        ),
        "kyc_tier": ("/v1/kyc_tiers/basic", {"per_transaction_max_minor": 10**12}),
        "fee_settings": ("/v1/fee_settings", {"merchant_discount_bps": 0}),
    }
    path, body = requests[change]

    def state() -> Any:
        return (
            api.ok(api.get("/v1/parties", world.operator))["data"],
            api.ok(api.get("/v1/kyc_tiers", world.operator))["data"],
            api.ok(api.get("/v1/fee_settings", world.operator)),
            [world.balance(p, kind) for p in world.parties for kind in p.wallets],
        )

    before = state()
    for key in (buyer.key, world.merchant.key, world.agent.key):
        assert_error(api.post(path, key, body), 403, "operator_only", "permission_error")
    assert state() == before


def test_a_party_key_cannot_mint_an_operator_key_or_wider_scopes(world):
    api, buyer = world.api, world.buyer
    before = _key_ids(api, world.operator, buyer.id)
    operators_before = _key_ids(api, world.operator, None)
    # a full party key makes keys for itself only: never an operator key
    own = api.ok(api.post("/v1/api_keys", buyer.key, {}))
    assert own["party_id"] == buyer.id and own["operator"] is False
    ghost = {"kind": "agent", "name": "Ghost"}
    assert_error(api.post("/v1/parties", own["secret"], ghost), 403, "operator_only")
    # a narrow key cannot grant what it lacks, nor everything (the default)
    narrow = api.ok(
        api.post("/v1/api_keys", buyer.key, {"scopes": ["keys:write", "payments:read"]})
    )
    wider = api.post(
        "/v1/api_keys", narrow["secret"], {"scopes": ["payments:read", "payments:write"]}
    )
    assert assert_error(wider, 400, "scopes_invalid")["param"] == "scopes"
    assert_error(api.post("/v1/api_keys", narrow["secret"], {}), 400, "scopes_invalid")
    # what it holds, it may pass on
    same = api.ok(api.post("/v1/api_keys", narrow["secret"], {"scopes": ["payments:read"]}))
    assert same["scopes"] == ["payments:read"] and same["party_id"] == buyer.id
    # and a key without keys:write mints nothing
    minted = api.post("/v1/api_keys", same["secret"], {"scopes": ["payments:read"]})
    assert_error(minted, 403, "scope_missing")
    assert _key_ids(api, world.operator, buyer.id) - before == {
        own["id"],
        narrow["id"],
        same["id"],
    }
    assert _key_ids(api, world.operator, None) == operators_before


# --- rate limits ---------------------------------------------------------------------------
class SteppedLimiter(RateLimiter):
    """The real token bucket (2 a second, burst 2) on a clock the test moves."""

    def __init__(self) -> None:
        super().__init__(per_second=2, burst=2)
        self.now_ns = 0

    def take(self, key: str, now_ns: int | None = None) -> int:
        return super().take(key, self.now_ns)


class _Api:
    """Requests to a server of our own: a bearer key, a fresh Idempotency-Key per POST."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def get(self, path: str, key: str) -> httpx.Response:
        return self.http.get(path, headers={"Authorization": f"Bearer {key}"})

    def post(self, path: str, key: str, body: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": secrets.token_hex(8)}
        return self.http.post(path, headers=headers, json=body)


@pytest.fixture
def limited(platform) -> Iterator[tuple[Any, SteppedLimiter]]:
    app = create_app(platform)
    limiter = app.state.rate_limiter = SteppedLimiter()
    with running(app) as url:
        client = _Api(url)
        try:
            yield client, limiter
        finally:
            client.http.close()


def test_the_app_takes_its_rate_limit_from_limits(platform):
    limiter = create_app(platform).state.rate_limiter
    assert limiter.rate == limits.RATE_LIMIT_PER_SECOND
    assert limiter.capacity_milli == limits.RATE_LIMIT_BURST * 1000


def test_a_key_over_its_rate_gets_429_with_retry_after(limited, operator_key, platform):
    api, limiter = limited
    other = platform.run(lambda u: keys.create(u, None, party_id=None))[1]
    assert [api.get("/v1/parties", operator_key).status_code for _ in range(2)] == [200, 200]
    refused = api.get("/v1/parties", operator_key)
    assert_error(refused, 429, "rate_limited", "rate_limit_error")
    assert refused.headers["Retry-After"] == "1"  # one token at 2 a second: under a second
    # a limited POST does nothing
    posted = api.post("/v1/parties", operator_key, {"kind": "agent", "name": "Too Fast"})
    assert_error(posted, 429, "rate_limited")
    assert int(posted.headers["Retry-After"]) >= 1
    # the limit is per key: another key goes ahead
    assert api.get("/v1/parties", other).json()["data"] == []
    # after Retry-After, the bucket has refilled: two more, then limited again
    limiter.now_ns += int(refused.headers["Retry-After"]) * 10**9
    assert [api.get("/v1/parties", operator_key).status_code for _ in range(3)] == [200, 200, 429]


# --- body limit ----------------------------------------------------------------------------
def _party_body_of(size: int) -> bytes:
    """A party-creation body of exactly ``size`` bytes (its name pads it out)."""
    empty = json.dumps({"kind": "agent", "name": ""}).encode()
    body = json.dumps({"kind": "agent", "name": "x" * (size - len(empty))}).encode()
    assert len(body) == size
    return body


def _parties(api: Any, operator: str) -> list[dict[str, Any]]:
    return api.ok(api.get("/v1/parties", operator))["data"]


def test_a_body_over_the_limit_gets_413_and_creates_nothing(api, operator_key):
    too_big = _party_body_of(limits.MAX_REQUEST_BODY_BYTES + 1)
    answer = api.post(
        "/v1/parties",
        operator_key,
        content=too_big,
        headers={"Content-Type": "application/json"},
    )
    assert_error(answer, 413, "body_too_large")
    assert _parties(api, operator_key) == []


def test_a_body_at_the_limit_is_read(api, operator_key):
    """The boundary: exactly the limit passes the size check (and the name's own length
    check refuses it with 400), so the 413 above is about size, not the route."""
    at_limit = _party_body_of(limits.MAX_REQUEST_BODY_BYTES)
    answer = api.post(
        "/v1/parties",
        operator_key,
        content=at_limit,
        headers={"Content-Type": "application/json"},
    )
    assert_error(answer, 400, "parameter_invalid")
    assert _parties(api, operator_key) == []


def _stream(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 8192):
        yield body[start : start + 8192]


def _post_streamed(api: Any, key: str, body: bytes) -> Any:
    """POST without Content-Length (chunked): the limit must count what arrives."""
    answer = api.post(
        "/v1/parties",
        key,
        content=_stream(body),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in {k.lower() for k in answer.request.headers}
    return answer


def test_a_streamed_body_over_the_limit_gets_413(api, operator_key):
    answer = _post_streamed(api, operator_key, _party_body_of(limits.MAX_REQUEST_BODY_BYTES + 1))
    assert_error(answer, 413, "body_too_large")


def test_a_streamed_body_over_the_limit_creates_nothing(api, operator_key):
    answer = _post_streamed(api, operator_key, _party_body_of(limits.MAX_REQUEST_BODY_BYTES + 1))
    assert 400 <= answer.status_code < 500, answer.text
    assert set(answer.json()) == {"error"}
    assert _parties(api, operator_key) == []


def test_a_streamed_body_under_the_limit_is_read(api, operator_key):
    """The chunked path itself works: a small streamed body creates the party."""
    body = json.dumps({"kind": "agent", "name": "Chunked"}).encode() + b" " * 20_000
    made = api.ok(_post_streamed(api, operator_key, body))
    assert [p["id"] for p in _parties(api, operator_key)] == [made["id"]]


# --- personal data at rest ------------------------------------------------------------------
@pytest.fixture
def juan(api, operator_key) -> dict[str, Any]:
    return api.ok(
        api.post(
            "/v1/parties",
            operator_key,
            {"kind": "customer", "name": "Juan", "phone": PHONE, "id_number": ID_NUMBER},
        )
    )


def test_phone_and_id_number_are_encrypted_in_the_parties_row(juan, platform):
    rows = [r for r in _rows(platform, "parties") if r["id"] == juan["id"]]
    assert len(rows) == 1
    row = rows[0]
    for column, value in row.items():
        text = str(value)
        assert PHONE_DIGITS not in text, column
        assert ID_NUMBER not in text.upper(), column
        assert ID_NUMBER.replace("-", "") not in text.upper().replace("-", ""), column
    # they are there, sealed, and open with the data key for this party only
    vault = platform.vault
    assert vault.open(row["phone_cipher"], f"phone:{juan['id']}") == PHONE
    assert vault.open(row["id_number_cipher"], f"id_number:{juan['id']}") == ID_NUMBER
    assert row["phone_index"] == vault.index(PHONE)


def test_phone_and_id_number_are_nowhere_in_the_database(juan, platform):
    assert _where_in_database(platform, PHONE_DIGITS) == []
    assert _where_in_database(platform, ID_NUMBER) == []
    assert _where_in_database(platform, ID_NUMBER.replace("-", "")) == []


def test_the_api_shows_only_the_last_four_digits(juan, api, operator_key):
    assert juan["phone_last4"] == "4567" and juan["id_verified"] is True
    read = api.get(f"/v1/parties/{juan['id']}", operator_key)
    listed = api.get("/v1/parties", operator_key)
    for answer in (read, listed):
        assert answer.status_code == 200
        assert PHONE_DIGITS not in answer.text and ID_NUMBER not in answer.text
    shown = read.json()
    assert shown["phone_last4"] == "4567" and shown["id_verified"] is True
    assert not {"phone", "id_number", "phone_cipher", "id_number_cipher"} & set(shown)


def test_a_phone_number_belongs_to_one_party(juan, api, operator_key):
    """The blind index finds the number without storing it."""
    again = api.post(
        "/v1/parties", operator_key, {"kind": "customer", "name": "Other", "phone": "0917 123 4567"}
    )
    assert_error(again, 409, "phone_taken")


# --- webhook secrets at rest ----------------------------------------------------------------
def _new_endpoint(world: Any) -> dict[str, Any]:
    body = {"url": "http://127.0.0.1:9/hook", "enabled_events": ["payment.succeeded"]}
    return world.api.ok(world.api.post("/v1/webhook_endpoints", world.merchant.key, body))


def test_webhook_secret_is_stored_encrypted(world, platform):
    made = _new_endpoint(world)
    secret = made["secret"]
    assert len(secret) >= 32
    rows = [r for r in _rows(platform, "webhook_endpoints") if r["id"] == made["id"]]
    assert len(rows) == 1
    for column, value in rows[0].items():
        assert secret not in str(value), column
    assert platform.vault.open(rows[0]["secret_cipher"], f"webhook:{made['id']}") == secret
    # and the API never shows it again
    api = world.api
    for path in ("/v1/webhook_endpoints", f"/v1/webhook_endpoints/{made['id']}"):
        answer = api.get(path, world.merchant.key)
        assert answer.status_code == 200 and secret not in answer.text


def test_webhook_secret_is_nowhere_in_the_database(world, platform):
    made = _new_endpoint(world)
    assert _where_in_database(platform, made["secret"]) == []
