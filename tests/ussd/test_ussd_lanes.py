"""The PIN's hash off the menus' way (issue 24's p99): which steps go to the PIN lane, and
the hashing threads' lower priority."""

from __future__ import annotations

import os
import threading

import pytest

from tindahan import limits
from tindahan.services.platform import logins
from tindahan.services.ussd import channel
from tindahan.ussd import codes

CODE = "123456" + codes.check_digit("123456")  # a merchant or agent code


@pytest.mark.parametrize(
    ("text", "hashes"),
    [
        ("", False),
        ("1", False),  # the balance
        ("3", False),
        (f"3*{CODE}", False),
        (f"3*{CODE}*20", False),  # the confirmation: no PIN yet
        (f"3*{CODE}*20*240816", True),  # paying a store
        ("2*09171234567*50*240816", True),  # sending
        (f"4*{CODE}*100*240816", True),  # cashing out
        ("7*240816*135790*135790", True),  # changing the PIN
        ("8*2", False),  # the language: no PIN
        ("Juan*135790*135790", True),  # a sign-up's last step hashes the new PIN
        (f"3*{CODE}*20*24x816", False),  # not what a phone sends
    ],
)
def test_steps_that_may_hash_a_pin_are_told_apart(text: str, hashes: bool) -> None:
    assert channel.hashes(text) is hashes


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no per-thread priority here")
def test_argon2_runs_on_its_own_threads_at_a_lower_priority() -> None:
    def where() -> tuple[str, int]:
        me = threading.get_native_id()
        return threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, me)

    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    name, nice = logins._hashing(where)
    assert name.startswith("argon2")
    assert nice == min(19, mine + limits.PIN_HASH_NICE)
    assert logins.verify(logins.hash_secret("240816"), "240816")
    assert not logins.verify(logins.hash_secret("240816"), "240817")
