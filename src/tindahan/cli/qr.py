"""``tindahan qr decode`` and ``tindahan qr encode``: the codec on the command line.

The contract outside checks rely on (issue 4): ``decode`` exits 0 and prints the tree when
the payload can be read (warnings on stderr); ``--json`` prints one JSON object whose keys
are the two-digit top-level ids, with template values as objects keyed by sub-id; a payload
that must be rejected (or, with ``--strict``, any conformance failure) exits 2 with one line
on stderr naming the tag and the problem.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console

from tindahan import qr
from tindahan.cli.errors import fail, friendly

# money (Babel) and the image writer (segno) are imported by `encode` alone: `decode` needs
# only the codec (issue 18: the command line starts in well under half a second).

app = typer.Typer(help="QR Ph / EMVCo merchant-presented QR codes: decode, encode, render.")
err = Console(stderr=True, soft_wrap=True, highlight=False)

NAMES = {
    "00": "Payload Format Indicator",
    "01": "Point of Initiation Method",
    "52": "Merchant Category Code",
    "53": "Transaction Currency",
    "54": "Transaction Amount",
    "55": "Tip or Convenience Indicator",
    "56": "Convenience Fee Fixed",
    "57": "Convenience Fee Percentage",
    "58": "Country Code",
    "59": "Merchant Name",
    "60": "Merchant City",
    "61": "Postal Code",
    "62": "Additional Data Field Template",
    "63": "CRC",
    "64": "Merchant Information — Language Template",
}


def _name(tag: str) -> str:
    if tag in NAMES:
        return NAMES[tag]
    number = int(tag)
    if 2 <= number <= 51:
        return "Merchant Account Information"
    if 80 <= number <= 99:
        return "Unreserved Template"
    return "RFU"


def as_json(payload: qr.Payload) -> dict[str, Any]:
    return {
        tag: dict(value.sub) if isinstance(value, qr.Template) else value
        for tag, value in payload.objects.items()
    }


@app.command("decode")
def decode(
    payload: Annotated[str, typer.Argument(help="The QR payload text")],
    as_object: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Full EMVCo conformance")] = False,
) -> None:
    """Read a payload: its objects, templates and what a wallet would tolerate."""
    try:
        tree, warnings = qr.decode(payload, strict=strict)
    except qr.QrError as exc:
        fail(str(exc))
        return
    for warning in warnings:
        err.print(f"warning: {warning}", markup=False)
    if as_object:
        print(json.dumps(as_json(tree), ensure_ascii=False))
        return
    for tag, value in tree.objects.items():
        if isinstance(value, qr.Template):
            print(f"{tag} {_name(tag)}")
            for sub, text in value.sub.items():
                print(f"   {sub} {text}")
        else:
            print(f"{tag} {_name(tag)}: {value}")


@app.command("encode")
@friendly
def encode(
    name: Annotated[str, typer.Option("--name", help="59 merchant name (≤ 25)")],
    city: Annotated[str, typer.Option("--city", help="60 merchant city (≤ 15)")],
    mcc: Annotated[str, typer.Option("--mcc", help="52 merchant category code")] = "5411",
    guid: Annotated[str, typer.Option("--guid", help="account template GUID")] = "ph.ppmi.p2m",
    template_id: Annotated[str, typer.Option("--template-id", help="26-51")] = "28",
    acquirer: Annotated[str | None, typer.Option("--acquirer", help="sub-01: BIC")] = None,
    merchant_id: Annotated[str | None, typer.Option("--merchant-id", help="sub-03")] = None,
    account: Annotated[str | None, typer.Option("--account", help="sub-04")] = None,
    amount: Annotated[str | None, typer.Option("--amount", help="54, e.g. 125.50")] = None,
    currency: Annotated[str, typer.Option("--currency", help="53, ISO 4217 numeric")] = "608",
    country: Annotated[str, typer.Option("--country", help="58")] = "PH",
    postal_code: Annotated[str | None, typer.Option("--postal-code", help="61")] = None,
    tip: Annotated[str | None, typer.Option("--tip", help="55: 01 prompt, 02 fixed, 03 %")] = None,
    fee_fixed: Annotated[str | None, typer.Option("--fee-fixed", help="56, e.g. 5.00")] = None,
    fee_percent: Annotated[
        str | None, typer.Option("--fee-percent", help="57, e.g. 2.5 (percent)")
    ] = None,
    bill_number: Annotated[str | None, typer.Option("--bill-number", help="62.01")] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="62.05")] = None,
    terminal: Annotated[str | None, typer.Option("--terminal", help="62.07")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="62.08")] = None,
    output: Annotated[str, typer.Option("--format", help="text, svg or png")] = "text",
    out: Annotated[Path | None, typer.Option("--out", help="write here, not stdout")] = None,
) -> None:
    """Write a payload (static without --amount, dynamic with one); text, SVG or PNG."""
    from tindahan.services.qr import codes as qrcodes

    if output not in qrcodes.FORMATS:
        fail(f"--format is one of {', '.join(qrcodes.FORMATS)}, not {output!r}")
    fields = {k: v for k, v in (("01", acquirer), ("03", merchant_id), ("04", account)) if v}
    extra = qr.AdditionalData(
        bill_number=bill_number, reference_label=reference, terminal_label=terminal, purpose=purpose
    )
    description = qr.QrDescription(
        accounts=(qr.AccountTemplate(template_id, guid, fields),),
        mcc=mcc,
        name=name,
        city=city,
        currency=currency,
        country=country,
        amount_minor=_amount(amount) if amount is not None else None,
        tip=_tip(tip),
        fee_fixed_minor=_amount(fee_fixed) if fee_fixed is not None else None,
        fee_percentage_hundredths=_hundredths(fee_percent) if fee_percent is not None else None,
        postal_code=postal_code,
        additional=extra if any((bill_number, reference, terminal, purpose)) else None,
    )
    try:
        payload = qr.encode(description)
    except qr.QrError as exc:
        fail(_blame(exc, template_id))
        return
    _write(payload, output, out, name)


#: The option that sets each tag ``encode`` writes, so a refusal names what was typed.
OPTIONS = {
    "52": "--mcc",
    "53": "--currency",
    "54": "--amount",
    "55": "--tip",
    "56": "--fee-fixed",
    "57": "--fee-percent",
    "58": "--country",
    "59": "--name",
    "60": "--city",
    "61": "--postal-code",
    "62.01": "--bill-number",
    "62.05": "--reference",
    "62.07": "--terminal",
    "62.08": "--purpose",
}
ACCOUNT_OPTIONS = {
    "": "--template-id",
    "00": "--guid",
    "01": "--acquirer",
    "03": "--merchant-id",
    "04": "--account",
}


def _blame(exc: qr.QrError, template_id: str) -> str:
    """``--name (tag 59): value must not be empty``: the option first, the tag beside it."""
    tag = exc.tag or ""
    head, _, sub = tag.partition(".")
    option = OPTIONS.get(tag)
    if option is None and head == template_id:
        option = ACCOUNT_OPTIONS.get(sub)
    if option is None:
        return str(exc)
    return f"{option} (tag {tag}): {exc.message}"


def _tip(text: str | None) -> Literal["01", "02", "03"] | None:
    if text is None:
        return None
    known: dict[str, Literal["01", "02", "03"]] = {"01": "01", "02": "02", "03": "03"}
    if text in known:
        return known[text]
    fail(f"--tip is 01 (prompt), 02 (fixed fee) or 03 (percentage fee), not {text!r}")
    raise AssertionError("unreachable")


def _hundredths(text: str) -> int:
    """``2.5`` percent as 250 hundredths of a percent, exactly (no binary fractions)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    scaled = value * 100
    if not value.is_finite() or scaled != scaled.to_integral_value():
        fail(f"--fee-percent is a percentage with at most two decimals, not {text!r}")
    return int(scaled)


def _amount(text: str) -> int:
    from tindahan.money import MoneyError, parse_money

    try:
        return parse_money(text, default_currency="PHP").amount_minor
    except MoneyError as exc:
        fail(f"--amount: {exc}")
        raise AssertionError("unreachable") from exc


def _write(payload: str, output: str, out: Path | None, caption: str) -> None:
    from tindahan.services.qr import codes as qrcodes

    if output == "text":
        data = (payload + "\n").encode()
    elif output == "svg":
        data = qrcodes.svg(payload, caption)
    else:
        if out is None:
            fail("--format png needs --out FILE")
        data = qrcodes.png(payload)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        fail(f"--out: cannot write {str(out)!r}: {exc.strerror or exc}")
