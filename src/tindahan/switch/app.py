"""The switch's HTTP face: five signed endpoints on loopback.

Every request carries ``Tindahan-Signature: t=<unix seconds>,v1=<hex>``, HMAC-SHA256 of
``<t>.<body>`` under the shared secret (the webhooks' scheme, ``webhooks.signature``), and
is refused (401) when it does not verify or is older than the tolerance. Bodies are ISO
20022 XML (the statement's request a small JSON object), at most
``limits.MAX_RAIL_MESSAGE_BYTES``; a message that does not read is a 400
naming the problem.

* ``POST /messages`` — a pacs.008; 202 with how many transactions it held.
* ``POST /answers`` — the pacs.002/pacs.004 due now, as ``{"messages": [xml, ...]}``.
* ``POST /status`` — a pacs.028; 200 with a pacs.002, or 204 when the transfer is unknown.
* ``POST /notifications`` — the camt.054 notifications of movements on Tindahan's
  settlement account since the last call, as ``{"messages": [xml, ...]}``.
* ``POST /statement`` — body ``{"date": "YYYY-MM-DD"}`` (a Manila day): 200 with that day's
  camt.053 statement of Tindahan's settlement account; 400 on another body.
"""

from __future__ import annotations

import json
import time
from datetime import date

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tindahan import limits
from tindahan.rails import MessageError
from tindahan.switch.clearing import ClearingHouse
from tindahan.webhooks.signature import SignatureError, verify

HEADER = "Tindahan-Signature"
XML = "application/xml"


def create_app(house: ClearingHouse, secret: str) -> FastAPI:
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

    return app


def _statement_day(body: bytes) -> date | None:
    try:
        asked = json.loads(body)
        return date.fromisoformat(asked["date"]) if isinstance(asked, dict) else None
    except (ValueError, KeyError, TypeError):
        return None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)
