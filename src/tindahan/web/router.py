"""The router every page module registers its routes on.

Its own module, below the page modules and the app: the app imports the page modules (via
``routes``) to mount them, so if the pages took their router from the app, the import graph
would loop (pages → app → routes → pages).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tindahan.web import session


def router() -> APIRouter:
    """A router for pages: every POST on it is CSRF-checked before the route runs."""
    return APIRouter(dependencies=[Depends(session.check_csrf)], include_in_schema=False)
