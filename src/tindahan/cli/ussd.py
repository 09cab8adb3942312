"""``tindahan ussd --phone NUMBER [--url URL]``: a feature phone's USSD session, in a terminal
(issue 24, item 5).

It dials the running server's ``POST /ussd`` as an aggregator would (a new session id, the
service code, the phone number, every input so far joined by ``*``) and shows each answer
as the phone would: a narrow screen, then a prompt for the reply while the answer begins
``CON``; an ``END`` answer ends the session. Ctrl-D or Ctrl-C drops the session, as hanging
up does (nothing half done stays behind: money moves only at a menu's last step). With
``TINDAHAN_USSD_SECRET`` set (or ``--secret``), each request is signed as the server wants.
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated
from urllib.parse import urlencode

import typer
from rich.console import Console

out = Console(highlight=False)
PHONE_WIDTH = 34  # a feature phone's screen is narrow; the text wraps as it would there


def session(
    phone: Annotated[str, typer.Option("--phone", help="The phone number, E.164 (+639…)")],
    url: Annotated[
        str, typer.Option("--url", help="The running server (tindahan serve)")
    ] = "http://127.0.0.1:8000",
    code: Annotated[str, typer.Option("--code", help="The service code dialled")] = "*143#",
    secret: Annotated[
        str | None,
        typer.Option("--secret", envvar="TINDAHAN_USSD_SECRET", help="Sign requests with it"),
    ] = None,
) -> None:
    """Dial the USSD menu as a feature phone: answer each screen, Ctrl-D to hang up."""
    import httpx
    from rich.panel import Panel

    from tindahan.webhooks.signature import sign

    session_id = "sim-" + secrets.token_hex(8)
    typed: list[str] = []
    out.print(f"Dialling {code} from {phone}…")
    with httpx.Client(base_url=url.rstrip("/"), timeout=30) as client:
        while True:
            form = {
                "sessionId": session_id,
                "serviceCode": code,
                "phoneNumber": phone,
                "text": "*".join(typed),
            }
            body = urlencode(form)
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if secret:
                headers["Tindahan-Signature"] = sign(secret, int(time.time()), body.encode())
            try:
                response = client.post("/ussd", content=body.encode(), headers=headers)
            except httpx.HTTPError as exc:
                out.print(f"[red]No answer from {url}: {exc}[/red]")
                raise typer.Exit(1) from None
            text = response.text
            ended = not text.startswith("CON ")
            screen = text[4:] if text[:4] in ("CON ", "END ") else text
            title = "session ended" if ended else code
            out.print(Panel(screen, title=title, width=PHONE_WIDTH))
            if ended:
                raise typer.Exit(0 if response.status_code == 200 else 1)
            try:
                reply = input("> ")
            except (EOFError, KeyboardInterrupt):
                out.print("\nHung up: the session is dropped.")
                raise typer.Exit(0) from None
            typed.append(reply.strip())
