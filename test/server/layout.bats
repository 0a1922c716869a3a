#!/usr/bin/env bats
# Unit tests of roles/backend/files/django-deploy-layout.sh: directories made, owners and modes set,
# nothing said when all are right, links and files refused, --check changing nothing. Run as root
# (chown), as the test suite is on this project's machines.

setup() {
  T="$(mktemp -d)"
  L="$BATS_TEST_DIRNAME/../../roles/backend/files/django-deploy-layout.sh"
}

teardown() {
  rm -rf "$T"
}

@test "missing directories are made, parents first; a second call says nothing" {
  run bash "$L" "$T/a" root root 0755 "$T/a/b" nobody nogroup 2750
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "created $T/a (root root 755)" ]
  [ "$(stat -c '%U %G %a' "$T/a/b")" = "nobody nogroup 2750" ]
  run bash "$L" "$T/a" root root 0755 "$T/a/b" nobody nogroup 2750
  [ "$status" -eq 0 ] && [ -z "$output" ]
}

@test "an owner or mode that differs is set (a stray setgid bit cleared), and said" {
  mkdir "$T/a" && chmod 2775 "$T/a"
  run bash "$L" "$T/a" root root 0755
  [ "$status" -eq 0 ]
  [ "$output" = "changed $T/a (root root 755, was root root 2775)" ]
  [ "$(stat -c '%a' "$T/a")" = 755 ]
}

@test "--check says what would change and changes nothing" {
  mkdir "$T/a" && chmod 0700 "$T/a"
  run bash "$L" --check "$T/a" root root 0755 "$T/b" root root 0755
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 2 ]
  [ "$(stat -c '%a' "$T/a")" = 700 ] && [ ! -e "$T/b" ]
}

@test "a link or a file where a directory belongs stops it, nothing followed" {
  mkdir "$T/target" && ln -s "$T/target" "$T/link" && touch "$T/file"
  run bash "$L" "$T/link" nobody nogroup 0700
  [ "$status" -eq 1 ] && [[ "$output" == *"$T/link is a symbolic link"* ]]
  [ "$(stat -c '%U %a' "$T/target")" = "root 755" ]
  run bash "$L" "$T/file" root root 0755
  [ "$status" -eq 1 ] && [[ "$output" == *"$T/file is not a directory"* ]]
}

@test "bad arguments: the usage, or the mode that is not octal" {
  run bash "$L" "$T/a" root root
  [ "$status" -eq 1 ] && [[ "$output" == *"usage:"* ]]
  run bash "$L" "$T/a" root root 0999
  [ "$status" -eq 1 ] && [[ "$output" == *"mode 0999 is not octal"* ]]
}
