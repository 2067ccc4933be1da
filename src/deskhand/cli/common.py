"""What every command shares: how a group of commands is made, the error console, turning
errors into messages, the settings."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from deskhand.errors import DeskhandError

if TYPE_CHECKING:
    from deskhand.config import Settings

err = Console(stderr=True)
out = Console()


def group(help: str) -> typer.Typer:
    """A group of commands. Its help is Click's plain text, not Typer's Rich panels: at 80
    columns the panels squeeze each option's words into a narrow column, and building them
    imports Rich's Markdown and traceback modules (about 0.1 s of every ``--help``)."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn deskhand's errors into a message and an exit code, never a traceback."""
    try:
        yield
    except DeskhandError as error:
        err.print(f"[bold red]error:[/] {error.message}", highlight=False)
        if error.hint:
            err.print(error.hint, highlight=False)
        raise typer.Exit(error.exit_code) from None


def settings(ctx: typer.Context) -> "Settings":
    """Settings from the environment, with ``--db`` from the command line on top."""
    from deskhand.config import Settings

    values: dict[str, Any] = {}
    database = (ctx.find_root().obj or {}).get("db")
    if database:
        values["database_url"] = database
    return Settings(**values)


def print_json(document: Any) -> None:
    """One JSON document on stdout and nothing else."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
