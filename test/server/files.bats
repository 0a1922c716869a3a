#!/usr/bin/env bats
# Unit tests of roles/base/files/django-deploy-files.py: files written with their owner and mode,
# nothing said when all are right, a validation failure leaving the old file, a link at the
# destination replaced and never followed, a directory of another user's refused, --check changing
# nothing. Run as root (chown), as the test suite is on this project's machines.

setup() {
  T="$(mktemp -d)"
  F="$BATS_TEST_DIRNAME/../../roles/base/files/django-deploy-files.py"
}

teardown() {
  rm -rf "$T"
}

# files DEST CONTENT MODE OWNER GROUP VALIDATE: one entry of the JSON the role sends.
entry() {
  python3 -c 'import json, sys; print(json.dumps([dict(zip(["dest", "content", "mode", "owner", "group", "validate"], sys.argv[1:]))]))' "$@"
}

@test "a missing file is written with its owner and mode; a second call says nothing" {
  entry "$T/a.sh" $'echo a\n' 0755 nobody nogroup 'bash -n' > "$T/in.json"
  run python3 "$F" < "$T/in.json"
  [ "$status" -eq 0 ] && [ "$output" = "installed $T/a.sh" ]
  [ "$(stat -c '%U %G %a' "$T/a.sh")" = "nobody nogroup 755" ]
  [ "$(cat "$T/a.sh")" = "echo a" ]
  run python3 "$F" < "$T/in.json"
  [ "$status" -eq 0 ] && [ -z "$output" ]
}

@test "a content, mode or owner that differs is replaced, and said" {
  printf 'echo old\n' > "$T/a.sh" && chmod 0644 "$T/a.sh"
  entry "$T/a.sh" $'echo old\n' 0755 root root '' > "$T/in.json"
  run python3 "$F" < "$T/in.json"
  [ "$output" = "installed $T/a.sh" ] && [ "$(stat -c '%a' "$T/a.sh")" = 755 ]
  entry "$T/a.sh" $'echo new\n' 0755 root root '' > "$T/in.json"
  run python3 "$F" < "$T/in.json"
  [ "$output" = "installed $T/a.sh" ] && [ "$(cat "$T/a.sh")" = "echo new" ]
}

@test "a file that fails its validation is refused; the old one stays, no temporary file is left" {
  printf 'echo old\n' > "$T/a.sh"
  entry "$T/a.sh" $'if then\n' 0755 root root 'bash -n' > "$T/in.json"
  run python3 "$F" < "$T/in.json"
  [ "$status" -eq 1 ] && [[ "$output" == *"$T/a.sh does not pass bash -n"* ]]
  [ "$(cat "$T/a.sh")" = "echo old" ] && [ "$(ls -A "$T")" = "$(printf 'a.sh\nin.json')" ]
}

@test "a link at the destination is replaced by the file, its target untouched" {
  printf 'target\n' > "$T/target" && ln -s "$T/target" "$T/a.conf"
  entry "$T/a.conf" $'new\n' 0644 root root '' > "$T/in.json"
  run python3 "$F" < "$T/in.json"
  [ "$status" -eq 0 ] && [ ! -L "$T/a.conf" ] && [ "$(cat "$T/a.conf")" = new ] && [ "$(cat "$T/target")" = target ]
}

@test "nothing is written below a directory of another user's or a link" {
  mkdir "$T/app" && chown nobody "$T/app"
  entry "$T/app/a.conf" $'x\n' 0644 root root '' > "$T/in.json"
  run python3 "$F" < "$T/in.json"
  [ "$status" -eq 1 ] && [[ "$output" == *"$T/app is not a directory of root's"* ]] && [ ! -e "$T/app/a.conf" ]
  mkdir "$T/real" && ln -s "$T/real" "$T/link"
  entry "$T/link/a.conf" $'x\n' 0644 root root '' > "$T/in.json"
  run python3 "$F" < "$T/in.json"
  [ "$status" -eq 1 ] && [ ! -e "$T/real/a.conf" ]
}

@test "--check says what it would install and changes nothing" {
  entry "$T/a.sh" $'echo a\n' 0755 root root '' > "$T/in.json"
  run python3 "$F" --check < "$T/in.json"
  [ "$status" -eq 0 ] && [ "$output" = "installed $T/a.sh" ] && [ ! -e "$T/a.sh" ]
}
