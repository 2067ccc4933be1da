"""The example third-party plugin (examples/printer-mapping: one specialist, one action of its
own) installed beside deskhand's own wheel, as an MSP would install both: the conformance kit
runs from the installed wheel over it, and a ticket goes from arrival to verified through it —
without any edit to deskhand's source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "examples" / "printer-mapping"
LISA = "lisa.chen@contosodental.example"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """deskhand's wheel and the plugin's, built here and installed into a folder of their own."""
    wheels = tmp_path_factory.mktemp("wheels")
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT),
         str(PLUGIN)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    built = sorted(wheels.glob("*.whl"))
    assert [w.name.split("-")[0] for w in built] == ["deskhand", "deskhand_printer_mapping"]
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), *map(str, built)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    yield target


def run(target: Path, *args: str, data: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(Path.home()),
        "PYTHONPATH": str(target),  # the installed wheels, ahead of this checkout
        "COLUMNS": "200",
    }
    if data is not None:
        env["DESKHAND_DATA_DIR"] = str(data)
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_the_wheels_are_what_runs(installed: Path) -> None:
    found = run(installed, "-c", "import deskhand, deskhand_printers; print(deskhand.__file__)")
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip().startswith(str(installed))


def test_the_conformance_kit_runs_from_the_installed_wheel_over_the_plugin(
    installed: Path,
) -> None:
    kit = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "--rootdir",
           str(installed), "--pyargs", "deskhand.testing.conformance"]  # fmt: skip
    listed = run(installed, *kit, "--collect-only")
    assert "test_each_action_declares_its_contract[printing.map_printer]" in listed.stdout
    assert "test_declares_the_contract[printer_mapping]" in listed.stdout
    passed = run(installed, *kit)
    assert passed.returncode == 0, passed.stdout[-3000:]
    assert " passed" in passed.stdout and "failed" not in passed.stdout


def test_a_printer_ticket_runs_from_arrival_to_verified_through_the_plugin(
    installed: Path, tmp_path: Path
) -> None:
    def deskhand(*args: str) -> str:
        done = run(installed, "-m", "deskhand", *args, data=tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout

    deskhand("demo", "--no-serve")
    ticket = deskhand(
        "tickets", "add", "--tenant", "contoso-dental", "--from", LISA, "--subject",
        "Map the printer", "--body", "Please map the printer \\\\print01\\Reception-MFP for me.",
    ).strip().splitlines()[-1]  # fmt: skip
    deskhand("worker", "--once")
    drafts = [d for d in json.loads(deskhand("approvals", "list", "--json"))
              if str(d["ticket_id"]) == ticket]  # fmt: skip
    assert [d["action"] for d in drafts] == ["psa.send_reply", "printing.map_printer"]
    manual = drafts[1]
    assert manual["manual"] and manual["specialist"] == "printer_mapping"
    assert "Select a shared printer by name → \\\\print01\\Reception-MFP" in manual["description"]
    for draft in drafts:
        deskhand("approvals", "approve", str(draft["id"]), "--as", "dana@msp.example")
    deskhand("worker", "--once")
    trace = json.loads(deskhand("trace", ticket, "--json"))
    assert trace["ticket"]["status"] == "resolved"
    verified = [line["data"] for line in trace["lines"] if line["type"] == "step.verified"]
    assert verified[0]["action"] == "printing.map_printer"
    assert "technician's confirmation" in verified[0]["observed"]["read_back"]
