#!/usr/bin/env bash
# Runs ShellCheck over the repository's shell scripts and the shell the roles install: the templates
# (roles/*/templates/*.sh.j2) rendered by Ansible's templating first, so the checked script is the
# one a server runs.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
shellcheck -x scripts/*.sh .ci/run test/e2e/fixtures/*.sh test/server/bin/* roles/*/files/*.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The Python that runs Ansible has its modules (it need not be the first python3 on PATH).
read -ra python < <(sed -n '1s/^#! *//p' "$(command -v ansible-playbook)")
"${python[@]}" scripts/render-shell-templates.py "$out/rendered" > "$out/list"
mapfile -t rendered < "$out/list"
# Warnings and errors only: style notes on a rendered file point at lines of the template.
if [ "${#rendered[@]}" -gt 0 ]; then shellcheck --severity=warning "${rendered[@]}"; fi
