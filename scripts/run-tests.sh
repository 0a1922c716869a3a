#!/usr/bin/env bash
# `npm test`: lint, unit tests, dist freshness, then the end-to-end suite on booted test servers.
# Assumes scripts/setup.sh has run (scripts/test.sh does both).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run lint
npm run test:unit
bash scripts/check-dist.sh
# The e2e files and the version matrix, three files at a time (the runner starts them in path
# order: the matrix last). Run beside the others from the start instead, the suite took 52 minutes, not 43.
npm run test:e2e
