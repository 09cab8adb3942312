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
  ``{"uetr", "end_to_end_id", "rail", "answers": [{"status", "reason"}], "recall",
  "delivers_at": null}``. A PESONet one (over ₱50,000, or a bank not on InstaPay) waits for
  the first cut-off on a banking day (the switch's holidays): 202 with ``"answers": []``
  and ``delivers_at`` (ISO time); the app delivers it then (``deliver_due``, every
  ``limits.SWITCH_INBOUND_TICK_S`` while it runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tindahan import limits
from tindahan.rails import MessageError
from tindahan.rails import xml as rails_xml
from tindahan.rails.directory import Participant
from tindahan.switch.clearing import ClearingHouse
from tindahan.switch.inbound import Payment, payment, recall
from tindahan.webhooks.signature import SignatureError, sign, verify

HEADER = "Tindahan-Signature"
XML = "application/xml"
#: Where Tindahan takes other banks' messages (``api.inbound``).
MESSAGES_PATH = "/v1/rails/messages"
TIMEOUT_S = 10.0
log = logging.getLogger(__name__)


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
        held = house.hold_inbound(made, data)
        if held is not None:  # PESONet: delivered at its cut-off (``deliver_due``)
            return JSONResponse(
                {
                    "uetr": made.uetr,
                    "end_to_end_id": made.end_to_end_id,
                    "rail": made.rail.value,
                    "answers": [],
                    "recall": None,
                    "delivers_at": _iso(held),
                },
                status_code=202,
            )
        async with httpx.AsyncClient(base_url=tindahan_url, timeout=TIMEOUT_S) as client:
            answers, recalled = await _deliver_payment(client, house, secret, made, data)
        return JSONResponse(
            {
                "uetr": made.uetr,
                "end_to_end_id": made.end_to_end_id,
                "rail": made.rail.value,
                "answers": [{"status": status, "reason": reason} for status, reason in answers],
                "recall": recalled,
                "delivers_at": None,
            }
        )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = None
        if tindahan_url is not None:
            task = asyncio.create_task(_deliver_forever(house, secret, tindahan_url))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app.router.lifespan_context = lifespan
    return app


async def _deliver_payment(
    client: httpx.AsyncClient,
    house: ClearingHouse,
    secret: str,
    made: Payment,
    data: bytes,
    at_ns: int | None = None,
) -> tuple[list[tuple[str | None, str | None]], int | None]:
    """Deliver a bank's pacs.008 to Tindahan (twice under ``duplicated``), book it when
    credited (at ``at_ns``, else now) and recall it under ``recalled``: the answers, and
    the recall's HTTP status. ``httpx.HTTPError`` when Tindahan cannot be reached."""
    times = 2 if house.faults == "duplicated" else 1
    answers = [await _deliver(client, secret, data) for _ in range(times)]
    credited = answers[0][0] == "ACSC"
    if credited:
        house.pay_in(made, at_ns)
    recalled = None
    if credited and house.faults == "recalled":
        recalled = (await _post(client, secret, recall(made))).status_code
    return answers, recalled


async def deliver_due(
    house: ClearingHouse, secret: str, tindahan_url: str
) -> list[tuple[str, list[tuple[str | None, str | None]]]]:
    """Deliver the banks' PESONet transfers whose cut-off has come: each UETR with
    Tindahan's answers. One Tindahan did not answer (unreachable, a 5xx) stays held and is
    delivered again next time; one it answered (credited or rejected) is done."""
    delivered = []
    due = house.due_inbound()
    if not due:
        return []
    async with httpx.AsyncClient(base_url=tindahan_url, timeout=TIMEOUT_S) as client:
        for held in due:
            try:
                answers, _ = await _deliver_payment(
                    client, house, secret, held.payment, held.data, held.due_ns
                )
            except httpx.HTTPError as exc:
                log.warning("inbound %s not delivered: %s", held.payment.uetr, exc)
                break
            if answers[0][0] is None and (answers[0][1] or "").startswith("HTTP 5"):
                log.warning("inbound %s not delivered: %s", held.payment.uetr, answers[0][1])
                break
            house.inbound_delivered(held.payment.uetr)
            delivered.append((held.payment.uetr, answers))
    return delivered


async def _deliver_forever(house: ClearingHouse, secret: str, tindahan_url: str) -> None:
    """``deliver_due`` every ``limits.SWITCH_INBOUND_TICK_S`` (the app's life)."""
    while True:
        try:
            await deliver_due(house, secret, tindahan_url)
        except Exception:  # a bad round must not stop the next
            log.exception("delivering the banks' held transfers failed")
        await asyncio.sleep(limits.SWITCH_INBOUND_TICK_S)


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 10**9, UTC).isoformat().replace("+00:00", "Z")


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
