"""Every command's help reads like a command line's: an option shows what to give in words
(``--tenant TENANT``, ``--format [csv|json]``), an argument its name (``EMAIL``, ``PATH...``), a
flag nothing — never Python's types (``<str>``, ``<list[Path]>``) or ``{paths}...``."""

import re
from collections.abc import Iterator
from typing import Any

import typer.main
from typer.testing import CliRunner

from deskhand.cli import build

PYTHON_METAVAR = re.compile(r"<[^>\s]+>|\{[^}\s]+\}")


def every_command() -> Iterator[list[str]]:
    """The words of every command and group, ``[]`` being ``deskhand`` itself."""
    root = typer.main.get_command(build())

    def walk(command: Any, words: list[str]) -> Iterator[list[str]]:
        yield words
        context = typer.Context(command)
        for name in getattr(command, "list_commands", lambda _: [])(context):
            yield from walk(command.get_command(context, name), [*words, name])

    yield from walk(root, [])


def help_of(words: list[str]) -> str:
    done = CliRunner(env={"COLUMNS": "80"}).invoke(
        build(), [*words, "--help"], prog_name="deskhand"
    )
    assert done.exit_code == 0, done.output
    return done.output


def test_no_command_s_help_shows_a_python_type_or_a_braced_name() -> None:
    commands = list(every_command())
    assert len(commands) > 40  # every group and command was walked
    found = {
        " ".join(words) or "deskhand": shown
        for words in commands
        if (shown := PYTHON_METAVAR.findall(help_of(words)))
    }
    assert found == {}


def test_options_arguments_and_flags_read_as_a_command_line_writes_them() -> None:
    analyze = help_of(["analyze"])
    assert "Usage: deskhand analyze [OPTIONS] PATH..." in analyze
    assert "--map FIELD=COLUMN" in analyze
    assert "--format [syncro|connectwise|autotask|halo|generic]" in analyze
    assert re.search(r"\n  --json +Print", analyze)  # a flag takes no value
    escalations = help_of(["escalations", "list"])
    assert "--tenant TENANT" in escalations and "--as USER" in escalations
    assert "Usage: deskhand users add [OPTIONS] EMAIL" in help_of(["users", "add"])
    assert "--db URL" in help_of([])
