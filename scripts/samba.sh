#!/usr/bin/env bash
# Install what the Active Directory tests run, if it is missing: Debian's Samba AD domain
# controller. The tests provision and start their own throwaway domain controller on a loopback
# address (tests/connectors/ldap/samba_dc.py); this script only makes the programs available.
# Quiet and quick when they are already there.
set -euo pipefail
if command -v samba >/dev/null 2>&1 && command -v samba-tool >/dev/null 2>&1 &&
  [ -d /usr/share/samba/setup ]; then
  exit 0
fi
# samba-ad-provision holds the templates `samba-tool domain provision` needs.
bash "$(dirname "$0")/apt-install.sh" "The Active Directory tests" samba-ad-dc samba-ad-provision
if ! command -v samba >/dev/null 2>&1; then
  echo "apt-get installed samba-ad-dc, but the samba program is still missing." >&2
  exit 1
fi
