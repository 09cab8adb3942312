"""The front page, signing in and out, and the language switch."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.platform import logins, sms
from tindahan.web import forms, i18n, render, session
from tindahan.web.router import router as make_router
from tindahan.web.session import MaybeViewer

router = make_router()


@router.get("/")
async def front(request: Request, viewer: MaybeViewer) -> Response:
    if viewer is not None:
        return RedirectResponse(session.home_of(viewer), status_code=303)
    return render.page(request, "front.html")


@router.get("/signin")
async def signin_form(
    request: Request, viewer: MaybeViewer, next: str = "", reset: str = ""
) -> Response:
    if viewer is not None:
        return RedirectResponse(session.safe_next(next, session.home_of(viewer)), 303)
    return render.page(
        request, "signin.html", next=session.safe_next(next, ""), was_reset=reset == "1"
    )


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await forms.read(request)
    phone = form.text("phone", max_length=32)
    secret = form.values.get("secret", "")
    if not secret:
        form.fail("secret", i18n.gettext("Please enter your PIN."))
    target = session.safe_next(form.values.get("next"), "")
    status = 400
    headers: dict[str, str] = {}
    form.values.pop("secret", None)  # never sent back to the browser
    if form.ok and phone:
        try:
            made = await run_in_threadpool(
                logins.sign_in,
                session.platform(request),
                phone,
                secret,
                request.client.host if request.client else "unknown",
                request.cookies.get(session.DEVICE),
            )
        except RefusalError as refusal:
            form.refusal(refusal, {"phone": "phone", "secret": "secret"})
            if isinstance(refusal, logins.SignInThrottledError):
                status, headers = 429, {"Retry-After": str(refusal.retry_after)}
            elif refusal.category is Category.AUTHENTICATION:
                status = 401
        else:
            request.state.viewer = made.viewer
            home = target or session.home_of(made.viewer)
            response = RedirectResponse(home, status_code=303)
            session.set_session(request, response, made.session_secret)
            session.set_device(request, response, made.device_secret)
            return response
    page = render.page(
        request, "signin.html", status, values=form.values, errors=form.errors, next=target
    )
    page.headers.update(headers)
    return page


@router.post("/signout")
async def signout(request: Request) -> Response:
    await run_in_threadpool(
        logins.sign_out, session.platform(request), request.cookies.get(session.SESSION)
    )
    response = RedirectResponse("/", status_code=303)
    session.clear_session(request, response)
    return response


@router.post("/lang")
async def language(request: Request, viewer: MaybeViewer) -> Response:
    """The language of the pages (a cookie), and for a signed-in person also of their SMS
    (``parties.language``): one choice for both, made where they see it."""
    form = await forms.read(request)
    chosen = form.values.get("lang", "")
    back = session.safe_next(form.values.get("next"), "/")
    response = RedirectResponse(back, status_code=303)
    if chosen in i18n.LOCALES:
        if viewer is not None and viewer.party_id is not None:
            party_id = viewer.party_id
            await run_in_threadpool(
                session.platform(request).run, lambda u: sms.set_language(u, party_id, chosen)
            )
        options = session.cookie_options(request)
        response.set_cookie(session.LANG, chosen, max_age=365 * 86_400, **options)  # type: ignore[arg-type]
    return response
