"""The switch's HTTP face: six signed endpoints on loopback.

Every request carries ``Tindahan-Signature: t=<unix seconds>,v1=<hex>``, HMAC-SHA256 of
``<t>.<body>`` under the shared secret (the webhooks' scheme, ``webhooks.signature``), and
is refused (401) when it does not verify or is older than the tolerance. Bodies are ISO
20022 XML (the statement's request a small JSON object), at most
``limits.MAX_RAIL_MESSAGE_BYTES``; a message that does not read is a 400
naming the problem.

* ``POST /messages`` — a pacs.008 (or Tindahan's pacs.004 and camt.029 answering a
  recall); 202 with how many transactions it held.
* ``POST /answers`` — the pacs.002/pacs.004 due now, as ``{"messages": [xml, ...]}``.
* ``POST /status`` — a pacs.028; 200 with a pacs.002, or 204 when the transfer is unknown.
* ``POST /notifications`` — the camt.054 notifications of movements on Tindahan's
  settlement account since the last call, as ``{"messages": [xml, ...]}``.
* ``POST /statement`` — body ``{"date": "YYYY-MM-DD"}`` (a Manila day): 200 with that day's
  camt.053 statement of Tindahan's settlement account; 400 on another body.
* ``POST /inbound`` — body ``{"account", "amount_minor", "currency", "bank"}``: a
  counterparty bank pays a Tindahan wallet; the switch delivers the pacs.008, signed, to
  Tindahan's ``POST /v1/rails/messages`` (at ``--tindahan URL``), twice under the
  ``duplicated`` profile and followed by a camt.056 recall under ``recalled``, and answers
  ``{"uetr", "end_to_end_id", "answers": [{"status", "reason"}], "recall"}``.
"""

from __future__ import annotations

import json
import time
from datetime import date

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tindahan import limits
from tindahan.rails import MessageError
from tindahan.rails import xml as rails_xml
from tindahan.rails.directory import Participant
from tindahan.switch.clearing import ClearingHouse
from tindahan.switch.inbound import payment, recall
from tindahan.webhooks.signature import SignatureError, sign, verify

HEADER = "Tindahan-Signature"
XML = "application/xml"
#: Where Tindahan takes other banks' messages (``api.inbound``).
MESSAGES_PATH = "/v1/rails/messages"
TIMEOUT_S = 10.0


def create_app(house: ClearingHouse, secret: str, tindahan_url: str | None = None) -> FastAPI:
    app = FastAPI(title="Tindahan clearing switch (simulated)", openapi_url=None)

    async def body_of(request: Request) -> bytes | JSONResponse:
        body = await request.body()
        if len(body) > limits.MAX_RAIL_MESSAGE_BYTES:
            return _error(413, "too large")
        try:
            verify(secret, request.headers.get(HEADER, ""), body, int(time.time()))
        except SignatureError as exc:
            return _error(401, f"signature: {exc}")
        return body

    @app.post("/messages")
    async def messages(request: Request) -> Response:
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        try:
            held = house.accept(body)
        except (MessageError, ValueError) as exc:
            return _error(400, str(exc))
        return JSONResponse({"accepted": held}, status_code=202)

    @app.post("/answers")
    async def answers(request: Request) -> Response:
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        return JSONResponse({"messages": [data.decode() for data in house.collect()]})

    @app.post("/status")
    async def status(request: Request) -> Response:
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        try:
            answer = house.status(body)
        except (MessageError, ValueError) as exc:
            return _error(400, str(exc))
        if answer is None:
            return Response(status_code=204)
        return Response(answer, media_type=XML)

    @app.post("/notifications")
    async def notifications(request: Request) -> Response:
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        return JSONResponse({"messages": [data.decode() for data in house.notifications()]})

    @app.post("/statement")
    async def statement(request: Request) -> Response:
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        day = _statement_day(body)
        if day is None:
            return _error(400, 'the body is {"date": "YYYY-MM-DD"}')
        return Response(house.statement(day), media_type=XML)

    @app.post("/inbound")
    async def inbound(request: Request) -> Response:
        """A counterparty bank pays a Tindahan wallet: ``{"account", "amount_minor",
        "currency", "bank"}`` (signed); the pacs.008 is delivered to Tindahan (twice under
        ``duplicated``, then recalled under ``recalled``) and its answers returned."""
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        if tindahan_url is None:
            return _error(503, "start the switch with --tindahan URL to pay Tindahan wallets")
        asked = _payment(body, house)
        if isinstance(asked, str):
            return _error(400, asked)
        bank, account, amount_minor, currency = asked
        try:
            made, data = payment(bank, account, amount_minor, currency)
        except (MessageError, ValueError) as exc:
            return _error(400, str(exc))
        times = 2 if house.faults == "duplicated" else 1
        async with httpx.AsyncClient(base_url=tindahan_url, timeout=TIMEOUT_S) as client:
            answers = [await _deliver(client, secret, data) for _ in range(times)]
            credited = answers[0][0] == "ACSC"
            if credited:
                house.pay_in(made)
            recalled = None
            if credited and house.faults == "recalled":
                recalled = (await _post(client, secret, recall(made))).status_code
        return JSONResponse(
            {
                "uetr": made.uetr,
                "end_to_end_id": made.end_to_end_id,
                "answers": [{"status": status, "reason": reason} for status, reason in answers],
                "recall": recalled,
            }
        )

    return app


async def _post(client: httpx.AsyncClient, secret: str, data: bytes) -> httpx.Response:
    headers = {HEADER: sign(secret, int(time.time()), data), "Content-Type": XML}
    return await client.post(MESSAGES_PATH, content=data, headers=headers)


async def _deliver(
    client: httpx.AsyncClient, secret: str, data: bytes
) -> tuple[str | None, str | None]:
    """Tindahan's status for a pacs.008 (its pacs.002), or its error code as the reason."""
    response = await _post(client, secret, data)
    if response.status_code != 200:
        return None, f"HTTP {response.status_code}"
    (item,) = rails_xml.read(response.content).transactions
    return item.status, item.reason


def _payment(body: bytes, house: ClearingHouse) -> tuple[Participant, str, int, str] | str:
    """The bank, account, amount and currency asked for, or what is wrong."""
    try:
        asked = json.loads(body)
    except ValueError:
        return "the body is JSON"
    if not isinstance(asked, dict):
        return "the body is a JSON object"
    account, amount, currency = (
        asked.get("account"),
        asked.get("amount_minor"),
        asked.get("currency", "PHP"),
    )
    code = asked.get("bank", "BDO")
    if not isinstance(account, str) or not account:
        return "account is the wallet number or mobile number to pay"
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        return "amount_minor is a positive whole number"
    if not isinstance(currency, str):
        return "currency is an ISO 4217 code"
    bank = next((p for p in house.participants if p.code == code and p.active), None)
    if bank is None:
        return f"no active participant {code!r}"
    return bank, account, amount, currency


def _statement_day(body: bytes) -> date | None:
    try:
        asked = json.loads(body)
        return date.fromisoformat(asked["date"]) if isinstance(asked, dict) else None
    except (ValueError, KeyError, TypeError):
        return None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)
