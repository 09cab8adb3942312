"""Running a coroutine from a synchronous test, whatever the worker's thread is doing.

Playwright's synchronous API, once a worker has started Chromium for a browser test, leaves
an event loop marked as running in the worker's main thread; ``asyncio.run`` there then
refuses ("cannot be called from a running event loop") and the coroutine is never awaited.
A fresh thread has no loop, so the coroutine runs there and its answer comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)`` in a thread of its own; exceptions are raised here."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-asyncio") as pool:
        return pool.submit(asyncio.run, coroutine).result()
