"""The command-line contracts other issues and outside checks rely on."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY
from tests.servers import free_port
from tindahan.cli import app as cli_app
from tindahan.cli.app import app
from tindahan.ledger import NewTransfer
from tindahan.services.credit import assessments as credit_service
from tindahan.services.ledger import transfers as service
from tindahan.services.platform import keys as key_service
from tindahan.services.platform import parties
from tindahan.services.seed import demo as demo_service
from tindahan.services.seed.demo import OPERATOR
from tindahan.services.unit import Platform
from tindahan.store.database import connect
from tindahan.store.vault import Vault

#: One worker runs this module: its module-scoped fixtures are built once (make test, xdist).
pytestmark = pytest.mark.xdist_group("integration-cli")

runner = CliRunner()
TINDAHAN = str(Path(sys.executable).with_name("tindahan"))


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(autouse=True)
def data_key(monkeypatch):
    """A fixed data key, so no command writes a development key into the working tree."""
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)


def test_upgrade_then_verify_prints_one_line_and_exits_0(db_url):
    assert invoke("db", "upgrade", "--db", db_url).exit_code == 0
    assert invoke("db", "upgrade", "--db", db_url).exit_code == 0  # idempotent
    result = invoke("ledger", "verify", "--db", db_url)
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("ledger ok")


def test_verify_names_each_violation_and_exits_1(db_url, seeded_demo):
    seeded_demo.copy_to(db_url)  # the demo, seeded by ``demo seed``
    assert invoke("ledger", "seal", "--db", db_url).exit_code == 0
    db = connect(db_url)
    with db.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE ledger_transfers DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER ledger_transfers_no_update"))
        first = conn.execute(
            text("SELECT id, credit_account_id FROM ledger_transfers ORDER BY timestamp LIMIT 1")
        ).one()
        conn.execute(
            text("UPDATE ledger_transfers SET amount = 1 WHERE id = :id"), {"id": first[0]}
        )
    db.dispose()
    result = invoke("ledger", "verify", "--db", db_url)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("violation: block 1: hash mismatch") for line in lines)
    assert any(f"'{first[1]}'" in line for line in lines)
    assert "FAILED" in lines[-1]


def test_the_demo_anchored_by_the_cli_verifies_and_a_truncated_anchor_fails(
    db_url, seeded_demo, tmp_path, monkeypatch
):
    seeded_demo.copy_to(db_url)
    made = invoke("keys", "anchor-key")
    assert made.exit_code == 0, made.output
    pairs = dict(
        line.split("=", 1) for line in made.output.splitlines() if line.startswith("TINDAHAN_")
    )
    monkeypatch.setenv("TINDAHAN_ANCHOR_KEY", pairs["TINDAHAN_ANCHOR_KEY"])
    anchor = tmp_path / "anchor.jsonl"
    sealed = invoke("ledger", "seal", "--db", db_url, "--anchor", str(anchor))
    assert sealed.exit_code == 0, sealed.output
    assert "anchored 1" in sealed.output
    head = invoke("ledger", "anchor", "--db", db_url, "--anchor", str(anchor))
    assert head.exit_code == 0, head.output
    assert json.loads(head.output)["block_no"] == 1  # the newest signed head, for an auditor
    monkeypatch.delenv("TINDAHAN_ANCHOR_KEY")  # the auditor holds the public key alone
    monkeypatch.setenv("TINDAHAN_ANCHOR_PUBLIC_KEY", pairs["TINDAHAN_ANCHOR_PUBLIC_KEY"])
    clean = invoke("ledger", "verify", "--db", db_url, "--anchor", str(anchor))
    assert clean.exit_code == 0, clean.output
    assert "records ok" in clean.output and "signs the chain up to block 1" in clean.output
    anchor.write_text("")  # (d) the anchor file truncated
    cut = invoke("ledger", "verify", "--db", db_url, "--anchor", str(anchor))
    assert cut.exit_code == 1
    assert "is empty but 1 block(s) are sealed" in cut.output


def test_verify_names_a_payment_rewritten_in_the_database(db_url, seeded_demo):
    seeded_demo.copy_to(db_url)
    db = connect(db_url)
    with db.begin() as conn:  # (c) the record people read, not the ledger
        conn.execute(
            text(
                "UPDATE payments SET amount_minor = amount_minor * 100 WHERE id = "
                "(SELECT MIN(id) FROM payments WHERE kind = 'merchant')"
            )
        )
        paid = conn.execute(
            text("SELECT id, amount_minor FROM payments WHERE kind = 'merchant' ORDER BY id")
        ).first()
        assert paid is not None
    db.dispose()
    result = invoke("ledger", "verify", "--db", db_url)
    assert result.exit_code == 1
    assert (
        f"violation: payment {paid[0]}: amount_minor is {paid[1]} on the record but its "
        f"transfers move {paid[1] // 100}" in result.output
    )


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        (
            "UPDATE refunds SET fee_returned_minor = fee_returned_minor + 1 WHERE id = "
            "(SELECT MIN(id) FROM refunds)",
            "refund re_",
        ),
        (
            "UPDATE orders SET released_minor = released_minor - 100, held_minor = held_minor "
            "+ 100 WHERE id = (SELECT MIN(id) FROM orders WHERE status = 'completed')",
            "released_minor",
        ),
        (
            "UPDATE payment_requests SET amount_minor = amount_minor + 1 WHERE id = "
            "(SELECT MIN(id) FROM payment_requests WHERE status = 'paid')",
            "payment request",
        ),
        (
            "UPDATE payments SET status = 'pending' WHERE id = "
            "(SELECT MIN(id) FROM payments WHERE kind = 'cash_out')",
            "is pending but its transfers posted",
        ),
        (
            "UPDATE payments SET commission_minor = 0 WHERE id = "
            "(SELECT MIN(id) FROM payments WHERE kind = 'cash_in')",
            "commission_minor is 0",
        ),
    ],
    ids=["refund", "order", "request", "cash-out status", "cash-in commission"],
)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_verify_names_each_kind_of_record_rewritten(db_url, seeded_demo, statement, named):
    seeded_demo.copy_to(db_url)
    db = connect(db_url)
    with db.begin() as conn:
        conn.execute(text(statement))
    db.dispose()
    result = invoke("ledger", "verify", "--db", db_url)
    assert result.exit_code == 1
    assert any(
        line.startswith("violation:") and named in line for line in result.output.splitlines()
    ), result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ledger", "verify", "--db", "mysql://x/y"], "unsupported database"),
        (["ledger", "verify", "--db", "not a url"], "not a database URL"),
        (
            ["ledger", "verify", "--db", "postgresql://nobody@127.0.0.1:1/x"],
            "cannot use the database",
        ),
        (["ledger", "bench", "--hot", "2"], "--hot"),
        (["ledger", "bench", "--hot", "lots"], "--hot"),
        (["ledger", "bench", "--clients", "0"], "--clients"),
        (["ledger", "bench", "--batch", "9000"], "--batch"),
        (["ledger", "bench", "--transfers", "0"], "--transfers"),
    ],
)
def test_bad_input_is_a_clear_error_and_exit_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "command",
    [["ledger", "verify"], ["ledger", "seal"], ["ledger", "expire"], ["worker", "--once"]],
)
def test_commands_on_a_missing_database_say_what_to_do_and_create_nothing(tmp_path, command):
    target = tmp_path / "new" / "ledger.db"
    result = invoke(*command, "--db", f"sqlite:///{target}")
    assert result.exit_code == 2
    assert "tindahan db upgrade" in result.output
    assert not (tmp_path / "new").exists()


def test_verify_on_a_database_never_migrated_says_what_to_do(db_url):
    db = connect(db_url)
    with db.begin() as conn:  # an empty database (PostgreSQL) or file (SQLite)
        conn.execute(text("SELECT 1"))
    db.dispose()
    result = invoke("ledger", "verify", "--db", db_url)
    assert result.exit_code == 2
    assert "tindahan db upgrade" in result.output


def test_bench_json_has_the_promised_keys(db_url):
    result = invoke(
        "ledger",
        "bench",
        "--db",
        db_url,
        "--transfers",
        "600",
        "--clients",
        "2",
        "--accounts",
        "50",
        "--hot",
        "0.5",
        "--batch",
        "20",
        "--raw",
        "--json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"transfers_per_s", "p50_ms", "p99_ms", "invariants_ok"} <= set(report)
    # the raw-SQL loop ran on the same database and left nothing behind
    assert report["raw_transfers_per_s"] > 0
    ratio = report["transfers_per_s"] / report["raw_transfers_per_s"]
    assert abs(report["vs_raw"] - ratio) <= 0.005
    leftovers = connect(db_url)
    assert not [n for n in inspect(leftovers.engine).get_table_names() if "bench_raw" in n]
    leftovers.dispose()
    assert report["invariants_ok"] is True
    assert report["accepted"] + report["rejected"] == 600
    assert report["accepted"] > 500
    assert report["transfers_per_s"] > 0 and report["p99_ms"] >= report["p50_ms"] > 0
    assert invoke("ledger", "verify", "--db", db_url).exit_code == 0


def test_bench_without_db_uses_a_scratch_sqlite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("ledger", "bench", "--transfers", "300", "--batch", "100", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["database"] == "sqlite"
    assert not (tmp_path / "var").exists()


def test_worker_once_seals_and_expires(db_url, monkeypatch):
    assert invoke("db", "upgrade", "--db", db_url).exit_code == 0
    db = connect(db_url)
    hold = NewTransfer(
        "short-hold", "op.bank", "op.fees.00", 100, "PHP", 40, flags=2, timeout_seconds=1
    )
    assert service.create_transfers(db, [hold])[0].ok
    db.dispose()
    time.sleep(1.1)
    result = invoke("worker", "--db", db_url, "--once")
    assert result.exit_code == 0, result.output
    assert "voided 1 expired holds" in result.output
    report = invoke("ledger", "verify", "--db", db_url)
    assert report.exit_code == 0 and "0 not sealed yet" in report.output


def test_demo_seed_loads_weeks_of_payments_once(db_url, seeded_demo):
    # ``demo seed`` on an empty database of this store (exit 0 is checked there), copied here.
    first = seeded_demo.copy_to(db_url)
    assert int(first.split("demo data: ")[1].split()[0]) > 200
    assert "already there" in invoke("demo", "seed", "--db", db_url).output
    assert invoke("ledger", "verify", "--db", db_url).exit_code == 0
    alerts = invoke("risk", "alerts", "--json", "--db", db_url)  # the demo's suspicious few
    assert alerts.exit_code == 0, alerts.output
    found = {(a["rule"], a["decision"]) for a in json.loads(alerts.stdout)["alerts"]}
    rules = ("structuring", "mule", "dormant", "round_trip", "refund_spike")
    assert found == {(rule, "review") for rule in rules}


def test_every_demo_product_has_a_photo_in_the_media_store(db_url, seeded_demo, media_folder):
    # drawn at seed time (``seed.pictures``) and added as an upload is: WebP renditions
    seeded_demo.copy_to(db_url)
    with connect(db_url) as database, database.engine.connect() as conn:
        products = conn.execute(text("SELECT id, title FROM products")).all()
        photos = conn.execute(text("SELECT product_id, alt, renditions FROM product_photos")).all()
    assert len(products) >= 5
    assert {p.product_id for p in photos} == {p.id for p in products}
    titles = {p.id: p.title for p in products}
    names = set()
    for photo in photos:
        assert photo.alt.startswith(titles[photo.product_id])
        names |= {r["name"] for r in json.loads(photo.renditions)}
    stored = {path.name for path in Path(media_folder).rglob("*") if path.is_file()}
    assert names and names <= stored


def test_demo_buyers_have_real_addresses_and_orders_go_there(db_url, seeded_demo):
    # every demo buyer's book holds a Marikina address that passed the PSGC checks
    seeded_demo.copy_to(db_url)
    with connect(db_url) as database, database.engine.connect() as conn:
        buyers = conn.execute(text("SELECT id FROM parties WHERE kind = 'customer'")).all()
        homes = conn.execute(text("SELECT party_id, city_code, region_code FROM addresses")).all()
        sent = conn.execute(text("SELECT barangay_code FROM order_addresses")).all()
        online = conn.execute(text("SELECT count(*) FROM orders")).scalar_one()
    # the eight demo buyers and the one abroad (the simulated customers have none)
    assert len({h.party_id for h in homes}) == len(homes) == 9
    assert {h.party_id for h in homes} <= {b.id for b in buyers}
    assert {(h.city_code, h.region_code) for h in homes} == {("1380700000", "1300000000")}
    assert online > 0 and len(sent) == online
    assert all(row.barangay_code.startswith("13807") for row in sent)


def test_keys_create_prints_the_key_alone_on_the_last_line(db_url):
    assert invoke("db", "upgrade", "--db", db_url).exit_code == 0
    result = invoke("keys", "create", "--db", db_url, "--operator", "--scopes", "payments:read")
    assert result.exit_code == 0, result.output
    secret = result.output.rstrip("\n").splitlines()[-1]
    assert secret.startswith("tk_live_") and " " not in secret
    with connect(db_url) as database:
        platform = Platform(database, Vault.from_environment())
        caller = key_service.authenticate(platform, secret)
    assert caller.operator and caller.scopes == {"payments:read"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "--operator", "--party", "cus_x"], "exactly one of"),
        (["keys", "create", "--party", "cus_nobody"], "no such party"),
        (["keys", "create", "--operator", "--scopes", "money:print"], "unknown scope"),
    ],
)
def test_keys_create_refuses_bad_input(db_url, args, message):
    assert invoke("db", "upgrade", "--db", db_url).exit_code == 0
    result = invoke(*args, "--db", db_url)
    assert result.exit_code == 2 and message in result.output, result.output


def test_demo_model_is_trained_once_into_the_model_folder(tmp_path, monkeypatch, capsys):
    """What ``serve --demo`` does about the credit model on first start (the training itself,
    ``train_default_model``, is what the session's ``merchant_model`` fixture runs)."""
    folder = tmp_path / "models" / "merchant"
    monkeypatch.setenv(credit_service.MODEL_ENV, str(folder))
    trained: list[Path] = []

    def train(into: Path) -> object:
        trained.append(into)
        into.mkdir(parents=True)
        (into / "metadata.json").write_text("{}")
        return type("Trained", (), {"metadata": {"version": "merchant-test-1"}})()

    monkeypatch.setattr(credit_service, "train_default_model", train)
    cli_app._demo_model()
    cli_app._demo_model()  # a second start finds the model there
    assert trained == [folder]
    printed = capsys.readouterr().out
    assert printed.count("training the demo credit model") == 1
    assert "credit model ready: merchant-test-1" in printed
    # A default model trained with other feature directions is trained again; the
    # operator's own (not from the simulator) never is.
    current = credit_service.default_directions()

    def train_again(into: Path) -> object:
        trained.append(into)
        return type("Trained", (), {"metadata": {"version": "merchant-test-2"}})()

    monkeypatch.setattr(credit_service, "train_default_model", train_again)
    for source, directions, again in [
        ("simulated population (2000 merchants, seed 0)", {}, True),
        ("simulated population (2000 merchants, seed 0)", current, False),
        ("loans.csv", {}, False),
    ]:
        shutil.rmtree(folder)
        folder.mkdir()
        meta = {"source": source, "directions": directions}
        (folder / "metadata.json").write_text(json.dumps(meta))
        trained.clear()
        cli_app._demo_model()
        assert trained == ([folder] if again else []), source


def test_serve_demo_loads_the_seed_into_an_empty_database_only(db, merchant_model, monkeypatch):
    """``serve --demo``'s loading step (``_load_demo``) runs the demo seed (``_seed_demo``,
    what ``demo seed`` runs: checked through ``seeded_demo``) on an empty database and not on
    one that has data; the loan product comes either way. The subprocess test
    below starts on an already-seeded copy, so the seed is not paid twice in the suite."""
    monkeypatch.setenv(credit_service.MODEL_ENV, str(merchant_model.folder))
    url = db.url.render_as_string(hide_password=False)
    platform = cli_app._prepare(db)
    seeds: list[str] = []

    def seed(given: str, into: Platform) -> tuple[int, int]:
        assert into is platform
        seeds.append(given)
        return 7, 3

    monkeypatch.setattr(cli_app, "_seed_demo", seed)
    cli_app._load_demo(platform, url)
    assert seeds == [url] and key_service.environment_of(platform) == "test"
    assert credit_service.model_dir() == merchant_model.folder  # no second model trained
    assert demo_service.seed_lending(platform) == {}  # the loan product is there already
    platform.run(lambda u: parties.create(u, OPERATOR, parties.NewParty("customer", "Stray")))
    cli_app._load_demo(platform, url)  # not empty now: no seed again
    assert seeds == [url]


def test_serve_demo_prints_url_docs_and_key_serves_and_stops_cleanly(
    tmp_path, merchant_model, seeded_demo
):
    # A model already trained (the session's, read only): the first start need not train one.
    # The database is a copy of the run's seeded demo (``seeded_demo``): what an empty one
    # adds, the seed itself, is the test above's and ``demo seed``'s.
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    seeded_demo.copy_to(database)
    env = {
        **os.environ,
        "TINDAHAN_DATABASE_URL": database,
        credit_service.MODEL_ENV: str(merchant_model.folder),
    }
    port = free_port()
    proc = subprocess.Popen(
        [TINDAHAN, "serve", "--demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Lines read in threads, so the deadline holds even when the server prints nothing more
    # (a bare readline() would wait for ever and hang the suite). Generous: a guard against a
    # hang on a loaded machine, not a measure of start-up time.
    lines: queue.Queue[str] = queue.Queue()
    errors: list[str] = []

    def read_lines() -> None:
        for line in proc.stdout:
            lines.put(line)

    readers = [
        threading.Thread(target=read_lines, daemon=True),
        threading.Thread(target=lambda: errors.extend(proc.stderr), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        seen = ""
        deadline = time.monotonic() + 300
        while "Press Ctrl-C" not in seen and time.monotonic() < deadline:
            try:
                seen += lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
        assert "Press Ctrl-C" in seen, seen + "".join(errors)
        assert f"http://127.0.0.1:{port}" in seen and f"http://127.0.0.1:{port}/docs" in seen
        key = seen.split("demo API key (operator): ")[1].split()[0]
        assert "Demo sign-ins" in seen and "+639170000002" in seen and "{" not in seen
        for _ in range(100):  # uvicorn binds just after the banner
            try:
                payments = httpx.get(
                    f"http://127.0.0.1:{port}/v1/payments",
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=5,
                )
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert payments.status_code == 200 and payments.json()["data"]
        # the simulated clearing switch runs beside it (an unsigned request: refused)
        switch_url = seen.split("simulated clearing switch (InstaPay, PESONet) at ")[1].split()[0]
        assert httpx.post(switch_url + "/answers", timeout=5).status_code == 401
        time.sleep(1.5)  # one worker round seals the demo transfers
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        for reader in readers:
            reader.join(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0, "".join(errors)
    assert "loading demo data" not in seen  # already seeded: not seeded again
    assert "demo lending ready" in seen  # but the loan product and offers come with serve
    assert "training the demo credit model" not in seen
    with pytest.raises(httpx.TransportError):  # and stopped with it
        httpx.post(switch_url + "/answers", timeout=5)
    verify = subprocess.run(
        [TINDAHAN, "ledger", "verify"], env=env, capture_output=True, text=True, check=False
    )
    assert verify.returncode == 0 and "0 not sealed yet" in verify.stdout
