"""`tindahan parties export` (issue 23, item 9): a person's data, decrypted, and no one
else's; credentials left out; the export itself audited."""

from __future__ import annotations

import base64
import json

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY
from tindahan.cli.app import app
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import addresses
from tindahan.services.platform import chart, export, logins, parties, webhooks
from tindahan.services.unit import Platform
from tindahan.store.vault import Vault
from tindahan.store.web_tables import audit_log

OPERATOR = Caller("key_operator", None, frozenset(DEFAULT_SCOPES))
HOME = {
    "recipient": "Rosa Reyes",
    "phone": "0917 555 0101",
    "street": "7 Ilang-Ilang St.",
    "barangay": "Malanday",
    "city": "Marikina",
    "province": "Metro Manila",
    "postal_code": "1805",
    "notes": "blue gate",
}


@pytest.fixture
def platform(db, monkeypatch) -> Platform:
    monkeypatch.setattr(logins, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
    made = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(made)
    return made


def _person(platform: Platform, name: str, phone: str, id_number: str) -> str:
    new = parties.NewParty("customer", name, phone=phone, id_number=id_number)
    made = platform.run(lambda u: parties.create(u, OPERATOR, new))
    platform.run(
        lambda u: logins.create(u, OPERATOR, party_id=made["id"], phone=phone, secret="240816")
    )
    return str(made["id"])


def test_the_export_holds_the_persons_data_decrypted_and_no_one_elses(platform, db_url):
    rosa = _person(platform, "Rosa Reyes", "+639175550101", "PSN-1111-2222-3333")
    other = _person(platform, "Pedro Cruz", "+639175550202", "PSN-4444-5555-6666")
    platform.run(lambda u: addresses.add(u, OPERATOR, HOME, rosa))
    made = platform.run(
        lambda u: webhooks.create_endpoint(u, OPERATOR, "https://8.8.8.8/h", ["*"], rosa)
    )

    found = platform.run(lambda u: export.export(u, OPERATOR, rosa))
    tables = found["tables"]
    (person,) = tables["parties"]
    assert person["id"] == rosa and person["phone"] == "+639175550101"
    assert person["id_number"] == "PSN-1111-2222-3333"
    assert tables["logins"][0]["phone"] == "+639175550101"
    assert tables["addresses"][0]["address"]["street"] == HOME["street"]
    assert tables["ledger_accounts"] and all(a["owner"] == rosa for a in tables["ledger_accounts"])
    text = json.dumps(found)
    assert other not in text and "+639175550202" not in text and "PSN-4444" not in text
    assert made["secret"] not in text  # a credential the person was issued, not their data
    for rows in tables.values():
        for row in rows:
            assert not [k for k in row if k.endswith(("_hash", "_index", "_cipher"))]

    audited = platform.run(
        lambda u: u.conn.execute(
            select(audit_log.c.action, audit_log.c.object_id).where(
                audit_log.c.action == export.ACTION
            )
        ).all(),
        write=False,
    )
    assert [tuple(row) for row in audited] == [(export.ACTION, rosa)]

    with pytest.raises(RefusalError) as missing:
        platform.run(lambda u: export.export(u, OPERATOR, "pty_000000000000000000000000"))
    assert missing.value.code == "resource_missing"
    with pytest.raises(RefusalError):  # a party's own key may not export
        platform.run(lambda u: export.export(u, Caller("k", rosa, frozenset(DEFAULT_SCOPES)), rosa))


def test_the_command_prints_or_writes_json(sqlite_url, tmp_path, monkeypatch, db):
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)
    platform = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(platform)
    new = parties.NewParty("customer", "Rosa Reyes", phone="+639175550101")
    rosa = platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]
    url = str(db.url.render_as_string(hide_password=False))
    runner = CliRunner()
    printed = runner.invoke(app, ["parties", "export", "--party", rosa, "--db", url])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["tables"]["parties"][0]["phone"] == "+639175550101"
    out = tmp_path / "rosa.json"
    written = runner.invoke(
        app, ["parties", "export", "--party", rosa, "--db", url, "--out", str(out)]
    )
    assert written.exit_code == 0 and json.loads(out.read_text())["party_id"] == rosa
    missing = runner.invoke(app, ["parties", "export", "--party", "pty_nobody", "--db", url])
    assert missing.exit_code == 2 and "no such party" in missing.output
    nowhere = runner.invoke(
        app,
        [
            "parties",
            "export",
            "--party",
            rosa,
            "--db",
            url,
            "--out",
            str(tmp_path / "x" / "y.json"),
        ],
    )
    assert nowhere.exit_code == 2 and "no folder" in nowhere.output
