"""The command starts without loading what it does not use: building every command's help (as
``deskhand --help`` does) imports none of the heavy libraries. Timing is bench/cli_start.py's;
this holds the shape that makes it quick."""

import json
import os
import subprocess
import sys

import typer

from deskhand.cli import COMMANDS

# What only some commands need, each costing tens to hundreds of milliseconds to import.
HEAVY = (
    "alembic",
    "fastapi",
    "numpy",
    "polars",
    "pydantic_settings",
    "sklearn",
    "sqlalchemy",
    "uvicorn",
)

COMMAND_NAMES = tuple(COMMANDS)

BUILD_EVERY_COMMAND = f"""
import json, sys
import typer.main
from deskhand.cli import app
typer.main.get_command(app)  # reads every command's signature, as the help does
print(json.dumps(sorted(name for name in {HEAVY!r} if name in sys.modules)))
"""


def test_building_every_commands_help_imports_no_heavy_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BUILD_EVERY_COMMAND], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []


def _console_script(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``deskhand ARGUMENTS`` as the console script runs it, and which command modules loaded."""
    code = (
        "import sys, json\n"
        "from deskhand.cli import main\n"
        f"sys.argv = ['deskhand', *{list(arguments)!r}]\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    loaded = sorted(m for m in sys.modules if m.startswith('deskhand.cli.'))\n"
        "    sys.stderr.write('LOADED ' + json.dumps(loaded))\n"
    )
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )


def _loaded(done: subprocess.CompletedProcess[str]) -> list[str]:
    return json.loads(done.stderr.rpartition("LOADED ")[2])


def test_a_commands_help_loads_only_that_command() -> None:
    done = _console_script("--db", "sqlite:///x.db", "analyze", "--help")

    assert done.returncode == 0, done.stderr
    assert "Rank ticket categories by total technician minutes" in done.stdout
    assert _loaded(done) == ["deskhand.cli.analyze", "deskhand.cli.common"]


def test_the_named_command_has_the_same_help_as_in_the_whole_application() -> None:
    from typer.testing import CliRunner

    from deskhand.cli import build

    def help_of(app: typer.Typer) -> str:
        done = CliRunner().invoke(app, ["tenants", "add", "--help"], prog_name="deskhand")
        assert done.exit_code == 0, done.output
        return done.output

    alone = help_of(build("tenants"))

    assert alone == help_of(build())
    assert "--syncro-url" in alone


def test_the_bare_command_and_a_mistyped_one_see_every_command() -> None:
    listed = _console_script("--help")
    mistyped = _console_script("anlyze")

    assert listed.returncode == 0
    for command in COMMAND_NAMES:
        assert f"\n  {command} " in listed.stdout
    assert mistyped.returncode == 2
    assert "No such command 'anlyze'" in mistyped.stderr
    assert "deskhand.cli.desk" in _loaded(mistyped)
