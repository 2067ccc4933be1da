"""`deskhand demo --history` (what `make demo` runs): six weeks of simulated history (synthetic)
seeded before the samples, so the Trust page has earned autonomy with its evidence, a
revocation, an open regression and a tenant in shadow with its comparisons on the first run.
On the demo's own database, a SQLite file (the simulation itself runs on PostgreSQL too, in
test_operating_year)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from deskhand.cli import app
from deskhand.config import Settings
from deskhand.engine import shadow
from deskhand.engine.runtime import Runtime
from deskhand.simulation.operating_year import DRIFTING, NEW_TENANT
from deskhand.web.app import create_app
from tests.web.conftest import sign_in

pytestmark = pytest.mark.slow

APPROVER = "dana@msp.example"


def deskhand(folder: Path, *args: str) -> Any:
    result = CliRunner().invoke(
        app, list(args), env={"DESKHAND_DATA_DIR": str(folder), "COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    return result


def test_the_demo_seeds_a_history_the_trust_page_shows(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Seeded once (it takes most of a minute); each check below reads the same desk."""
    folder = tmp_path_factory.mktemp("demo")
    seeded = json.loads(deskhand(folder, "demo", "--no-serve", "--history", "--json").stdout)
    demo = (folder, seeded)
    the_demo_seeds_a_history_labelled_synthetic(demo)
    deskhand_trust_shows_the_grants_and_the_revocation_with_their_evidence(demo)
    the_new_tenant_is_in_shadow_with_its_comparisons(demo)
    seeding_the_history_again_adds_nothing(demo)


def the_demo_seeds_a_history_labelled_synthetic(demo: tuple[Path, dict[str, Any]]) -> None:
    _, seeded = demo
    history = seeded["history"]
    assert history["synthetic"] is True and history["days"] == 42
    assert history["tickets"] > 100
    assert history["grants"] >= 3 and history["revocations"] >= 1 and history["regressions"] >= 1
    assert seeded["tickets"], "the sample tickets come after the history, at the real time"


def deskhand_trust_shows_the_grants_and_the_revocation_with_their_evidence(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    folder, _ = demo
    figures = json.loads(deskhand(folder, "trust", "--json").stdout)
    grants = figures["autonomy"]["grants"]
    assert grants and all(g["evidence"]["approvals"] >= 5 for g in grants)
    assert DRIFTING not in {g["tenant"] for g in grants}  # lost in the last week, not earned back
    lost = [r for r in figures["autonomy"]["revocations"] if r["tenant"] == DRIFTING]
    assert lost and any(r["trigger"] == "regression" for r in lost)


def the_new_tenant_is_in_shadow_with_its_comparisons(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    folder, seeded = demo
    rt = Runtime.from_settings(Settings(data_dir=folder))
    try:
        with rt.db.reading() as session:
            record = shadow.shadow_record(session, NEW_TENANT.id)
        assert record.compared >= 5
        client = TestClient(create_app(rt, worker=False))
        sign_in(client, APPROVER, seeded["password"])
        page = client.get(f"/tenants/{NEW_TENANT.id}").text
        assert "Shadow" in page and record.words() in page
        trust = client.get("/trust").text
        assert "Fabrikam Clinic (synthetic)" in trust and "Waits for approval again" in trust
    finally:
        rt.close()


def seeding_the_history_again_adds_nothing(demo: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = demo
    again = json.loads(deskhand(folder, "demo", "--no-serve", "--history", "--json").stdout)
    assert again["history"] is None and again["tickets"] == []
