#!/usr/bin/env bash
# Start what the test suite talks to, if it is not running: the machine's PostgreSQL.
# CI runs on a machine where it is installed but may have stopped; a developer's machine may
# point DESKHAND_TEST_POSTGRES elsewhere.
set -euo pipefail
url="${DESKHAND_TEST_POSTGRES:-postgresql://root@127.0.0.1:5432/test}"
host=$(python3 -c "from urllib.parse import urlparse; print(urlparse('$url').hostname or '127.0.0.1')")
port=$(python3 -c "from urllib.parse import urlparse; print(urlparse('$url').port or 5432)")
if pg_isready -q -h "$host" -p "$port" 2>/dev/null; then
  exit 0
fi
if [ "$host" = "127.0.0.1" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "Starting PostgreSQL $version for the tests…"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do
    pg_isready -q -h "$host" -p "$port" && exit 0
    sleep 1
  done
fi
echo "PostgreSQL is not reachable at $host:$port; the tests that need it will fail." >&2
echo "Start it, or set DESKHAND_TEST_POSTGRES to a server the tests may create databases on." >&2
exit 1
