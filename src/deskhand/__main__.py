"""``python -m deskhand``: the same as the ``deskhand`` command."""

from deskhand.cli import app

app(prog_name="deskhand")
