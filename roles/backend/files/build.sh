#!/bin/bash
# Builds a release as the build user (never the project user, whose processes the site runs), in the
# directories bin/deploy workdir gave it (the release and venv are sealed by bin/deploy afterwards,
# before root reads anything in them).
#   build unpack RELEASE_DIR REVISION   run by root: the code of REVISION (git-COMMIT[:SUBDIR] exported
#                                       from root's clone, or archive-SHA256: the uploaded archive,
#                                       checked first), extracted by the build user; then what
#                                       `requirements` prints
#   build requirements RELEASE_DIR      the requirements file's sha256 ("none" without one), then its text
#   build venv VENV_DIR RELEASE_DIR     a venv with the release's requirements; pip's index URL and
#                                       extra index URLs on stdin, one line each (never on a command line)
#   build static RELEASE_DIR VENV_DIR   the release linked to its (sealed) venv, its settings module and
#                                       WSGI application imported (exit 3 and the error's last line if
#                                       not), its static files collected into it (one start of Django)
#   build release RELEASE_DIR REVISION [check|nocheck] [CLASSIFIER]   run by root: a whole release in
#                                       one call (a deploy without build hooks): `bin/deploy workdir`,
#                                       `unpack`, the venv its requirements name (the venv options on
#                                       stdin), `static`, `bin/deploy seal-release`; then, as the project
#                                       user on the sealed release, with `check` Django's deployment
#                                       checklist, with CLASSIFIER (the migrations classifier's path) the
#                                       pending migrations classified. Stops after unpack when the venv
#                                       must be built first, or the requirements file is missing (the
#                                       deploy's tasks take over). Its progress on stdout, lines
#                                       "build: KEY [VALUE]" (the classifier's own line as it prints it).
# One call does several steps so that a deploy makes few round trips to the server.
set -euo pipefail
umask 022
# shellcheck source=/dev/null
. "$(dirname "$(readlink -f "$0")")/deploy.env"
: "${ROOT:?}" "${BUILD_USER:?}" "${PYTHON:?}" "${REQUIREMENTS:?}" "${SYSTEM_SITE_PACKAGES:?}" "${PIP_TRUSTED_HOST?}"
: "${CTL:?}" "${WSGI_APPLICATION:?}"
SELF="$(readlink -f "$0")"
cd /

die() { printf 'build: %s\n' "$*" >&2; exit 1; }
as_build() { runuser -u "$BUILD_USER" -- "$@"; }

in_releases() {
  if [ "${1%/*}" != "$ROOT/releases" ] || [ ! -d "$1" ] || [ -L "$1" ]; then die "no release directory at $1"; fi
}

unpack() {
  local release="$1" revision="$2" sum
  in_releases "$release"
  case "$revision" in
    git-*) git -C "$ROOT/git/repo" archive --format=tar "${revision#git-}" | as_build tar -x -C "$release" ;;
    archive-*)
      sum="$(sha256sum "$ROOT/code.tar.gz" | cut -d' ' -f1)"
      [ "archive-$sum" = "$revision" ] || die "$ROOT/code.tar.gz is not the archive of $revision"
      as_build tar -xzf "$ROOT/code.tar.gz" -C "$release"
      ;;
    *) die "unknown revision $revision (git-COMMIT or archive-SHA256)" ;;
  esac
  as_build "$SELF" requirements "$release"
}

venv() {
  local dir="$1" release="$2" index="" extra="" options=()
  [ "${dir%/*}" = "$ROOT/venvs" ] || die "no venv directory at $dir"
  in_releases "$release"
  IFS= read -r index || true
  IFS= read -r extra || true
  if [ -n "$index" ]; then export PIP_INDEX_URL="$index"; fi
  if [ -n "$extra" ]; then export PIP_EXTRA_INDEX_URL="$extra"; fi
  export PIP_TRUSTED_HOST PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
  if [ "$SYSTEM_SITE_PACKAGES" = true ]; then options+=(--system-site-packages); fi
  "$PYTHON" -m venv "${options[@]}" "$dir"
  if [ -f "$release/$REQUIREMENTS" ]; then
    "$dir/bin/python" -m pip install --no-input "${PIP_EXTRA_ARGS[@]}" -r "$release/$REQUIREMENTS"
  fi
}

requirements() {
  local release="$1"
  in_releases "$release"
  if [ -f "$release/$REQUIREMENTS" ]; then
    sha256sum "$release/$REQUIREMENTS" | cut -d' ' -f1
    cat "$release/$REQUIREMENTS"
  else
    echo none
  fi
}

# The settings module and the WSGI application (module:attribute) imported in the release's Django,
# then its static files collected, in one start of Django (the staticfiles checks run, as
# `manage.py collectstatic` runs them). The line on stderr tells an import error from a failed collect.
IMPORTED='django-deploy: imported'
# shellcheck disable=SC2016 # Python, not shell
IMPORT_AND_COLLECT='import importlib, os, sys
from django.conf import settings
settings.INSTALLED_APPS
module, attribute = os.environ["BACKEND_WSGI_APPLICATION"].split(":")
getattr(importlib.import_module(module), attribute)
print("'"$IMPORTED"'", file=sys.stderr, flush=True)
from django.core.management import call_command
call_command("collectstatic", interactive=False, skip_checks=False)'

static() {
  local release="$1" venv="$2" err
  in_releases "$release"
  if [ "${venv%/*}" != "$ROOT/venvs" ] || [ ! -x "$venv/bin/python" ]; then die "no venv at $venv"; fi
  ln -sfn "$venv" "$release/venv"
  export BACKEND_RELEASE="$release" BACKEND_BUILD=1
  # stdout (collectstatic's report) passes through fd 3; stderr is read.
  exec 3>&1
  if ! err="$(BACKEND_WSGI_APPLICATION="$WSGI_APPLICATION" "$CTL" shell -c "$IMPORT_AND_COLLECT" 2>&1 1>&3 3>&-)"; then
    if printf '%s\n' "$err" | grep -qxF "$IMPORTED"; then
      printf '%s\n' "$err" | grep -vxF "$IMPORTED" >&2
      exit 1
    fi
    printf '%s\n' "$err" | tail -n 1 >&2
    exit 3
  fi
  exec 3>&-
  err="$(printf '%s\n' "$err" | grep -vxF "$IMPORTED" || true)"
  if [ -n "$err" ]; then printf '%s\n' "$err" >&2; fi
}

# Root's part runs bin/deploy (in this script's directory), the rest as the build user, the check as
# the project user (the ctl): the same steps, users and order as the deploy's tasks one by one.
release() {
  local release="$1" revision="$2" check="${3:-}" classifier="${4:-}" venv_options="" out sha venv line
  case "$classifier" in *[\'\\]*) die "no quote or backslash in the classifier's path: $classifier" ;; esac
  IFS= read -r venv_options || true
  "${SELF%/*}/deploy" workdir "$release" >/dev/null
  out="$(unpack "$release" "$revision")"
  sha="${out%%$'\n'*}"
  printf 'build: requirements %s\n' "$sha"
  printf '%s\n' "$out" | tail -n +2 | while IFS= read -r line; do printf 'build: requirement %s\n' "$line"; done
  if [ "$sha" = none ] && [ "$REQUIREMENTS" != requirements.txt ]; then
    echo 'build: stopped no-requirements-file'
    return 0
  fi
  # The venv's name as the deploy's tasks compute it (sha1 of the requirements' sha256 and the options).
  venv="$ROOT/venvs/$(printf '%s%s' "$sha" "$venv_options" | sha1sum | cut -c1-16)"
  printf 'build: venv %s\n' "$venv"
  if [ ! -e "$venv/bin/python" ]; then
    echo 'build: stopped venv-missing'
    return 0
  fi
  as_build env HOME=/nonexistent PYTHONNOUSERSITE=1 "$SELF" static "$release" "$venv"
  "${SELF%/*}/deploy" seal-release "$release" "$venv" "$revision"
  echo 'build: sealed'
  if [ "$check" = check ]; then
    out="$(BACKEND_RELEASE="$release" "$CTL" check --deploy 2>&1)" || { printf '%s\n' "$out" >&2; die "manage.py check --deploy failed"; }
    printf '%s\n' "$out" | while IFS= read -r line; do printf 'build: check %s\n' "$line"; done
    echo 'build: checked'
  fi
  if [ -n "$classifier" ]; then
    BACKEND_RELEASE="$release" "$CTL" shell -c "exec(open('$classifier').read(), {'__name__': 'django_deploy_migrations'})"
    echo 'build: classified'
  fi
}

# Root unpacks (it reads root's clone); everything that runs the project's code is the build user's.
if [ "${1:-}" = unpack ] || [ "${1:-}" = release ]; then want=root; else want="$BUILD_USER"; fi
[ "$(id -un)" = "$want" ] || die "${1:-build}: run it as $want"
case "${1:-}" in
  unpack) unpack "${2:?release directory}" "${3:?revision}" ;;
  venv) venv "${2:?venv directory}" "${3:?release directory}" ;;
  requirements) requirements "${2:?release directory}" ;;
  static) static "${2:?release directory}" "${3:?venv directory}" ;;
  release) release "${2:?release directory}" "${3:?revision}" "${4:-}" "${5:-}" ;;
  *) die "usage: $0 unpack RELEASE_DIR REVISION | requirements RELEASE_DIR | venv VENV_DIR RELEASE_DIR | static RELEASE_DIR VENV_DIR | release RELEASE_DIR REVISION [check|nocheck] [CLASSIFIER]" ;;
esac
