"""The XML adapter of the rails domain: the only module tree that imports lxml.

* ``hardened``: parsing untrusted bytes — a size limit first, then libxml2 with no DTD, no
  entity expansion, no network; a DOCTYPE or ENTITY declaration is refused outright (no
  XXE, no billion laughs).
* ``schemas``: the nine ISO 20022 schemas (shipped in ``schemas/``, see its SOURCES.md),
  compiled once per process; every message we build or read is validated against its own.
* ``build``: pacs.008, pacs.002, pacs.028, pacs.004, camt.053, camt.054, camt.056 and
  camt.029 from the domain's records; ``read``: any of the eight back into a ``Message``.

Why lxml: libxml2's schema validation is complete for these XSDs and fast enough for the
2,000 messages a second the issue asks of one core (``python -m tindahan.bench.rails``).
"""

from tindahan.rails.xml.build import (
    camt029,
    camt053,
    camt054,
    camt056,
    pacs002,
    pacs004,
    pacs008,
    pacs028,
)
from tindahan.rails.xml.read import read

__all__ = [
    "camt029",
    "camt053",
    "camt054",
    "camt056",
    "pacs002",
    "pacs004",
    "pacs008",
    "pacs028",
    "read",
]
