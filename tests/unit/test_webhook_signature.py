"""Unit tests of the webhook rules: signatures, the retry schedule, event subscriptions."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tindahan import limits
from tindahan.webhooks import events, schedule
from tindahan.webhooks.signature import (
    SECRET_PREFIX,
    SignatureError,
    new_secret,
    sign,
    verify,
)

SECRET = "whsec_test_secret"
NOW = 1_764_460_800  # 2025-11-30T00:00:00Z
BODY = b'{"id":"evt_1","type":"payment.succeeded","data":{"amount_minor":12345}}'
TOLERANCE = limits.WEBHOOK_TOLERANCE_SECONDS


# --- signing and verifying ---------------------------------------------------------------


def test_header_is_timestamp_and_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"t={NOW},v1={expected}"


def test_round_trip_returns_the_timestamp() -> None:
    assert verify(SECRET, sign(SECRET, NOW, BODY), BODY, NOW) == NOW


@given(
    secret=st.text(min_size=1, max_size=60),
    timestamp=st.integers(0, 2**40),
    body=st.binary(max_size=500),
    skew=st.integers(-TOLERANCE, TOLERANCE),
)
def test_round_trip_within_tolerance(secret: str, timestamp: int, body: bytes, skew: int) -> None:
    assert verify(secret, sign(secret, timestamp, body), body, timestamp + skew) == timestamp


def test_new_secrets_are_prefixed_and_fresh() -> None:
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith(SECRET_PREFIX)
        assert len(secret) > len(SECRET_PREFIX) + 40  # 32 random bytes, base64


def _refused(secret: str, header: str, body: bytes, now: int, words: str) -> None:
    with pytest.raises(SignatureError) as caught:
        verify(secret, header, body, now)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [BODY + b" ", BODY.replace(b"12345", b"12346"), b"", BODY[:-1]],
)
def test_tampered_body_fails(body: bytes) -> None:
    _refused(SECRET, sign(SECRET, NOW, BODY), body, NOW, "does not match")


def test_other_secret_fails() -> None:
    _refused("whsec_other", sign(SECRET, NOW, BODY), BODY, NOW, "does not match")
    _refused(SECRET, sign(SECRET + "x", NOW, BODY), BODY, NOW, "does not match")


def test_tampered_timestamp_fails() -> None:
    header = sign(SECRET, NOW, BODY)
    moved = header.replace(f"t={NOW}", f"t={NOW + 1}")
    assert moved != header
    _refused(SECRET, moved, BODY, NOW, "does not match")


def test_tampered_digest_fails() -> None:
    header = sign(SECRET, NOW, BODY)
    flipped = header[:-1] + ("0" if header[-1] != "0" else "1")
    _refused(SECRET, flipped, BODY, NOW, "does not match")
    digest = header.split("v1=", 1)[1]
    assert digest != digest.upper()
    _refused(SECRET, f"t={NOW},v1={digest.upper()}", BODY, NOW, "does not match")
    _refused(SECRET, f"t={NOW},v1={digest[:-2]}", BODY, NOW, "does not match")


def test_tolerance_edges() -> None:
    header = sign(SECRET, NOW, BODY)
    assert verify(SECRET, header, BODY, NOW + TOLERANCE) == NOW
    assert verify(SECRET, header, BODY, NOW - TOLERANCE) == NOW
    _refused(SECRET, header, BODY, NOW + TOLERANCE + 1, "outside the tolerance")  # stale
    _refused(SECRET, header, BODY, NOW - TOLERANCE - 1, "outside the tolerance")  # future


def test_replayed_delivery_fails_even_if_signed_correctly() -> None:
    header = sign(SECRET, NOW, BODY)
    _refused(SECRET, header, BODY, NOW + 24 * 3600, "outside the tolerance")


def test_tolerance_can_be_narrowed() -> None:
    header = sign(SECRET, NOW, BODY)
    assert verify(SECRET, header, BODY, NOW + 10, tolerance=10) == NOW
    with pytest.raises(SignatureError):
        verify(SECRET, header, BODY, NOW + 11, tolerance=10)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "t=,v1=",
        "v1=abcdef",  # no timestamp
        f"t={NOW}",  # no signature
        f"t=soon,v1={'0' * 64}",
        f"t={NOW};v1={'0' * 64}",
        f"T={NOW},V1={'0' * 64}",
    ],
)
def test_malformed_headers_fail(header: str) -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, header, BODY, NOW)


def test_malformed_header_with_a_valid_digest_elsewhere_fails() -> None:
    digest = sign(SECRET, NOW, BODY).split("v1=", 1)[1]
    with pytest.raises(SignatureError, match="malformed"):
        verify(SECRET, f"v0={digest}", BODY, NOW)


def test_non_ascii_digest_is_a_signature_error() -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, f"t={NOW},v1=é", BODY, NOW)


# --- the retry schedule ----------------------------------------------------------------------

BASE = limits.WEBHOOK_BACKOFF_BASE_S
CAP = limits.WEBHOOK_BACKOFF_CAP_S


def _ceiling(attempts: int, base: int = BASE) -> int:
    return min(CAP, base << max(0, attempts - 1))  # base × 2^(attempts-1)


def test_backoff_at_the_top_of_the_jitter_doubles_until_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(random, "randint", lambda low, high: high)
    delays = [schedule.next_delay_seconds(n) for n in range(1, 21)]
    assert delays[:4] == [BASE, 2 * BASE, 4 * BASE, 8 * BASE]
    assert delays == sorted(delays)
    assert max(delays) == CAP
    assert delays[-1] == CAP
    assert all(d <= CAP for d in delays)


def test_backoff_at_the_bottom_of_the_jitter_is_half(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "randint", lambda low, high: low)
    delays = [schedule.next_delay_seconds(n) for n in range(1, 21)]
    assert delays[:3] == [BASE // 2, BASE, 2 * BASE]
    assert delays[-1] == CAP // 2


def test_jitter_draws_between_half_and_all_of_the_ceiling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, int]] = []

    def spy(low: int, high: int) -> int:
        seen.append((low, high))
        return high

    monkeypatch.setattr(random, "randint", spy)
    for attempts in range(1, 21):
        schedule.next_delay_seconds(attempts)
    assert seen == [(_ceiling(n) // 2, _ceiling(n)) for n in range(1, 21)]


@given(st.integers(1, 64))
def test_delay_within_half_and_all_of_the_ceiling(attempts: int) -> None:
    ceiling = _ceiling(attempts)
    for _ in range(20):
        assert ceiling // 2 <= schedule.next_delay_seconds(attempts) <= ceiling <= CAP


def test_jitter_spreads_retries() -> None:
    delays = {schedule.next_delay_seconds(5) for _ in range(200)}
    assert len(delays) > 10
    assert min(delays) >= _ceiling(5) // 2
    assert max(delays) <= _ceiling(5)


@given(st.integers(1, 64), st.integers(1, 100))
def test_delay_with_another_base_is_at_least_a_second(attempts: int, base: int) -> None:
    delay = schedule.next_delay_seconds(attempts, base=base)
    ceiling = _ceiling(attempts, base)
    assert delay >= 1
    assert ceiling // 2 <= delay <= ceiling


def test_late_attempts_stay_capped() -> None:
    for attempts in (13, 40, 100, 1_000):  # 10 s × 2^12 is past the cap
        for _ in range(20):
            assert CAP // 2 <= schedule.next_delay_seconds(attempts) <= CAP


# --- events ----------------------------------------------------------------------------------


def test_matches_a_subscribed_event() -> None:
    assert events.matches(["payment.succeeded"], "payment.succeeded")
    assert events.matches(["refund.succeeded", "payment.refunded"], "payment.refunded")
    assert not events.matches(["payment.succeeded"], "payment.refunded")
    assert not events.matches([], "payment.succeeded")


@pytest.mark.parametrize("event_type", events.EVENT_TYPES)
def test_star_matches_every_event(event_type: str) -> None:
    assert events.matches([events.ALL], event_type)
    assert events.matches(["cash_out.failed", "*"], event_type)


def test_event_types_are_unique_and_dotted() -> None:
    assert len(set(events.EVENT_TYPES)) == len(events.EVENT_TYPES)
    assert all("." in e and e != events.ALL for e in events.EVENT_TYPES)


def test_every_event_the_services_emit_can_be_subscribed_to() -> None:
    """An event a service emits but endpoints cannot name would reach only ``*`` endpoints:
    every literal type passed to ``emit`` in the services is in ``EVENT_TYPES``."""
    import re
    from pathlib import Path

    import tindahan.services

    folder = Path(tindahan.services.__file__).parent
    emitted = set()
    for path in folder.rglob("*.py"):  # every capability's sub-package
        text = path.read_text(encoding="utf-8")
        emitted.update(re.findall(r'emit\(\s*unit,\s*"([a-z_]+\.[a-z_]+)"', text))
        emitted.update(re.findall(r'"(loan\.[a-z_]+)" if', text))
    assert "loan.disbursed" in emitted and "payment.succeeded" in emitted
    assert emitted <= set(events.EVENT_TYPES), sorted(emitted - set(events.EVENT_TYPES))
