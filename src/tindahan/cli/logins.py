"""``tindahan logins …``: sign-ins to the web app (a phone number and a PIN or password)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from tindahan.cli.errors import friendly
from tindahan.cli.ledger import DbOption

app = typer.Typer(help="Web sign-ins: a phone number and a PIN or password.")
out = Console(highlight=False, soft_wrap=True)


def _read_secret(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    secret: str = typer.prompt(
        "PIN or password", hide_input=True, confirmation_prompt=True, err=True
    )
    return secret


@app.command("create")
@friendly
def create(
    phone: Annotated[str, typer.Option("--phone", help="The mobile number to sign in with")],
    db: DbOption = None,
    operator: Annotated[
        bool, typer.Option("--operator", help="A login for operator staff (needs --name)")
    ] = False,
    name: Annotated[str | None, typer.Option("--name", help="Staff display name")] = None,
    party: Annotated[str | None, typer.Option("--party", help="A login for this party id")] = None,
    secret_stdin: Annotated[
        bool,
        typer.Option("--secret-stdin", help="Read the PIN or password from stdin, not a prompt"),
    ] = False,
) -> None:
    """Make a login; the PIN or password is asked twice, hidden (or read from stdin)."""
    from tindahan.services.platform import logins as login_service
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.unit import Platform
    from tindahan.store.database import connect

    if operator == (party is not None):
        raise typer.BadParameter("give exactly one of --operator and --party ID")
    if operator and name is None:
        raise typer.BadParameter("operator staff need --name")
    secret = _read_secret(secret_stdin)
    login_service.check_secret(secret)  # refused before the database is opened
    with connect(db, create=False) as database:
        platform = Platform(database, open_vault(database))
        view = platform.run(
            lambda u: login_service.create(
                u, None, party_id=party, phone=phone, secret=secret, name=name
            )
        )
    who = "operator staff" if view["operator"] else f"party {view['party_id']}"
    out.print(f"login {view['id']} for {who} ({view['name']}), phone ending {view['phone_last4']}")
