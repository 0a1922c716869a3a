#!/usr/bin/env bash
# Fails when the committed dist/ is not what a fresh build of src/ produces.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
if ! git diff --quiet --exit-code -- dist/ || [ -n "$(git ls-files --others --exclude-standard dist/)" ]; then
  echo "dist/ is stale: run 'npm run build' and commit dist/" >&2
  git status --short dist/ >&2
  exit 1
fi
echo "dist/ matches a fresh build"
