"""Reading a YAML file people write by hand (a tenant's policy, its connection file) as nodes,
which keep the line of every key and value, so a message can point at the line to fix."""

from __future__ import annotations

import yaml

from deskhand.errors import InputError


def compose(text: str, source: str, what: str) -> yaml.Node | None:
    """The document's root node (None when it is empty); an InputError naming ``source``, the
    line and column otherwise. ``what`` is how one entry reads: "rule", "setting"."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        said = [getattr(error, "context", None), getattr(error, "problem", None)]
        problem = ", ".join(part for part in said if part) or str(error)
        raise InputError(
            f"{source}{where}: not valid YAML: {problem}.",
            hint=f"Check the indentation (spaces, not tabs) and that each {what} reads "
            "`name: value`.",
        ) from None
