#!/usr/bin/env bash
# Install Debian packages that some tests need: `scripts/apt-install.sh "WHO" PACKAGE…`, where
# WHO names the tests in messages ("The IMAP intake tests"). Used by browser.sh, samba.sh and
# dovecot.sh once they have found their program missing. As root, or through `sudo -n`.
# The packages' own services are kept from starting during the install (policy-rc.d answering
# 101): the tests start their own servers, with configurations of their own.
set -euo pipefail
who="$1"
shift
packages=("$@")
by_hand="apt-get install --no-install-recommends ${packages[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$who need ${packages[*]}, and this machine has no apt-get: install them by hand." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo -n)
else
  echo "$who need ${packages[*]}: run" >&2
  echo "  $by_hand" >&2
  echo "as root (this user is not root and sudo is not installed)." >&2
  exit 1
fi
echo "Installing Debian's ${packages[*]} for ${who,}…"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
made_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod +x "$policy"
  made_policy=true
fi
installed=true
"${as_root[@]}" apt-get update -qq &&
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null ||
  installed=false
if $made_policy; then
  "${as_root[@]}" rm -f "$policy"
fi
if ! $installed; then
  echo "Could not install ${packages[*]} with apt-get (see above). $who need them:" >&2
  echo "install them by hand ('$by_hand')." >&2
  exit 1
fi
