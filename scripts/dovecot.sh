#!/usr/bin/env bash
# Install what the IMAP intake tests run, if it is missing: Debian's Dovecot IMAP server. The
# tests start their own Dovecot on a free loopback port with a configuration of their own
# (tests/connectors/imap/fixtures.py); this script only makes the program available, and makes
# sure the package's own service is not left listening on 143/993.
# Quiet and quick when it is already there.
set -euo pipefail
if command -v dovecot >/dev/null 2>&1 && [ -x /usr/lib/dovecot/imap ]; then
  exit 0
fi
bash "$(dirname "$0")/apt-install.sh" "The IMAP intake tests" dovecot-imapd
# The tests never use the package's service: stop it if something started it anyway.
if [ "$(id -u)" -eq 0 ]; then as_root=(); else as_root=(sudo -n); fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  "${as_root[@]}" systemctl disable --now dovecot.service >/dev/null 2>&1 || true
elif [ -x /etc/init.d/dovecot ]; then
  "${as_root[@]}" /etc/init.d/dovecot stop >/dev/null 2>&1 || true
fi
if ! command -v dovecot >/dev/null 2>&1; then
  echo "apt-get installed dovecot-imapd, but the dovecot program is still missing." >&2
  exit 1
fi
