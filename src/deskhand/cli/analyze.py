"""``deskhand analyze``: rank ticket categories by total technician minutes."""

import gc
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from deskhand.cli.common import end_at_once, user_errors
from deskhand.errors import DeskhandError
from deskhand.history.days import DEFAULT_DAYS, MAX_DAYS


class FormatName(StrEnum):
    syncro = "syncro"
    connectwise = "connectwise"
    autotask = "autotask"
    halo = "halo"
    generic = "generic"


class MinutesFromName(StrEnum):
    auto = "auto"
    logged = "logged"
    elapsed = "elapsed"
    business_hours = "business-hours"


def analyze(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Export files, or folders of them (CSV, CSV.gz, XLSX, JSON)."),
    ],
    format: Annotated[
        FormatName | None,
        typer.Option("--format", help="The PSA the export comes from (default: from the headers)."),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="FIELD=COLUMN",
            help="field=column, repeatable. Fields: ticket_id, category, subject, body, opened_at, "
            "resolved_at, timestamp (marks an event log), status, tech, customer, minutes, hours, "
            "seconds (a duration in seconds, as ServiceNow writes handle time), started_at, "
            "ended_at.",
        ),
    ] = None,
    dayfirst: Annotated[
        bool | None,
        typer.Option(
            "--dayfirst/--no-dayfirst", help="Dates are day/month (default: detect from the data)."
        ),
    ] = None,
    tz: Annotated[
        str, typer.Option(metavar="ZONE", help="Time zone of times written without one.")
    ] = "UTC",
    minutes_from: Annotated[
        MinutesFromName,
        typer.Option(
            help="logged = time entries; elapsed = opened→resolved (a proxy); business-hours = "
            "elapsed clipped to --business-hours. auto: logged when there are time entries."
        ),
    ] = MinutesFromName.auto,
    business_hours: Annotated[
        str | None,
        typer.Option(
            metavar="HH:MM-HH:MM",
            help="Working hours on weekdays, e.g. 08:00-18:00, for the elapsed proxy.",
        ),
    ] = None,
    recategorize: Annotated[
        bool,
        typer.Option(
            help="Merge the PSA's categories into deskhand's taxonomy and categorise tickets "
            "without a usable one from their text. Default: the PSA's own categories, untouched."
        ),
    ] = False,
    taxonomy: Annotated[
        Path | None, typer.Option(help="An edited copy of the MSP taxonomy (YAML).")
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_DAYS,
            help=f"Window length in days, 1 to {MAX_DAYS} (default {DEFAULT_DAYS}).",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(metavar="DATE", help="Window start, YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(metavar="DATE", help="Window end, YYYY-MM-DD.")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(help="Technician cost per hour, for the automation value.")
    ] = None,
    currency: Annotated[str, typer.Option(help="Currency of --rate.")] = "USD",
    out: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write the HTML report here.")
    ] = None,
    json_: Annotated[
        bool, typer.Option("--json", help="Print one JSON document to stdout and nothing else.")
    ] = False,
    csv: Annotated[
        Path | None, typer.Option("--csv", metavar="FILE", help="Write the category table here.")
    ] = None,
    top: Annotated[int, typer.Option(help="Categories shown in the terminal table.")] = 20,
) -> None:
    """Rank ticket categories by total technician minutes, not ticket count."""
    # numpy's BLAS threads wait for work spinning, taking a core from Polars; the analysis'
    # matrices are small (read when numpy is first imported, below; a user's setting wins).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # Polars' allocator (jemalloc) gives each thread an arena of its own by default, and memory
    # freed by the threads that read the files is then not reused by the others: one arena
    # keeps the peak about 50 MiB lower. Read when Polars is first imported, below, which adds
    # its own settings in front (a parent process that imported Polars passes them on).
    malloc_conf = os.environ.get("_RJEM_MALLOC_CONF", "")
    if "narenas" not in malloc_conf:  # a user's setting wins
        os.environ["_RJEM_MALLOC_CONF"] = ",".join(filter(None, [malloc_conf, "narenas:1"]))
    from deskhand.history.analysis import Analysis, AnalyzeOptions
    from deskhand.history.formats import parse_map

    with user_errors():
        options = AnalyzeOptions(
            paths=paths,
            format=format.value if format else None,
            mapping=parse_map(map_ or []),
            dayfirst=dayfirst,
            tz=tz,
            minutes_from="business_hours"
            if minutes_from is MinutesFromName.business_hours
            else minutes_from.value,  # type: ignore[arg-type]
            business_hours=business_hours,
            recategorize=recategorize,
            taxonomy=taxonomy,
            days=days,
            since=since,
            until=until,
            rate=rate,
            currency=currency,
            details=out is not None,  # only the HTML report shows them
        )
        # The analysis's many small objects set off about 200 collections on a million
        # tickets, which took 0.07 s to free a few hundred objects: none while it runs.
        gc.disable()
        try:
            # The files are read on a second thread from here, while the reading bar and the
            # specialists are found (a broken plugin says so before the read ends).
            read = _Read()
            analysis = Analysis(options, progress=read.told)
            with _reading_bar(paths) as advance:
                read.show(advance)
                from deskhand.specialists.registry import discover

                installed = discover().by_name.values()
                # The imported modules' objects live until exit: leave them out of the
                # collections after the run, each of which would walk them all again.
                gc.freeze()
                report = analysis.finish(specialists=installed)
        finally:
            gc.enable()
        if out is not None:
            from deskhand.history.html import render_html

            _write(out, render_html(report))
        if csv is not None:
            from deskhand.history.terminal import category_csv

            _write(csv, category_csv(report))
        if json_:
            sys.stdout.write(json.dumps(report.json_document(), indent=2) + "\n")
        else:
            from rich.console import Console

            from deskhand.history.terminal import render

            console = Console()
            render(report, console, top=top)
            for label, path in (("HTML report", out), ("Category table", csv)):
                if path is not None:
                    console.print(f"[bold]{label}[/] written to {path}")
            if out is None:
                console.print("Write the full report with --out report.html")
        # The report is out: the million rows behind it need not be freed one by one.
        end_at_once()


class _Read:
    """The files read, told to the reading bar once there is one (the files are read from before
    it is made)."""

    def __init__(self) -> None:
        self.files: list[tuple[str, int]] = []
        self.bar: Callable[[str, int], None] | None = None

    def told(self, name: str, size: int) -> None:
        self.files.append((name, size))
        if self.bar is not None:
            self.bar(name, size)

    def show(self, bar: Callable[[str, int], None] | None) -> None:
        self.bar = bar
        if bar is not None:
            for name, size in self.files:
                bar(name, size)


@contextmanager
def _reading_bar(paths: list[Path]) -> Iterator[Callable[[str, int], None] | None]:
    """On a terminal, a bar of the bytes read, which the callback given advances for each file
    read; elsewhere nothing (the callback is None, and Rich's progress bars are not imported:
    a run whose output goes to a file or a pipe starts reading sooner)."""
    from deskhand.cli.common import err

    if not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn

    total = sum(_size(p) for p in paths)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("reading", total=total or None)

        def advance(name: str, size: int) -> None:
            progress.update(task, advance=size, description=f"read {name}")

        yield advance


def _size(path: Path) -> int:
    """Bytes to read, for the progress bar; 0 for what cannot be read (the import says why)."""
    try:
        if path.is_file():
            return path.stat().st_size
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    except OSError:
        pass
    return 0


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise DeskhandError(f"Cannot write {path}: {error.strerror}.") from None
