#!/usr/bin/env bash
# Install the web app's front-end assets from the npm registry (versions pinned in
# assets/package-lock.json) and copy the built files into the package, where they are
# committed: deskhand serves them itself and never loads anything from a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix assets --no-audit --no-fund --loglevel=error
vendor=src/deskhand/web/static/vendor
mkdir -p "$vendor"
copy() {  # copy FILE NAME VERSION: one file, with a first line saying what it is
  local source=$1 target=$2 version
  version=$(node -p "require('./assets/node_modules/$3/package.json').version")
  { printf '/* %s %s, vendored by scripts/vendor-assets.sh */\n' "$3" "$version"; cat "$source"; } \
    > "$vendor/$target"
}
copy assets/node_modules/htmx.org/dist/htmx.min.js htmx.min.js htmx.org
copy assets/node_modules/chart.js/dist/chart.umd.js chart.umd.js chart.js
copy assets/node_modules/@picocss/pico/css/pico.min.css pico.min.css @picocss/pico
ls -l "$vendor"
