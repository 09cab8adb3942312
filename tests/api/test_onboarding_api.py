"""Onboarding a merchant through the API, as the console does: the party with its business
profile and tier, the ID images (private, sealed), its web sign-in and its QR poster, in one
call, once per Idempotency-Key; operator keys only; a refusal leaves nothing. SQLite and
PostgreSQL."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import select

from tests.api.conftest import World
from tindahan.services.platform import logins
from tindahan.store.payment_tables import idempotency_keys
from tindahan.store.tables import metadata


def picture(colour: tuple[int, int, int] = (200, 180, 150), kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 800), colour).save(out, kind)
    return out.getvalue()


FIELDS = {
    "kind": "merchant",
    "name": "Sari-sari ni Lorna",
    "phone": "0917 888 1234",
    "mcc": "5411",
    "city": "Marikina",
    "province": "Metro Manila",
    "tier": "basic",
}


def onboard(
    world: World,
    key: str | None,
    fields: dict[str, str] | None = None,
    files: dict[str, bytes] | None = None,
    idem: str | None = None,
) -> httpx.Response:
    headers = {"Idempotency-Key": idem or str(uuid.uuid4())}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    sent = files if files is not None else {"id_front": picture(), "id_back": picture((9, 9, 9))}
    return world.api.http.post(
        "/v1/onboardings",
        headers=headers,
        data=FIELDS if fields is None else fields,
        files={k: (f"{k}.png", v, "image/png") for k, v in sent.items()},
    )


def test_a_merchant_is_onboarded_in_one_call_and_signs_in(world: World, platform: Any):
    idem = str(uuid.uuid4())
    made = world.api.ok(onboard(world, world.operator, idem=idem))
    assert made["object"] == "party" and made["kind"] == "merchant"
    assert made["business"]["mcc"] == "5411" and made["tier"] == "basic"
    assert made["login"]["party_id"] == made["id"] and made["phone_last4"] == "1234"
    assert [d["kind"] for d in made["documents"]] == ["id_front", "id_back"]
    pin = made["first_pin"]
    assert pin and len(pin) == 6
    # the merchant signs in on the web with that PIN
    signed = logins.sign_in(platform, "+639178881234", pin)
    assert signed[1].party_id == made["id"]
    # a replay answers the same party without the PIN, which rests nowhere in clear
    again = onboard(world, world.operator, idem=idem)
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["id"] == made["id"] and again.json()["first_pin"] is None
    stored = platform.run(
        lambda u: [repr(r) for r in u.conn.execute(select(idempotency_keys)).all()], write=False
    )
    assert not any(pin in row for row in stored)
    # the ID images are listed and opened for the operator only, as WebP
    listed = world.api.ok(world.api.get(f"/v1/parties/{made['id']}/documents", world.operator))
    assert listed["data"] == made["documents"]
    name = made["documents"][0]["name"]
    image = world.api.get(f"/v1/parties/{made['id']}/documents/{name}", world.operator)
    assert image.status_code == 200 and image.headers["content-type"] == "image/webp"
    assert image.headers["cache-control"] == "private, no-store"
    assert Image.open(io.BytesIO(image.content)).format == "WEBP"
    own = world.api.get(f"/v1/parties/{made['id']}/documents/{name}", world.merchant.key)
    assert own.status_code in (403, 404)
    # the QR poster to print
    poster = world.api.get(f"/v1/parties/{made['id']}/qr.svg", world.operator)
    assert poster.status_code == 200 and b"<svg" in poster.content


def test_the_developer_may_send_the_first_pin(world: World, platform: Any):
    made = world.api.ok(
        onboard(world, world.operator, {**FIELDS, "phone": "0917 888 7777", "pin": "480315"})
    )
    assert made["first_pin"] is None
    assert logins.sign_in(platform, "+639178887777", "480315")[1].party_id == made["id"]


def test_a_refused_onboarding_leaves_nothing(world: World, platform: Any):
    tables = ("parties", "wallets", "logins", "audit_log")

    def counts() -> dict[str, int]:
        return platform.run(
            lambda u: {t: len(u.conn.execute(select(metadata.tables[t])).all()) for t in tables},
            write=False,
        )

    before = counts()
    not_an_image = onboard(world, world.operator, files={"id_front": b"%PDF-1.4 not a picture"})
    assert not_an_image.status_code == 400
    assert not_an_image.json()["error"]["param"] == "id_front"
    no_front = onboard(world, world.operator, files={"id_back": picture()})
    assert no_front.status_code == 400
    weak_pin = onboard(world, world.operator, {**FIELDS, "pin": "123456"})
    assert weak_pin.status_code == 400 and weak_pin.json()["error"]["param"] in ("pin", "secret")
    as_merchant = onboard(world, world.merchant.key)
    assert as_merchant.status_code == 403
    bad_kind = onboard(world, world.operator, {**FIELDS, "kind": "customer"})
    assert bad_kind.status_code == 400
    assert counts() == before
    world.api.ok(onboard(world, world.operator))
    taken = onboard(world, world.operator)  # the same phone again
    assert taken.status_code in (400, 409)
    assert counts()["parties"] == before["parties"] + 1
