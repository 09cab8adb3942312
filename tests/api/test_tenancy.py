"""Tenancy through the HTTP API (DESIGN.md invariant 7), on SQLite and PostgreSQL.

A party's key reaches that party's own objects only. Anything else answers 404
``resource_missing``, the very answer a made-up id gets, so ids cannot be probed and no
other party's data comes back; and naming another party in a body or a query
(``payer_id``, ``party_id``, ``merchant_id``, ``customer_id``, ``agent_id``) never lets a
key act or read as that party. Operator keys reach everything.

Each test first shows that the owner (and the operator) *can* reach the object, so a 404
for the stranger means "not yours" and not "a wrong path".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

PHP = "PHP"


@dataclass
class Scene:
    """The ``world`` plus one of everything a party owns, and two outsiders."""

    world: Any
    rival: Any  # a second merchant
    rival_agent: Any  # a second agent
    payment: dict[str, Any]  # the buyer paid the merchant
    refund: dict[str, Any]  # the merchant refunded part of it
    request: dict[str, Any]  # the merchant's open payment request
    rival_request: dict[str, Any]
    cash_out: dict[str, Any]  # the buyer's pending cash-out at the agent
    endpoint: dict[str, Any]  # the merchant's webhook endpoint (it has deliveries)
    rival_endpoint: dict[str, Any]

    @property
    def api(self) -> Any:
        return self.world.api

    @property
    def operator(self) -> str:
        return self.world.operator

    def party(self, name: str) -> Any:
        if name in ("rival", "rival_agent"):
            return getattr(self, name)
        return getattr(self.world, name)

    def wallet(self, name: str, kind: str = "main") -> dict[str, Any]:
        wallet_id = self.party(name).wallets[kind]
        return self.api.ok(self.api.get(f"/v1/wallets/{wallet_id}", self.operator))


class _Party:
    def __init__(self, party_id: str, key: str, wallets: dict[str, str]) -> None:
        self.id, self.key, self.wallets = party_id, key, wallets


def _onboard(api: Any, operator: str, body: dict[str, Any]) -> _Party:
    made = api.ok(api.post("/v1/parties", operator, body))
    key = api.ok(api.post("/v1/api_keys", operator, {"party_id": made["id"]}))["secret"]
    found = api.ok(api.get("/v1/wallets", operator, party_id=made["id"]))["data"]
    return _Party(made["id"], key, {w["kind"]: w["id"] for w in found})


def _endpoint(api: Any, key: str, path: str) -> dict[str, Any]:
    body = {"url": f"http://127.0.0.1:9/{path}", "enabled_events": ["*"]}
    return api.ok(api.post("/v1/webhook_endpoints", key, body))


@pytest.fixture
def scene(world) -> Scene:
    api, op = world.api, world.operator
    rival = _onboard(
        api,
        op,
        {
            "kind": "merchant",
            "name": "Mang Tonyo's Store",
            "mcc": "5411",
            "city": "Pasig",
            "province": "Metro Manila",
        },
    )
    rival_agent = _onboard(api, op, {"kind": "agent", "name": "Tindahan ni Rosa"})
    api.ok(
        api.post(
            "/v1/fundings",
            op,
            {"wallet_id": rival_agent.wallets["float"], "amount_minor": 5_000_000, "currency": PHP},
        )
    )
    endpoint = _endpoint(api, world.merchant.key, "merchant")
    rival_endpoint = _endpoint(api, rival.key, "rival")
    payment = api.ok(
        api.post(
            "/v1/payments",
            world.buyer.key,
            {"payee_id": world.merchant.id, "amount_minor": 20_000, "currency": PHP},
        )
    )
    refund = api.ok(
        api.post(
            "/v1/refunds",
            world.merchant.key,
            {"payment_id": payment["id"], "amount_minor": 5_000, "reason": "one item missing"},
        )
    )
    request = api.ok(
        api.post(
            "/v1/payment_requests",
            world.merchant.key,
            {"amount_minor": 7_500, "currency": PHP, "reference": "INV-7"},
        )
    )
    rival_request = api.ok(
        api.post("/v1/payment_requests", rival.key, {"amount_minor": 3_000, "currency": PHP})
    )
    cash_out = api.ok(
        api.post(
            "/v1/cash_outs",
            world.buyer.key,
            {"agent_id": world.agent.id, "amount_minor": 10_000, "currency": PHP},
        )
    )
    assert cash_out["status"] == "pending"
    return Scene(
        world,
        rival,
        rival_agent,
        payment,
        refund,
        request,
        rival_request,
        cash_out,
        endpoint,
        rival_endpoint,
    )


EVERYONE = ("merchant", "buyer", "other_buyer", "agent", "rival", "rival_agent")


def _missing_id(object_id: str) -> str:
    """An id of the same shape that names nothing."""
    prefix = object_id.split("_", 1)[0]
    return prefix + "_" + "a" * 24


def assert_not_found(response: Any, *secrets: str) -> None:
    assert response.status_code == 404, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == "resource_missing", body
    assert body["error"]["type"] == "not_found", body
    for secret in secrets:
        assert secret not in response.text, f"{secret!r} leaked in {response.text}"


# --- reading one object ----------------------------------------------------------------------
# resource -> (path with {id}, how to find the id, owners). Everybody else is a stranger.
READS: dict[str, tuple[str, Any, tuple[str, ...]]] = {
    "party": ("/v1/parties/{id}", lambda s: s.world.merchant.id, ("merchant",)),
    "customer_party": ("/v1/parties/{id}", lambda s: s.world.buyer.id, ("buyer",)),
    "wallet_main": ("/v1/wallets/{id}", lambda s: s.world.buyer.wallets["main"], ("buyer",)),
    "wallet_settlement": (
        "/v1/wallets/{id}",
        lambda s: s.world.merchant.wallets["settlement"],
        ("merchant",),
    ),
    "wallet_float": ("/v1/wallets/{id}", lambda s: s.world.agent.wallets["float"], ("agent",)),
    "statement": (
        "/v1/wallets/{id}/transactions",
        lambda s: s.world.buyer.wallets["main"],
        ("buyer",),
    ),
    "merchant_statement": (
        "/v1/wallets/{id}/transactions",
        lambda s: s.world.merchant.wallets["settlement"],
        ("merchant",),
    ),
    "payment": ("/v1/payments/{id}", lambda s: s.payment["id"], ("buyer", "merchant")),
    "payment_transfers": (
        "/v1/payments/{id}/transfers",
        lambda s: s.payment["id"],
        ("buyer", "merchant"),
    ),
    "payment_refunds": (
        "/v1/payments/{id}/refunds",
        lambda s: s.payment["id"],
        ("buyer", "merchant"),
    ),
    "refund": ("/v1/refunds/{id}", lambda s: s.refund["id"], ("buyer", "merchant")),
    "cash_out": ("/v1/payments/{id}", lambda s: s.cash_out["id"], ("buyer", "agent")),
    "payment_request": ("/v1/payment_requests/{id}", lambda s: s.request["id"], ("merchant",)),
    "webhook_endpoint": (
        "/v1/webhook_endpoints/{id}",
        lambda s: s.endpoint["id"],
        ("merchant",),
    ),
    "webhook_deliveries": (
        "/v1/webhook_endpoints/{id}/deliveries",
        lambda s: s.endpoint["id"],
        ("merchant",),
    ),
}


@pytest.mark.parametrize("resource", sorted(READS))
def test_a_stranger_cannot_read_anothers(scene, resource):
    template, find, owners = READS[resource]
    object_id = find(scene)
    path = template.format(id=object_id)
    api = scene.api
    seen = [api.ok(api.get(path, scene.party(o).key)) for o in owners]
    seen.append(api.ok(api.get(path, scene.operator)))  # the operator reaches everything
    for view in seen:
        if view.get("object") == "list":
            assert view["data"], (
                f"{resource}: the owner sees an empty list; the test proves nothing"
            )
        else:
            assert view["id"] == object_id
    nothing = api.get(template.format(id=_missing_id(object_id)), scene.operator)
    assert_not_found(nothing)
    owner_ids = [scene.party(o).id for o in owners]
    for stranger in EVERYONE:
        if stranger in owners:
            continue
        answer = api.get(path, scene.party(stranger).key)
        assert_not_found(answer, *owner_ids)
        # exactly what a made-up id answers: the id cannot be probed
        assert answer.json() == nothing.json(), f"{stranger} on {resource}"


def test_deliveries_of_the_merchants_endpoint_exist(scene):
    """The deliveries test above is only meaningful if the endpoint has deliveries."""
    api = scene.api
    found = api.ok(
        api.get(
            f"/v1/webhook_endpoints/{scene.endpoint['id']}/deliveries", scene.world.merchant.key
        )
    )["data"]
    assert {d["endpoint_id"] for d in found} == {scene.endpoint["id"]}
    assert "payment.succeeded" in {d["event_type"] for d in found}


def test_a_customer_may_pay_a_request_by_id_but_not_read_it_before(scene):
    """A request id is a bearer reference: any customer may pay it; reading it is private to
    its merchant, the operator and, once paid, its payer."""
    api, world = scene.api, scene.world
    path = f"/v1/payment_requests/{scene.request['id']}"
    assert_not_found(api.get(path, world.other_buyer.key), world.merchant.id)
    before = world.balance(world.other_buyer)
    paid = api.ok(api.post(f"{path}/pay", world.other_buyer.key))
    assert paid["payer_id"] == world.other_buyer.id
    assert paid["request_id"] == scene.request["id"]
    assert world.balance(world.other_buyer) == before - 7_500
    seen = api.ok(api.get(path, world.other_buyer.key))
    assert seen["status"] == "paid" and seen["payment_id"] == paid["id"]
    for stranger in ("buyer", "agent", "rival"):
        assert_not_found(api.get(path, scene.party(stranger).key), world.other_buyer.id)


# --- acting on another's object ------------------------------------------------------------
def test_a_stranger_cannot_confirm_a_cash_out(scene):
    api, world = scene.api, scene.world
    path = f"/v1/cash_outs/{scene.cash_out['id']}/confirm"
    float_before = scene.wallet("agent", "float")
    buyer_before = scene.wallet("buyer")
    for stranger in ("rival_agent", "merchant", "other_buyer", "rival"):
        assert_not_found(api.post(path, scene.party(stranger).key), world.buyer.id)
    still = api.ok(api.get(f"/v1/payments/{scene.cash_out['id']}", scene.operator))
    assert still["status"] == "pending"
    assert scene.wallet("agent", "float") == float_before
    assert scene.wallet("buyer") == buyer_before
    assert scene.wallet("rival_agent", "float")["balance_minor"] == 5_000_000
    # the agent it was asked of can
    done = api.ok(api.post(path, world.agent.key))
    assert done["status"] == "succeeded"


def test_a_stranger_cannot_cancel_a_cash_out(scene):
    api, world = scene.api, scene.world
    path = f"/v1/cash_outs/{scene.cash_out['id']}/cancel"
    buyer_before = scene.wallet("buyer")
    assert buyer_before["pending_out_minor"] == 10_000
    for stranger in ("rival_agent", "merchant", "other_buyer", "rival"):
        assert_not_found(api.post(path, scene.party(stranger).key), world.buyer.id)
    still = api.ok(api.get(f"/v1/payments/{scene.cash_out['id']}", scene.operator))
    assert still["status"] == "pending"
    assert scene.wallet("buyer") == buyer_before


def test_the_customer_can_cancel_their_own_cash_out(scene):
    """The other side of the test above: the 404s were "not yours", not a broken route."""
    api, world = scene.api, scene.world
    canceled = api.post(f"/v1/cash_outs/{scene.cash_out['id']}/cancel", world.buyer.key)
    assert api.ok(canceled)["status"] == "failed"
    assert scene.wallet("buyer")["pending_out_minor"] == 0


def test_a_stranger_cannot_refund_anothers_payment(scene):
    api, world = scene.api, scene.world
    merchant_before = world.balance(world.merchant, "settlement")
    for stranger in ("rival", "other_buyer", "agent"):
        answer = api.post(
            "/v1/refunds",
            scene.party(stranger).key,
            {"payment_id": scene.payment["id"], "amount_minor": 1_000},
        )
        assert_not_found(answer, world.buyer.id, world.merchant.id)
    payment = api.ok(api.get(f"/v1/payments/{scene.payment['id']}", scene.operator))
    assert payment["refunded_minor"] == 5_000
    assert world.balance(world.merchant, "settlement") == merchant_before


def test_a_stranger_cannot_cancel_anothers_payment_request(scene):
    api = scene.api
    path = f"/v1/payment_requests/{scene.request['id']}"
    for stranger in ("rival", "buyer", "other_buyer", "agent"):
        assert_not_found(api.post(f"{path}/cancel", scene.party(stranger).key))
    assert api.ok(api.get(path, scene.operator))["status"] == "open"


def test_a_stranger_cannot_change_anothers_webhook_endpoint(scene):
    api = scene.api
    path = f"/v1/webhook_endpoints/{scene.endpoint['id']}"
    for stranger in ("rival", "buyer", "agent"):
        answer = api.post(path, scene.party(stranger).key, {"status": "disabled"})
        assert_not_found(answer, scene.endpoint["url"])
    assert api.ok(api.get(path, scene.operator))["status"] == "enabled"


def test_a_stranger_cannot_revoke_anothers_api_key(scene):
    api, world = scene.api, scene.world
    keys = api.ok(api.get("/v1/api_keys", world.buyer.key))["data"]
    assert [k["party_id"] for k in keys] == [world.buyer.id]
    key_id = keys[0]["id"]
    for stranger in ("other_buyer", "merchant", "rival"):
        assert_not_found(api.post(f"/v1/api_keys/{key_id}/revoke", scene.party(stranger).key))
    # the key still works, and is not revoked
    assert api.ok(api.get(f"/v1/parties/{world.buyer.id}", world.buyer.key))["id"] == world.buyer.id
    listed = {k["id"]: k for k in api.ok(api.get("/v1/api_keys", scene.operator))["data"]}
    assert listed[key_id]["revoked"] is None


# --- lists: only one's own ---------------------------------------------------------------------
def _ids(api: Any, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    return api.ok(api.get(path, key, **params))["data"]


def test_payments_list_shows_only_ones_own(scene):
    api = scene.api
    everything = _ids(api, "/v1/payments", scene.operator, limit=200)
    for name in EVERYONE:
        party = scene.party(name)
        mine = _ids(api, "/v1/payments", party.key, limit=200)
        assert all(party.id in (p["payer_id"], p["payee_id"]) for p in mine), name
        expected = {p["id"] for p in everything if party.id in (p["payer_id"], p["payee_id"])}
        assert {p["id"] for p in mine} == expected, name
    other = {p["id"] for p in _ids(api, "/v1/payments", scene.world.other_buyer.key)}
    assert scene.payment["id"] not in other and scene.cash_out["id"] not in other
    operator_sees = {p["id"] for p in everything}
    assert {scene.payment["id"], scene.cash_out["id"]} <= operator_sees


def test_wallets_list_shows_only_ones_own(scene):
    api = scene.api
    everything = _ids(api, "/v1/wallets", scene.operator, limit=200)
    for name in EVERYONE:
        party = scene.party(name)
        mine = _ids(api, "/v1/wallets", party.key)
        assert {w["id"] for w in mine} == set(party.wallets.values()), name
    assert {w["party_id"] for w in everything} >= {scene.party(n).id for n in EVERYONE}


def test_parties_list_shows_only_oneself(scene):
    api = scene.api
    for name in EVERYONE:
        party = scene.party(name)
        assert [p["id"] for p in _ids(api, "/v1/parties", party.key)] == [party.id], name
    everyone = {p["id"] for p in _ids(api, "/v1/parties", scene.operator)}
    assert everyone >= {scene.party(n).id for n in EVERYONE}


def test_payment_requests_list_shows_only_ones_own(scene):
    api, world = scene.api, scene.world
    assert [r["id"] for r in _ids(api, "/v1/payment_requests", world.merchant.key)] == [
        scene.request["id"]
    ]
    assert [r["id"] for r in _ids(api, "/v1/payment_requests", scene.rival.key)] == [
        scene.rival_request["id"]
    ]
    for name in ("buyer", "other_buyer", "agent", "rival_agent"):
        assert _ids(api, "/v1/payment_requests", scene.party(name).key) == [], name
    everything = {r["id"] for r in _ids(api, "/v1/payment_requests", scene.operator)}
    assert everything == {scene.request["id"], scene.rival_request["id"]}


def test_webhook_endpoints_list_shows_only_ones_own(scene):
    api, world = scene.api, scene.world
    assert [e["id"] for e in _ids(api, "/v1/webhook_endpoints", world.merchant.key)] == [
        scene.endpoint["id"]
    ]
    assert [e["id"] for e in _ids(api, "/v1/webhook_endpoints", scene.rival.key)] == [
        scene.rival_endpoint["id"]
    ]
    for name in ("buyer", "other_buyer", "agent", "rival_agent"):
        assert _ids(api, "/v1/webhook_endpoints", scene.party(name).key) == [], name
    everything = {e["id"] for e in _ids(api, "/v1/webhook_endpoints", scene.operator)}
    assert everything == {scene.endpoint["id"], scene.rival_endpoint["id"]}


def test_api_keys_list_shows_only_ones_own(scene):
    api = scene.api
    everything = _ids(api, "/v1/api_keys", scene.operator)
    for name in EVERYONE:
        party = scene.party(name)
        mine = _ids(api, "/v1/api_keys", party.key)
        assert mine and all(k["party_id"] == party.id for k in mine), name
        assert {k["id"] for k in mine} == {k["id"] for k in everything if k["party_id"] == party.id}
    assert {k["party_id"] for k in everything} >= {scene.party(n).id for n in EVERYONE}
    assert any(k["operator"] for k in everything)


# --- naming another party in a query or a body ----------------------------------------------
def assert_only_own(response: Any, caller_id: str, owner_fields: tuple[str, ...]) -> None:
    """Either "no such party" or a list of the caller's own objects: never another's."""
    if response.status_code == 404:
        assert_not_found(response)
        return
    assert response.status_code == 200, response.text
    for item in response.json()["data"]:
        assert caller_id in [item[f] for f in owner_fields], item


def test_payments_list_with_anothers_party_id_shows_none_of_theirs(scene):
    api, world = scene.api, scene.world
    answer = api.get("/v1/payments", world.other_buyer.key, party_id=world.buyer.id)
    assert_only_own(answer, world.other_buyer.id, ("payer_id", "payee_id"))
    assert scene.payment["id"] not in answer.text
    theirs = _ids(api, "/v1/payments", scene.operator, party_id=world.buyer.id)
    assert scene.payment["id"] in {p["id"] for p in theirs}  # the operator may name anyone


def test_wallets_list_with_anothers_party_id_shows_none_of_theirs(scene):
    api, world = scene.api, scene.world
    answer = api.get("/v1/wallets", world.other_buyer.key, party_id=world.buyer.id)
    assert_only_own(answer, world.other_buyer.id, ("party_id",))
    assert world.buyer.wallets["main"] not in answer.text
    theirs = _ids(api, "/v1/wallets", scene.operator, party_id=world.buyer.id)
    assert {w["id"] for w in theirs} == set(world.buyer.wallets.values())


def test_payment_requests_list_with_anothers_merchant_id_shows_none_of_theirs(scene):
    api, world = scene.api, scene.world
    answer = api.get("/v1/payment_requests", scene.rival.key, merchant_id=world.merchant.id)
    assert_only_own(answer, scene.rival.id, ("merchant_id",))
    assert scene.request["id"] not in answer.text
    answer = api.get("/v1/payment_requests", world.buyer.key, merchant_id=world.merchant.id)
    assert_only_own(answer, world.buyer.id, ("merchant_id",))
    assert scene.request["id"] not in answer.text
    theirs = _ids(api, "/v1/payment_requests", scene.operator, merchant_id=world.merchant.id)
    assert [r["id"] for r in theirs] == [scene.request["id"]]


def _balances(scene: Scene) -> dict[str, Any]:
    return {
        (name, kind): scene.wallet(name, kind)
        for name in EVERYONE
        for kind in scene.party(name).wallets
    }


def _payment_count(scene: Scene) -> int:
    return len(_ids(scene.api, "/v1/payments", scene.operator, limit=200))


@pytest.mark.parametrize(
    ("thief", "payee"),
    [("other_buyer", "other_buyer"), ("merchant", "merchant"), ("other_buyer", "rival")],
)
def test_paying_from_anothers_wallet_is_refused_and_moves_nothing(scene, thief, payee):
    api, world = scene.api, scene.world
    before, count = _balances(scene), _payment_count(scene)
    answer = api.post(
        "/v1/payments",
        scene.party(thief).key,
        {
            "payer_id": world.buyer.id,
            "payee_id": scene.party(payee).id,
            "amount_minor": 10_000,
            "currency": PHP,
        },
    )
    assert_not_found(answer)
    assert answer.json()["error"]["param"] == "payer_id"
    assert _balances(scene) == before
    assert _payment_count(scene) == count


def test_paying_a_request_from_anothers_wallet_is_refused(scene):
    api, world = scene.api, scene.world
    before, count = _balances(scene), _payment_count(scene)
    path = f"/v1/payment_requests/{scene.request['id']}"
    answer = api.post(f"{path}/pay", world.other_buyer.key, {"payer_id": world.buyer.id})
    assert_not_found(answer)
    assert _balances(scene) == before
    assert _payment_count(scene) == count
    assert api.ok(api.get(path, scene.operator))["status"] == "open"


def test_requesting_payment_as_another_merchant_is_refused(scene):
    api, world = scene.api, scene.world
    answer = api.post(
        "/v1/payment_requests",
        scene.rival.key,
        {"merchant_id": world.merchant.id, "amount_minor": 1_000, "currency": PHP},
    )
    assert_not_found(answer)
    theirs = _ids(api, "/v1/payment_requests", scene.operator, merchant_id=world.merchant.id)
    assert [r["id"] for r in theirs] == [scene.request["id"]]


def test_cashing_in_from_anothers_float_is_refused(scene):
    api, world = scene.api, scene.world
    before, count = _balances(scene), _payment_count(scene)
    answer = api.post(
        "/v1/cash_ins",
        scene.rival_agent.key,
        {
            "agent_id": world.agent.id,
            "customer_id": world.other_buyer.id,
            "amount_minor": 10_000,
            "currency": PHP,
        },
    )
    assert_not_found(answer)
    assert answer.json()["error"]["param"] == "agent_id"
    assert _balances(scene) == before
    assert _payment_count(scene) == count


def test_cashing_out_from_anothers_wallet_is_refused(scene):
    api, world = scene.api, scene.world
    before, count = _balances(scene), _payment_count(scene)
    answer = api.post(
        "/v1/cash_outs",
        world.other_buyer.key,
        {
            "agent_id": world.agent.id,
            "customer_id": world.buyer.id,
            "amount_minor": 10_000,
            "currency": PHP,
        },
    )
    assert_not_found(answer)
    assert answer.json()["error"]["param"] == "customer_id"
    assert _balances(scene) == before
    assert _payment_count(scene) == count


def test_subscribing_a_webhook_for_another_party_is_refused(scene):
    api, world = scene.api, scene.world
    answer = api.post(
        "/v1/webhook_endpoints",
        scene.rival.key,
        {
            "url": "http://127.0.0.1:9/spy",
            "enabled_events": ["*"],
            "party_id": world.merchant.id,
        },
    )
    assert_not_found(answer)
    listed = _ids(api, "/v1/webhook_endpoints", scene.operator)
    assert {e["id"] for e in listed} == {scene.endpoint["id"], scene.rival_endpoint["id"]}


def test_minting_a_key_for_another_party_is_refused(scene):
    api, world = scene.api, scene.world
    before = {k["id"] for k in _ids(api, "/v1/api_keys", scene.operator)}
    answer = api.post("/v1/api_keys", scene.rival.key, {"party_id": world.merchant.id})
    if answer.status_code == 404:
        assert_not_found(answer)
    else:  # a party key makes keys for itself only, whatever it names
        made = api.ok(answer)
        assert made["party_id"] == scene.rival.id and made["operator"] is False
        who = api.ok(api.get("/v1/parties", made["secret"]))["data"]
        assert [p["id"] for p in who] == [scene.rival.id]
    merchant_keys = [k for k in _ids(api, "/v1/api_keys", scene.operator) if k["id"] not in before]
    assert all(k["party_id"] != world.merchant.id for k in merchant_keys)


def test_idempotency_keys_are_per_party(scene):
    """The same Idempotency-Key from two parties is two requests: never a replay of the
    other party's response."""
    api, world = scene.api, scene.world
    body = {"payee_id": world.merchant.id, "amount_minor": 1_500, "currency": PHP}
    first = api.ok(api.post("/v1/payments", world.buyer.key, body, idem="order-1"))
    second = api.post("/v1/payments", world.other_buyer.key, body, idem="order-1")
    assert second.headers.get("Idempotent-Replayed") is None
    made = api.ok(second)
    assert made["id"] != first["id"]
    assert made["payer_id"] == world.other_buyer.id
    assert first["id"] not in second.text
