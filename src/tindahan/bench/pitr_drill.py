"""The point-in-time-recovery drill (issue 23, item 8): put PostgreSQL back to a moment
between two batches of payments, from a base backup and the WAL archive.

All under one temporary folder, on a loopback port, stopping only what it started:

1. ``initdb`` a PostgreSQL 15 cluster with WAL archiving on (``archive_mode = on``,
   ``archive_command`` copying each segment into the folder's ``wal/``: the archive);
2. ``tindahan db upgrade`` and ``tindahan serve`` (with its worker) on it; a merchant and two
   funded buyers through the API;
3. ``pg_basebackup`` (the base backup), then the *good* batch of payments; the server's
   clock is read (the target), then the *bad* batch — the change to undo;
4. the WAL segment switched and archived, the server and PostgreSQL stopped;
5. the base backup copied to a new data folder with ``restore_command`` (from the
   archive), ``recovery_target_time`` = the target, ``recovery_target_action = 'promote'``
   and ``recovery.signal``; started on another port until it leaves recovery;
6. on the restored database: every good payment there, no bad one, and
   ``tindahan ledger verify``.

    .venv/bin/python -m tindahan.bench.pitr_drill            # make drill-pitr
    .venv/bin/python -m tindahan.bench.pitr_drill --good 50 --bad 20 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tindahan.bench.api import Server, free_port, server_env, setup, tindahan

PG_BIN = Path("/usr/lib/postgresql/15/bin")
AMOUNT_MINOR = 2_500  # ₱25.00 a payment
RECOVERY_TIMEOUT_S = 120
ARCHIVE_TIMEOUT_S = 60


class DrillError(RuntimeError):
    pass


def _as_postgres(*command: str) -> list[str]:
    """initdb and postgres refuse root: as root, run them as the ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def _run(*command: str) -> str:
    done = subprocess.run(_as_postgres(*command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DrillError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


class Cluster:
    """One PostgreSQL data folder this drill made, started with ``pg_ctl``."""

    def __init__(self, data: Path, port: int) -> None:
        self.data, self.port, self.running = data, port, False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/tindahan"

    def conninfo(self, database: str = "tindahan") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def configure(self, **settings: str) -> None:
        lines = [f"{name} = '{value}'" for name, value in settings.items()]
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            conf.write("\n".join(lines) + "\n")

    def start(self) -> None:
        log = self.data.parent / f"{self.data.name}.log"
        _run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "start")
        self.running = True

    def stop(self) -> None:
        if self.running:
            _run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
            self.running = False

    def one(self, sql: str, database: str = "tindahan") -> Any:
        with psycopg.connect(self.conninfo(database), autocommit=True) as conn:
            cursor = conn.execute(sql)
            row = cursor.fetchone() if cursor.description else None
        return row[0] if row else None


def _owned(root: Path) -> None:
    if os.geteuid() == 0:
        for path in (root, *root.rglob("*")):
            shutil.chown(path, "postgres")


def pay(base: str, buyer: dict[str, str], payee: str, reference: str) -> str:
    headers = {"Authorization": f"Bearer {buyer['secret']}", "Idempotency-Key": reference}
    body = {"payee_id": payee, "amount_minor": AMOUNT_MINOR, "currency": "PHP"}
    answer = httpx.post(
        base + "/v1/payments", json=body | {"reference": reference}, headers=headers, timeout=30
    )
    if answer.status_code != 200:
        raise DrillError(f"payment {reference} → {answer.status_code}: {answer.text}")
    return str(answer.json()["id"])


def batch(
    base: str, buyers: list[dict[str, str]], payee: str, prefix: str, count: int
) -> list[str]:
    return [pay(base, buyers[n % len(buyers)], payee, f"{prefix}-{n:04d}") for n in range(count)]


def _archived(cluster: Cluster, segment: str) -> bool:
    last = cluster.one("SELECT last_archived_wal FROM pg_stat_archiver", "postgres")
    return last is not None and str(last) >= segment


@contextmanager
def stopped_at_the_end(*clusters: Cluster) -> Iterator[None]:
    try:
        yield
    finally:
        for cluster in clusters:
            with suppress(DrillError):
                cluster.stop()


def drill(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="tindahan-pitr-drill-"))
    archive, run_dir = root / "wal", root / "run"
    archive.mkdir()
    run_dir.mkdir()
    _owned(root)
    primary = Cluster(root / "primary", free_port())
    restored = Cluster(root / "restored", free_port())
    try:
        with stopped_at_the_end(primary, restored):
            _run(str(PG_BIN / "initdb"), "-D", str(primary.data), "-U", "postgres", "-A", "trust")
            primary.configure(
                listen_addresses="127.0.0.1",
                port=str(primary.port),
                unix_socket_directories=str(run_dir),
                wal_level="replica",
                archive_mode="on",
                archive_command=f"test ! -f {archive}/%f && cp %p {archive}/%f",
            )
            primary.start()
            primary.one("CREATE DATABASE tindahan", "postgres")
            tindahan("db", "upgrade", "--db", primary.url)
            operator = tindahan("keys", "create", "--db", primary.url, "--operator")
            server = Server.start(primary.url, 1, root, worker=True)
            try:
                merchants, buyers = _setup(server.base, operator.splitlines()[-1])
                base_backup = root / "base"
                _run(
                    str(PG_BIN / "pg_basebackup"),
                    *("-D", str(base_backup), "-h", "127.0.0.1", "-p", str(primary.port)),
                    *("-U", "postgres", "-X", "stream", "--checkpoint=fast"),
                )
                payee = merchants[0]["id"]
                good = batch(server.base, buyers, payee, "good", args.good)
                time.sleep(1)  # the target falls clearly between the two batches' commits
                target = str(primary.one("SELECT clock_timestamp()"))
                time.sleep(1)
                bad = batch(server.base, buyers, payee, "bad", args.bad)
            finally:
                server.stop()
            segment = str(primary.one("SELECT pg_walfile_name(pg_switch_wal())", "postgres"))
            _wait(lambda: _archived(primary, segment), ARCHIVE_TIMEOUT_S, "the WAL archived")
            primary.stop()

            began = time.monotonic()
            shutil.copytree(base_backup, restored.data)
            restored.configure(
                port=str(restored.port),
                archive_mode="off",
                restore_command=f"cp {archive}/%f %p",
                recovery_target_time=target,
                recovery_target_action="promote",
            )
            (restored.data / "recovery.signal").touch()
            _owned(root)
            restored.start()
            _wait(
                lambda: restored.one("SELECT NOT pg_is_in_recovery()", "postgres") is True,
                RECOVERY_TIMEOUT_S,
                "the restored server out of recovery",
            )
            restore_s = round(time.monotonic() - began, 1)
            found = _findings(restored, good, bad)
            found |= {"target": target, "restore_s": restore_s}
            restored.stop()
        return found
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def _setup(base: str, operator: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    return asyncio.run(setup(base, operator, 1, 2, None))


def _wait(ready: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with suppress(psycopg.Error):
            if ready():
                return
        time.sleep(0.5)
    raise DrillError(f"timed out waiting for {what} ({timeout_s} s)")


def _findings(restored: Cluster, good: list[str], bad: list[str]) -> dict[str, Any]:
    with psycopg.connect(restored.conninfo(), autocommit=True) as conn:
        present = {row[0] for row in conn.execute("SELECT id FROM payments").fetchall()}
    verify = subprocess.run(
        [str(Path(sys.executable).with_name("tindahan")), "ledger", "verify", "--db", restored.url],
        capture_output=True,
        text=True,
        env=server_env(),
        check=False,
    )
    return {
        "good_payments": len(good),
        "good_restored": sum(p in present for p in good),
        "bad_payments": len(bad),
        "bad_restored": sum(p in present for p in bad),
        "ledger_verify_ok": verify.returncode == 0,
        "ledger_verify": (verify.stdout + verify.stderr).strip().splitlines()[-1:],
    }


def passed(found: dict[str, Any]) -> bool:
    return bool(
        found["good_restored"] == found["good_payments"]
        and found["bad_restored"] == 0
        and found["ledger_verify_ok"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--good", type=int, default=30, help="payments before the target")
    parser.add_argument("--bad", type=int, default=10, help="payments after it (undone)")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.good < 1 or args.bad < 1:
        parser.error("--good and --bad are at least 1")
    try:
        found = drill(args)
    except RuntimeError as exc:
        print(f"drill failed: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    if args.json:
        print(json.dumps(found, indent=2))
    print(
        f"restored to {found['target']} in {found['restore_s']} s: "
        f"{found['good_restored']}/{found['good_payments']} payments before it, "
        f"{found['bad_restored']}/{found['bad_payments']} after it; ledger verify: "
        f"{'ok' if found['ledger_verify_ok'] else 'FAILED'} — {' '.join(found['ledger_verify'])}"
    )
    print("verdict: " + ("passed" if passed(found) else "FAILED"))
    raise SystemExit(0 if passed(found) else 1)


if __name__ == "__main__":
    main()
