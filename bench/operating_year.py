"""Benchmark: a simulated operating year (synthetic tenants, tickets and technicians) through
deskhand's real intake, worker, policy, approvals and executor. Prints what it showed; asserts
nothing (the tests run a few weeks of it and check the same figures).

    python bench/operating_year.py [--days 240] [--backend sqlite|postgresql] [--small]

Day 1 is Monday 5 January 2026; tickets arrive on working days. See
``deskhand.simulation.operating_year`` for what happens when.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import postgres_database  # noqa: E402

from deskhand.simulation.operating_year import (  # noqa: E402
    DRIFTING,
    NEW_TENANT,
    TENANTS,
    Findings,
    Scenario,
    simulate,
)


@contextmanager
def database(backend: str) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None
    else:
        with postgres_database("deskhand_year") as url:
            yield url


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def report(found: Findings, seconds: float) -> None:
    s = found.scenario
    print(
        f"Simulated operating year (synthetic), {s.days} days on {found.backend}: "
        f"{found.tickets} tickets, {found.drafts_decided} drafts decided, {seconds:.0f} s."
    )
    print(
        f"Autonomy terms: {s.min_approvals} approvals unchanged over {s.min_days} days, "
        f"window {s.window}. Events: policy author disabled day {s.author_removed_day}; "
        f"{NEW_TENANT.id} joins day {s.new_tenant_day}; wrong group at {DRIFTING} from day "
        f"{s.wrong_group_day}."
    )
    print("\nTenants (shadow until an admin moves them live on their shadow record):")
    for tenant in (*TENANTS, NEW_TENANT):
        live = found.went_live.get(tenant.id)
        grants = [g for g in found.grants if g[1] == tenant.id]
        first = f"first grant day {grants[0][0]} ({grants[0][3]})" if grants else "no grant"
        when = f"live day {live[0]} ({live[1]})" if live else "still in shadow"
        print(f"  {tenant.id:<13} {when}; {first}")
    print("\nGrants and revocations of earned autonomy:")
    events = [(d, "granted", t, sp, a, "") for d, t, sp, a in found.grants] + [
        (d, "revoked", t, sp, a, trigger) for d, t, sp, a, trigger in found.revocations
    ]
    for day, what, tenant, specialist, action, trigger in sorted(events):
        why = f" ({trigger})" if trigger else ""
        print(f"  day {day:>3} {what:<8} {tenant:<13} {specialist} {action}{why}")
    print("\nRegressions flagged:")
    for day, tenant, specialist, measure in found.regressions:
        print(f"  day {day:>3} {tenant:<13} {specialist}: {measure}")
    flagged = found.day_flagged()
    after = found.revoked_after_drift()
    print(
        f"\nWrong group from day {s.wrong_group_day}: regression flagged on day "
        f"{flagged if flagged is not None else 'never'}"
        + (f" ({_days(flagged - s.wrong_group_day)} later)" if flagged is not None else "")
    )
    print(
        "Revoked on or after that day: "
        + (
            "; ".join(f"day {d} {t} {a} ({trig})" for d, t, _, a, trig in after)
            if after
            else "nothing"
        )
    )
    print(
        f"Wrong-group steps planned on earned autonomy before it was revoked: "
        f"{found.wrong_on_autonomy}, of which ran: {found.wrong_ran_on_autonomy}"
    )
    others = sorted({t for _, t, _, _, _ in after if t != DRIFTING})
    print(f"Other tenants that lost autonomy then: {', '.join(others) or 'none'}")
    print("\nSteps that ran without an approval, by blast radius and why:")
    for (radius, how), count in sorted(found.without_approval.items()):
        print(f"  {radius:<24} {how:<7} {count:>6}")
    print(
        f"  security, billing, external communication or destructive: "
        f"{found.floor_without_approval}"
    )
    print(f"Drafts made for a tenant while it was in shadow: {found.shadow_drafts}")
    print(f"\nPolicy owners at the end (author disabled day {s.author_removed_day}):")
    for tenant, warning in sorted(found.owner_warnings.items()):
        print(f"  {tenant}: {warning}")
    if not found.owner_warnings:
        print("  every tenant's policy has an active owner")
    print(f"Plans made from that day on (nothing stopped): {found.planned_after_author_left}")
    print("\nDrafts approved unchanged, per 30-day month:")
    for month, unchanged, decided in found.monthly:
        share = unchanged / decided if decided else 0.0
        print(f"  month {month}: {unchanged:>5} of {decided:>5}  {share:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--small", action="store_true", help="the tests' few weeks")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    scenario = Scenario.small() if args.small else Scenario()
    if args.days is not None:
        scenario = dataclasses.replace(scenario, days=args.days)
    if args.seed is not None:
        scenario = dataclasses.replace(scenario, seed=args.seed)
    logging.getLogger("deskhand").setLevel(logging.ERROR)  # escalations are the point here
    started = time.monotonic()

    def progress(day: int) -> None:
        if day % 30 == 0:
            print(f"  … day {day}, {time.monotonic() - started:.0f} s", file=sys.stderr)

    with database(args.backend) as url:
        found = simulate(scenario, url, progress=progress)
    report(found, time.monotonic() - started)


if __name__ == "__main__":
    main()
