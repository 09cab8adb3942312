"""The command line starts light (issue 18): importing ``tindahan.cli.app`` (what every
``tindahan …`` command does first) must not pull in the web app, the models' libraries or the
database layer; each command imports what it needs when it runs. Checked in a fresh
interpreter, by what is in ``sys.modules`` — not by timing."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "fastapi",
    "starlette",
    "sklearn",
    "lightgbm",
    "pandas",
    "scipy",
    "matplotlib",
    "sqlalchemy",
    "alembic",
    "uvicorn",
    "httpx",
)


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}


def test_importing_the_command_line_pulls_in_nothing_heavy() -> None:
    loaded = _loaded_after("import tindahan.cli.app")
    assert "typer" in loaded  # the probe does see what was imported
    assert sorted(loaded & set(HEAVY)) == []


def test_help_lists_every_command_without_importing_them() -> None:
    code = (
        "from typer.testing import CliRunner\n"
        "from tindahan.cli.app import app\n"
        "result = CliRunner().invoke(app, ['--help'], terminal_width=200)\n"
        "assert result.exit_code == 0, result.output\n"
        "print(json.dumps(result.output))"
    )
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    shown, modules = (json.loads(line) for line in done.stdout.splitlines()[-2:])
    loaded = {name.split(".")[0] for name in modules}
    assert sorted(loaded & set(HEAVY)) == []
    commands = (
        "serve",
        "worker",
        "db",
        "ledger",
        "qr",
        "credit",
        "loan",
        "rails",
        "risk",
        "simulate",
        "ussd",
        "insights",
        "payouts",
        "delivery",
        "keys",
        "demo",
        "webhooks",
        "parties",
        "logins",
    )
    for name in commands:
        assert f" {name} " in shown, name
