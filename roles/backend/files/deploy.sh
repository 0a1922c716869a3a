#!/bin/bash
# Zero-downtime switches of a Django project between two supervisord programs, blue and green, each
# gunicorn on its own unix socket. nginx proxies to the socket named in nginx-upstream.conf.
#   deploy switch RELEASE_DIR   start the idle colour on the release, health-check it, move nginx to
#                               it, point `current` at it, stop the old colour once nginx drained it
#   deploy restart SECONDS      switch to the live release again (new settings), under the deploy lock
#   deploy rollback             switch to the release before the live one
#   deploy status               live colour, its state and release
#   deploy prune N              keep the N newest releases (and the live one), drop unused venvs and static files
#   deploy dump RELEASE_DIR     dump the database into the release (before it migrates)
#   deploy restore RELEASE_DIR  restore the database from the release's dump
#   deploy lock SECONDS | unlock   the per-project deploy lock
#
# Runs as root. What root writes lives in root-owned directories (run/, the project root); every
# file operation in a directory the project user can write (releases/, shared/, venvs/) runs as
# that user, so a symlink planted there never makes root write elsewhere.
set -euo pipefail
# shellcheck source=/dev/null
. "$(dirname "$(readlink -f "$0")")/deploy.env"
: "${ROOT:?}" "${NAME:?}" "${APP_USER:?}" "${HEALTH_URL:?}" "${HEALTH_HOST:?}" "${HEALTH_TIMEOUT:?}"
: "${DRAIN_TIMEOUT:?}" "${LOG_DIR:?}" "${LOCK_MAX_HOLD:?}" "${SOCKET_DIR:?}" "${DB_ENGINE:?}" "${DB_NAME:?}"
RUN="$ROOT/run"
STATIC="$ROOT/shared/static"
DUMP=.pre-migrate.dump
SELF="$(readlink -f "$0")"
cd /  # the project user and postgres may not enter the caller's directory

say() { printf '%s\n' "$*"; }
die() { printf '%s deploy: %s\n' "$NAME" "$*" >&2; exit 1; }
as_app() { if [ "$(id -un)" = "$APP_USER" ]; then "$@"; else runuser -u "$APP_USER" -- "$@"; fi; }
live() { cat "$RUN/live" 2>/dev/null || true; }
other() { if [ "$1" = blue ]; then echo green; else echo blue; fi; }
state() { supervisorctl status "$NAME-$1" 2>/dev/null | awk '{print $2}' || true; }
pid() { supervisorctl pid "$NAME-$1" 2>/dev/null | grep -E '^[0-9]+$' || echo 0; }
health() {
  # As the project user: the socket's directory is theirs.
  as_app curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$SOCKET_DIR/$1.sock" \
    -H "Host: $HEALTH_HOST" -H 'X-Forwarded-Proto: https' "$HEALTH_URL" 2>/dev/null || true
}
nginx_running() {
  command -v nginx >/dev/null && [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null
}
stop_colour() {
  rm -f "$RUN/$1.on"
  supervisorctl stop "$NAME-$1" >/dev/null 2>&1 || true
}

# The release's collected static files join shared/static/, which nginx serves: the hashed files of
# every kept release answer whichever release rendered the page. `keep` adds the new files only (the
# live release's unhashed names keep their content until the switch); `all` also overwrites them.
publish_static() {
  local release="$1" mode="$2"
  [ -d "$release/static" ] || return 0
  if [ "$mode" = keep ]; then
    as_app cp -R --no-dereference --preserve=mode,timestamps --no-clobber -T "$release/static" "$STATIC"
  else
    as_app cp -R --no-dereference --preserve=mode,timestamps -T "$release/static" "$STATIC"
  fi
}

switch() {
  local release old new started code deadline workers err logged
  release="$(readlink -f "$1")"
  [ -f "$release/manage.py" ] || die "no release at $1"
  old="$(live)"
  new="$(other "${old:-green}")"

  # 1. The idle colour, stopped, now points at the release (its supervisord program refreshed).
  stop_colour "$new"
  ln -sfn "$release" "$ROOT/.$new.tmp" && mv -T "$ROOT/.$new.tmp" "$ROOT/$new"
  publish_static "$release" keep
  supervisorctl reread >/dev/null
  supervisorctl update "$NAME-$new" >/dev/null
  logged="$(stat -c %s "$LOG_DIR/gunicorn-$new.log" 2>/dev/null || echo 0)"
  touch "$RUN/$new.on"
  [ "$(state "$new")" = RUNNING ] || supervisorctl start "$NAME-$new" >/dev/null || true

  # 2. Health check through its own socket before any traffic moves. A restart (new pid) = a crash.
  started="$(pid "$new")"
  deadline=$((SECONDS + HEALTH_TIMEOUT))
  code=000
  while [ "$SECONDS" -lt "$deadline" ]; do
    code="$(health "$new")"
    [ "$code" = 200 ] && break
    if [ "$(pid "$new")" != "$started" ] || [ "$(state "$new")" != RUNNING ]; then code=crash; break; fi
    sleep 0.5
  done
  if [ "$code" != 200 ]; then
    stop_colour "$new"
    printf '%s\n' "--- last lines of $LOG_DIR/gunicorn-$new.log (this start) ---" >&2
    tail -c +"$((logged + 1))" "$LOG_DIR/gunicorn-$new.log" 2>/dev/null | tail -n 25 >&2 || true
    if [ "$code" = crash ]; then
      die "the new release ${release##*/} crashed at start (see the log above); ${old:-nothing} still serves"
    fi
    die "the new release ${release##*/} failed its health check ($HEALTH_URL with Host $HEALTH_HOST answered $code for ${HEALTH_TIMEOUT}s); ${old:-nothing} still serves"
  fi
  say "health check passed: $NAME-$new on ${release##*/}"

  # 3. nginx to the new socket: validated, then a graceful reload (old workers finish their requests).
  local upstream="$ROOT/nginx-upstream.conf" before=""
  [ -f "$upstream" ] && before="$(cat "$upstream")"
  printf '# Written by %s/bin/deploy: the live gunicorn (%s).\nserver unix:%s/%s.sock fail_timeout=0;\n' \
    "$ROOT" "$new" "$SOCKET_DIR" "$new" > "$upstream.tmp"
  mv -T "$upstream.tmp" "$upstream"
  if nginx_running; then
    workers="$(pgrep -P "$(cat /run/nginx.pid)" | tr '\n' ' ' || true)"
    if ! err="$(nginx -t 2>&1)"; then
      if [ -n "$before" ]; then printf '%s\n' "$before" > "$upstream.tmp" && mv -T "$upstream.tmp" "$upstream"; fi
      stop_colour "$new"
      die "nginx -t refused the configuration with the new upstream (nothing changed): $err"
    fi
    nginx -s reload
    deadline=$((SECONDS + DRAIN_TIMEOUT))
    for w in $workers; do
      while kill -0 "$w" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    done
    say "nginx reloaded: traffic goes to $NAME-$new"
  fi

  # 4. `current` and the live colour, then the old colour stops gracefully (no request left on it).
  ln -sfn "$release" "$ROOT/.current.tmp" && mv -T "$ROOT/.current.tmp" "$ROOT/current"
  echo "$new" > "$RUN/live.tmp" && mv -T "$RUN/live.tmp" "$RUN/live"
  publish_static "$release" all
  if [ -n "$old" ]; then
    stop_colour "$old"
    say "stopped $NAME-$old"
  fi
  say "live: $NAME-$new on ${release##*/}"
}

releases() { find "$ROOT/releases" -mindepth 1 -maxdepth 1 -type d -printf '%p\n' | sort "$@"; }

previous() {
  local current r prev=""
  current="$(readlink -f "$ROOT/current" 2>/dev/null || true)"
  while read -r r; do
    if [ "$r" = "$current" ]; then break; fi
    prev="$r"
  done < <(releases)
  printf '%s\n' "$prev"
}

# As the project user: everything it removes is in its own directories.
prune() {
  local keep="$1" current blue green r v f used
  current="$(readlink -f "$ROOT/current" 2>/dev/null || true)"
  blue="$(readlink -f "$ROOT/blue" 2>/dev/null || true)"
  green="$(readlink -f "$ROOT/green" 2>/dev/null || true)"
  while read -r r; do
    case "$r" in "$current" | "$blue" | "$green") continue ;; esac
    rm -rf "$r" && say "removed release ${r##*/}"
  done < <(releases -r | tail -n +"$((keep + 1))")
  for v in "$ROOT"/venvs/*/; do
    [ -d "$v" ] || continue
    v="${v%/}"
    used=no
    for r in "$ROOT"/releases/*/; do
      [ "$(readlink -f "${r}venv")" = "$v" ] && used=yes && break
    done
    [ "$used" = no ] && rm -rf "$v" && say "removed venv ${v##*/}"
  done
  # Static files no kept release has.
  [ -d "$STATIC" ] || return 0
  while IFS= read -r -d '' f; do
    used=no
    for r in "$ROOT"/releases/*/; do
      [ -e "${r}static/$f" ] && used=yes && break
    done
    [ "$used" = no ] && rm -f "$STATIC/$f"
  done < <(cd "$STATIC" && find . -type f -print0)
  return 0
}

# The database as it was before the release migrated: pg_dump -Fc / SQLite's online backup, written
# by the project user into the release.
dump() {
  local release="$1"
  [ -f "$release/manage.py" ] || die "no release at $release"
  if [ "$DB_ENGINE" = postgresql ]; then
    # shellcheck disable=SC2016 # $1 is the inner shell's
    runuser -u postgres -- pg_dump -Fc -d "$DB_NAME" | as_app sh -c 'umask 077; cat > "$1"' sh "$release/$DUMP"
  else
    [ -f "$DB_NAME" ] || { say "no database yet: nothing to dump"; return 0; }
    as_app python3 -c 'import sqlite3, sys; d = sqlite3.connect(sys.argv[2]); sqlite3.connect(sys.argv[1]).backup(d); d.close()' \
      "$DB_NAME" "$release/$DUMP"
  fi
  say "database dumped into ${release##*/}/$DUMP"
}

# Back to the dump in one transaction (PostgreSQL: the schema dropped and restored; SQLite: the
# database file overwritten through the backup API), while the live release keeps serving.
restore() {
  local release="$1"
  as_app test -s "$release/$DUMP" || die "no database dump in ${release##*/}: nothing to restore"
  if [ "$DB_ENGINE" = postgresql ]; then
    {
      printf 'DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public AUTHORIZATION pg_database_owner;\n'
      printf 'GRANT USAGE ON SCHEMA public TO PUBLIC;\n'
      as_app cat "$release/$DUMP" | runuser -u postgres -- pg_restore --clean --if-exists -f -
    } | runuser -u postgres -- psql -q -X -v ON_ERROR_STOP=1 --single-transaction -d "$DB_NAME" >/dev/null
  else
    as_app python3 -c 'import sqlite3, sys; d = sqlite3.connect(sys.argv[2]); sqlite3.connect(sys.argv[1]).backup(d); d.close()' \
      "$release/$DUMP" "$DB_NAME"
  fi
  say "database restored from ${release##*/}/$DUMP"
}

case "${1:-}" in
  switch) switch "${2:?release directory}" ;;
  restart)
    [ -e "$ROOT/current" ] || { say "no live release: nothing to restart"; exit 0; }
    flock -w "${2:?seconds}" -E 75 "$RUN/deploy.lock" "$SELF" switch "$ROOT/current" \
      || die "the live release was not restarted (another deploy holds the lock, or the switch failed: see above)"
    ;;
  rollback)
    target="$(previous)"
    [ -n "$target" ] || die "no release older than the live one to roll back to"
    switch "$target"
    ;;
  previous) previous ;;
  status)
    colour="$(live)"
    printf 'live=%s state=%s release=%s\n' "${colour:-none}" "$( [ -n "$colour" ] && state "$colour" || echo NONE)" \
      "$(basename "$(readlink -e "$ROOT/current" 2>/dev/null || echo none)")"
    ;;
  prune)
    if [ "$(id -un)" != "$APP_USER" ]; then exec runuser -u "$APP_USER" -- "$SELF" prune "${2:?number of releases to keep}"; fi
    prune "${2:?number of releases to keep}"
    ;;
  dump) dump "$(readlink -f "${2:?release directory}")" ;;
  restore) restore "$(readlink -f "${2:?release directory}")" ;;
  lock)
    # The lock is held by a detached sleep inheriting flock's descriptor; `unlock` (or LOCK_MAX_HOLD) ends it.
    # shellcheck disable=SC2016 # $1..$3 are the inner shell's
    if ! flock -w "${2:?seconds}" -E 75 "$RUN/deploy.lock" \
      sh -c 'setsid sleep "$1" </dev/null >/dev/null 2>&1 & echo $! > "$2"; date -u +%FT%TZ > "$3"' \
      lock "$LOCK_MAX_HOLD" "$RUN/deploy.lock.pid" "$RUN/deploy.lock.since"; then
      die "another deploy of $NAME holds the lock since $(cat "$RUN/deploy.lock.since" 2>/dev/null || echo '?') and did not finish within ${2}s; retry when it ends (if none runs: $ROOT/bin/deploy unlock)"
    fi
    ;;
  unlock)
    if [ -s "$RUN/deploy.lock.pid" ]; then
      p="$(cat "$RUN/deploy.lock.pid")"
      if [ "$(ps -o comm= -p "$p" 2>/dev/null || true)" = sleep ]; then kill "$p"; fi
      rm -f "$RUN/deploy.lock.pid" "$RUN/deploy.lock.since"
    fi
    ;;
  *) die "usage: $0 switch RELEASE_DIR | restart SECONDS | rollback | previous | status | prune N | dump RELEASE_DIR | restore RELEASE_DIR | lock SECONDS | unlock" ;;
esac
