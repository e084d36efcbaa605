#!/usr/bin/env bash
# The whole test suite, in layers: static checks, unit, integration (real PostgreSQL),
# end-to-end (real Chromium against the production build started by `npm start`).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ ! -x "${CHROMIUM_PATH:-/usr/lib/chromium/chromium}" ]; then
  echo "Chromium is missing: install Debian's package first (apt-get install -y chromium)," >&2
  echo "or set CHROMIUM_PATH. .ci/run does this for you." >&2
  exit 1
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
step "summary"
node scripts/test-summary.mjs reports/vitest-unit.json reports/vitest-integration.json reports/playwright.json
