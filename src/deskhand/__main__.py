"""``python -m deskhand``: the same as the ``deskhand`` command."""

from deskhand.cli import main

main()
