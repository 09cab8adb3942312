"""Hypothesis profiles: a short, repeatable run by default and a long, searching one on demand.

``TINDAHAN_HYPOTHESIS_PROFILE`` picks one (``tests/conftest.py`` loads it before any test
module is imported, so every ``settings(...)`` in the tests inherits from it):

* ``ci`` (the default: ``make test``, ``make check``, CI): derandomised, so a run can only
  fail on a change to the code or the tests, never on a lucky draw; no example database
  (nothing carried from one run to the next); no deadline (two shared cores make wall time
  meaningless); each property test runs the number of examples written beside it.
* ``deep`` (``make test-deep``): random draws, ``DEEP_FACTOR`` times the examples, and the
  example database under ``.hypothesis/``, so a failure found once is tried first next time.

A test that needs its own count writes ``max_examples=examples(N)``: N in ``ci``, more in
``deep``. A failure in ``deep`` prints its ``@reproduce_failure`` blob; fix the strategy or
the code, then keep the case as an ``@example``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

PROFILES = ("ci", "deep")
PROFILE = os.environ.get("TINDAHAN_HYPOTHESIS_PROFILE", "ci")
#: How many times the written number of examples the deep run tries.
DEEP_FACTOR = 10
#: Examples for a property test that names no count: Hypothesis's own default is 100.
CI_EXAMPLES = 50


def examples(n: int) -> int:
    """``n`` examples in the default run, ``DEEP_FACTOR × n`` in the deep one."""
    return n * DEEP_FACTOR if PROFILE == "deep" else n


def load() -> None:
    """Register both profiles and load the one the environment names."""
    if PROFILE not in PROFILES:
        raise ValueError(
            f"TINDAHAN_HYPOTHESIS_PROFILE={PROFILE!r}: expected one of {', '.join(PROFILES)}"
        )
    settings.register_profile(
        "ci",
        derandomize=True,
        database=None,
        deadline=None,
        max_examples=CI_EXAMPLES,
        print_blob=True,
    )
    settings.register_profile(
        "deep",
        derandomize=False,
        database=DirectoryBasedExampleDatabase(".hypothesis/examples"),
        deadline=None,
        max_examples=CI_EXAMPLES * DEEP_FACTOR,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile(PROFILE)
