"""``make bench-tigerbeetle``: the ledger bench against a fresh 3-replica TigerBeetle cluster.

Starts a cluster on free loopback ports in a temporary folder (``ledger cluster up``), runs
``tindahan ledger bench --ledger URL`` batched (8,000 transfers a call, 1 and 2 clients) and
unbatched (one transfer a call), prints one JSON object per run, and stops and deletes the
cluster. Needs the server binary (``tindahan ledger cluster build``). A cluster that stops
answering stops the runs after ``limits.LEDGER_TOOL_TIMEOUT_MS`` with exit 2 (``bench.ledger``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tindahan.bench.ledger import BenchConfig, run
from tindahan.ledger.port import LedgerUnavailableError
from tindahan.tigerbeetle import cluster

RUNS = (
    # (transfers, clients, batch)
    (160_000, 1, 8_000),
    (160_000, 2, 8_000),
    (3_000, 1, 1),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1, help="divide the transfer counts")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tindahan-tb-bench-") as scratch:
        folder = Path(scratch) / "cluster"
        address = cluster.up(folder, replicas=args.replicas)
        try:
            for transfers, clients, batch in RUNS:
                config = BenchConfig(
                    None,
                    transfers=max(transfers // args.scale, batch),
                    clients=clients,
                    accounts=1_000,
                    batch=batch,
                    ledger=address.url,
                )
                print(run(config).to_json(), flush=True)
        except LedgerUnavailableError as exc:
            print(f"error: {exc}: check that a quorum of its replicas runs", file=sys.stderr)
            return 2
        finally:
            cluster.down(folder, purge=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
