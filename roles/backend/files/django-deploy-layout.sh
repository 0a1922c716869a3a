#!/bin/bash
# django-deploy-layout [--check] PATH OWNER GROUP MODE [PATH OWNER GROUP MODE]...
# Each PATH a directory with that owner, group and mode, in the order given (parents first): made
# when missing, its owner and mode set when they differ; one line per directory made or changed,
# nothing when all were right. --check says the same lines and changes nothing. A link or another
# file at PATH stops it (nothing planted is followed or replaced). Run as root by the backend role
# (tasks/system.yml): one call for the project's layout instead of one round trip per directory.
set -euo pipefail
umask 022

die() { printf 'django-deploy-layout: %s\n' "$*" >&2; exit 1; }

check=no
if [ "${1:-}" = --check ]; then check=yes; shift; fi
if [ $# -eq 0 ] || [ $(($# % 4)) -ne 0 ]; then
  die "usage: $0 [--check] PATH OWNER GROUP MODE [PATH OWNER GROUP MODE]..."
fi

while [ $# -gt 0 ]; do
  path="$1" owner="$2" group="$3" mode="$4"
  shift 4
  [[ "$mode" =~ ^[0-7]{3,4}$ ]] || die "$path: mode $mode is not octal (e.g. 0755, 2750)"
  want="$owner $group $(printf '%o' "$((8#$mode))")"
  if [ -L "$path" ]; then die "$path is a symbolic link, not a directory: remove it, then run the role again"; fi
  if [ ! -e "$path" ]; then
    printf 'created %s (%s)\n' "$path" "$want"
    [ "$check" = yes ] && continue
    mkdir "$path"
  else
    [ -d "$path" ] || die "$path is not a directory: move it away, then run the role again"
    have="$(stat -c '%U %G %a' "$path")"
    [ "$have" = "$want" ] && continue
    printf 'changed %s (%s, was %s)\n' "$path" "$want" "$have"
    [ "$check" = yes ] && continue
  fi
  chown --no-dereference "$owner:$group" "$path"
  # Five digits: GNU chmod then clears a directory's setgid bit too when the mode has none.
  chmod "$(printf '0%04o' "$((8#$mode))")" "$path"
done
