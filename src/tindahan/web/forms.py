"""Forms: read what was typed, check it, and say what is wrong next to the field.

A ``Form`` holds the submitted values (to show them again, never lost) and the errors by
field. The checks here are about the *text* (is it a number, an amount, a choice offered);
the rules themselves stay in the services, whose refusals (``RefusalError`` with a
``param``) land on the field the param names. ``submit`` runs a use case once per
idempotency key (the hidden ``idempotency_key`` field): a form sent twice, by a double tap
or a resubmitted page, does its work once and answers the same both times.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.money.errors import MoneyError
from tindahan.money.text import parse_money
from tindahan.services.payments import two_store
from tindahan.services.platform import idempotency
from tindahan.services.platform.logins import Viewer
from tindahan.services.unit import Unit
from tindahan.web import i18n, messages
from tindahan.web.i18n import _
from tindahan.web.session import CSRF_FIELD, platform

T = TypeVar("T")
KEY_FIELD = "idempotency_key"
FORM_ERROR = "_form"
_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class Form:
    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.errors: dict[str, str] = {}

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def text(self, name: str, *, required: bool = True, max_length: int = 200) -> str | None:
        value = " ".join(self.values.get(name, "").split())
        if not value:
            if required:
                self.fail(name, _("Please fill this in."))
            return None
        if len(value) > max_length:
            self.fail(name, _("At most {n} characters.").format(n=max_length))
            return None
        return value

    def money(self, name: str, *, required: bool = True, allow_zero: bool = False) -> int | None:
        """An amount in pesos as people type it (``125``, ``125.50``, ``₱1,250.00``) →
        centavos. More than two decimals is an error, never rounded."""
        raw = self.values.get(name, "").strip()
        if not raw:
            if required:
                self.fail(name, _("Please enter an amount."))
            return None
        try:
            amount = parse_money(raw, default_currency="PHP", locale=i18n.locale())
        except MoneyError:
            self.fail(name, _("Enter an amount in pesos, like 125 or 125.50."))
            return None
        if amount.currency != "PHP":
            self.fail(name, _("Amounts here are in pesos (PHP)."))
            return None
        if amount.amount_minor < 0 or (amount.amount_minor == 0 and not allow_zero):
            self.fail(name, _("The amount must be more than zero."))
            return None
        if amount.amount_minor > limits.MAX_AMOUNT_MINOR:
            self.fail(name, _("That amount is too large."))
            return None
        return amount.amount_minor

    def whole(self, name: str, *, low: int, high: int, required: bool = True) -> int | None:
        raw = self.values.get(name, "").strip()
        if not raw:
            if required:
                self.fail(name, _("Please fill this in."))
            return None
        if not raw.isdigit() or len(raw) > 12:
            self.fail(name, _("Enter a whole number."))
            return None
        value = int(raw)
        if not low <= value <= high:
            self.fail(name, _("Enter a number from {low} to {high}.").format(low=low, high=high))
            return None
        return value

    def choice(self, name: str, options: Mapping[str, str] | list[str]) -> str | None:
        value = self.values.get(name, "")
        if value not in options:
            self.fail(name, _("Please choose one of the options."))
            return None
        return value

    def refusal(self, refusal: RefusalError, fields: Mapping[str, str] | None = None) -> None:
        """A service's refusal, next to the field its ``param`` names (``fields`` maps a
        param to a form field), else at the top of the form."""
        param = refusal.param or ""
        field = (fields or {}).get(param, param if param in self.values else FORM_ERROR)
        self.fail(field, messages.refusal_text(refusal))


async def read(request: Request) -> Form:
    """The submitted form (already parsed by the CSRF check), text fields only."""
    data = await request.form()
    values = {k: v for k, v in data.items() if isinstance(v, str) and k != CSRF_FIELD}
    return Form(values)


def submit(
    request: Request,
    viewer: Viewer,
    form: Form,
    work: Callable[[Unit], Mapping[str, Any]],
    reserve: two_store.Reserve[Any] | None = None,
    record: str = "payment",
) -> dict[str, Any]:
    """Run ``work`` once for the form's idempotency key (in a worker thread's call: this is
    blocking). A refusal comes back as ``RefusalError`` — the first time and on a replay.
    ``reserve``: a payment's part of transaction A on a TigerBeetle ledger; there the key
    runs through the two-store order with it (``two_store.run``, as the API's routes do),
    so a form pays on the cluster by the same service, not a copy; ``record``: whose record
    the reserved view is (``two_store.RECORDS``; a bank transfer's for the scan page)."""
    key = form.values.get(KEY_FIELD, "")
    if not _KEY.match(key):
        raise RefusalError(
            Category.INVALID, "form_expired", "this form is out of date: reload it", None
        )
    sent = {k: v for k, v in sorted(form.values.items()) if k != KEY_FIELD}
    fingerprint = idempotency.request_hash("POST", request.url.path, sent)
    made = platform(request)
    args = (viewer.caller.scope, "web:" + key, fingerprint)
    render = _stored_answer
    if reserve is not None and two_store.applies(made):
        response = two_store.run(made, *args, reserve, render, _stored_refusal, record)
    else:
        response = idempotency.run(made, *args, work, render, _stored_refusal)
    if response.status_code != 200:
        error = response.body["error"]
        raise RefusalError(Category(error["type"]), error["code"], error["message"], error["param"])
    return response.body


def _stored_answer(result: Mapping[str, Any]) -> idempotency.Response:
    return idempotency.Response(200, dict(result))


def _stored_refusal(refusal: RefusalError) -> idempotency.Response:
    body = {
        "error": {
            "type": refusal.category.value,
            "code": refusal.code,
            "message": refusal.message,
            "param": refusal.param,
        }
    }
    return idempotency.Response(400, body)


async def run_submit(
    request: Request,
    viewer: Viewer,
    form: Form,
    work: Callable[[Unit], Mapping[str, Any]],
    reserve: two_store.Reserve[Any] | None = None,
    record: str = "payment",
) -> dict[str, Any]:
    return await run_in_threadpool(submit, request, viewer, form, work, reserve, record)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
