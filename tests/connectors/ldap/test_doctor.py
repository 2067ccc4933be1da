"""`tenants doctor` on an Active Directory connection: what passes on a good configuration, and
what each broken one reports, with what to fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deskhand.connectors.doctor import Finding
from tests.connectors.ldap.fixtures import MakeGroup, MakeUser
from tests.connectors.ldap.samba_dc import STAFF_OU, SambaDC
from tests.connectors.ldap.support import directory_for, settings


def _by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {finding.check: finding for finding in findings}


def test_a_good_configuration_passes_every_check(
    samba: SambaDC, make_user: MakeUser, make_group: MakeGroup
) -> None:
    make_user()
    make_group()
    doctor = directory_for(settings(samba, base_dn=STAFF_OU))

    findings = _by_check(doctor.doctor())

    assert set(findings) == {
        f"reachable {samba.url}",
        f"TLS {samba.url}",
        "authenticates",
        "clock skew",
        "right Reset password",
        "may change user attributes",
        "may create and move accounts",
        "may change group membership",
    }
    assert {check: f.outcome for check, f in findings.items() if f.outcome != "ok"} == {}


def test_a_wrong_bind_password_fails_authentication_with_the_fix(samba: SambaDC) -> None:
    findings = directory_for(settings(samba), "wrong-password").doctor()

    last = findings[-1]
    assert last.check == "authenticates" and last.outcome == "fail"
    assert "the password is wrong" in last.detail
    assert last.fix is not None and "Reset Password" in last.fix
    assert [f.outcome for f in findings[:-1]] == ["ok", "ok"]


def test_a_wrong_port_is_unreachable_and_nothing_else_is_tried(samba: SambaDC) -> None:
    wrong = f"ldaps://{samba.address}:1"

    findings = directory_for(settings(samba, servers=[wrong])).doctor()

    assert [(f.check, f.outcome) for f in findings] == [(f"reachable {wrong}", "fail")]
    assert findings[0].fix is not None and "firewall" in findings[0].fix


def test_an_untrusted_certificate_fails_tls_with_the_fix(samba: SambaDC) -> None:
    findings = _by_check(directory_for(settings(samba, ca_file=None)).doctor())

    tls = findings[f"TLS {samba.url}"]
    assert tls.outcome == "fail" and "certificate" in tls.detail
    assert tls.fix is not None and "ca_file" in tls.fix
    assert "authenticates" not in findings


def test_an_account_without_delegated_rights_is_told_what_to_delegate(
    samba: SambaDC, make_user: MakeUser, make_group: MakeGroup
) -> None:
    helpdesk = make_user()
    make_user()
    make_group()
    weak = directory_for(
        settings(samba, base_dn=STAFF_OU, bind_user=helpdesk.upn), helpdesk.password
    )

    findings = _by_check(weak.doctor())

    assert findings["authenticates"].outcome == "ok"
    reset = findings["right Reset password"]
    assert reset.outcome == "fail"
    assert reset.fix is not None and "Delegate Control" in reset.fix and STAFF_OU in reset.fix
    assert findings["may change user attributes"].outcome == "fail"
    assert findings["may change group membership"].outcome == "fail"
    # Only a leaver's and a starter's steps need it: a warning that names them.
    creates = findings["may create and move accounts"]
    assert creates.outcome == "warn" and "ad.create_user" in creates.detail
    assert creates.fix is not None and "'Create, delete, and manage user accounts'" in creates.fix


def test_the_domain_administrator_has_every_right(samba: SambaDC, make_user: MakeUser) -> None:
    make_user()
    from tests.connectors.ldap.samba_dc import ADMIN_PASSWORD

    admin = directory_for(
        settings(samba, base_dn=STAFF_OU, bind_user="Administrator@deskhand.test"), ADMIN_PASSWORD
    )

    assert _by_check(admin.doctor())["right Reset password"].outcome == "ok"


def test_clock_skew_warns_past_a_minute_and_fails_past_five(samba: SambaDC) -> None:
    def skewed(by: timedelta) -> Finding:
        clock = lambda: datetime.now(UTC) + by  # noqa: E731
        return _by_check(directory_for(settings(samba), clock=clock).doctor())["clock skew"]

    assert skewed(timedelta(minutes=2)).outcome == "warn"
    late = skewed(timedelta(minutes=-10))
    assert late.outcome == "fail" and "behind the DC" in late.detail
    assert late.fix is not None and "NTP" in late.fix
