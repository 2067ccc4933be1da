"""Regression alarms: a run of rejections or edits by one specialist at one tenant is flagged as
soon as it is significant — not on noise, not on a tiny sample — once per episode, with the
tickets behind it; technicians are told over a real webhook, and the Trust page shows it. Every
test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from deskhand.audit import log
from deskhand.cli import app
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.store.models import EventRecord, now
from deskhand.trust import regressions
from deskhand.web.app import create_app
from tests.notifications.conftest import Receiver, notifier, receiving
from tests.trust.conftest import History
from tests.web.conftest import add_users, sign_in

CONTOSO = "contoso-dental"
NORTHWIND = "northwind-law"
SPECIALIST = "password_reset"


class Desk:
    """Decided drafts of one specialist, one run (and ticket) each, numbered from 1."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.next = 1

    def drafts(self, at: datetime, outcome: str, count: int, tenant: str = CONTOSO) -> list[int]:
        runs = []
        for _ in range(count):
            run, step = self.next, self.next * 10
            self.next += 1
            self.history.plan(at - timedelta(minutes=30), run, tenant, SPECIALIST)
            self.history.draft(at - timedelta(minutes=20), run, step, tenant)
            if outcome == "rejected":
                self.history.reject(at, run, step, tenant)
            else:
                self.history.approve(at, run, step, tenant, edited=outcome == "edited")
            runs.append(run)
        return runs

    def baseline(self, moment: datetime, tenant: str = CONTOSO) -> None:
        """Thirty drafts over the eight weeks before the last seven days, one rejected."""
        for day in range(30):
            outcome = "rejected" if day == 12 else "unchanged"
            self.drafts(moment - timedelta(days=9 + day), outcome, 1, tenant)


@pytest.fixture
def moment() -> datetime:
    # Near the real clock: the notifier tells of what was flagged in the last day.
    return now().replace(microsecond=0)


@pytest.fixture
def desk(history: History) -> Desk:
    return Desk(history)


def check(rt: Runtime, monkeypatch: pytest.MonkeyPatch, at: datetime) -> regressions.Checked:
    monkeypatch.setattr(log, "now", lambda: at)
    with rt.db.session() as session:
        return regressions.check(session, at)


def flags(rt: Runtime) -> list[EventRecord]:
    with rt.db.reading() as session:
        found = list(
            session.scalars(
                select(EventRecord)
                .where(EventRecord.type == "trust.regression_flagged")
                .order_by(EventRecord.id)
            )
        )
        session.expunge_all()
    return found


def test_a_run_of_rejections_is_flagged_once_told_and_shown_with_its_tickets(
    rt: Runtime, desk: Desk, moment: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.baseline(moment)
    desk.baseline(moment, NORTHWIND)  # another tenant, no change: never flagged
    desk.drafts(moment - timedelta(days=3), "unchanged", 4)
    rejected = desk.drafts(moment - timedelta(days=2), "rejected", 6)
    desk.drafts(moment - timedelta(days=2), "unchanged", 10, NORTHWIND)

    rt.clock = lambda: moment
    monkeypatch.setattr(log, "now", lambda: moment)
    checked = Worker(rt, "test-worker").check_regressions_when_due()  # the worker's round
    assert checked is not None
    assert [(c.tenant_id, c.specialist, c.measure) for c in checked.flagged] == [
        (CONTOSO, SPECIALIST, "rejection_rate")
    ]
    [flag] = flags(rt)
    assert flag.tenant_id == CONTOSO
    assert flag.data["tickets"] == rejected
    assert (flag.data["recent_hits"], flag.data["recent_total"]) == (6, 10)
    assert (flag.data["baseline_hits"], flag.data["baseline_total"]) == (1, 30)
    assert flag.data["p"] < regressions.P_FLAG
    assert "Fisher's exact test" in flag.data["test"]

    # Once per episode: the next rounds, an hour and a day later, raise nothing new.
    assert check(rt, monkeypatch, moment + timedelta(hours=1)).flagged == []
    assert check(rt, monkeypatch, moment + timedelta(days=1)).flagged == []
    assert len(flags(rt)) == 1

    with receiving() as receiver:
        notify = notifier(rt, receiver.url())
        assert notify.round() == 1
        notify.delivery.join()
        assert notifier(rt, receiver.url()).round() == 0  # told once
        [message] = _regression_messages(receiver)
    assert message["title"] == (
        "[Contoso Dental] Regression: password reset — more drafts were rejected"
    )
    assert "Last 7 days: 6 of 10; the 8 weeks before: 1 of 30." in message["message"]
    assert "/trust?tenant=contoso-dental#regressions" in message["message"]

    add_users(rt)
    with TestClient(create_app(rt), base_url="https://127.0.0.1") as client:
        sign_in(client, "dana@msp.example")
        page = client.get("/trust").text
        scoped = client.get(f"/trust?tenant={NORTHWIND}").text
    assert 'data-measure="rejection_rate"' in page
    assert "more drafts were rejected — 6 of 10 in the last 7 days" in page
    assert all(f'<a href="/tickets/{t}">{t}</a>' in page for t in rejected)
    assert 'id="regressions"' not in scoped


def test_deskhand_trust_lists_the_open_regressions_first(
    rt: Runtime,
    desk: Desk,
    moment: datetime,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DESKHAND_DATA_DIR", str(tmp_path))
    desk.baseline(moment)
    desk.drafts(moment - timedelta(days=3), "unchanged", 4)
    rejected = desk.drafts(moment - timedelta(days=2), "rejected", 6)
    assert check(rt, monkeypatch, moment).flagged

    def trust(*args: str) -> str:
        result = CliRunner().invoke(
            app, ["--db", rt.settings.database_url, "trust", *args], env={"COLUMNS": "80"}
        )
        assert result.exit_code == 0, result.output
        return result.output

    text = trust()
    assert text.startswith("Regressions open (flagged, not yet back in line):")
    assert "Contoso Dental · password_reset: more drafts were rejected" in text
    said = " ".join(text.split())
    assert "6 of 10 in the 7 days before the flag, against 1 of 30 before" in said
    assert all(len(line) <= 80 for line in text.splitlines())
    [alarm] = json.loads(trust("--json"))["regressions"]
    assert (alarm["tenant"], alarm["measure"]) == (CONTOSO, "rejection_rate")
    assert alarm["tickets"] == rejected
    assert "Regressions open" not in trust("--tenant", NORTHWIND)


def test_a_regression_ends_when_the_record_is_back_in_line_and_can_be_flagged_again(
    rt: Runtime, desk: Desk, moment: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.baseline(moment)
    desk.drafts(moment - timedelta(days=2), "unchanged", 5)
    desk.drafts(moment - timedelta(days=1), "edited", 6)
    assert [c.measure for c in check(rt, monkeypatch, moment).flagged] == ["edit_rate"]

    later = moment + timedelta(days=8)  # a clean week since
    desk.drafts(later - timedelta(days=1), "unchanged", 12)
    cleared = check(rt, monkeypatch, later).cleared
    assert [r.flagged.measure for r in cleared] == ["edit_rate"]
    with rt.db.reading() as session:
        assert regressions.open_regressions(session) == []

    again = later + timedelta(days=2)
    desk.drafts(again - timedelta(hours=5), "edited", 20)
    assert [c.measure for c in check(rt, monkeypatch, again).flagged] == ["edit_rate"]
    assert len(flags(rt)) == 2


def test_the_test_is_fishers_exact_one_sided() -> None:
    # [[3, 1], [0, 4]]: P(X >= 3) for X hypergeometric (8 outcomes, 3 bad, 4 recent) = 5/70.
    assert regressions.p_value(3, 4, 0, 4) == pytest.approx(5 / 70)
    assert regressions.p_value(0, 10, 3, 30) == pytest.approx(1.0)  # better than before
    # Escalations of runs planned before the window can outnumber its runs: all of them, then.
    assert regressions.p_value(12, 10, 0, 30) == regressions.p_value(10, 10, 0, 30) < 1e-6
    # A bad week at a steady 6 % edit rate, 4 of 15 against 6 of 100: the pooled z-test said
    # z = 2.65 and flagged it; the exact test does not (p = 0.025).
    assert regressions.z_score(4, 15, 6, 100) > 2.576
    assert regressions.p_value(4, 15, 6, 100) == pytest.approx(0.0251, abs=1e-4)
    assert regressions.p_value(4, 15, 6, 100) > regressions.P_FLAG


@pytest.mark.parametrize(
    ("recent", "why"),
    [
        ([("unchanged", 8), ("rejected", 2)], "noise: 2 of 10 against 1 of 30"),
        ([("rejected", 4)], "a tiny sample: 4 of 4, fewer than 10 decided"),
    ],
)
def test_noise_and_tiny_samples_are_not_flagged(
    rt: Runtime,
    desk: Desk,
    moment: datetime,
    monkeypatch: pytest.MonkeyPatch,
    recent: list[tuple[str, int]],
    why: str,
) -> None:
    desk.baseline(moment)
    for outcome, count in recent:
        desk.drafts(moment - timedelta(days=1), outcome, count)
    assert check(rt, monkeypatch, moment).flagged == [], why
    assert flags(rt) == []


def test_the_z_score_is_the_pooled_two_proportion_statistic() -> None:
    assert regressions.z_score(6, 10, 1, 30) == pytest.approx(4.08, abs=0.01)
    assert regressions.z_score(2, 10, 3, 30) == pytest.approx(0.83, abs=0.01)
    assert regressions.z_score(0, 10, 0, 30) == 0.0
    assert regressions.z_score(1, 10, 5, 30) < 0  # better than before is never a regression


def _regression_messages(receiver: Receiver) -> list[dict[str, str]]:
    return [m for m in receiver.messages() if "Regression" in m["title"]]


def _outcomes(
    at: datetime, kind: str, count: int, *, reason: str | None = None, seconds: float | None = None
) -> list[regressions.Outcome]:
    return [
        regressions.Outcome(at, CONTOSO, SPECIALIST, kind, 100 + n, reason, seconds)
        for n in range(count)
    ]


@pytest.mark.parametrize(
    ("measure", "baseline", "recent"),
    [
        (
            "failed_execution",
            [("verified", 30, {})],
            [("verified", 6, {}), ("unverified", 2, {}), ("failed", 3, {})],
        ),
        (
            "escalation:verification_failed",
            [("planned", 30, {})],
            [("planned", 10, {}), ("escalated", 5, {"reason": "verification_failed"})],
        ),
        (
            "expiry_rate",
            [("unchanged", 30, {})],
            [("unchanged", 6, {}), ("expired", 5, {})],
        ),
        (
            "slow_approval",
            [("unchanged", 30, {"seconds": 1200.0})],
            [("unchanged", 10, {"seconds": 4 * 3600.0})],
        ),
    ],
)
def test_each_measure_is_flagged_on_its_own_evidence(
    measure: str,
    baseline: list[tuple[str, int, dict[str, Any]]],
    recent: list[tuple[str, int, dict[str, Any]]],
) -> None:
    since = datetime(2026, 3, 11, tzinfo=UTC)
    found = [
        outcome
        for at, groups in (
            (since - timedelta(days=20), baseline),
            (since + timedelta(days=2), recent),
        )
        for kind, count, extra in groups
        for outcome in _outcomes(at, kind, count, **extra)
    ]
    flagged = [c.measure for c in regressions.compare(found, since) if c.significant]
    assert flagged == [measure]
