"""The simulated operating year at small size (synthetic: 30 days, four tenants), through the
real intake, worker, policy, approvals and executor, once on a SQLite file and once on the real
PostgreSQL. The figures `bench/operating_year.py` prints for the whole year are checked here
for a few weeks of the same story."""

from __future__ import annotations

import pytest

from deskhand.simulation.operating_year import (
    DRIFTING,
    NEW_TENANT,
    TENANTS,
    Findings,
    Scenario,
    simulate,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_small_simulated_year_tells_the_whole_story(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """One small year per backend (a year is too dear to play once per check): each check
    below reads the same year."""
    folder = tmp_path_factory.mktemp("year")
    if backend == "sqlite":
        year = simulate(Scenario.small(), folder=folder)
    else:
        from tests.support import postgres_database

        with postgres_database("deskhand_year") as url:
            year = simulate(Scenario.small(), url, folder=folder)
    assert year.backend == backend
    the_wrong_group_is_flagged_within_a_week_and_revoked_at_that_tenant_only(year)
    only_internal_or_read_steps_ran_without_an_approval(year)
    the_new_tenant_is_in_shadow_until_its_own_record_earns_it(year)
    nothing_stops_when_the_policy_author_is_disabled(year)
    the_share_of_drafts_approved_unchanged_is_counted_per_month(year)


def the_wrong_group_is_flagged_within_a_week_and_revoked_at_that_tenant_only(
    year: Findings,
) -> None:
    s = year.scenario
    flagged = year.day_flagged()
    assert flagged is not None and s.wrong_group_day <= flagged <= s.wrong_group_day + 7
    after = year.revoked_after_drift()
    assert after, "the drifting tenant held autonomy and lost it"
    assert {tenant for _, tenant, _, _, _ in after} == {DRIFTING}
    assert all(day <= flagged for day, *_ in after)  # revoked by the flag at the latest
    # Before the drift every tenant earned its group steps, and nothing was revoked.
    assert {tenant for _, tenant, _, _ in year.grants} >= {t.id for t in TENANTS}
    assert [r for r in year.revocations if r[0] < s.wrong_group_day] == []


def only_internal_or_read_steps_ran_without_an_approval(year: Findings) -> None:
    assert year.floor_without_approval == 0
    radii = {radius for radius, _ in year.without_approval}
    assert radii and radii <= {"internal", "read"}
    assert year.without_approval[("internal", "earned")] > 0  # autonomy was used
    assert year.wrong_ran_on_autonomy <= year.wrong_on_autonomy


def the_new_tenant_is_in_shadow_until_its_own_record_earns_it(year: Findings) -> None:
    s = year.scenario
    assert year.shadow_drafts == 0  # nothing drafted for a tenant in shadow
    live_day, record = year.went_live[NEW_TENANT.id]
    assert live_day >= s.new_tenant_day and "shadow plans matched" in record
    own = [day for day, tenant, _, _ in year.grants if tenant == NEW_TENANT.id]
    # Earned only after going live, and after min_days of its own approvals at the least.
    assert own and min(own) >= live_day + s.min_days


def nothing_stops_when_the_policy_author_is_disabled(year: Findings) -> None:
    assert set(year.owner_warnings) == {t.id for t in TENANTS}
    assert all("is disabled" in w for w in year.owner_warnings.values())
    assert year.planned_after_author_left > 50
    assert not [r for r in year.revocations if r[4] == "policy"]


def the_share_of_drafts_approved_unchanged_is_counted_per_month(year: Findings) -> None:
    assert year.monthly and year.monthly[0][0] == 1
    unchanged, decided = year.monthly[0][1], year.monthly[0][2]
    assert 0 < unchanged < decided == year.drafts_decided
    assert year.tickets > 200
