"""The terminal simulator end to end (issue 24, item 5): a real ``tindahan serve`` on a
SQLite file, and ``tindahan ussd --phone … --url …`` typed into a real terminal (tmux), as a
person would: the menu, paying a store by its code with the PIN, the receipt."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port
from tests.ussd.conftest import BUYER_PHONE, PIN, make_login, make_party
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.payments import cash, wallets
from tindahan.services.platform import chart
from tindahan.services.platform.datakey import open_vault
from tindahan.services.unit import Platform
from tindahan.services.ussd.channel import short_code
from tindahan.store.database import connect
from tindahan.store.migrate import upgrade
from tindahan.store.vault import ENV_KEY

TINDAHAN = str(Path(sys.executable).with_name("tindahan"))
OPERATOR = Caller("key_operator", None, frozenset(DEFAULT_SCOPES))

#: A real server's start-up (a minute on the loaded shared machine): ``make test`` runs it.
pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.slow,
]


def _prepare(url: str) -> str:
    """A store and a buyer with ₱500 and a PIN; returns the store's merchant code."""
    database = connect(url)
    try:
        upgrade(database)
        platform = Platform(database, open_vault(database))
        chart.ensure_operator_accounts(platform)
        merchant = make_party(platform, "merchant", "Aling Nena's Sari-Sari Store")
        buyer = make_party(platform, "customer", "Juan dela Cruz", BUYER_PHONE)
        make_login(platform, buyer, BUYER_PHONE)
        found = platform.run(lambda u: wallets.list_wallets(u, OPERATOR, 10, None, buyer))
        main = next(w["id"] for w in found["data"] if w["kind"] == "main")
        platform.run(lambda u: cash.fund(u, OPERATOR, main, 50_000, "PHP", None))
        code = short_code(platform, merchant)
        assert code is not None
        return code
    finally:
        database.dispose()


@pytest.fixture
def served(tmp_path, monkeypatch) -> Iterator[tuple[str, str, dict[str, str]]]:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    monkeypatch.setenv(ENV_KEY, key)
    url = f"sqlite:///{tmp_path / 'ussd.db'}"
    code = _prepare(url)
    env = {**os.environ, ENV_KEY: key, "TINDAHAN_DATABASE_URL": url}
    env.pop("TINDAHAN_USSD_SECRET", None)
    port = free_port()
    proc = subprocess.Popen(
        [TINDAHAN, "serve", "--port", str(port), "--no-worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        yield base, code, env
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()


def _tmux(*args: str) -> str:
    done = subprocess.run(["tmux", *args], capture_output=True, text=True, check=True)
    return done.stdout


def _wait_for(session: str, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session, "-S", "-200")
        flat = " ".join(screen.replace("│", " ").split())  # the panel wraps long lines
        if text in flat:
            return flat
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the terminal shows:\n{screen}")


def test_a_person_pays_a_store_from_the_terminal_simulator(served) -> None:
    base, code, env = served
    session = f"ussd-{os.getpid()}-{time.monotonic_ns()}"
    command = (
        f"{TINDAHAN} ussd --phone {BUYER_PHONE} --url {base}; echo SIMULATOR-EXIT=$?; sleep 30"
    )
    _tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "100",
        "-y",
        "50",
        "-e",
        f"{ENV_KEY}={env[ENV_KEY]}",
        command,
    )
    try:
        menu = _wait_for(session, "3 Pay a store")
        assert "Dialling *143# from +639171234567" in menu and "1 Balance" in menu
        for typed, expect in (
            ("3", "Enter its merchant code"),
            (code, "Enter the amount in pesos"),
            ("120", "Enter your PIN"),
            (PIN, "SIMULATOR-EXIT=0"),
        ):
            _tmux("send-keys", "-t", session, typed, "Enter")
            screen = _wait_for(session, expect)
        assert "Paid P120.00 to Aling Nena's" in screen
        assert "session ended" in screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
