"""``deskhand replay``: what deskhand would have done with a PSA export's resolved tickets, in
shadow, with no side effect (deskhand.intake.replay)."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from deskhand.cli.analyze import FormatName
from deskhand.cli.common import err, user_errors
from deskhand.cli.runtime import open_runtime

EXAMPLES = 3  # tickets shown under each category and specialist


def replay(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="Export files, or folders of them (CSV, CSV.gz, XLSX, JSON)."),
    ],
    tenant: Annotated[str, typer.Option(help="The tenant whose directory the plans are for.")],
    format: Annotated[
        FormatName | None,
        typer.Option("--format", help="The PSA the export comes from (default: from the headers)."),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", metavar="FIELD=COLUMN", help="field=column, repeatable."),
    ] = None,
    json_: Annotated[
        bool, typer.Option("--json", help="Print one JSON document to stdout and nothing else.")
    ] = False,
) -> None:
    """Replay the resolved tickets of a PSA export through triage and the specialists, in
    shadow: what deskhand would have planned, asked or escalated, and the technician minutes
    those tickets cost. Nothing is stored and nothing is changed anywhere."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from deskhand.history.formats import parse_map
    from deskhand.intake.replay import replay as run_replay

    with user_errors():
        rt = open_runtime(ctx)
        with Progress(
            TextColumn("replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as progress:
            task = progress.add_task("replaying", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = run_replay(
                rt,
                tenant,
                paths,
                mapping=parse_map(map_ or []),
                forced_format=format.value if format else None,
                progress=advance,
            )
        if json_:
            sys.stdout.write(json.dumps(report.json_document(), indent=2) + "\n")
            return
        console = Console()
        total = sum(t.minutes for t in report.tickets)
        console.print(
            f"[bold]Replay for {escape(tenant)}[/] (shadow: nothing was stored or changed): "
            f"{len(report.tickets)} resolved tickets, {total:,.0f} technician minutes; "
            f"{report.skipped} rows skipped.",
            highlight=False,
        )
        for group in report.groups():
            who = group.specialist or "no specialist"
            counts = ", ".join(f"{n} {o}" for o, n in group.outcomes.items() if n)
            console.print(
                f"\n[bold]{escape(group.category)}[/] — {escape(who)}: {group.tickets} tickets, "
                f"{group.minutes:,.0f} min; {counts}",
                highlight=False,
            )
            shown = [
                t
                for t in report.tickets
                if (t.category, t.specialist) == (group.category, group.specialist)
            ]
            for t in shown[:EXAMPLES]:
                console.print(
                    f"  #{t.number} {t.subject} — {t.outcome}", highlight=False, markup=False
                )
                for step in t.steps:
                    console.print(f"      {step}", highlight=False, markup=False)
                if t.why:
                    console.print(f"      {t.why}", highlight=False, markup=False)
