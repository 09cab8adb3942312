"""A page that meets a database failover (``api.failover``) is answered 503 with a page in
the reader's language, made without touching the database again; a form is never run again
(it may have moved money), a page read is, and the API keeps its JSON error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from psycopg import errors as pg
from sqlalchemy.exc import OperationalError

from tests import aio
from tindahan.services.unit import Platform
from tindahan.store.database import connect
from tindahan.store.vault import Vault
from tindahan.web.app import create_app


def _gone() -> None:
    raise OperationalError("SELECT …", None, pg.AdminShutdown("terminating connection"))


CALLS: list[str] = []


def _fails(request: Request) -> None:
    CALLS.append(request.url.path)
    _gone()


@pytest.fixture(scope="module")
def app() -> Iterator[FastAPI]:
    """Built once (the web app takes seconds to build); nothing here reaches the database."""
    with connect("sqlite:///:memory:") as db:
        made = create_app(Platform(db, Vault(b"k" * 32)))
        made.add_api_route("/m/failing-form", _fails, methods=["POST"])
        made.add_api_route("/v1/failing", _fails, methods=["POST"])
        yield made


def _request(app: FastAPI, method: str, path: str, lang: str) -> httpx.Response:
    CALLS.clear()

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers: dict[str, Any] = {"Accept-Language": lang}
            return await client.request(method, path, headers=headers, data={"a": "1"})

    answer = aio.run(go())
    assert [path] == CALLS  # run once: never again without a key
    return answer


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "may or may not have been saved"),
        ("fil", "Maaaring naitala o hindi ang ipinadala mo"),
        ("ceb", "Tingali natipigan o wala ang imong gipadala"),
    ],
)
def test_a_form_that_met_a_failover_is_a_page_in_the_readers_language(
    app: FastAPI, lang: str, words: str
) -> None:
    answer = _request(app, "POST", "/m/failing-form", lang)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "2"
    assert answer.headers["content-type"].startswith("text/html")
    assert words in answer.text


def test_the_api_keeps_its_json_error(app: FastAPI) -> None:
    answer = _request(app, "POST", "/v1/failing", "fil")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "database_failover"
