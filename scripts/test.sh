#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what is missing, then lint, unit and e2e tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm test
