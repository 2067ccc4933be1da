"""`tenants doctor` for Syncro: each check, and what it tells the admin to do."""

from __future__ import annotations

from datetime import timedelta

from deskhand.connectors.calls import Breakers, Caller, CallPolicy
from deskhand.connectors.doctor import Finding
from deskhand.connectors.syncro import SyncroPsa, SyncroSettings
from tests.connectors.syncro.conftest import Client


def _outcomes(findings: list[Finding]) -> dict[str, str]:
    return {f.check: f.outcome for f in findings}


def test_a_healthy_connection_passes_every_check(syncro: Client) -> None:
    syncro.standin.add_ticket(syncro.customer_id, "VPN", "down")
    findings = syncro.psa().doctor()
    assert _outcomes(findings) == {
        "reachable": "ok",
        "authenticates": "ok",
        "clock skew": "ok",
        "permission Tickets - List/Search": "ok",
        "permission Customers - View Detail": "ok",
        "permission Ticket Timers - Overview": "ok",
        "permission Tickets - View Details": "ok",
    }
    assert "deskhand API <api@msp.example>" in findings[1].detail


def test_a_refused_key_says_where_to_create_one(syncro: Client) -> None:
    findings = syncro.psa(api_key="revoked").doctor()
    assert [(f.check, f.outcome) for f in findings] == [
        ("reachable", "ok"),
        ("authenticates", "fail"),
    ]
    assert findings[1].fix is not None
    assert "Syncro → Admin → API Tokens" in findings[1].fix
    assert "Tickets - List/Search, Tickets - View Details, Tickets - Edit" in findings[1].fix


def test_a_missing_permission_is_named_with_where_to_grant_it(syncro: Client) -> None:
    syncro.standin.denied.add("Ticket Timers - Overview")
    [timers] = [
        f for f in syncro.psa().doctor() if f.check == "permission Ticket Timers - Overview"
    ]
    assert timers.outcome == "fail"
    assert "update your group permissions" in timers.detail
    assert timers.fix is not None and "'Ticket Timers - Overview'" in timers.fix


def test_a_wrong_customer_id_says_where_to_find_the_right_one(syncro: Client) -> None:
    psa = syncro.psa()
    wrong = SyncroPsa(
        "contoso",
        SyncroSettings(base_url=syncro.standin.base_url, customer_id=424242),
        "T0k3n-for-the-stand-in",
        caller=psa.caller,
        limiter=psa.limiter,
    )
    [customer] = [f for f in wrong.doctor() if "/customers/" in f.detail]
    assert customer.outcome == "fail" and "424242 does not exist" in customer.detail
    assert customer.fix is not None and "…/customers/NUMBER" in customer.fix


def test_a_skewed_clock_is_a_warning(syncro: Client) -> None:
    syncro.standin.date_skew = -timedelta(minutes=5)
    [skew] = [f for f in syncro.psa().doctor() if f.check == "clock skew"]
    assert skew.outcome == "warn" and "+30" in skew.detail
    assert skew.fix is not None and "NTP" in skew.fix


def test_an_unreachable_syncro_stops_at_the_first_check() -> None:
    settings = SyncroSettings(base_url="http://127.0.0.1:9/api/v1", customer_id=1)
    caller = Caller("contoso", "syncro", CallPolicy(attempts=1), breakers=Breakers())
    [finding] = SyncroPsa("contoso", settings, "key", caller=caller).doctor()
    assert (finding.check, finding.outcome) == ("reachable", "fail")
    assert finding.fix is not None and "firewall" in finding.fix
