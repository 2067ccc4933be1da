"""The command starts without loading what it does not use: building every command's help (as
``deskhand --help`` does) imports none of the heavy libraries. Timing is bench/cli_start.py's;
this holds the shape that makes it quick."""

import json
import subprocess
import sys

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
