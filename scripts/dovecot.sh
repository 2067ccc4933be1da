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
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The IMAP intake tests need Dovecot (dovecot-imapd), and this machine has no apt-get." >&2
  echo "Install Dovecot 2.3 with its IMAP server by hand." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  echo "The IMAP intake tests need Dovecot: run" >&2
  echo "  apt-get install --no-install-recommends dovecot-imapd" >&2
  echo "as root (this user is not root and sudo is not installed)." >&2
  exit 1
fi
echo "Installing Debian's Dovecot for the IMAP intake tests…"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d answering 101 keeps Debian from starting the package's service during the install.
policy=/usr/sbin/policy-rc.d
made_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod +x "$policy"
  made_policy=true
fi
installed=true
"${as_root[@]}" apt-get update -qq &&
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null ||
  installed=false
if $made_policy; then
  "${as_root[@]}" rm -f "$policy"
fi
if ! $installed; then
  echo "Could not install Dovecot with apt-get (see above). The IMAP intake tests need it:" >&2
  echo "install it by hand ('apt-get install dovecot-imapd')." >&2
  exit 1
fi
# The tests never use the package's service: stop it if something started it anyway.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  "${as_root[@]}" systemctl disable --now dovecot.service >/dev/null 2>&1 || true
elif [ -x /etc/init.d/dovecot ]; then
  "${as_root[@]}" /etc/init.d/dovecot stop >/dev/null 2>&1 || true
fi
if ! command -v dovecot >/dev/null 2>&1; then
  echo "apt-get installed dovecot-imapd, but the dovecot program is still missing." >&2
  exit 1
fi
