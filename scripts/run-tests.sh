#!/usr/bin/env bash
# `npm test`: lint, unit tests, dist freshness, then the end-to-end suite on booted test servers.
# Assumes scripts/setup.sh has run (scripts/test.sh does both).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run lint
npm run test:unit
bash scripts/check-dist.sh

# The version matrix is the longest file, and node's runner starts files in path order: it runs
# beside the other e2e files instead of after them. Its report follows theirs.
matrix_log=$(mktemp)
trap 'rm -f "$matrix_log"' EXIT
npm run --silent test:matrix >"$matrix_log" 2>&1 &
matrix=$!
e2e=0
npm run test:e2e || e2e=$?
status=0
wait "$matrix" || status=$?
echo '--- version matrix (npm run test:matrix) ---'
cat "$matrix_log"
if [ "$e2e" -ne 0 ] || [ "$status" -ne 0 ]; then
  echo "npm test: end-to-end suite exited $e2e, version matrix exited $status" >&2
  exit 1
fi
