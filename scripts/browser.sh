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
if ! bash "$(dirname "$0")/apt-install.sh" "The browser tests" chromium; then
  echo "Or set DESKHAND_CHROMIUM to a Chromium or Chrome executable." >&2
  exit 1
fi
if [ ! -x "$browser" ]; then
  echo "apt-get installed chromium, but $browser is still missing." >&2
  exit 1
fi
