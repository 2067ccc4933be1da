"""`deskhand keys`: the server's key file is made on first use, readable by its owner only,
listed without its keys, rotated and retired with messages that say what follows."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from typer.testing import CliRunner

from deskhand.cli import app


def keys(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["keys", *args], env={"DESKHAND_DATA_DIR": str(tmp_path)})
    return result.exit_code, result.output


def test_the_key_file_is_made_private_and_listed_without_its_keys(tmp_path: Path) -> None:
    code, shown = keys(tmp_path, "show")
    assert code == 0
    path = tmp_path / "server-keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    ((key_id, key),) = stored["keys"].items()
    assert key_id in shown and key not in shown and "signs and encrypts" in shown


def test_a_rotation_keeps_the_old_key_for_checking_until_it_is_retired(tmp_path: Path) -> None:
    keys(tmp_path, "show")
    first = json.loads(keys(tmp_path, "show", "--json")[1])["current"]
    code, said = keys(tmp_path, "rotate")
    assert code == 0 and "Copy the file to every machine" in said
    listed = json.loads(keys(tmp_path, "show", "--json")[1])
    assert listed["current"] != first and first in listed["keys"]
    code, said = keys(tmp_path, "retire", listed["current"])
    assert code == 2 and "is the current key" in said and "Rotate first" in said
    code, said = keys(tmp_path, "retire", first)
    assert code == 0 and first in said
    assert json.loads(keys(tmp_path, "show", "--json")[1])["keys"] == [listed["current"]]
    code, said = keys(tmp_path, "retire", "k-unknown")
    assert code == 2 and "There is no key k-unknown" in said


def test_a_damaged_key_file_is_reported_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "server-keys.json"
    path.write_text("{not json", encoding="utf-8")
    code, said = keys(tmp_path, "show")
    assert code == 2 and "is not a deskhand server key file" in said
    assert "Restore it from the backup" in said
    assert path.read_text() == "{not json"
