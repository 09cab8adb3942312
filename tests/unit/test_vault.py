"""Unit tests of the personal-data vault: AES-GCM sealing, the blind index, the data key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tindahan.store import vault as vault_module
from tindahan.store.vault import ENV_KEY, Vault, VaultError

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
PHONE = "+639171234567"
CONTEXT = "party:cus_1:phone"


def _encoded(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def _raw(stored: str) -> bytes:
    assert stored.startswith("v1.")
    return base64.urlsafe_b64decode(stored[3:])


def _stored(raw: bytes) -> str:
    return "v1." + base64.urlsafe_b64encode(raw).decode()


# --- sealing ---------------------------------------------------------------------------------


def test_round_trip() -> None:
    vault = Vault(KEY)
    stored = vault.seal(PHONE, CONTEXT)
    assert stored.startswith("v1.")
    assert PHONE not in stored
    assert vault.open(stored, CONTEXT) == PHONE


@given(st.text(max_size=200), st.text(max_size=60))
def test_round_trip_any_text(plaintext: str, context: str) -> None:
    vault = Vault(KEY)
    assert vault.open(vault.seal(plaintext, context), context) == plaintext


def test_layout_is_nonce_ciphertext_and_tag() -> None:
    raw = _raw(Vault(KEY).seal(PHONE, CONTEXT))
    assert len(raw) == 12 + len(PHONE.encode()) + 16


@pytest.mark.parametrize(
    "context", ["party:cus_2:phone", "party:cus_1:id_number", "", "party:cus_1:phone "]
)
def test_wrong_context_fails(context: str) -> None:
    vault = Vault(KEY)
    stored = vault.seal(PHONE, CONTEXT)
    with pytest.raises(VaultError):
        vault.open(stored, context)


def test_wrong_key_fails() -> None:
    stored = Vault(KEY).seal(PHONE, CONTEXT)
    with pytest.raises(VaultError):
        Vault(OTHER_KEY).open(stored, CONTEXT)


@pytest.mark.parametrize("where", ["nonce", "ciphertext", "tag"])
def test_tampered_ciphertext_fails(where: str) -> None:
    vault = Vault(KEY)
    raw = bytearray(_raw(vault.seal(PHONE, CONTEXT)))
    position = {"nonce": 0, "ciphertext": 12, "tag": len(raw) - 1}[where]
    raw[position] ^= 0x01
    with pytest.raises(VaultError):
        vault.open(_stored(bytes(raw)), CONTEXT)


@given(st.data())
def test_any_single_bit_flip_fails(data: st.DataObject) -> None:
    vault = Vault(KEY)
    raw = bytearray(_raw(vault.seal(PHONE, CONTEXT)))
    position = data.draw(st.integers(0, len(raw) - 1))
    raw[position] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(VaultError):
        vault.open(_stored(bytes(raw)), CONTEXT)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "v2." + _encoded(bytes(40)),
        "v1.",
        "v1.AAAA",  # shorter than a nonce
        "v1." + _encoded(bytes(20)),  # a nonce and less than a tag
        "v1.!!!",
        "v1.abc",  # bad padding
        PHONE,  # plaintext left in the column
    ],
)
def test_malformed_stored_values_fail(stored: str) -> None:
    with pytest.raises(VaultError):
        Vault(KEY).open(stored, CONTEXT)


def test_truncated_ciphertext_fails() -> None:
    vault = Vault(KEY)
    stored = vault.seal(PHONE, CONTEXT)
    with pytest.raises(VaultError):
        vault.open(_stored(_raw(stored)[:-1]), CONTEXT)


def test_each_seal_differs() -> None:
    vault = Vault(KEY)
    sealed = [vault.seal(PHONE, CONTEXT) for _ in range(50)]
    assert len(set(sealed)) == 50
    assert len({_raw(s)[:12] for s in sealed}) == 50  # a fresh nonce each time
    assert {vault.open(s, CONTEXT) for s in sealed} == {PHONE}


# --- the blind index -------------------------------------------------------------------------


def test_index_is_deterministic() -> None:
    assert Vault(KEY).index(PHONE) == Vault(KEY).index(PHONE)
    assert len(Vault(KEY).index(PHONE)) == 64
    int(Vault(KEY).index(PHONE), 16)  # hex


def test_index_differs_across_values_and_keys() -> None:
    assert Vault(KEY).index(PHONE) != Vault(KEY).index("+639171234568")
    assert Vault(KEY).index(PHONE) != Vault(OTHER_KEY).index(PHONE)


def test_index_does_not_reveal_the_value_or_use_the_sealing_key_directly() -> None:
    index = Vault(KEY).index(PHONE)
    assert PHONE not in index
    assert index != hashlib.sha256(PHONE.encode()).hexdigest()
    assert index != hmac.new(KEY, PHONE.encode(), hashlib.sha256).hexdigest()


def test_index_is_the_stored_derivation_whatever_the_call() -> None:
    """Indexes already in databases stay valid: HMAC-SHA256 under the key derived from the
    data key, the same on a vault's first call and later ones (the derived key is kept)."""
    derived = hmac.new(KEY, b"tindahan blind index v1", hashlib.sha256).digest()
    expected = hmac.new(derived, PHONE.encode(), hashlib.sha256).hexdigest()
    vault = Vault(KEY)
    assert vault.index(PHONE) == expected == vault.index(PHONE)
    assert Vault(OTHER_KEY).index(PHONE) != expected


@given(st.text(max_size=40), st.text(max_size=40))
def test_index_equal_exactly_when_values_equal(a: str, b: str) -> None:
    vault = Vault(KEY)
    assert (vault.index(a) == vault.index(b)) == (a == b)


# --- the data key ------------------------------------------------------------------------------


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_KEY, raising=False)


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_KEY, _encoded(KEY))
    key_file = tmp_path / "var" / "data.key"
    vault = Vault.from_environment(key_file)
    assert vault.key == KEY
    assert not key_file.exists()  # no development key when the real one is set


def test_environment_key_wins_over_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "data.key"
    key_file.write_text(_encoded(OTHER_KEY) + "\n")
    monkeypatch.setenv(ENV_KEY, " " + _encoded(KEY) + "\n")
    assert Vault.from_environment(key_file).key == KEY


@pytest.mark.parametrize(
    "text",
    [
        "not a key",
        "abc",  # bad padding
        _encoded(bytes(16)),  # AES-128 is not enough
        _encoded(bytes(33)),
        KEY.hex(),  # 64 hex characters decode to 48 bytes
    ],
)
def test_malformed_environment_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str
) -> None:
    monkeypatch.setenv(ENV_KEY, text)
    key_file = tmp_path / "data.key"
    with pytest.raises(VaultError) as caught:
        Vault.from_environment(key_file)
    assert ENV_KEY in str(caught.value)
    assert text not in str(caught.value) or len(text) < 8  # the key is not echoed back
    assert not key_file.exists()


@pytest.mark.usefixtures("no_env_key")
def test_missing_key_generates_one_file_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "var" / "data.key"
    with caplog.at_level(logging.WARNING, logger=vault_module.__name__):
        first = Vault.from_environment(key_file)
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert base64.urlsafe_b64decode(key_file.read_text().strip()) == first.key
    assert len(first.key) == 32
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert ENV_KEY in warnings[0].getMessage()
    assert str(key_file) in warnings[0].getMessage()
    assert _encoded(first.key) not in caplog.text  # the key itself is never logged

    caplog.clear()
    content = key_file.read_text()
    with caplog.at_level(logging.WARNING, logger=vault_module.__name__):
        second = Vault.from_environment(key_file)
    assert second.key == first.key
    assert key_file.read_text() == content
    assert not caplog.records  # reused quietly

    stored = first.seal(PHONE, CONTEXT)
    assert second.open(stored, CONTEXT) == PHONE


@pytest.mark.usefixtures("no_env_key")
def test_default_key_file_is_var_data_key_under_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    vault = Vault.from_environment()
    key_file = tmp_path / "var" / "data.key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Vault.from_environment().key == vault.key


@pytest.mark.usefixtures("no_env_key")
def test_generated_keys_differ_between_installations(tmp_path: Path) -> None:
    one = Vault.from_environment(tmp_path / "a" / "data.key")
    two = Vault.from_environment(tmp_path / "b" / "data.key")
    assert one.key != two.key


@pytest.mark.usefixtures("no_env_key")
def test_malformed_key_file_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "data.key"
    key_file.write_text(_encoded(bytes(16)) + "\n")
    with pytest.raises(VaultError) as caught:
        Vault.from_environment(key_file)
    assert str(key_file) in str(caught.value)
    assert key_file.read_text() == _encoded(bytes(16)) + "\n"  # never overwritten


@pytest.mark.usefixtures("no_env_key")
def test_losing_the_race_to_create_the_key_file_uses_the_winners_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file = tmp_path / "var" / "data.key"

    class OtherProcessWins:
        """``os``, except that another process publishes its key file just before ours is
        linked into place."""

        def __getattr__(self, name: str) -> object:
            return getattr(os, name)

        @staticmethod
        def link(source: object, target: object) -> None:
            if Path(str(target)) == key_file and not key_file.exists():
                key_file.write_text(_encoded(OTHER_KEY) + "\n")
            os.link(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(vault_module, "os", OtherProcessWins())
    assert Vault.from_environment(key_file).key == OTHER_KEY
    assert [p.name for p in key_file.parent.iterdir()] == ["data.key"]  # no temporary left
