"""Opening the TigerBeetle ledger from its URL, with a clear error when the optional client
library (the ``tigerbeetle`` extra) is not installed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tindahan.tigerbeetle.errors import CLIENT_MISSING, TigerBeetleError

if TYPE_CHECKING:
    from tindahan.tigerbeetle.ledger import TigerBeetleLedger


def connect(url: str, timeout_ms: int | None = None) -> TigerBeetleLedger:
    """The ledger port on the cluster at ``url`` (``tigerbeetle://CLUSTER@ADDR,…``); with
    ``timeout_ms`` milliseconds, each request gives up after it (``LedgerUnavailableError``)."""
    try:
        from tindahan.tigerbeetle.ledger import TigerBeetleLedger
    except ModuleNotFoundError as exc:
        if exc.name != "tigerbeetle":
            raise
        raise TigerBeetleError(CLIENT_MISSING) from None
    return TigerBeetleLedger.connect(url, timeout_ms)
