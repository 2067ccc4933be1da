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
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The Active Directory tests need Samba's AD DC (samba, samba-tool), and this machine" >&2
  echo "has no apt-get. Install Samba 4.15 or newer with its AD DC support by hand." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  echo "The Active Directory tests need Samba: run" >&2
  echo "  apt-get install --no-install-recommends samba-ad-dc samba-ad-provision" >&2
  echo "as root (this user is not root and sudo is not installed)." >&2
  exit 1
fi
echo "Installing Debian's Samba AD DC for the Active Directory tests…"
export DEBIAN_FRONTEND=noninteractive
# samba-ad-provision holds the templates `samba-tool domain provision` needs; the packages'
# own services are not used (the tests run their own samba process).
if ! { "${as_root[@]}" apt-get update -qq &&
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
    samba-ad-dc samba-ad-provision >/dev/null; }; then
  echo "Could not install Samba with apt-get (see above). The Active Directory tests need it:" >&2
  echo "install it by hand ('apt-get install samba-ad-dc samba-ad-provision')." >&2
  exit 1
fi
if ! command -v samba >/dev/null 2>&1; then
  echo "apt-get installed samba-ad-dc, but the samba program is still missing." >&2
  exit 1
fi
