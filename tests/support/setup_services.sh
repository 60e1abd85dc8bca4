#!/usr/bin/env bash
# One-off, idempotent setup for the tests that need a real PostgreSQL server
# (tests/unit/test_priorities_store.py, bench/priorities.py): Debian's postgresql binaries. The tests
# start and stop their own throwaway server as an unprivileged user; nothing is left running.
# Safe to run every time: it does nothing when initdb and pg_ctl are already there. `make test` runs it.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

have_pg() {
  command -v pg_ctl >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}

if ! have_pg; then
  echo "setup_services: installing Debian's postgresql"
  as_root apt-get update -qq
  # The package may start a cluster of its own; the tests never use it (they start theirs).
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet postgresql 2>/dev/null; then
    as_root systemctl disable --now postgresql >/dev/null 2>&1 || true
  fi
fi
have_pg || { echo "setup_services: PostgreSQL's pg_ctl is still not found" >&2; exit 1; }
