"""Where one merchant payment's server CPU goes: the served app in process, no HTTP socket.

``python -m tindahan.bench.api`` measures the rate through ``tindahan serve``; this one
splits its "server CPU per payment" between the HTTP layer and the route's service. It
builds the app exactly as a ``serve`` worker does (``web.server.app_from_environment``:
the pages' middleware included) on a fresh PostgreSQL database, makes ``--merchants``
merchants and ``--buyers`` funded buyers on an unlimited tier through it, and then calls
the ASGI app directly (a bare scope, ``receive`` and ``send``: no client, no socket, so
the process's CPU is the server's minus uvicorn's C HTTP parser) with ``POST
/v1/payments``, one after another, each a random buyer paying a random merchant under a
fresh ``Idempotency-Key``. It prints the process CPU and wall per payment and SQL
statements per payment; ``--service`` runs what the route's thread runs instead
(``idempotency.run`` around ``payments.pay``, with the same fingerprint), so the
difference of the two is the HTTP layer's cost. ``--profile`` prints the cProfile of the
measured payments (all threads: Python 3.12's cProfile sees the thread pool too).

    PYTHONPATH=src .venv/bin/python -m tests.payments_profile --payments 400
    PYTHONPATH=src .venv/bin/python -m tests.payments_profile --payments 400 --service
    PYTHONPATH=src .venv/bin/python -m tests.payments_profile --payments 400 --profile
    PYTHONPATH=src .venv/bin/python -m tests.payments_profile --payments 640 --group 16

``--group N`` runs the service through ``groupcommit.Committer.run_group`` in groups of N
(each payment declaring what its route declares): CPU and statements a payment in a group.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import random
import secrets
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from tests.inbound_profile import asgi_post, counting, report
from tindahan.bench.api import DATA_KEY, drop_postgres, fresh_postgres, tindahan
from tindahan.observe.metrics import use_folder

FUNDING_MINOR = 10**12


async def make_parties(
    app: Any, operator: str, merchants: int, buyers: int
) -> tuple[list[str], list[str]]:
    """Merchant ids and funded buyers' secrets."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        headers = {"Authorization": f"Bearer {operator}"}

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            made = await client.post(
                path, json=body, headers={**headers, "Idempotency-Key": secrets.token_hex(8)}
            )
            made.raise_for_status()
            found: dict[str, Any] = made.json()
            return found

        await post("/v1/kyc_tiers/bench", {})
        store = {"kind": "merchant", "mcc": "5411", "city": "Quezon City"}
        store |= {"province": "Metro Manila", "tier": "bench"}
        payees = [
            (await post("/v1/parties", {**store, "name": f"S{n}"}))["id"] for n in range(merchants)
        ]
        payers = []
        for n in range(buyers):
            party = await post(
                "/v1/parties", {"kind": "customer", "name": f"B{n}", "tier": "bench"}
            )
            key = await post("/v1/api_keys", {"party_id": party["id"]})
            found = await client.get(f"/v1/wallets?party_id={party['id']}", headers=headers)
            wallet = found.json()["data"][0]["id"]
            funding = {"wallet_id": wallet, "amount_minor": FUNDING_MINOR, "currency": "PHP"}
            await post("/v1/fundings", funding)
            payers.append(key["secret"])
        return payees, payers


def payments(
    payees: list[str], payers: list[str], count: int, seed: int
) -> list[tuple[str, bytes]]:
    draw = random.Random(seed)
    return [
        (
            draw.choice(payers),
            json.dumps(
                {
                    "payee_id": draw.choice(payees),
                    "amount_minor": draw.randint(100, 100_000),
                    "currency": "PHP",
                }
            ).encode(),
        )
        for _ in range(count)
    ]


async def pay_all(app: Any, ready: list[tuple[str, bytes]]) -> None:
    for secret, body in ready:
        headers = {
            "Authorization": f"Bearer {secret}",
            "Idempotency-Key": secrets.token_hex(16),
            "Content-Type": "application/json",
        }
        status, answer = await asgi_post(app, "/v1/payments", body, headers)
        if status != 200:
            raise RuntimeError(f"{status}: {answer[:300]!r}")


def service_all(app: Any, ready: list[tuple[str, bytes]]) -> None:
    """What the route runs in its thread, without the HTTP layer around it."""
    from tindahan.api.errors import refusal_response
    from tindahan.api.schemas import PaymentCreate
    from tindahan.services.payments import payments as paying
    from tindahan.services.platform import idempotency, keys
    from tindahan.services.unit import new_id

    platform = app.state.platform
    for secret, body in ready:
        who = keys.authenticate(platform, secret)
        payload = PaymentCreate.model_validate_json(body)
        new = paying.NewPayment(**payload.model_dump())
        payment_id = new_id("pay")
        sent = payload.model_dump(mode="json", exclude_unset=True)
        fingerprint = idempotency.request_hash("POST", "/v1/payments", sent)
        response = idempotency.run(
            platform,
            who.scope,
            secrets.token_hex(16),
            fingerprint,
            partial(pay_one, who=who, new=new, payment_id=payment_id),
            lambda result: idempotency.Response(200, dict(result)),
            refusal_response,
        )
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.body}")


def service_groups(app: Any, ready: list[tuple[str, bytes]], size: int) -> None:
    """``--group N``: the same through the group committer, N payments a group, each
    declaring what its route declares (``payments.group_locks``): a group's CPU and
    statements a payment, without waiting for requests to gather."""
    from tindahan.api.errors import refusal_response
    from tindahan.api.schemas import PaymentCreate
    from tindahan.services.payments import payments as paying
    from tindahan.services.platform import groupcommit, idempotency, keys
    from tindahan.services.unit import new_id

    platform = app.state.platform
    committer = groupcommit.Committer(platform, 0, size)
    made = []
    for secret, body in ready:
        who = keys.authenticate(platform, secret)
        payload = PaymentCreate.model_validate_json(body)
        new = paying.NewPayment(**payload.model_dump())
        payment_id = new_id("pay")
        sent = payload.model_dump(mode="json", exclude_unset=True)
        made.append(
            groupcommit.Request(
                who.scope,
                secrets.token_hex(16),
                idempotency.request_hash("POST", "/v1/payments", sent),
                partial(pay_one, who=who, new=new, payment_id=payment_id),
                lambda result: idempotency.Response(200, dict(result)),
                refusal_response,
                paying.group_locks(who, new, payment_id),
            )
        )
    for start in range(0, len(made), size):
        group = made[start : start + size]
        committer.run_group(group)
        for request in group:
            if request.future.result().status_code != 200:
                raise RuntimeError(f"{request.future.result().body}")
    if committer.split:
        raise RuntimeError(f"{committer.split} groups split")


def pay_one(unit: Any, *, who: Any, new: Any, payment_id: str) -> Any:
    from tindahan.services.payments import payments as paying

    return paying.pay(unit, who, new, payment_id=payment_id)


def stub_service(app: Any) -> None:
    """``--stub``: the route's service answers at once with a made-up payment, so what is
    measured is the HTTP layer alone (the thread hop included)."""
    from tindahan.api import deps
    from tindahan.services.platform import idempotency

    answer = {"id": "pay_" + "0" * 24, "object": "payment", "amount_minor": 100}

    def alone(_made: Any) -> Any:
        def run(*_args: Any) -> idempotency.Response:
            return idempotency.Response(200, dict(answer))

        return run

    deps._alone = alone  # type: ignore[assignment]


def measure(args: argparse.Namespace, url: str) -> None:
    from tindahan.api import server as api_server
    from tindahan.web import server as web_server

    operator = tindahan("keys", "create", "--db", url, "--operator").splitlines()[-1]
    use_folder(Path(tempfile.mkdtemp(prefix="tindahan-metrics-")))  # as ``serve`` does
    os.environ.update(TINDAHAN_DATABASE_URL=url, TINDAHAN_DATA_KEY=DATA_KEY)
    app = (api_server if args.api_only else web_server).app_from_environment()
    engine = app.state.platform.db.engine
    payees, payers = asyncio.run(make_parties(app, operator, args.merchants, args.buyers))
    for round_no in range(args.rounds):
        ready = payments(payees, payers, args.warmup + args.payments, seed=18 + round_no)
        if args.stub:
            stub_service(app)
        asyncio.run(pay_all(app, ready[: args.warmup]))
        timer = time.process_time if args.cpu else time.perf_counter
        profiler = cProfile.Profile(timer) if args.profile else None
        with counting(engine) as statements:
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            if args.group:
                service_groups(app, ready[args.warmup :], args.group)
            elif args.service:
                service_all(app, ready[args.warmup :])
            else:
                asyncio.run(pay_all(app, ready[args.warmup :]))
            if profiler is not None:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        per = 1000 / args.payments
        print(
            f"round {round_no + 1}: {args.payments} payments  CPU {cpu * per:.2f} ms/payment  "
            f"wall {wall * per:.2f} ms/payment  SQL statements "
            f"{statements.count / args.payments:.1f}/payment  "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        if profiler is not None:
            report(profiler, args.top)
            if args.dump:
                profiler.dump_stats(args.dump)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--merchants", type=int, default=20)
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--dump", help="also write the profile's stats to this file")
    parser.add_argument(
        "--cpu", action="store_true", help="profile by the process's CPU time, not the wall's"
    )
    parser.add_argument(
        "--api-only", action="store_true", help="the API's app without the pages around it"
    )
    parser.add_argument(
        "--service", action="store_true", help="run the route's service, not the app (no HTTP)"
    )
    parser.add_argument(
        "--group",
        type=int,
        default=0,
        help="run the route's service through the group committer, N payments a group",
    )
    parser.add_argument(
        "--stub", action="store_true", help="the service answers at once: the HTTP layer alone"
    )
    args = parser.parse_args()
    url = fresh_postgres("pay18http_profile")
    try:
        tindahan("db", "upgrade", "--db", url)
        measure(args, url)
    finally:
        drop_postgres(url)


if __name__ == "__main__":
    main()
