#!/bin/bash
# Zero-downtime switches of a Django project between two supervisord programs, blue and green, each
# gunicorn on its own unix socket. nginx proxies to the socket named in nginx-upstream.conf.
#   deploy switch RELEASE_DIR   start the idle colour on the release, health-check it, move nginx to
#                               it, point `current` at it, stop the old colour once nginx drained it
#   deploy prestart RELEASE_DIR start the idle colour on the release, no traffic moved (a rolling
#                               deploy, on every app server at once: each switch then finds it warm)
#   deploy restart SECONDS      switch to the live release again (new settings), under the deploy lock
#   deploy rollback             switch to the release before the live one (with KEEP_WARM, its colour
#                               usually still runs it: no cold start)
#   deploy status               live colour, its state and release
#   deploy boot                 at boot, before supervisord and nginx: what a switch cut short by a
#                               reboot left is put back in line with the live colour
#   deploy prune N              keep the N newest releases (and the live one), drop unused venvs and static files
#   deploy dump RELEASE_DIR     dump the database into the release (before it migrates), root-only
#   deploy restore RELEASE_DIR  restore the database from the release's dump, as the database's owner role
#   deploy workdir DIR          an empty directory of releases/ or venvs/ for the build user to build in
#   deploy seal DIR [DEST]      DIR becomes root's, read-only to the project user, then moves to DEST
#   deploy seal-release RELEASE_DIR VENV REVISION   seal a built release, link its venv, record its revision
#   deploy revision             the live release's revision (nothing unless root wrote it)
#   deploy live                 the live release's revision (a line, empty unless root wrote it), then status
#   deploy discard RELEASE_DIR  remove a release that never went live
#   deploy publish-static RELEASE_DIR   add a sealed release's static files beside the live ones (a
#                               rolling deploy: every app server has them before the first switch)
#   deploy lock SECONDS [STALE [live]] | unlock [N]   the per-project deploy lock (one held over STALE seconds
#                               is taken over); with N, unlock then runs `prune N` (a deploy's last step)
#   deploy maintenance on | off     nginx answers the maintenance page (503) while the flag exists;
#                               `off` prints how many seconds it was up (breaking migrations, the CLI)
#
# Runs as root, following the ownership table of roles/backend/README.md: root writes only in
# root-owned directories (the project root, releases/, venvs/, shared/, shared/static/, run/); a
# release or venv is built by the build user (never the project user, whose processes the site runs)
# in a directory only it can enter, then sealed (root's, read-only to the project user) before
# anything root does reads it. Whatever happens in the project
# user's leaves (media, sockets, the SQLite directory) and in its database runs as that user.
set -euo pipefail
umask 022
# shellcheck source=/dev/null
. "$(dirname "$(readlink -f "$0")")/deploy.env"
: "${ROOT:?}" "${NAME:?}" "${APP_USER:?}" "${BUILD_USER:?}" "${HEALTH_URL:?}" "${HEALTH_HOST:?}" "${HEALTH_TIMEOUT:?}"
: "${DRAIN_TIMEOUT:?}" "${LOG_DIR:?}" "${LOCK_MAX_HOLD:?}" "${SOCKET_DIR:?}" "${DB_ENGINE:?}" "${DB_NAME:?}"
: "${MAINTENANCE_FLAG:?}"
[ "$DB_ENGINE" != postgresql ] || : "${PG_EMPTY_SQL:?}"
KEEP_WARM="${KEEP_WARM:-false}"
RUN="$ROOT/run"
STATIC="$ROOT/shared/static"
DUMP=.pre-migrate.dump
# In a release whose switch a reboot cut short (`boot`): it never went live, `previous` skips it.
CUT_SHORT=.cut-short
SETTINGS="$ROOT/etc/settings.ini"
SELF="$(readlink -f "$0")"
cd /  # the project user and postgres may not enter the caller's directory

# What the script says also goes to the journal (tag <project>-deploy), which `django-deploy logs` reads.
journal() { logger -t "$NAME-deploy" -- "$*" 2>/dev/null || true; }
say() { printf '%s\n' "$*"; journal "$*"; }
die() { printf '%s deploy: %s\n' "$NAME" "$*" >&2; journal "$*"; exit 1; }
as_app() { if [ "$(id -un)" = "$APP_USER" ]; then "$@"; else runuser -u "$APP_USER" -- "$@"; fi; }
# A PostgreSQL client connected as the project's own database role (settings.ini's credentials, in
# its environment only), run by the project user: never postgres, never a superuser session.
PG_AS_OWNER='import configparser, os, sys
ini = configparser.RawConfigParser()
with open(sys.argv[1]) as f:
    ini.read_file(f)
db = ini["database"]
os.environ.update(PGHOST=db.get("host", ""), PGPORT=db.get("port", "5432"), PGUSER=db["user"],
                  PGDATABASE=db["name"], PGPASSWORD=db["password"])
os.execvp(sys.argv[2], sys.argv[2:])'
as_owner() { as_app python3 -c "$PG_AS_OWNER" "$SETTINGS" "$@"; }
# SQLite's online backup, run by the project user in its database's directory: the database to
# stdout (dump), or stdin into the database (restore).
SQLITE_COPY='import os, shutil, sqlite3, sys, tempfile
mode, db = sys.argv[1], sys.argv[2]
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(db), prefix=".copy-")
try:
    with os.fdopen(fd, "r+b") as f:
        if mode == "restore":
            shutil.copyfileobj(sys.stdin.buffer, f)
            f.flush()
            src, dst = sqlite3.connect(tmp), sqlite3.connect(db)
        else:
            src, dst = sqlite3.connect(db), sqlite3.connect(tmp)
        src.backup(dst)
        dst.close()
        src.close()
        if mode == "dump":
            f.seek(0)
            shutil.copyfileobj(f, sys.stdout.buffer)
finally:
    os.unlink(tmp)'
# Sealed: root's, and no one else may write it (a sealed tree stays so: only root can change it).
root_owned() { [ -d "$1" ] && [ ! -L "$1" ] && [ "$(stat -c %U "$1")" = root ] && [ -z "$(find "$1" -maxdepth 0 -perm /022)" ]; }
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
# Root copies from sealed releases only, regular files and directories only, readable by all.
publish_static() {
  local release="$1" mode="$2"
  [ -d "$release/static" ] || return 0
  if ! root_owned "$release"; then
    say "static files of ${release##*/} not published (a release of the former layout, its files the project user's)"
    return 0
  fi
  if [ "$mode" = keep ]; then
    cp -R --no-dereference --preserve=timestamps --no-clobber -T "$release/static" "$STATIC"
  else
    cp -R --no-dereference --preserve=timestamps -T "$release/static" "$STATIC"
  fi
  find "$STATIC" -mindepth 1 ! -type d ! -type f -delete
  chmod -R u=rwX,go=rX "$STATIC"
}

# The idle colour still runs `release`, warm (kept after it last served, see switch's step 4), and
# started after the project's settings, environment and gunicorn script last changed: a rollback to
# it needs no cold start. Its health check still decides.
warm() {
  local colour="$1" release="$2" f
  [ -f "$RUN/$colour.on" ] && [ "$(readlink -f "$ROOT/$colour" 2>/dev/null)" = "$release" ] || return 1
  for f in "$ROOT/etc/env" "$SETTINGS" "$ROOT/bin/gunicorn"; do
    if [ -e "$f" ] && [ ! "$RUN/$colour.on" -nt "$f" ]; then return 1; fi
  done
  [ "$(state "$colour")" = RUNNING ]
}

# The idle colour, stopped, now points at the release (its supervisord program refreshed: `update`
# rereads the configuration) and starts. Whatever is left at its socket's name but a socket (gunicorn
# would refuse to bind) goes, removed by the project user in its own directory. Its flag holds where
# this start's lines begin in its log.
start_idle() {
  local colour="$1" release="$2"
  stop_colour "$colour"
  as_app find "$SOCKET_DIR" -maxdepth 1 -name "$colour.sock" ! -type s -delete
  ln -sfn "$release" "$ROOT/.$colour.tmp" && mv -T "$ROOT/.$colour.tmp" "$ROOT/$colour"
  publish_static "$release" keep
  supervisorctl update "$NAME-$colour" >/dev/null
  stat -c %s "$LOG_DIR/gunicorn-$colour.log" 2>/dev/null > "$RUN/$colour.on" || echo 0 > "$RUN/$colour.on"
  [ "$(state "$colour")" = RUNNING ] || supervisorctl start "$NAME-$colour" >/dev/null || true
}

# A rolling deploy, once the database is migrated: the idle colour starts on the new release on every
# app server at once, while they all serve the live one, so that each switch in turn finds it warm
# (no cold start while the app server is out of the load balancer). No traffic moves; the switch's
# health check still decides.
prestart() {
  local release old new
  release="$(readlink -f "$1")"
  [ -f "$release/manage.py" ] || die "no release at $1"
  old="$(live)"
  [ -n "$old" ] || { say "no live release: ${release##*/} starts at its switch"; return 0; }
  new="$(other "$old")"
  if warm "$new" "$release"; then say "$NAME-$new runs ${release##*/} already"; return 0; fi
  start_idle "$new" "$release"
  say "started $NAME-$new on ${release##*/} (for its switch)"
}

# What nginx-upstream.conf holds when `colour` is live.
upstream_of() {
  printf '# Written by %s/bin/deploy: the live gunicorn (%s).\nserver unix:%s/%s.sock fail_timeout=0;\n' \
    "$ROOT" "$1" "$SOCKET_DIR" "$1"
}

# Whether the old colour stays up, warm, once the switch away from it is done (step 4 below).
kept_warm() { [ "$KEEP_WARM" = true ] && [ "$(readlink -f "$ROOT/$1")" = "$(previous)" ]; }

switch() {
  local release old new started code deadline workers err logged
  release="$(readlink -f "$1")"
  [ -f "$release/manage.py" ] || die "no release at $1"
  old="$(live)"
  new="$(other "${old:-green}")"

  # 1. The idle colour starts on the release (start_idle), unless it runs it already, warm: a rollback
  # right after a deploy, or a rolling deploy's `prestart`.
  if [ -n "$old" ] && warm "$new" "$release"; then
    say "$NAME-$new runs ${release##*/} already (started before the switch)"
  else
    start_idle "$new" "$release"
  fi
  # Where this start's lines begin in its log (start_idle wrote it): a failure shows them.
  logged="$(cat "$RUN/$new.on" 2>/dev/null || true)"
  case "$logged" in '' | *[!0-9]*) logged=0 ;; esac

  # 2. Health check through its own socket before any traffic moves. A restart (its master process
  # gone: supervisord starts a new one) = a crash; polled by its pid, no supervisorctl per round.
  started="$(pid "$new")"
  deadline=$((SECONDS + HEALTH_TIMEOUT))
  code=000
  while [ "$SECONDS" -lt "$deadline" ]; do
    code="$(health "$new")"
    [ "$code" = 200 ] && break
    case "$(ps -o stat= -p "$started" 2>/dev/null)" in "" | Z*) code=crash; break ;; esac
    sleep 0.2
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
  upstream_of "$new" > "$upstream.tmp"
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

  # 4. `current` and the live colour. The old colour, drained by nginx, stays up warm when it ran the
  # release before this one (a rollback then needs no cold start), else stops gracefully.
  ln -sfn "$release" "$ROOT/.current.tmp" && mv -T "$ROOT/.current.tmp" "$ROOT/current"
  echo "$new" > "$RUN/live.tmp" && mv -T "$RUN/live.tmp" "$RUN/live"
  if root_owned "$release"; then rm -f "$release/$CUT_SHORT"; fi
  publish_static "$release" all
  if [ -n "$old" ]; then
    if kept_warm "$old"; then
      say "kept $NAME-$old warm on the previous release (for a rollback)"
    else
      stop_colour "$old"
      say "stopped $NAME-$old"
    fi
  fi
  say "live: $NAME-$new on ${release##*/}"
}

# At boot, before supervisord and nginx start (the role's django-deploy-boot unit): a reboot in the
# middle of a switch leaves its records written one by one disagreeing (the new colour's flag,
# nginx's upstream, `current`). run/live, written last, names the colour that served before the
# switch began or after it ended: the rest is put back in line with it, so that one release starts
# and serves, the live one. The deploy lock its deploy held is taken over by the next deploy.
boot() {
  local colour release idle cut upstream="$ROOT/nginx-upstream.conf"
  colour="$(live)"
  [ -n "$colour" ] || { say "boot: no release went live yet: nothing to put in order"; return 0; }
  release="$(readlink -f "$ROOT/$colour" 2>/dev/null || true)"
  if [ -z "$release" ] || [ ! -f "$release/manage.py" ]; then
    die "boot: the live colour $colour points at no release ($ROOT/$colour): nothing put in order; deploy again"
  fi
  idle="$(other "$colour")"
  if [ -f "$RUN/$idle.on" ] && ! kept_warm "$idle"; then
    rm -f "$RUN/$idle.on"
    cut="$(readlink -f "$ROOT/$idle" 2>/dev/null || true)"
    say "boot: $NAME-$idle stays stopped: the switch to its release ${cut##*/} did not finish"
    # A new release (newer than the live one) that never went live: no rollback goes to it.
    # Only in a sealed release: root writes nothing where the project user can.
    if root_owned "$cut" && [ -f "$cut/manage.py" ] && [[ "${cut##*/}" > "${release##*/}" ]]; then touch "$cut/$CUT_SHORT"; fi
  fi
  [ -f "$RUN/$colour.on" ] || touch "$RUN/$colour.on"
  if [ "$(readlink -f "$ROOT/current" 2>/dev/null || true)" != "$release" ]; then
    ln -sfn "$release" "$ROOT/.current.tmp" && mv -T "$ROOT/.current.tmp" "$ROOT/current"
    say "boot: current points at the live release ${release##*/} again"
  fi
  if [ "$(cat "$upstream" 2>/dev/null || true)" != "$(upstream_of "$colour")" ]; then
    upstream_of "$colour" > "$upstream.tmp" && mv -T "$upstream.tmp" "$upstream"
    say "boot: nginx's upstream names the live colour $NAME-$colour again"
  fi
  say "boot: live: $NAME-$colour on ${release##*/}"
}

releases() { find "$ROOT/releases" -mindepth 1 -maxdepth 1 -type d -printf '%p\n' | sort "$@"; }

# The release before the live one (never one whose switch a reboot cut short).
previous() {
  local current r prev=""
  current="$(readlink -f "$ROOT/current" 2>/dev/null || true)"
  while read -r r; do
    if [ "$r" = "$current" ]; then break; fi
    if [ -e "$r/$CUT_SHORT" ] && root_owned "$r"; then continue; fi
    prev="$r"
  done < <(releases)
  printf '%s\n' "$prev"
}

# As root, in root-owned directories (GNU rm never follows a link, even one swapped in while it runs).
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

# The database as it was before the release migrated (pg_dump -Fc as the database's owner role, or
# SQLite's online backup by the project user), written by root into the sealed release, root-only.
dump() {
  local release="$1"
  [ -f "$release/manage.py" ] || die "no release at $release"
  root_owned "$release" || die "release ${release##*/} is not sealed (root-owned): no dump goes into it"
  rm -f "$release/$DUMP.tmp"
  if [ "$DB_ENGINE" = postgresql ]; then
    (umask 077 && as_owner pg_dump -Fc > "$release/$DUMP.tmp")
  else
    as_app test -f "$DB_NAME" || { say "no database yet: nothing to dump"; return 0; }
    (umask 077 && as_app python3 -c "$SQLITE_COPY" dump "$DB_NAME" > "$release/$DUMP.tmp")
  fi
  mv -T "$release/$DUMP.tmp" "$release/$DUMP"
  say "database dumped into ${release##*/}/$DUMP"
}

# The dump's SQL without its comments on extensions: only an extension's owner may set one, and an
# extension a superuser created in the database stays as it is (DROP OWNED leaves it). Lines of COPY
# data (up to its "\.") are kept whatever they hold.
NO_EXTENSION_COMMENTS='copy && /^\\\.$/ { copy = 0; print; next }
copy { print; next }
/^COPY .* FROM stdin;$/ { copy = 1 }
/^COMMENT ON EXTENSION / { next }
{ print }'

# Back to the dump in one transaction, while the live release keeps serving. PostgreSQL: what the
# owner role owns is dropped and the dump replayed, both by psql connected as that role and run by
# the project user (the dump's text never reaches a superuser nor a root process); SQLite: the
# database overwritten through the backup API by the project user. Only a root-written dump is read.
restore() {
  local release="$1" dump="$1/$DUMP"
  if ! root_owned "$release" || [ ! -f "$dump" ] || [ -L "$dump" ] || [ "$(stat -c %U "$dump")" != root ] || [ ! -s "$dump" ]; then
    die "no root-written database dump in ${release##*/}: nothing to restore (a dump the project user could write is never restored)"
  fi
  if [ "$DB_ENGINE" = postgresql ]; then
    {
      cat "$PG_EMPTY_SQL" # files/pg-empty.sql: what the owner role owns dropped, not the schema
      as_app pg_restore --no-owner -f - < "$dump" | as_app awk "$NO_EXTENSION_COMMENTS"
    } | as_owner psql -q -X -v ON_ERROR_STOP=1 --single-transaction -f - >/dev/null
  else
    as_app python3 -c "$SQLITE_COPY" restore "$DB_NAME" < "$dump"
  fi
  say "database restored from ${release##*/}/$DUMP"
}

# A fresh directory of releases/ or venvs/ (both root's) for the build user to build in: the project
# user can neither write in it nor enter it.
workdir() {
  local dir="$1"
  case "${dir%/*}" in "$ROOT/releases" | "$ROOT/venvs") ;; *) die "no work directory outside releases/ and venvs/: $dir" ;; esac
  rm -rf "$dir"
  mkdir -m 0700 "$dir"
  chown "$BUILD_USER:$BUILD_USER" "$dir"
}

# What the build user built becomes root's, group the project's, writable by root only. Nothing of
# the build outlives it (the build user runs builds only); the top directory is closed first; the
# walk repeats until nothing is left another user could write (a process still writing inside fails
# the deploy rather than keep a way in).
seal() {
  local dir="$1" dest="${2:-}" i
  case "${dir%/*}" in "$ROOT/releases" | "$ROOT/venvs") ;; *) die "nothing to seal outside releases/ and venvs/: $dir" ;; esac
  if [ ! -d "$dir" ] || [ -L "$dir" ]; then die "nothing to seal at $dir"; fi
  pkill -KILL -u "$BUILD_USER" 2>/dev/null || true
  chown root:root "$dir"
  chmod 0700 "$dir"
  for i in 1 2 3; do
    chown -R --no-dereference "root:$APP_USER" "$dir"
    chmod -R go-w,ug-s "$dir"
    [ -z "$(find "$dir" \( ! -user root -o ! -group "$APP_USER" -o \( ! -type l -perm /6022 \) \) -print -quit)" ] && break
    [ "$i" = 3 ] && die "$dir kept changing while it was sealed: a process writes in it"
  done
  chmod 0750 "$dir"
  if [ -n "$dest" ]; then mv -T "$dir" "$dest"; fi
}

# A built release sealed; then root links its venv and records its revision (what the project user
# left under those names is replaced, not followed).
seal_release() {
  local release="$1" venv="$2" revision="$3"
  [ "${release%/*}" = "$ROOT/releases" ] || die "no release at $release"
  if [ "${venv%/*}" != "$ROOT/venvs" ] || ! root_owned "$venv"; then die "no sealed venv at $venv"; fi
  seal "$release"
  rm -rf "$release/venv" "$release/.revision"
  ln -sfn "$venv" "$release/venv"
  printf '%s\n' "$revision" > "$release/.revision"
  chgrp -h "$APP_USER" "$release/venv" "$release/.revision"
}

# The live release's revision as root recorded it: nothing for a release the project user can write.
revision() {
  local release
  release="$(readlink -f "$ROOT/current" 2>/dev/null)" || return 0
  if root_owned "$release" && [ -f "$release/.revision" ] && [ ! -L "$release/.revision" ]; then
    head -c 256 "$release/.revision"
  fi
}

status() {
  local colour
  colour="$(live)"
  printf 'live=%s state=%s release=%s\n' "${colour:-none}" "$( [ -n "$colour" ] && state "$colour" || echo NONE)" \
    "$(basename "$(readlink -e "$ROOT/current" 2>/dev/null || echo none)")"
}

discard() {
  local release="$1" colour
  [ "${release%/*}" = "$ROOT/releases" ] || die "no release at $release"
  [ "$(readlink -f "$ROOT/current" 2>/dev/null)" != "$release" ] || die "${release##*/} is live: not removed"
  # The idle colour, if it was started on it (`prestart`), stops first.
  colour="$(other "$(live)")"
  if [ "$(readlink -f "$ROOT/$colour" 2>/dev/null)" = "$release" ]; then
    stop_colour "$colour"
    say "stopped $NAME-$colour, which ran ${release##*/}"
  fi
  rm -rf "$release"
  say "removed release ${release##*/}"
}

# The flag nginx tests (frontend_maintenance_flag), in a root-owned directory; it holds the time it
# went up. `on` keeps an earlier start; `off` prints the seconds since then (nothing when it was off).
maintenance() {
  local started
  case "$1" in
    on)
      install -d -o root -g root -m 0755 "$(dirname "$MAINTENANCE_FLAG")"
      if [ ! -f "$MAINTENANCE_FLAG" ]; then
        date +%s.%N > "$MAINTENANCE_FLAG.tmp" && mv -T "$MAINTENANCE_FLAG.tmp" "$MAINTENANCE_FLAG"
        journal "maintenance page on"
      fi
      ;;
    off)
      [ -f "$MAINTENANCE_FLAG" ] || return 0
      started="$(head -c 64 "$MAINTENANCE_FLAG")"
      rm -f "$MAINTENANCE_FLAG"
      awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { if (s !~ /^[0-9.]+$/) s = e; printf "%.1f\n", e - s }'
      journal "maintenance page off"
      ;;
    *) die "usage: $0 maintenance on | off" ;;
  esac
}

boot_id() { cat /proc/sys/kernel/random/boot_id; }

# The pid of the sleep that holds the deploy lock (nothing when none does). Its record names the boot
# it was started in: after a reboot, that pid may be another process's, never to be killed. (A record
# without a boot id, from an earlier bin/deploy, is taken as this boot's.)
lock_holder() {
  local p="" b=""
  read -r p b < "$RUN/deploy.lock.pid" 2>/dev/null || true
  [ -n "$p" ] || return 0
  if [ -n "$b" ] && [ "$b" != "$(boot_id)" ]; then return 0; fi
  if [ "$(ps -o comm= -p "$p" 2>/dev/null || true)" = sleep ]; then echo "$p"; fi
}

# Takes the deploy lock within $1 seconds, held at most $2. A record left by the previous holder (it
# never unlocked: killed, or its controller was, or a reboot ended it) means a stale lock taken over:
# said, and journalled.
take_lock() {
  local out
  # shellcheck disable=SC2016 # $1..$4 are the inner shell's
  out="$(flock -w "$1" -E 75 "$RUN/deploy.lock" sh -c '
    if [ -s "$2" ]; then
      read -r _ boot < "$2" || true
      if [ -n "$boot" ] && [ "$boot" != "$4" ]; then why="a reboot ended"; else why="never released it (stale after $1 s)"; fi
      echo "took over the stale deploy lock held since $(cat "$3" 2>/dev/null || echo "?") by a deploy that $why"
    fi
    setsid sleep "$1" </dev/null >/dev/null 2>&1 & echo "$! $4" > "$2"; date -u +%FT%TZ > "$3"' \
    lock "$2" "$RUN/deploy.lock.pid" "$RUN/deploy.lock.since" "$(boot_id)")" || return 1
  [ -z "$out" ] || say "$out"
}

case "${1:-}" in
  switch) switch "${2:?release directory}" ;;
  prestart) prestart "${2:?release directory}" ;;
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
  status) status ;;
  boot) boot ;;
  live) printf '%s\n' "$(revision)" && status ;;
  prune) prune "${2:?number of releases to keep}" ;;
  dump) dump "$(readlink -f "${2:?release directory}")" ;;
  restore) restore "$(readlink -f "${2:?release directory}")" ;;
  workdir) workdir "${2:?directory}" ;;
  seal) seal "${2:?directory}" "${3:-}" ;;
  seal-release) seal_release "${2:?release directory}" "${3:?venv}" "${4:?revision}" ;;
  revision) revision ;;
  discard) discard "$(readlink -f "${2:?release directory}")" ;;
  publish-static)
    release="$(readlink -f "${2:?release directory}")"
    if [ "${release%/*}" != "$ROOT/releases" ] || [ ! -f "$release/manage.py" ]; then die "no release at $2"; fi
    publish_static "$release" keep
    ;;
  maintenance) maintenance "${2:-}" ;;
  lock)
    # The lock is held by a detached sleep inheriting flock's descriptor; `unlock` ends it, or the end of
    # its STALE seconds (a deploy killed mid-way never unlocks). A lock held longer than that is
    # stale: its holder died without releasing it, and this deploy takes it over, saying so.
    wait="${2:?seconds}"
    stale="${3:-$LOCK_MAX_HOLD}"
    since="$(cat "$RUN/deploy.lock.since" 2>/dev/null || true)"
    age=0
    [ -z "$since" ] || age=$(( $(date +%s) - $(date -d "$since" +%s 2>/dev/null || date +%s) ))
    left=$(( stale - age ))
    if [ "$left" -ge "$wait" ]; then
      take_lock "$wait" "$stale" || die "another deploy of $NAME holds the lock since ${since:-?} and did not finish within ${wait}s; retry when it ends (a lock held ${stale}s is taken over; if no deploy runs now: $ROOT/bin/deploy unlock)"
    elif ! take_lock "$(( left > 0 ? left : 0 ))" "$stale"; then
      # Held past its stale age by a longer sleep (an older setting): that holder ends here.
      p="$(lock_holder)"
      if [ -n "$p" ]; then kill "$p"; fi
      take_lock 10 "$stale" || die "the stale deploy lock of $NAME (held since ${since:-?}) could not be taken over"
    fi
    # `lock SECONDS STALE live`: what `live` prints follows a "live:" line, read under the lock in the
    # same call (a deploy's first two steps, one round trip).
    if [ "${4:-}" = live ]; then echo "live:"; printf '%s\n' "$(revision)"; status; fi
    ;;
  unlock)
    # The records go first: whoever takes the lock next finds none, so takes no stale lock over.
    if [ -s "$RUN/deploy.lock.pid" ]; then
      p="$(lock_holder)"
      rm -f "$RUN/deploy.lock.pid" "$RUN/deploy.lock.since"
      if [ -n "$p" ]; then kill "$p"; fi
    fi
    if [ -n "${2:-}" ]; then prune "$2"; fi
    ;;
  *) die "usage: $0 switch RELEASE_DIR | prestart RELEASE_DIR | restart SECONDS | rollback | previous | status | boot | prune N | dump RELEASE_DIR | restore RELEASE_DIR | workdir DIR | seal DIR [DEST] | seal-release RELEASE_DIR VENV REVISION | revision | live | discard RELEASE_DIR | publish-static RELEASE_DIR | lock SECONDS [STALE [live]] | unlock [N] | maintenance on|off" ;;
esac
