"""The server's key file (``deskhand.keys``): where it is, which keys it holds, rotation."""

from typing import Annotated

import typer

from deskhand.cli.common import group, out, print_json, settings, user_errors

keys_app = group(
    "The server's own keys: they bind approvals, sign audit checkpoints and encrypt "
    "temporary passwords. Kept in a file outside the database."
)
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]


@keys_app.command("show")
def keys_show(ctx: typer.Context, json_: JsonOption = False) -> None:
    """Where the key file is and the ids of its keys (never a key). Makes the file if there is
    none yet."""
    from deskhand.keys import ServerKeys

    with user_errors():
        keys = ServerKeys.load(settings(ctx).server_keys())
        if json_:
            print_json({"file": str(keys.path), "current": keys.current, "keys": list(keys.keys)})
            return
        out.print(f"Key file: {keys.path}")
        for key_id in keys.keys:
            role = "signs and encrypts" if key_id == keys.current else "checks and decrypts only"
            out.print(f"  {key_id}  {role}")
        out.print(
            "Back this file up with the database (never into it); every deskhand process of "
            "this deployment must read the same file (DESKHAND_SERVER_KEY_FILE)."
        )


@keys_app.command("rotate")
def keys_rotate(ctx: typer.Context) -> None:
    """Add a new key that signs and encrypts from now on; older keys still check what they
    signed, so approvals given before the rotation still run."""
    from deskhand.keys import ServerKeys

    with user_errors():
        keys = ServerKeys.load(settings(ctx).server_keys()).rotate()
        out.print(
            f"New current key {keys.current} in {keys.path}. Copy the file to every machine "
            "that runs deskhand (running processes read it again when it changes). Retire the "
            "old key "
            "(`deskhand keys retire ID`) once its approvals have run or expired (the "
            "tenants' approval_expiry_hours)."
        )


@keys_app.command("retire")
def keys_retire(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(metavar="ID", help="A key id from `keys show`.")],
) -> None:
    """Remove an old key: approvals it bound no longer run (they fail closed and escalate),
    temporary passwords it encrypted can no longer be shown, checkpoints it signed no longer
    check."""
    from deskhand.keys import ServerKeys

    with user_errors():
        keys = ServerKeys.load(settings(ctx).server_keys(), create=False).retire(key_id)
        out.print(f"Key {key_id} removed from {keys.path}; {keys.current} is current.")
