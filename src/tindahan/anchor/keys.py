"""The anchor's Ed25519 key: the sealer signs with the private half, auditors check with the
public half, and the database holds neither.

Keys are 32 raw bytes in URL-safe base64, like the data key (``store.vault``). The private
key comes from ``TINDAHAN_ANCHOR_KEY`` or the file named by ``TINDAHAN_ANCHOR_KEY_FILE``;
``tindahan keys anchor-key`` prints a new pair. The public key comes from
``TINDAHAN_ANCHOR_PUBLIC_KEY`` (an auditor needs nothing else), or is derived from the
private key. The key id is the first 16 hex digits of SHA-256 over the raw public key: it
names which key signed a line, so a line signed by any other key is refused, and a rotated
key starts a new anchor.

There is no development fallback (unlike the data key): a key generated beside the database
would protect nothing, so without a key nothing is anchored and ``verify`` says so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from tindahan.ledger.anchor import AnchoredHead

ENV_KEY = "TINDAHAN_ANCHOR_KEY"
ENV_KEY_FILE = "TINDAHAN_ANCHOR_KEY_FILE"
ENV_PUBLIC_KEY = "TINDAHAN_ANCHOR_PUBLIC_KEY"
_RAW = serialization.Encoding.Raw


class AnchorKeyError(ValueError):
    """The anchor key is missing, unreadable or malformed."""


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _decode(text: str, where: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        raise AnchorKeyError(f"{where} is not URL-safe base64") from None
    if len(raw) != 32:
        raise AnchorKeyError(f"{where} must decode to 32 bytes, not {len(raw)}")
    return raw


@dataclass(frozen=True)
class AnchorVerifier:
    """The public half: checks signatures."""

    public: Ed25519PublicKey

    @classmethod
    def from_text(cls, text: str, where: str = ENV_PUBLIC_KEY) -> AnchorVerifier:
        return cls(Ed25519PublicKey.from_public_bytes(_decode(text, where)))

    @property
    def public_text(self) -> str:
        return _encode(self.public.public_bytes(_RAW, serialization.PublicFormat.Raw))

    @property
    def key_id(self) -> str:
        raw = self.public.public_bytes(_RAW, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]

    def check(self, head: AnchoredHead) -> bool:
        try:
            signature = base64.urlsafe_b64decode(head.signature.encode())
            self.public.verify(signature, head.message())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


@dataclass(frozen=True)
class AnchorKey:
    """The private half: signs heads. Never stored in, or sent to, the database."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> AnchorKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_text(cls, text: str, where: str = ENV_KEY) -> AnchorKey:
        return cls(Ed25519PrivateKey.from_private_bytes(_decode(text, where)))

    @classmethod
    def from_environment(cls) -> AnchorKey | None:
        """The key from ``TINDAHAN_ANCHOR_KEY`` or ``TINDAHAN_ANCHOR_KEY_FILE``; None when
        neither is set; an error when one is set but unusable."""
        text = os.environ.get(ENV_KEY)
        if text is not None:
            if not text.strip():
                raise AnchorKeyError(f"{ENV_KEY} is set but empty")
            return cls.from_text(text)
        path = os.environ.get(ENV_KEY_FILE)
        if not path:
            return None
        try:
            content = Path(path).read_text()
        except OSError as exc:
            raise AnchorKeyError(f"{ENV_KEY_FILE}: cannot read {path}: {exc.strerror}") from None
        return cls.from_text(content, ENV_KEY_FILE)

    @property
    def private_text(self) -> str:
        raw = self.private.private_bytes(
            _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return _encode(raw)

    @property
    def verifier(self) -> AnchorVerifier:
        return AnchorVerifier(self.private.public_key())

    def sign(self, head: AnchoredHead) -> AnchoredHead:
        """The head with ``key_id`` set to this key's and its signature filled in."""
        named = replace(head, key_id=self.verifier.key_id, signature="")
        signature = self.private.sign(named.message())
        return replace(named, signature=_encode(signature))


def verifier_from_environment(key: AnchorKey | None) -> AnchorVerifier | None:
    """The auditor's public key if given, else the private key's own; None without either.
    Both given and not a pair is an error: the anchor would be checked against another key."""
    text = os.environ.get(ENV_PUBLIC_KEY)
    if text is None or not text.strip():
        return None if key is None else key.verifier
    verifier = AnchorVerifier.from_text(text)
    if key is not None and key.verifier.key_id != verifier.key_id:
        raise AnchorKeyError(f"{ENV_PUBLIC_KEY} is not the public half of the anchor key")
    return verifier
