"""The PIN before money leaves (``services.platform.pins``) on the pages: the check each
paying form makes before its work runs, and the page where a person sets or changes it.

The PIN is taken out of the form's values before anything else sees them: it is never shown
again, and never part of the idempotency fingerprint (a hash of a six-digit PIN is a
million guesses away from the PIN). A wrong or throttled PIN is said beside the PIN box and
nothing moves.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan.kernel.refusals import RefusalError
from tindahan.services.platform import pins
from tindahan.services.platform.logins import Viewer
from tindahan.web import forms, render, session
from tindahan.web.i18n import _
from tindahan.web.messages import refusal_text
from tindahan.web.router import router as make_router
from tindahan.web.session import SignedIn

router = make_router()
FIELD = "pin"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def confirmed(request: Request, viewer: Viewer, form: forms.Form) -> bool:
    """Whether the form may move money: the right PIN (or a fresh sign-in); else the
    reason is on the form, beside the PIN box."""
    pin = form.values.pop(FIELD, "")
    try:
        await run_in_threadpool(
            pins.confirm,
            session.platform(request),
            viewer,
            pin,
            _client(request),
            request.cookies.get(session.DEVICE),
        )
    except RefusalError as refusal:
        form.fail(FIELD, refusal_text(refusal))
        return False
    return True


def _person(viewer: Viewer) -> None:
    if viewer.operator:
        raise session.WrongRoleError("customer")


@router.get("/pin")
async def pin_page(request: Request, viewer: SignedIn, done: str = "") -> Response:
    _person(viewer)
    has = await run_in_threadpool(pins.has_pin, session.platform(request), viewer)
    return render.page(request, "pin.html", has_pin=has, done=done == "1")


@router.post("/pin")
async def set_pin(request: Request, viewer: SignedIn) -> Response:
    _person(viewer)
    form = await forms.read(request)
    secret = form.values.pop("secret", "")
    new_pin = form.values.pop("new_pin", "")
    again = form.values.pop("new_pin_again", "")
    if new_pin != again:
        form.fail("new_pin_again", _("The two PINs are not the same."))
    if form.ok:
        try:
            await run_in_threadpool(
                pins.set_pin,
                session.platform(request),
                viewer,
                secret,
                new_pin,
                _client(request),
                request.cookies.get(session.DEVICE),
            )
        except RefusalError as refusal:
            form.refusal(refusal, {"pin": "new_pin", "secret": "secret"})
        else:
            return RedirectResponse("/pin?done=1", status_code=303)
    has = await run_in_threadpool(pins.has_pin, session.platform(request), viewer)
    return render.page(
        request, "pin.html", 400, values={}, errors=form.errors, has_pin=has, done=False
    )
