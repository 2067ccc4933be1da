"""Reading Active Directory's binary security attributes: SIDs (objectSid, tokenGroups) and the
DACL of an object (nTSecurityDescriptor), to tell whether an account holds a right on it.

The formats are those of [MS-DTYP] §2.4: a self-relative security descriptor whose DACL holds
access-allowed and access-denied ACEs, some of them "object" ACEs scoped to a property or an
extended right by GUID.
"""

from __future__ import annotations

import struct
import uuid

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
