#!/usr/bin/env bash
# The whole test suite, in layers: static checks, unit, integration (real PostgreSQL),
# end-to-end (real Chromium against the production build started by `npm start`), and the
# multi-replica test (several processes per role against one PostgreSQL and one S3 server).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# The browser tests drive Debian's Chromium (Playwright cannot download its own here). As
# root with apt-get at hand, install it; otherwise say what to do.
chromium="${CHROMIUM_PATH:-/usr/lib/chromium/chromium}"
if [ ! -x "$chromium" ]; then
  if [ -z "${CHROMIUM_PATH:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing Chromium from Debian (apt-get install chromium), for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt_log="$(mktemp)"
    if ! { apt-get update -qq && apt-get install -y -qq chromium; } >"$apt_log" 2>&1; then
      cat "$apt_log" >&2
      echo "Could not install Chromium (above); install it by hand or set CHROMIUM_PATH." >&2
      exit 1
    fi
    rm -f "$apt_log"
    echo "installed: $("$chromium" --version 2>/dev/null || echo "$chromium")"
  else
    echo "Chromium is missing: the browser tests need Debian's package." >&2
    echo "Install it as root (apt-get install -y chromium), or set CHROMIUM_PATH." >&2
    exit 1
  fi
fi

mkdir -p reports
step "prisma generate"
node scripts/prisma-generate.mjs >/dev/null
step "format (prettier --check)"
npx prettier --check . --log-level warn
step "lint (eslint)"
npx eslint --max-warnings=0 .
step "typecheck (tsc --noEmit)"
npx tsc --noEmit -p .
step "unit tests (vitest)"
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json=reports/vitest-unit.json
step "integration tests (vitest, real PostgreSQL)"
npx vitest run --project integration --reporter=default --reporter=json --outputFile.json=reports/vitest-integration.json
step "end-to-end tests (Playwright, Chromium, production build)"
npx playwright test
# After the browser tests: they leave the production build the web replicas serve.
step "multi-replica test (vitest: 2 web, 3 serving, 2 scheduler, S3 server, proxy)"
npx vitest run --project scaleout --reporter=default --reporter=json --outputFile.json=reports/vitest-scaleout.json
step "summary"
node scripts/test-summary.mjs reports/vitest-unit.json reports/vitest-integration.json reports/playwright.json reports/vitest-scaleout.json
