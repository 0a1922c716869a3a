#!/usr/bin/env bash
# `npm test`: lint, unit tests, dist freshness, then the end-to-end suite on booted test servers.
# Assumes scripts/setup.sh has run (scripts/test.sh does both).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run lint
npm run test:unit
bash scripts/check-dist.sh
# The e2e files and the version matrix, three files at a time, the slowest first (scripts/run-e2e.mjs).
# Each file's wall time is printed at the end, failed or not (test/support/wall-time.ts).
E2E_WALL_TIMES=$(mktemp -t e2e-wall-times.XXXXXX)
export E2E_WALL_TIMES
# shellcheck disable=SC2034  # read by the EXIT trap
started=$SECONDS
trap 'node scripts/e2e-wall-times.mjs "$E2E_WALL_TIMES" "$((SECONDS - started))"; rm -f "$E2E_WALL_TIMES"' EXIT
npm run test:e2e
