"""Personal data at rest: phone and ID numbers encrypted with AES-256-GCM (Data Privacy Act).

The key comes from ``TINDAHAN_DATA_KEY`` (32 bytes, URL-safe base64; ``tindahan keys
data-key`` prints a new one).
Without it, a development key is generated once into ``./var/data.key`` (mode 0600) with a
warning: fine for ``make run``, not for production, where the key belongs in a secret store
and never beside the database it protects. Only for a database that holds no personal data
yet: ``services.platform.datakey`` refuses to start otherwise, and checks the key against
the fingerprint (``fingerprint``) the database keeps of it.

* Each value gets a fresh 96-bit nonce; the *associated data* names the field and the party,
  so a ciphertext copied onto another party's row, or into another column, fails to open.
* ``index`` is an HMAC-SHA256 "blind index" under a key derived from the same secret: equal
  numbers give equal indexes (one phone number, one party) without storing the number.
* Stored text is ``v1.<base64(nonce + ciphertext)>``; the version leaves room to rotate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENV_KEY = "TINDAHAN_DATA_KEY"
DEV_KEY_FILE = Path("var") / "data.key"
_VERSION = "v1."
log = logging.getLogger(__name__)


def _publish(path: Path, content: str) -> bool:
    """Create ``path`` with ``content`` (mode 0600) atomically: written to a private temporary
    file, then hard-linked into place, so a reader never sees it half-written. False when the
    file already existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)


class VaultError(ValueError):
    """The data key is missing or malformed, or a stored value does not open."""


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise VaultError(f"{where} is not URL-safe base64") from exc
    if len(key) != 32:
        raise VaultError(f"{where} must decode to 32 bytes, not {len(key)}")
    return key


@dataclass(frozen=True)
class Vault:
    key: bytes

    @classmethod
    def configured(
        cls, dev_key_file: Path | None = DEV_KEY_FILE, env: str = ENV_KEY
    ) -> Vault | None:
        """The key from ``env``, else from the development key file (if one is named); None
        when neither."""
        text = os.environ.get(env)
        if text is not None:
            if not text.strip():
                raise VaultError(f"{env} is set but empty")
            return cls(_decode_key(text, env))
        if dev_key_file is not None and dev_key_file.is_file():
            return cls(_decode_key(dev_key_file.read_text(), str(dev_key_file)))
        return None

    @classmethod
    def from_environment(cls, dev_key_file: Path = DEV_KEY_FILE) -> Vault:
        found = cls.configured(dev_key_file)
        if found is not None:
            return found
        encoded = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        if not _publish(dev_key_file, encoded + "\n"):
            # Another process (a sibling server worker) made it first: use theirs.
            return cls(_decode_key(dev_key_file.read_text(), str(dev_key_file)))
        log.warning(
            "%s is not set: generated a development data key in %s; set %s in production",
            ENV_KEY,
            dev_key_file,
            ENV_KEY,
        )
        return cls(_decode_key(encoded, str(dev_key_file)))

    def fingerprint(self) -> str:
        """Names the key without revealing it (HMAC-SHA256 of a constant under the key): kept
        in the database, so a server started with another key is stopped at once."""
        return hmac.new(self.key, b"tindahan data key fingerprint v1", hashlib.sha256).hexdigest()

    @cached_property
    def _index_key(self) -> bytes:
        """Derived once per vault: every blind index (and the risk gate's keyed origins, four
        a movement) hashed it again before (profiled: half the gate's hashing)."""
        return hmac.new(self.key, b"tindahan blind index v1", hashlib.sha256).digest()

    def seal(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.key).encrypt(nonce, plaintext.encode(), context.encode())
        return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, stored: str, context: str) -> str:
        if not stored.startswith(_VERSION):
            raise VaultError("unknown ciphertext version")
        try:
            raw = base64.urlsafe_b64decode(stored[len(_VERSION) :].encode())
            plain = AESGCM(self.key).decrypt(raw[:12], raw[12:], context.encode())
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise VaultError("a stored value does not open with this key") from exc
        return plain.decode()

    def index(self, value: str) -> str:
        return hmac.digest(self._index_key, value.encode(), "sha256").hex()
