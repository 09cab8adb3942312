"""One app per worker for the tests that serve the default app, bound to each test's platform.

FastAPI builds an included router's routes (their parameters' and responses' pydantic
adapters) on an app's first request that reaches the router: about 0.8 s of CPU for the
whole app (API and pages), which every API and page test paid when each made its own app
with ``create_app``, most of such a test's own CPU. Here each worker makes the API app and
the web app once, and a test gets one of them bound to its platform (``api.app.bind`` /
``web.app.bind``: its platform, a fresh rate limiter and group committer read from the
environment, the CSRF key forgotten). The routes, handlers and middleware hold no state of
their own between requests (metrics and caches are per process anyway), so a test sees the
app a server process builds, on its own platform and database.

Not shared: an app while tracing is on (its SQL hooks stay on the engine it was made with),
and the apps tests make themselves to change them (middleware, ``processes``, a ledger).
"""

from __future__ import annotations

from typing import Any

from tindahan.api.app import bind as bind_api
from tindahan.api.app import create_app as create_api
from tindahan.observe import traces
from tindahan.services.unit import Platform
from tindahan.web.app import bind as bind_web
from tindahan.web.app import create_app as create_web

_made: dict[str, Any] = {}


def _shareable() -> bool:
    return not (traces.enabled() or traces.active())


def api_app(platform: Platform) -> Any:
    """The API app (``tindahan.api.app.create_app``) for ``platform``."""
    if not _shareable():
        return create_api(platform)
    app = _made.get("api")
    if app is None:
        app = _made["api"] = create_api(platform)
    else:
        bind_api(app, platform)
    return app


def web_app(platform: Platform) -> Any:
    """The whole app, pages and API (``tindahan.web.app.create_app``), for ``platform``."""
    if not _shareable():
        return create_web(platform)
    app = _made.get("web")
    if app is None:
        app = _made["web"] = create_web(platform)
    else:
        bind_web(app, platform)
    return app
