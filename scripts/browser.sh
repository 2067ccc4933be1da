#!/usr/bin/env bash
# Install what the browser tests drive, if it is missing: Debian's Chromium at /usr/bin/chromium.
# Playwright's own browser download cannot be used (the tests run offline), so the tests launch
# this one. Quiet and quick when it is already there.
set -euo pipefail
browser="${DESKHAND_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
  exit 0
fi
if [ "$browser" != "/usr/bin/chromium" ]; then
  echo "DESKHAND_CHROMIUM is $browser, which is not an executable file." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The browser tests need Chromium at /usr/bin/chromium, and this machine has no apt-get." >&2
  echo "Install Chromium, or set DESKHAND_CHROMIUM to a Chromium or Chrome executable." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  echo "The browser tests need Chromium: run 'apt-get install chromium' as root" >&2
  echo "(this user is not root and sudo is not installed)." >&2
  exit 1
fi
echo "Installing Debian's chromium for the browser tests…"
export DEBIAN_FRONTEND=noninteractive
if ! { "${as_root[@]}" apt-get update -qq &&
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; then
  echo "Could not install chromium with apt-get (see above). The browser tests need it:" >&2
  echo "install it by hand ('apt-get install chromium'), or set DESKHAND_CHROMIUM." >&2
  exit 1
fi
if [ ! -x "$browser" ]; then
  echo "apt-get installed chromium, but $browser is still missing." >&2
  exit 1
fi
