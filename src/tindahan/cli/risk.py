"""``tindahan risk``: run the AML and fraud rules over a CSV of movements; screen a name.

The contract outside checks rely on (issue 20)::

    tindahan risk evaluate --events FILE.csv [--rules RULES.toml] [--json]

reads the movements (columns ``id, occurred_at, kind, sender, receiver, amount_minor,
currency``; see ``tindahan.risk.events``), runs the rule set (the shipped one unless
``--rules`` names another) in time order, and prints a summary, or with ``--json`` exactly
one JSON object on stdout: ``{"alerts": [{"id", "rule", "decision"}...], "flagged_ids":
[...], "movements": N}`` — ``id`` is the movement's, ``flagged_ids`` the movements that got
review or block, in time order. A bad file or rules file: one line on stderr naming the
line and field, exit 2, nothing printed on stdout.

``tindahan risk screen NAME [--un FILE.xml] [--watchlist FILE.csv] [--threshold 85]
[--json]`` prints the candidate entries with their score and the name that matched.

``tindahan risk backtest --from DATE --to DATE [--rules FILE] [--json] [--db URL]`` replays
the ledger's movements through a rule set (``services.risk.backtest``) and prints alerts per
rule, parties hit and the money that would have been held or blocked; with ``--json`` one
object: ``from, to, movements, alerts_per_rule, parties_hit, held_minor, blocked_minor``.

``tindahan risk report --type ctr|str --from DATE --to DATE [--out FILE] [--db URL]`` writes
covered or suspicious transaction reports as CSV (``risk.reports.COLUMNS``).

``tindahan risk alerts [--status open] [--json]`` lists the queue; ``tindahan risk approve
ALERT --as NAME`` and ``tindahan risk decide ALERT release|return|close --as NAME [--note TEXT]``
decide a hold (four eyes above ``limits.RISK_FOUR_EYES_MINOR``: approver and decider differ).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tindahan.cli.errors import fail, friendly
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.risk import screening

app = typer.Typer(help="Risk and compliance: AML and fraud rules, screening.")
#: The CLI acts as the operator (it runs where the database is).
OPERATOR = Caller("cli", None, frozenset(SCOPES))
out = Console(highlight=False, soft_wrap=True)

EventsOption = Annotated[
    Path, typer.Option("--events", help="A CSV of movements (id, occurred_at, kind, ...).")
]
RulesOption = Annotated[
    Path | None, typer.Option("--rules", help="A rules file (TOML); the shipped rules if absent.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]

if TYPE_CHECKING:
    from tindahan.risk import ruleset
    from tindahan.risk.engine import Verdict


def rules_from(path: Path | None) -> ruleset.RuleSet:
    from tindahan.risk import ruleset

    return ruleset.default() if path is None else ruleset.load(path)


@app.command("evaluate")
@friendly
def evaluate(
    events_file: EventsOption, rules: RulesOption = None, as_json: JsonOption = False
) -> None:
    """Run the rules over a CSV of movements: alerts, and the movements held or blocked."""
    from tindahan.risk import events
    from tindahan.risk.engine import Engine
    from tindahan.risk.errors import RiskInputError

    try:
        rule_set = rules_from(rules)
        movements = events.load(events_file)
    except RiskInputError as exc:
        fail(str(exc))
        return
    verdicts = Engine(rule_set).run(movements)
    if as_json:
        typer.echo(json.dumps(report(verdicts)))
        return
    _summary(verdicts)


def report(verdicts: list[Verdict]) -> dict[str, object]:
    from tindahan.risk.movement import Decision

    alerts = [
        {"id": a.movement_id, "rule": a.rule, "decision": a.decision.value}
        for v in verdicts
        for a in v.alerts
    ]
    flagged = [v.movement_id for v in verdicts if v.decision is not Decision.ALLOW]
    return {"alerts": alerts, "flagged_ids": flagged, "movements": len(verdicts)}


def _summary(verdicts: list[Verdict]) -> None:
    from rich.table import Table

    from tindahan.risk.movement import Decision

    per_rule = Counter(a.rule for v in verdicts for a in v.alerts)
    decisions = Counter(v.decision.value for v in verdicts)
    table = Table(title=f"{len(verdicts)} movements")
    table.add_column("rule")
    table.add_column("alerts", justify="right")
    for rule, count in sorted(per_rule.items()):
        table.add_row(rule, f"{count:,}")
    out.print(table)
    out.print(", ".join(f"{d.value}: {decisions.get(d.value, 0):,}" for d in Decision))


UnOption = Annotated[
    Path | None, typer.Option("--un", help="The UN Security Council consolidated list (XML).")
]
WatchOption = Annotated[
    Path | None, typer.Option("--watchlist", help="A watch list CSV (id, name[, aliases, kind]).")
]
ThresholdOption = Annotated[
    int, typer.Option("--threshold", min=50, max=100, help="Lowest score that is a hit (0-100).")
]


@app.command("screen")
@friendly
def screen(
    name: Annotated[str, typer.Argument(help="The name to screen.")],
    un: UnOption = None,
    watchlist: WatchOption = None,
    threshold: ThresholdOption = screening.DEFAULT_THRESHOLD,
    as_json: JsonOption = False,
) -> None:
    """Screen a name against the UN list and/or a watch list: candidates with their score."""
    from rich.table import Table

    from tindahan.risk import lists
    from tindahan.risk.errors import RiskInputError

    if un is None and watchlist is None:
        fail("give a list to screen against: --un FILE and/or --watchlist FILE")
    try:
        entries = [
            *(lists.load_un(un) if un else []),
            *(lists.load_watchlist(watchlist) if watchlist else []),
        ]
    except RiskInputError as exc:
        fail(str(exc))
        return
    matches = screening.Index(entries).screen(name, threshold)
    found = [
        {
            "source": m.entry.source,
            "ref": m.entry.ref,
            "kind": m.entry.kind,
            "matched": m.name,
            "score": m.score,
        }
        for m in matches
    ]
    if as_json:
        typer.echo(json.dumps({"name": name, "matches": found}))
        return
    if not found:
        out.print(f"no hit at {threshold} or more among {len(entries):,} entries")
        return
    table = Table(title=f"candidates for {name!r}")
    for column in ("score", "source", "ref", "kind", "matched"):
        table.add_column(column)
    for row in found:
        table.add_row(*(str(row[c]) for c in ("score", "source", "ref", "kind", "matched")))
    out.print(table)


DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $TINDAHAN_DATABASE_URL or ./var)"),
]


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{option} must be a date YYYY-MM-DD, not {value!r}") from None


@app.command("backtest")
@friendly
def backtest(
    start: Annotated[str, typer.Option("--from", help="First Manila day counted (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last Manila day counted (YYYY-MM-DD).")],
    rules: RulesOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Replay the ledger's movements through a rule set: alerts per rule, parties hit, money
    that would have been held or blocked."""
    from rich.table import Table

    from tindahan.risk.errors import RiskInputError
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.risk import backtest as backtest_service
    from tindahan.services.unit import Platform
    from tindahan.store.database import connect

    first, last = _day(start, "--from"), _day(end, "--to")
    try:
        rule_set = rules_from(rules)
    except RiskInputError as exc:
        fail(str(exc))
        return
    with connect(db, create=False) as database:
        platform = Platform(database, open_vault(database))
        result = platform.run(
            lambda u: backtest_service.backtest(u, OPERATOR, first, last, rule_set), write=False
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"{result['movements']:,} movements, {first} to {last}")
    table.add_column("rule")
    table.add_column("alerts", justify="right")
    for rule, count in result["alerts_per_rule"].items():
        table.add_row(rule, f"{count:,}")
    out.print(table)
    out.print(
        f"parties hit: {result['parties_hit']:,}; held: {result['held_minor']:,} centavos; "
        f"blocked: {result['blocked_minor']:,} centavos"
    )


@app.command("report")
@friendly
def report_csv(
    kind: Annotated[str, typer.Option("--type", help="ctr (covered) or str (suspicious).")],
    start: Annotated[str, typer.Option("--from", help="First Manila day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last Manila day (YYYY-MM-DD).")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the CSV here (default: stdout).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Covered or suspicious transaction reports as CSV, one row per transaction, with the
    deadline to file each (five working days)."""
    from tindahan.risk import reports
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.risk import reports as reports_service
    from tindahan.services.unit import Platform
    from tindahan.store.database import connect

    first, last = _day(start, "--from"), _day(end, "--to")
    with connect(db, create=False) as database:
        platform = Platform(database, open_vault(database))
        found = platform.run(
            lambda u: reports_service.rows(u, OPERATOR, kind, first, last), write=False
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=reports.COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(found)
    if out_file is None:
        typer.echo(buffer.getvalue(), nl=False)
        return
    out_file.write_text(buffer.getvalue(), encoding="utf-8")
    out.print(f"{len(found)} {kind.upper()} row(s) written to {out_file}")


AsOption = Annotated[
    str, typer.Option("--as", help="The operator deciding (their name, kept in the audit log).")
]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why (kept in the audit log).")]


def _operator(name: str) -> Caller:
    if not name.strip() or len(name) > 64:
        raise typer.BadParameter("--as names the operator (1 to 64 characters)")
    return Caller(name.strip(), None, frozenset(SCOPES))


@app.command("alerts")
@friendly
def alerts(
    status: Annotated[
        str, typer.Option("--status", help="open, released, returned or closed.")
    ] = "open",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The alert queue: blocks and reviews first, newest first."""
    from rich.table import Table

    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.risk import holds
    from tindahan.services.unit import Platform
    from tindahan.store.database import connect

    if status not in ("open", "released", "returned", "closed"):
        fail("--status is open, released, returned or closed")
    with connect(db, create=False) as database:
        platform = Platform(database, open_vault(database))
        found = platform.run(lambda u: holds.queue(u, OPERATOR, status), write=False)
    keys = ("id", "rule", "decision", "kind", "amount_minor", "party_id", "status", "explanation")
    if as_json:
        typer.echo(json.dumps({"alerts": [{k: a[k] for k in keys} for a in found]}))
        return
    table = Table(title=f"{len(found)} {status} alert(s)")
    for key in keys:
        table.add_column(key)
    for a in found:
        table.add_row(*(str(a[k]) for k in keys))
    out.print(table)


@app.command("approve")
@friendly
def approve(
    alert_id: Annotated[str, typer.Argument(help="The alert's id.")],
    operator: AsOption,
    note: NoteOption = None,
    db: DbOption = None,
) -> None:
    """The first pair of eyes on a large hold (another operator then decides)."""
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.risk import holds
    from tindahan.services.unit import Platform
    from tindahan.store.database import connect

    caller = _operator(operator)
    with connect(db, create=False) as database:
        platform = Platform(database, open_vault(database))
        platform.run(lambda u: holds.approve(u, caller, alert_id, note))
    out.print(f"{alert_id}: approved by {caller.key_id}")


@app.command("decide")
@friendly
def decide(
    alert_id: Annotated[str, typer.Argument(help="The alert's id.")],
    decision: Annotated[str, typer.Argument(help="release, return, or close (no hold).")],
    operator: AsOption,
    note: NoteOption = None,
    db: DbOption = None,
) -> None:
    """Release the held money to its receiver, or return it to its sender."""
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.risk import holds
    from tindahan.services.unit import Platform
    from tindahan.store.database import connect

    caller = _operator(operator)
    with connect(db, create=False) as database:
        platform = Platform(database, open_vault(database))
        done = platform.run(lambda u: holds.decide(u, caller, alert_id, decision, note))
    out.print(f"{alert_id}: {done['status']} by {caller.key_id}")
