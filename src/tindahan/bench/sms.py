"""The SMS outbox's sending side: how many messages a worker renders, sends through the
local gateway (which answers at once, so what is measured is Tindahan's own cost: the claim,
opening the sealed values, rendering in the person's language, the attempt's record) and
marks sent, per second.

``--messages`` one-time-code messages are queued (one transaction each, as sign-ups make
them), then ``deliver_due`` rounds run until none is left. A real aggregator's answer time
(typically 100–500 ms an HTTP call) adds to each message on top of this: a worker sending to
a real provider is bound by it, not by this figure.

    .venv/bin/python -m tindahan.bench.sms                          # 2,000 on scratch SQLite
    .venv/bin/python -m tindahan.bench.sms --db postgresql+psycopg://…/db --messages 5000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from tindahan.services.platform import chart, keys, sms
from tindahan.services.unit import Platform
from tindahan.sms.local import LocalGateway
from tindahan.store import migrate
from tindahan.store.database import connect
from tindahan.store.vault import Vault


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--db", help="database URL (default: a scratch SQLite file)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.messages < 1:
        print("--messages is at least 1", file=sys.stderr)
        return 2
    folder = tempfile.mkdtemp(prefix="tindahan-sms-bench-")
    url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
    with connect(url) as db:
        migrate.upgrade(db)
        platform = Platform(db, Vault(b"\1" * 32))
        chart.ensure_operator_accounts(platform)
        keys.set_environment(platform, "test")
        languages = ("en", "fil", "ceb")
        started = time.perf_counter()
        for i in range(args.messages):
            phone = f"+63917{i:07d}"
            lang = languages[i % 3]
            code = {"code": f"{i % 10**6:06d}"}
            platform.run(
                partial(sms.queue_to_number, to=phone, language=lang, kind="code_signup", data=code)
            )
        queued_s = time.perf_counter() - started
        gateway = LocalGateway()
        sent = rounds = 0
        started = time.perf_counter()
        while True:
            done, failed = sms.deliver_due(platform, gateway)
            if not done and not failed:
                break
            sent, rounds = sent + done, rounds + 1
        sending_s = time.perf_counter() - started
    result = {
        "database": db.url.get_backend_name(),
        "messages": args.messages,
        "sent": sent,
        "rounds": rounds,
        "queue_per_s": round(args.messages / queued_s, 1),
        "send_per_s": round(sent / sending_s, 1) if sending_s else None,
        "all_one_part": all(len(text) <= 160 for _, text in gateway.sent),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>14}: {value}")
    return 0 if sent == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
