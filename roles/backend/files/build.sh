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
#                                       not), its static files collected into it
# One call does several steps so that a deploy makes few round trips to the server.
set -euo pipefail
umask 022
# shellcheck source=/dev/null
. "$(dirname "$(readlink -f "$0")")/deploy.env"
: "${ROOT:?}" "${BUILD_USER:?}" "${PYTHON:?}" "${REQUIREMENTS:?}" "${SYSTEM_SITE_PACKAGES:?}" "${PIP_TRUSTED_HOST?}"
: "${CTL:?}" "${WSGI_APPLICATION:?}"
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
  as_build "$(readlink -f "$0")" requirements "$release"
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

# The settings module and the WSGI application (module:attribute) imported in the release's Django.
# shellcheck disable=SC2016 # Python, not shell
IMPORT_CHECK='import importlib, os
from django.conf import settings
settings.INSTALLED_APPS
module, attribute = os.environ["BACKEND_WSGI_APPLICATION"].split(":")
getattr(importlib.import_module(module), attribute)'

static() {
  local release="$1" venv="$2" err
  in_releases "$release"
  if [ "${venv%/*}" != "$ROOT/venvs" ] || [ ! -x "$venv/bin/python" ]; then die "no venv at $venv"; fi
  ln -sfn "$venv" "$release/venv"
  export BACKEND_RELEASE="$release" BACKEND_BUILD=1
  if ! err="$(BACKEND_WSGI_APPLICATION="$WSGI_APPLICATION" "$CTL" shell -c "$IMPORT_CHECK" 2>&1 >/dev/null)"; then
    printf '%s\n' "$err" | tail -n 1 >&2
    exit 3
  fi
  "$CTL" collectstatic --noinput
}

# Root unpacks (it reads root's clone); everything that runs the project's code is the build user's.
if [ "${1:-}" = unpack ]; then want=root; else want="$BUILD_USER"; fi
[ "$(id -un)" = "$want" ] || die "${1:-build}: run it as $want"
case "${1:-}" in
  unpack) unpack "${2:?release directory}" "${3:?revision}" ;;
  venv) venv "${2:?venv directory}" "${3:?release directory}" ;;
  requirements) requirements "${2:?release directory}" ;;
  static) static "${2:?release directory}" "${3:?venv directory}" ;;
  *) die "usage: $0 unpack RELEASE_DIR REVISION | requirements RELEASE_DIR | venv VENV_DIR RELEASE_DIR | static RELEASE_DIR VENV_DIR" ;;
esac
