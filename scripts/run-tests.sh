#!/usr/bin/env bash
# `npm test`: lint, unit tests, dist freshness, then the end-to-end suite on booted test servers.
# Assumes scripts/setup.sh has run (scripts/test.sh does both).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run lint
npm run test:unit
bash scripts/check-dist.sh
npm run test:e2e
