"""The list envelope every list endpoint and page returns: ``{object, data, has_more}``.

Its own module, at the bottom of the platform services, so that the audit log, the parties
and every capability can page results without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def page(items: Sequence[Mapping[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": has_more}
