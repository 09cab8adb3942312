"""Where an order goes, as the pages ask for it: the buyer's address book and the address
fields of the checkout form and the book page.

The checks are the domain's (``commerce.addresses.problems``): every wrong field is shown
at once, each beside its field, in the reader's language (the code picks the sentence). A
refusal from the service (the entry was removed meanwhile, the book is full) lands on the
field its param names, else above the form.
"""

from __future__ import annotations

from typing import Any

from tindahan.commerce import addresses as rules
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import addresses
from tindahan.services.commerce.addresses import Delivery
from tindahan.web import forms
from tindahan.web.i18n import _
from tindahan.web.messages import refusal_text

NEW = "new"
CHOICE = "address_id"


def labels() -> list[tuple[str, str, str, str | None]]:
    """(field, label, autocomplete, inputmode) in the order a courier reads them."""
    return [
        ("recipient", _("Recipient's name"), "name", None),
        ("phone", _("Mobile number"), "tel", "tel"),
        ("street", _("House number, street, building"), "address-line1", None),
        ("barangay", _("Barangay"), "address-line2", None),
        ("city", _("City or municipality"), "address-level2", None),
        ("province", _("Province"), "address-level1", None),
        ("postal_code", _("Postal code"), "postal-code", "numeric"),
        ("notes", _("Landmark notes (optional)"), "off", None),
    ]


def problem_text(code: str, suggestions: tuple[str, ...] = ()) -> str:
    """A problem's sentence in the reader's language, with the nearest official names."""
    text = {
        "parameter_missing": _("Please fill this in."),
        "phone_invalid": _("Enter a Philippine mobile number, like 0917 123 4567."),
        "postal_code_invalid": _("A postal code is four digits, like 1805."),
        "barangay_unknown": _("We could not find this barangay in that city or municipality."),
        "barangay_ambiguous": _("That city has more than one barangay by this name."),
        "city_unknown": _("We could not find this city or municipality in that province."),
        "province_unknown": _("We could not find this province."),
        "province_needed": _("More than one place has this name: add the province."),
        "postal_code_mismatch": _("This postal code belongs to another city or municipality."),
    }.get(code, _("Please shorten this or take out unusual characters."))
    if suggestions:
        names = _(" or ").join(suggestions)
        text = text + " " + _("Did you mean {names}?").format(names=names)
    return text


def typed(form: forms.Form) -> dict[str, object] | None:
    """The address typed into the form, checked field by field against the PSGC list too
    (None: errors were shown, each with the nearest official names where there are some)."""
    raw = {field: form.values.get(field, "") for field in rules.FIELDS}
    found = rules.problems(raw)
    for problem in found:
        form.fail(problem.field, problem_text(problem.code, problem.suggestions))
    return None if found else dict(raw)


def chosen(form: forms.Form, book: list[dict[str, Any]]) -> Delivery | None:
    """The checkout's delivery: a book entry, or a new address (saved to the book)."""
    pick = form.values.get(CHOICE, NEW if not book else "")
    if pick == NEW:
        raw = typed(form)
        return None if raw is None else Delivery(address=raw)
    if pick not in {entry["id"] for entry in book}:
        form.fail(CHOICE, _("Choose where to deliver, or add a new address."))
        return None
    return Delivery(address_id=pick)


def place(form: forms.Form, refusal: RefusalError) -> bool:
    """A service refusal about the address, beside its field; False if it is not one."""
    param = refusal.param or ""
    if param.startswith("address."):
        form.fail(param.removeprefix("address."), problem_text(refusal.code))
        return True
    if param in ("address_id", "address"):
        form.fail(CHOICE, refusal_text(refusal))
        return True
    return False


def book_of(unit: Any, viewer: Any) -> list[dict[str, Any]]:
    """The signed-in buyer's active addresses (none for anyone else)."""
    if viewer is None or viewer.kind != "customer":
        return []
    return list(addresses.list_addresses(unit, viewer.caller, 100)["data"])
