"""Reading Active Directory's binary security attributes: SIDs (objectSid, tokenGroups) and the
DACL of an object (nTSecurityDescriptor), to tell whether an account holds a right on it; and
checking a distinguished name that came from a step's parameters before it reaches the server.

The formats are those of [MS-DTYP] §2.4: a self-relative security descriptor whose DACL holds
access-allowed and access-denied ACEs, some of them "object" ACEs scoped to a property or an
extended right by GUID.
"""

from __future__ import annotations

import re
import struct
import uuid

from ldap3.core.exceptions import LDAPInvalidDnError
from ldap3.utils.dn import parse_dn

from deskhand.connectors.errors import ConnectorError, NotFoundError
from deskhand.domain.directory import dn_key

# Extended right "Reset Password" (User-Force-Change-Password), [MS-ADTS] §5.1.3.2.1.
RESET_PASSWORD = uuid.UUID("00299570-246d-11d0-a768-00aa006e0529")
EVERYONE = "S-1-1-0"
AUTHENTICATED_USERS = "S-1-5-11"
BUILTIN_ADMINISTRATORS = "S-1-5-32-544"
DOMAIN_ADMINS_RID = 512
ENTERPRISE_ADMINS_RID = 519

_CONTROL_ACCESS = 0x100  # ADS_RIGHT_DS_CONTROL_ACCESS: extended rights
_INHERIT_ONLY = 0x08
_ALLOWED, _DENIED, _ALLOWED_OBJECT, _DENIED_OBJECT = 0, 1, 5, 6
_OBJECT_TYPE_PRESENT, _INHERITED_OBJECT_TYPE_PRESENT = 0x1, 0x2


def sid_text(raw: bytes) -> str:
    """``S-1-5-21-…`` from a binary SID."""
    revision, count = raw[0], raw[1]
    authority = int.from_bytes(raw[2:8], "big")
    subs = struct.unpack_from(f"<{count}I", raw, 8)
    return "-".join(["S", str(revision), str(authority), *map(str, subs)])


def _sid_length(raw: bytes, offset: int) -> int:
    return 8 + 4 * raw[offset + 1]


def is_administrator(sids: set[str]) -> bool:
    """Whether these token SIDs include Domain Admins, Enterprise Admins or Administrators."""
    for sid in sids:
        rid = sid.rsplit("-", 1)[-1]
        if sid == BUILTIN_ADMINISTRATORS or (
            sid.startswith("S-1-5-21-")
            and rid in (str(DOMAIN_ADMINS_RID), str(ENTERPRISE_ADMINS_RID))
        ):
            return True
    return False


def may_reset_password(descriptor: bytes, sids: set[str]) -> bool:
    """Whether the DACL grants the "Reset Password" extended right to one of ``sids``.

    ACEs are read in order and the first that decides wins, as Windows evaluates them;
    inherit-only ACEs do not apply to the object itself.
    """
    dacl_offset = struct.unpack_from("<I", descriptor, 16)[0]
    if dacl_offset == 0:
        return True  # no DACL at all: everyone has every right
    ace_count = struct.unpack_from("<H", descriptor, dacl_offset + 4)[0]
    offset = dacl_offset + 8
    for _ in range(ace_count):
        ace_type, flags, size = struct.unpack_from("<BBH", descriptor, offset)
        decision = _decides(descriptor, offset, ace_type, flags, sids)
        if decision is not None:
            return decision
        offset += size
    return False


def _decides(
    descriptor: bytes, offset: int, ace_type: int, flags: int, sids: set[str]
) -> bool | None:
    if flags & _INHERIT_ONLY or ace_type not in (
        _ALLOWED,
        _DENIED,
        _ALLOWED_OBJECT,
        _DENIED_OBJECT,
    ):
        return None
    mask = struct.unpack_from("<I", descriptor, offset + 4)[0]
    body = offset + 8
    object_type = None
    if ace_type in (_ALLOWED_OBJECT, _DENIED_OBJECT):
        object_flags = struct.unpack_from("<I", descriptor, body)[0]
        body += 4
        if object_flags & _OBJECT_TYPE_PRESENT:
            object_type = uuid.UUID(bytes_le=descriptor[body : body + 16])
            body += 16
        if object_flags & _INHERITED_OBJECT_TYPE_PRESENT:
            body += 16
    sid = sid_text(descriptor[body : body + _sid_length(descriptor, body)])
    if sid not in sids or not mask & _CONTROL_ACCESS:
        return None
    if object_type not in (None, RESET_PASSWORD):
        return None
    return ace_type in (_ALLOWED, _ALLOWED_OBJECT)


# The parts a distinguished name deskhand is given may have: organisational units, containers
# and the domain's components. Anything else (an OID, a multi-valued part) is not a place a
# technician names for an account.
_DN_PARTS = frozenset({"OU", "CN", "DC"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]|\\[01][0-9a-fA-F]|\\7[fF]")
INVALID_DN_SYNTAX = 34  # LDAP's invalidDNSyntax


def checked_dn(dn: str, base_dn: str, *, system: str) -> str:
    """``dn`` as given, once it is known to be a plain distinguished name of an OU inside the
    domain ``base_dn`` (empty: any domain). A step's parameter is text from a person or a
    model: one that does not parse, names a multi-valued or unusual part, hides a control
    character, or lies outside the domain (the configuration partition, another domain) is
    refused here, before the domain controller is asked anything."""
    text = dn.strip()
    try:
        parts = parse_dn(text, escape=False, strip=True) if text else []
    except LDAPInvalidDnError as error:
        raise _invalid(dn, f"it does not parse ({error})", system) from None
    if not parts:
        raise _invalid(dn, "it is empty", system)
    if _CONTROL.search(text):
        raise _invalid(dn, "it holds a control character", system)
    if any(separator == "+" for _, _, separator in parts):
        raise _invalid(dn, "it has a multi-valued part (+)", system)
    unusual = sorted({name for name, _, _ in parts if name.upper() not in _DN_PARTS})
    if unusual:
        raise _invalid(
            dn, f"it names {', '.join(unusual)}: only OU=, CN= and DC= are taken", system
        )
    if parts[0][0].upper() != "OU":
        raise _invalid(dn, "it does not name an OU (it must start with OU=)", system)
    key, base = dn_key(text), dn_key(base_dn)
    if base and not key.endswith("," + base):
        raise NotFoundError(
            f"There is no organisational unit {dn} in the domain: it is not under {base_dn}.",
            system=system,
            status=32,
            fix=f"give the distinguished name of an OU in the client's domain ({base_dn})",
        )
    return text


def _invalid(dn: str, why: str, system: str) -> ConnectorError:
    return ConnectorError(
        f"{dn!r} is not the distinguished name of an organisational unit: {why}.",
        system=system,
        status=INVALID_DN_SYNTAX,
        fix="copy the OU's distinguishedName from Active Directory Users and Computers (View → "
        "Advanced Features → the OU → Properties → Attribute Editor)",
    )
