#!/usr/bin/env bash
# One-off, idempotent setup for the browser tests (tests/browser/) and bench/browser.py:
#   - Debian's chromium, driven by Playwright's Python client (Playwright never downloads a browser);
#   - axe-core from the npm registry, pinned in package.json / package-lock.json at the repo root;
#   - Debian's caddy, so tests/unit/test_deployment_files.py runs the deploy/Caddyfile for real.
# Safe to run every time: it does nothing when both are already there. `make test` runs it.
set -euo pipefail
cd "$(dirname "$0")/../.."

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v chromium >/dev/null 2>&1; then
  echo "setup_browser: installing Debian's chromium"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi
command -v chromium >/dev/null 2>&1 || { echo "setup_browser: chromium is still not on PATH" >&2; exit 1; }

if ! command -v caddy >/dev/null 2>&1; then
  echo "setup_browser: installing Debian's caddy (the proxy tests run deploy/Caddyfile)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends caddy
  # Debian's package starts a caddy service on port 80; the tests start their own on a free port.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet caddy 2>/dev/null; then
    as_root systemctl disable --now caddy >/dev/null 2>&1 || true
  fi
fi

if [ ! -f node_modules/axe-core/axe.min.js ]; then
  command -v npm >/dev/null 2>&1 || { echo "setup_browser: npm is needed for axe-core" >&2; exit 1; }
  echo "setup_browser: installing axe-core from package-lock.json"
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
fi
test -f node_modules/axe-core/axe.min.js || { echo "setup_browser: axe-core did not install" >&2; exit 1; }
