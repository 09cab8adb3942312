"""When a failed delivery is tried again: exponential backoff with jitter, capped.

Whole seconds: the schedule is coarse by nature, and the package keeps ``float`` out.
"""

from __future__ import annotations

import random

from tindahan import limits


def next_delay_seconds(attempts: int, *, base: int = limits.WEBHOOK_BACKOFF_BASE_S) -> int:
    """Delay after the ``attempts``-th failed attempt (1-based): between half of and all of
    base × 2^(attempts-1), capped; jitter spreads retries after a receiver's outage."""
    ceiling = min(limits.WEBHOOK_BACKOFF_CAP_S, base * 2 ** max(0, attempts - 1))
    return random.randint(ceiling // 2, ceiling) if ceiling > 1 else ceiling
