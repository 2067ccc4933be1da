"""What every command shares: how a group of commands is made, the error console, turning
errors into messages, the settings."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from deskhand.errors import DeskhandError

if TYPE_CHECKING:
    from rich.console import Console

    from deskhand.config import Settings


def __getattr__(name: str) -> "Console":
    """``err`` (standard error) and ``out`` (standard output): Rich consoles, made when first
    used, so that ``deskhand analyze`` starts reading its files before Rich is imported."""
    if name not in ("err", "out"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    console = Console(stderr=name == "err")
    globals()[name] = console
    return console


def _stderr() -> "Console":
    """``err``, made now if it was not yet."""
    made: Console | None = globals().get("err")
    return made if made is not None else __getattr__("err")


def group(help: str) -> typer.Typer:
    """A group of commands. Its help is Click's plain text, not Typer's Rich panels: at 80
    columns the panels squeeze each option's words into a narrow column, and building them
    imports Rich's Markdown and traceback modules (about 0.1 s of every ``--help``)."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None, cls=PlainHelpGroup)


class PlainHelpGroup(TyperGroup):
    """A group whose commands' help reads like a command line's — ``--tenant TENANT``,
    ``--format [csv|json]``, ``EMAIL``, ``PATH...`` — not like Python's types (``<str>``,
    ``<list[Path]>``, ``{paths}...``), which is how Typer writes a parameter with no metavar.
    A parameter that names its own metavar keeps it."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        plain_help(self)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            plain_help(command)
        return command


class _PlainArgument(TyperArgument):
    """An argument as a command line's usage writes it: ``ID``, ``[ID]``, ``PATH...``."""

    def _rich_display_name(self) -> str:
        return self.display_name_raw + ("..." if self.nargs != 1 else "")

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")

    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the metavar says what to give; its Python type is not the user's concern


def plain_help(command: Any) -> None:
    """Give each parameter of ``command`` a metavar a person reads: the option's or argument's
    name in capitals (one of many arguments in the singular), or its choices in brackets."""
    for param in command.params:
        if isinstance(param, TyperArgument):
            param.__class__ = _PlainArgument
            if param.metavar is None:
                name = (param.name or "value").upper()
                param.metavar = name.removesuffix("S") if param.nargs != 1 else name
        elif isinstance(param, TyperOption) and not param.is_flag and param.metavar is None:
            choices = param.type_descriptor.choices if param.type_descriptor.is_choice else None
            if choices:
                param.metavar = "[" + "|".join(str(getattr(c, "value", c)) for c in choices) + "]"
            else:
                param.metavar = max(param.opts, key=len).lstrip("-").replace("-", "_").upper()


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn deskhand's errors into a message and an exit code, never a traceback."""
    try:
        yield
    except DeskhandError as error:
        _stderr().print(f"[bold red]error:[/] {error.message}", highlight=False)
        if error.hint:
            _stderr().print(error.hint, highlight=False)
        raise typer.Exit(error.exit_code) from None


def settings(ctx: typer.Context) -> "Settings":
    """Settings from the environment, with ``--db`` from the command line on top."""
    from deskhand.config import Settings

    values: dict[str, Any] = {}
    database = (ctx.find_root().obj or {}).get("db")
    if database:
        values["database_url"] = database
    return Settings(**values)


_AT_ONCE = {"end": False}


def end_at_once() -> None:
    """Let the process end as soon as this command returns, its output flushed, without
    freeing what it holds object by object: after an analysis of a million tickets that takes
    about a tenth of a second, and the operating system takes the memory back in one go. Only
    the console script (``deskhand.cli.main``) does it; a command run in this process (the
    tests' runner) returns as any other."""
    _AT_ONCE["end"] = True


def ending_at_once() -> bool:
    """Whether the command asked for ``end_at_once``."""
    return _AT_ONCE["end"]


def print_json(document: Any) -> None:
    """One JSON document on stdout and nothing else."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
