#!/usr/bin/env bash
# The README's first command: installs what is missing (scripts/setup.sh), then deploys the example
# app to a throwaway server on this machine and prints its URL; Ctrl-C tears the server down.
# Arguments go to `django-deploy demo` (--exit, --keep-on-failure, --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node --import tsx src/cli/index.ts demo "$@"
