"""Errors of the TigerBeetle adapter, importable without the client library."""

from __future__ import annotations

CLIENT_MISSING = (
    "the TigerBeetle client is not installed: pip install 'tindahan[tigerbeetle]' "
    "(tigerbeetle==0.17.8, the server's release)"
)


class TigerBeetleError(RuntimeError):
    """The cluster is unreachable, or answered something the adapter cannot map."""
