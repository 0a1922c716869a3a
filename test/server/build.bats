#!/usr/bin/env bats
# Unit tests of roles/backend/files/build.sh (bin/build, run as the build user, unpack by root): a project tree in a
# temporary directory, the current user as both, the ctl wrapper stubbed by a script that
# records its calls (the e2e tests run the real one, and pip, on a booted server).

setup() {
  T="$(mktemp -d)"
  ROOT="$T/srv"
  mkdir -p "$ROOT"/{bin,releases/r1,venvs/v1/bin} "$T/app"
  install -m 0755 "$BATS_TEST_DIRNAME/../../roles/backend/files/build.sh" "$ROOT/bin/build"
  printf '#!/bin/sh\n' > "$ROOT/venvs/v1/bin/python" && chmod 0755 "$ROOT/venvs/v1/bin/python"
  # The ctl stub: `shell -c CODE` fails when $T/import-error exists, as an import error would, or
  # after the import when $T/collect-error exists; it prints the line the code prints once imported.
  cat > "$T/ctl" <<STUB
#!/bin/sh
printf '%s %s\n' "\$1" "\$BACKEND_RELEASE" >> "$T/ctl.log"
if [ "\$1" = shell ] && [ -e "$T/import-error" ]; then
  printf 'Traceback\nModuleNotFoundError: No module named %s\n' "\$BACKEND_WSGI_APPLICATION" >&2
  exit 1
fi
case "\$1 \$3" in "shell "*collectstatic*)
  echo 'django-deploy: imported' >&2
  if [ -e "$T/collect-error" ]; then echo 'CommandError: no STATIC_ROOT' >&2; exit 1; fi
  echo '3 static files copied'
esac
STUB
  chmod 0755 "$T/ctl"
  # bin/deploy stub (release's root steps): records its calls.
  printf '#!/bin/sh\necho "$*" >> "%s/deploy.log"\n' "$T" > "$ROOT/bin/deploy" && chmod 0755 "$ROOT/bin/deploy"
  cat > "$ROOT/bin/deploy.env" <<ENV
ROOT=$ROOT
BUILD_USER=$(id -un)
CTL=$T/ctl
WSGI_APPLICATION=site.wsgi:application
PYTHON=python3
REQUIREMENTS=requirements.txt
SYSTEM_SITE_PACKAGES=false
PIP_EXTRA_ARGS=()
PIP_TRUSTED_HOST=''
ENV
  echo 'print(1)' > "$T/app/manage.py"
  printf 'Django>=4\n' > "$T/app/requirements.txt"
  tar -czf "$ROOT/code.tar.gz" -C "$T/app" .
}

teardown() {
  rm -rf "$T"
}

@test "unpack: the archive of the revision, then its requirements' sha256 and text" {
  sum="$(sha256sum "$ROOT/code.tar.gz" | cut -d' ' -f1)"
  run "$ROOT/bin/build" unpack "$ROOT/releases/r1" "archive-$sum"
  [ "$status" -eq 0 ]
  [ -f "$ROOT/releases/r1/manage.py" ]
  [ "${lines[0]}" = "$(sha256sum "$T/app/requirements.txt" | cut -d' ' -f1)" ]
  [ "${lines[1]}" = "Django>=4" ]
}

@test "unpack: an archive that is not the revision's is refused, nothing unpacked" {
  run "$ROOT/bin/build" unpack "$ROOT/releases/r1" "archive-0000"
  [ "$status" -eq 1 ]
  [[ "$output" == *"is not the archive of archive-0000"* ]]
  [ ! -e "$ROOT/releases/r1/manage.py" ]
}

@test "unpack: the commit (and subdirectory) of the project's clone; no requirements file: none" {
  git init -q "$ROOT/git/repo"
  mkdir -p "$ROOT/git/repo/site" && cp "$T/app/manage.py" "$ROOT/git/repo/site/"
  git -C "$ROOT/git/repo" add -A && git -C "$ROOT/git/repo" -c user.name=t -c user.email=t@t commit -qm one
  commit="$(git -C "$ROOT/git/repo" rev-parse HEAD)"
  run "$ROOT/bin/build" unpack "$ROOT/releases/r1" "git-$commit:site"
  [ "$status" -eq 0 ]
  [ -f "$ROOT/releases/r1/manage.py" ]
  [ "$output" = none ]
}

@test "a directory outside releases/ or venvs/, or an unknown revision, is refused" {
  run "$ROOT/bin/build" unpack "$T/app" "archive-0000"
  [ "$status" -eq 1 ] && [[ "$output" == *"no release directory at $T/app"* ]]
  run "$ROOT/bin/build" unpack "$ROOT/releases/r1" "svn-12"
  [ "$status" -eq 1 ] && [[ "$output" == *"unknown revision svn-12"* ]]
  run "$ROOT/bin/build" venv "$T/venv" "$ROOT/releases/r1"
  [ "$status" -eq 1 ] && [[ "$output" == *"no venv directory at $T/venv"* ]]
  run "$ROOT/bin/build" static "$ROOT/releases/r1" "$T/app"
  [ "$status" -eq 1 ] && [[ "$output" == *"no venv at $T/app"* ]]
}

@test "static: the venv linked, the import checked and the static files collected by one start of Django" {
  run "$ROOT/bin/build" static "$ROOT/releases/r1" "$ROOT/venvs/v1"
  [ "$status" -eq 0 ]
  [ "$output" = "3 static files copied" ]
  [ "$(readlink "$ROOT/releases/r1/venv")" = "$ROOT/venvs/v1" ]
  [ "$(cat "$T/ctl.log")" = "shell $ROOT/releases/r1" ]
}

@test "static: a collect that fails after the import exits 1 with its error" {
  touch "$T/collect-error"
  run "$ROOT/bin/build" static "$ROOT/releases/r1" "$ROOT/venvs/v1"
  [ "$status" -eq 1 ]
  [ "$output" = "CommandError: no STATIC_ROOT" ]
}

@test "static: an import error exits 3 with its last line, nothing collected" {
  touch "$T/import-error"
  run "$ROOT/bin/build" static "$ROOT/releases/r1" "$ROOT/venvs/v1"
  [ "$status" -eq 3 ]
  [ "$output" = "ModuleNotFoundError: No module named site.wsgi:application" ]
  [ "$(cat "$T/ctl.log")" = "shell $ROOT/releases/r1" ]
}

@test "it runs as the build user only, unpack as root only" {
  sed -i "s/^BUILD_USER=.*/BUILD_USER=nobody-else/" "$ROOT/bin/deploy.env"
  for step in requirements static venv; do
    run "$ROOT/bin/build" "$step" "$ROOT/releases/r1" "$ROOT/venvs/v1"
    [ "$status" -eq 1 ] && [[ "$output" == *"$step: run it as nobody-else"* ]]
  done
  if [ "$(id -u)" -ne 0 ]; then
    run "$ROOT/bin/build" unpack "$ROOT/releases/r1" "archive-0000"
    [ "$status" -eq 1 ] && [[ "$output" == *"unpack: run it as root"* ]]
  fi
}

# The venv `release` names: sha1 of the requirements' sha256 and the options (as the role computes it).
venv_for() {
  printf '%s\n' "$ROOT/venvs/$(printf '%s%s' "$(sha256sum "$T/app/requirements.txt" | cut -d' ' -f1)" "$1" | sha1sum | cut -c1-16)"
}

@test "release: workdir, unpack, the venv its requirements name, static, seal and check in one call" {
  venv="$(venv_for python3Falsesealed)"
  mkdir -p "$venv/bin" && cp "$ROOT/venvs/v1/bin/python" "$venv/bin/python"
  sum="$(sha256sum "$ROOT/code.tar.gz" | cut -d' ' -f1)"
  run "$ROOT/bin/build" release "$ROOT/releases/r1" "archive-$sum" check <<< python3Falsesealed
  [ "$status" -eq 0 ]
  [[ "$output" == *"build: requirements $(sha256sum "$T/app/requirements.txt" | cut -d' ' -f1)"* ]]
  [[ "$output" == *"build: requirement Django>=4"* ]]
  [[ "$output" == *"build: venv $venv"* ]]
  [[ "$output" == *"build: sealed"* ]] && [[ "$output" == *"build: checked"* ]] && [[ "$output" != *"build: classified"* ]]
  [ "$(cat "$T/deploy.log")" = "workdir $ROOT/releases/r1
seal-release $ROOT/releases/r1 $venv archive-$sum" ]
  [ "$(cat "$T/ctl.log")" = "shell $ROOT/releases/r1
check $ROOT/releases/r1" ]
}

@test "release: without the check, with the migrations classifier on the sealed release" {
  venv="$(venv_for o)"
  mkdir -p "$venv/bin" && cp "$ROOT/venvs/v1/bin/python" "$venv/bin/python"
  sum="$(sha256sum "$ROOT/code.tar.gz" | cut -d' ' -f1)"
  run "$ROOT/bin/build" release "$ROOT/releases/r1" "archive-$sum" nocheck /usr/local/lib/classify.py <<< o
  [ "$status" -eq 0 ]
  [[ "$output" == *"build: sealed"* ]] && [[ "$output" != *"build: checked"* ]] && [[ "$output" == *"build: classified"* ]]
  [ "$(cat "$T/ctl.log")" = "shell $ROOT/releases/r1
shell $ROOT/releases/r1" ]
  run "$ROOT/bin/build" release "$ROOT/releases/r1" "archive-$sum" nocheck "/tmp/it's.py" <<< o
  [ "$status" -eq 1 ] && [[ "$output" == *"no quote or backslash"* ]]
}

@test "release: a venv to build first, or no requirements file, stops it after unpack" {
  sum="$(sha256sum "$ROOT/code.tar.gz" | cut -d' ' -f1)"
  run "$ROOT/bin/build" release "$ROOT/releases/r1" "archive-$sum" check <<< python3Falsesealed
  [ "$status" -eq 0 ]
  [[ "$output" == *"build: venv $(venv_for python3Falsesealed)"* ]] && [[ "$output" == *"build: stopped venv-missing"* ]]
  [[ "$output" != *"build: sealed"* ]] && [ ! -e "$T/ctl.log" ]
  [ "$(cat "$T/deploy.log")" = "workdir $ROOT/releases/r1" ]
  [ -f "$ROOT/releases/r1/manage.py" ]

  rm "$T/app/requirements.txt" && tar -czf "$ROOT/code.tar.gz" -C "$T/app" . && rm -rf "$ROOT/releases/r1"/*
  sed -i 's/^REQUIREMENTS=.*/REQUIREMENTS=requirements\/prod.txt/' "$ROOT/bin/deploy.env"
  sum="$(sha256sum "$ROOT/code.tar.gz" | cut -d' ' -f1)"
  run "$ROOT/bin/build" release "$ROOT/releases/r1" "archive-$sum" <<< x
  [ "$status" -eq 0 ]
  [[ "$output" == *"build: requirements none"* ]] && [[ "$output" == *"build: stopped no-requirements-file"* ]]
  [[ "$output" != *"build: venv"* ]]
}

@test "release: an import error exits 3 before the seal" {
  venv="$(venv_for o)"
  mkdir -p "$venv/bin" && cp "$ROOT/venvs/v1/bin/python" "$venv/bin/python"
  touch "$T/import-error"
  sum="$(sha256sum "$ROOT/code.tar.gz" | cut -d' ' -f1)"
  run "$ROOT/bin/build" release "$ROOT/releases/r1" "archive-$sum" check <<< o
  [ "$status" -eq 3 ]
  [[ "$output" == *"ModuleNotFoundError"* ]] && [[ "$output" != *"build: sealed"* ]]
  [ "$(cat "$T/deploy.log")" = "workdir $ROOT/releases/r1" ]
}
