"""(being written)"""

from __future__ import annotations

from tindahan.web.app import router as make_router

router = make_router()
