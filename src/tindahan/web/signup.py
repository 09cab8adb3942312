"""Signing up by oneself and resetting a forgotten PIN, with a one-time code by SMS
(``services.platform.signup`` and ``codes``; issue 24, item 3).

Two steps each, on the same address:

* ``/signup``: the mobile number and name → a code is sent; the next page asks for the code
  and a PIN twice (and can send the code again after the cool-down) → the customer exists,
  signed in, in the language of the page (their SMS follow it too).
* ``/reset``: the mobile number → a code is sent if the number has a login (the page says
  the same either way); the next page asks for the code and the new PIN twice → back to
  signing in, every other session ended.

The number and name travel to the second step in hidden fields (not in the address, which
ends up in logs). PINs and codes are never sent back to the browser. Too many codes asked or
checked from one address, or for one number, answer 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.platform import codes, signup
from tindahan.web import forms, i18n, render, session
from tindahan.web.messages import refusal_text
from tindahan.web.router import router as make_router
from tindahan.web.session import MaybeViewer

router = make_router()
_FIELDS = {"phone": "phone", "name": "name", "code": "code", "pin": "pin", "pin_again": "pin_again"}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _status(refusal: RefusalError) -> tuple[int, dict[str, str]]:
    if isinstance(refusal, codes.CodeThrottledError | codes.ResendTooSoonError):
        return 429, {"Retry-After": str(refusal.retry_after)}
    if refusal.category is Category.AUTHENTICATION:
        return 401, {}
    if refusal.category is Category.CONFLICT:
        return 409, {}
    return 400, {}


def _page(
    request: Request, template: str, status: int, headers: dict[str, str], **context: Any
) -> Response:
    page = render.page(request, template, status, minutes=limits.OTP_TTL_S // 60, **context)
    page.headers.update(headers)
    return page


# --- sign-up -----------------------------------------------------------------------------------
@router.get("/signup")
async def signup_form(request: Request, viewer: MaybeViewer) -> Response:
    if viewer is not None:
        return RedirectResponse(session.home_of(viewer), status_code=303)
    return render.page(request, "signup.html", values={}, errors={})


@router.post("/signup")
async def signup_send(request: Request) -> Response:
    """Send (or send again) the sign-up code; then the page that asks for it."""
    form = await forms.read(request)
    phone = form.text("phone", max_length=32) or ""
    name = form.text("name", max_length=limits.NAME_MAX_LENGTH) or ""
    again = form.values.get("again") == "1"
    status = 200
    headers: dict[str, str] = {}
    if form.ok:
        try:
            number, display = signup.check_details(phone, name)
            await run_in_threadpool(
                codes.send,
                session.platform(request),
                number,
                "signup",
                _client(request),
                i18n.language(),
            )
        except RefusalError as refusal:
            status, headers = _status(refusal)
            if again and isinstance(refusal, codes.ResendTooSoonError | codes.CodeThrottledError):
                form.fail(forms.FORM_ERROR, refusal_text(refusal))
                values = {"phone": number, "name": display}
                return _page(
                    request,
                    "signup_code.html",
                    status,
                    headers,
                    values=values,
                    errors=form.errors,
                    sent=False,
                )
            form.refusal(refusal, _FIELDS)
        else:
            values = {"phone": number, "name": display}
            return _page(request, "signup_code.html", 200, {}, values=values, errors={}, sent=True)
    return _page(
        request, "signup.html", status or 400, headers, values=form.values, errors=form.errors
    )


@router.post("/signup/verify")
async def signup_verify(request: Request) -> Response:
    form = await forms.read(request)
    code = form.values.pop("code", "")
    pin = form.values.pop("pin", "")
    pin_again = form.values.pop("pin_again", "")
    phone = form.values.get("phone", "")
    name = form.values.get("name", "")
    try:
        made = await run_in_threadpool(
            lambda: signup.sign_up(
                session.platform(request),
                phone=phone,
                name=name,
                code=code,
                pin=pin,
                pin_again=pin_again,
                client=_client(request),
                language=i18n.language(),
                device=request.cookies.get(session.DEVICE),
            )
        )
    except RefusalError as refusal:
        status, headers = _status(refusal)
        form.refusal(refusal, _FIELDS)
        return _page(
            request,
            "signup_code.html",
            status,
            headers,
            values=form.values,
            errors=form.errors,
            sent=False,
        )
    request.state.viewer = made.viewer
    response = RedirectResponse(session.home_of(made.viewer), status_code=303)
    session.set_session(request, response, made.session_secret)
    session.set_device(request, response, made.device_secret)
    return response


# --- PIN reset ---------------------------------------------------------------------------------
@router.get("/reset")
async def reset_form(request: Request) -> Response:
    return render.page(request, "reset.html", values={}, errors={})


@router.post("/reset")
async def reset_send(request: Request) -> Response:
    form = await forms.read(request)
    phone = form.text("phone", max_length=32) or ""
    again = form.values.get("again") == "1"
    if form.ok:
        try:
            sent = await run_in_threadpool(
                codes.send,
                session.platform(request),
                phone,
                "reset",
                _client(request),
                i18n.language(),
            )
        except RefusalError as refusal:
            status, headers = _status(refusal)
            if again and isinstance(refusal, codes.ResendTooSoonError | codes.CodeThrottledError):
                form.fail(forms.FORM_ERROR, refusal_text(refusal))
                return _page(
                    request,
                    "reset_code.html",
                    status,
                    headers,
                    values={"phone": phone},
                    errors=form.errors,
                    sent=False,
                )
            form.refusal(refusal, _FIELDS)
            return _page(
                request, "reset.html", status, headers, values=form.values, errors=form.errors
            )
        return _page(
            request, "reset_code.html", 200, {}, values={"phone": sent.phone}, errors={}, sent=True
        )
    return _page(request, "reset.html", 400, {}, values=form.values, errors=form.errors)


@router.post("/reset/verify")
async def reset_verify(request: Request) -> Response:
    form = await forms.read(request)
    code = form.values.pop("code", "")
    pin = form.values.pop("pin", "")
    pin_again = form.values.pop("pin_again", "")
    phone = form.values.get("phone", "")
    try:
        await run_in_threadpool(
            lambda: signup.reset_pin(
                session.platform(request),
                phone=phone,
                code=code,
                pin=pin,
                pin_again=pin_again,
                client=_client(request),
            )
        )
    except RefusalError as refusal:
        status, headers = _status(refusal)
        form.refusal(refusal, _FIELDS)
        return _page(
            request,
            "reset_code.html",
            status,
            headers,
            values=form.values,
            errors=form.errors,
            sent=False,
        )
    return RedirectResponse("/signin?reset=1", status_code=303)
