"""Nothing secret or personal reaches the logs (Data Privacy Act; DESIGN.md)."""

from __future__ import annotations

import logging


def test_no_key_phone_or_id_number_in_any_log(world, caplog):
    caplog.set_level(logging.DEBUG)
    api = world.api
    phone, id_number = "+639171112233", "PSN-9999-8888-7777"
    made = api.ok(
        api.post(
            "/v1/parties",
            world.operator,
            {"kind": "customer", "name": "Rosa", "phone": phone, "id_number": id_number},
        )
    )
    minted = api.ok(api.post("/v1/api_keys", world.operator, {"party_id": made["id"]}))
    api.get("/v1/payments", minted["secret"])
    api.get("/v1/payments", minted["secret"] + "x")  # a refused key is not logged either
    api.post(
        "/v1/payments",
        world.buyer.key,
        {"payee_id": made["id"], "amount_minor": 10**9, "currency": "PHP"},
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records, "the test saw no log records at all: it would prove nothing"
    for secret in (
        world.operator,
        world.buyer.key,
        minted["secret"],
        phone,
        "9171112233",
        id_number,
    ):
        assert secret not in logged
