"""Benchmark: how long the ``deskhand`` command takes to print its help. Prints figures; asserts
nothing.

    python bench/cli_start.py [--runs 11] [--top 12]

Each command runs ``--runs`` times as a fresh process (after one warm-up run that is not
counted), as a person at a terminal starts it: ``python -m deskhand --help``, the console
script's ``deskhand analyze --help`` and ``deskhand tenants add --help`` (the command with the
most options). Two floors beside them: ``python -c pass``, and the same help of a Typer app with
one option and one command in Typer's default Rich help, which is what Typer and Rich cost (a
command's help also loads Pydantic, which Typer checks options with). deskhand's help is Click's
plain text and the console script builds only the command named, so it can start below that
floor. Printed: the median and
fastest wall time, and the median CPU time (user + system), which other work on the machine
changes least. Then what ``deskhand analyze --help`` imports, from ``python -X importtime``:
the packages that take longest (their modules' own times added up) and the heaviest single
imports (cumulative, indented as they nest).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ENV = {**os.environ, "COLUMNS": "80"}

BARE_TYPER_APP = """
import typer
app = typer.Typer(add_completion=False)
@app.callback()
def main(db: str | None = None) -> None:
    "An app."
@app.command()
def run(days: int = 90) -> None:
    "A command."
app()
"""


def console_script() -> str:
    """The installed ``deskhand`` command beside this Python, else the one on PATH."""
    beside = Path(sys.executable).with_name("deskhand")
    found = str(beside) if beside.exists() else shutil.which("deskhand")
    if found is None:
        sys.exit("No `deskhand` command: install deskhand into this Python (pip install -e .).")
    return found


def timed(command: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of ``runs`` fresh processes; a failure stops the benchmark."""
    wall, cpu = [], []
    for run in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, env=ENV, check=False)
        elapsed = (time.perf_counter() - started) * 1000
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed:\n{done.stderr.decode(errors='replace')}")
        if run:  # the first run writes bytecode caches and warms the disk cache
            wall.append(elapsed)
            used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            cpu.append(used * 1000)
    return wall, cpu


def imports(arguments: list[str]) -> list[tuple[float, float, str]]:
    """Each import of ``python -m deskhand ARGUMENTS``: its own and its cumulative ms, and its
    name as ``-X importtime`` indents it."""
    command = [sys.executable, "-X", "importtime", "-m", "deskhand", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, check=True)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(own) / 1000, int(cumulative) / 1000, name.rstrip()))
    return rows


def by_package(rows: list[tuple[float, float, str]]) -> list[tuple[float, int, str]]:
    """Milliseconds and module count per top-level package, largest first."""
    totals: dict[str, tuple[float, int]] = {}
    for own, _, name in rows:
        package = name.strip().partition(".")[0]
        spent, modules = totals.get(package, (0.0, 0))
        totals[package] = (spent + own, modules + 1)
    return sorted(((ms, n, package) for package, (ms, n) in totals.items()), reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()

    deskhand = console_script()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "bare Typer app: --help": [sys.executable, "-c", BARE_TYPER_APP, "--help"],
        "bare Typer app: run --help": [sys.executable, "-c", BARE_TYPER_APP, "run", "--help"],
        "python -m deskhand --help": [sys.executable, "-m", "deskhand", "--help"],
        "deskhand analyze --help": [deskhand, "analyze", "--help"],
        "deskhand tenants add --help": [deskhand, "tenants", "add", "--help"],
    }
    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(f"{args.runs} fresh processes each, in ms (load average before: {load})")
    print(f"  {'':<30} {'wall median':>11} {'fastest':>8} {'CPU median':>11}")
    for label, command in commands.items():
        wall, cpu = timed(command, args.runs)
        print(
            f"  {label:<30} {statistics.median(wall):11.0f} {min(wall):8.0f} "
            f"{statistics.median(cpu):11.0f}"
        )

    rows = imports(["analyze", "--help"])
    print(f"\n`deskhand analyze --help` imports {len(rows):,} modules.")
    print("Packages by import time (ms, modules):")
    for milliseconds, modules, package in by_package(rows)[: args.top]:
        print(f"  {milliseconds:7.1f} {modules:5}  {package}")
    print("Heaviest single imports (cumulative ms):")
    for _, cumulative, name in sorted(rows, key=lambda row: row[1], reverse=True)[: args.top]:
        print(f"  {cumulative:7.1f}  {name}")


if __name__ == "__main__":
    main()
