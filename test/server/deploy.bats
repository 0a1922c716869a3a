#!/usr/bin/env bats
# Unit tests of roles/backend/files/deploy.sh (bin/deploy), every subcommand (PostgreSQL's dump and
# restore: the e2e tests, on a booted server): a project tree in a temporary directory,
# the current user as the project user, supervisorctl, curl, runuser and pkill stubbed (test/server/bin).

setup() {
  T="$(mktemp -d)"
  ROOT="$T/srv"
  export STUB_STATE="$T/state"
  export PATH="$BATS_TEST_DIRNAME/bin:$PATH"
  mkdir -p "$ROOT"/{bin,run,releases,venvs,shared/static,sockets} "$T/log" "$STUB_STATE"
  install -m 0755 "$BATS_TEST_DIRNAME/../../roles/backend/files/deploy.sh" "$ROOT/bin/deploy"
  cat > "$ROOT/bin/deploy.env" <<EOF
ROOT=$ROOT
NAME=site
APP_USER=$(id -un)
BUILD_USER=$(id -un)
HEALTH_URL=/health/
HEALTH_HOST=site.test
HEALTH_TIMEOUT=2
DRAIN_TIMEOUT=1
LOG_DIR=$T/log
LOCK_MAX_HOLD=30
SOCKET_DIR=$ROOT/sockets
DB_ENGINE=sqlite
DB_NAME=$ROOT/shared/db.sqlite3
MAINTENANCE_FLAG=$T/lib/site.maintenance
EOF
}

teardown() {
  "$ROOT/bin/deploy" unlock >/dev/null 2>&1 || true
  supervisorctl stop site-blue site-green
  rm -f "$STUB_STATE/calls"
  rm -rf "$T"
}

# release NAME [VENV]: a release directory with manage.py, a static file and a venv link.
release() {
  local r="$ROOT/releases/$1" venv="${2:-v1}"
  mkdir -p "$r/static" "$ROOT/venvs/$venv"
  touch "$r/manage.py"
  echo "$1" > "$r/static/app.$1.css"
  ln -sfn "../../venvs/$venv" "$r/venv"
}

deploy() { "$ROOT/bin/deploy" "$@"; }

@test "switch: the first release goes live on blue, nginx's upstream names its socket, static files published" {
  release 20260101T000000Z
  run deploy switch "$ROOT/releases/20260101T000000Z"
  [ "$status" -eq 0 ]
  [[ "$output" == *"health check passed: site-blue"* ]]
  [ "$(cat "$ROOT/run/live")" = blue ]
  [ "$(readlink -f "$ROOT/current")" = "$ROOT/releases/20260101T000000Z" ]
  [ "$(readlink -f "$ROOT/blue")" = "$ROOT/releases/20260101T000000Z" ]
  grep -q "server unix:$ROOT/sockets/blue.sock" "$ROOT/nginx-upstream.conf"
  [ -f "$ROOT/shared/static/app.20260101T000000Z.css" ]
  [ -f "$STUB_STATE/site-blue" ]
}

@test "switch: the next release goes to green and the old colour stops" {
  release r1 && release r2
  deploy switch "$ROOT/releases/r1"
  run deploy switch "$ROOT/releases/r2"
  [ "$status" -eq 0 ]
  [[ "$output" == *"stopped site-blue"* ]]
  [ "$(cat "$ROOT/run/live")" = green ]
  [ "$(readlink -f "$ROOT/current")" = "$ROOT/releases/r2" ]
  [ ! -f "$STUB_STATE/site-blue" ] && [ -f "$STUB_STATE/site-green" ]
  [ -f "$ROOT/shared/static/app.r1.css" ] && [ -f "$ROOT/shared/static/app.r2.css" ]
}

@test "switch with KEEP_WARM: the old colour stays up on the previous release; a rollback to it starts nothing, then stops the newer one" {
  echo KEEP_WARM=true >> "$ROOT/bin/deploy.env"
  release r1 && release r2
  deploy switch "$ROOT/releases/r1"
  run deploy switch "$ROOT/releases/r2"
  [ "$status" -eq 0 ]
  [[ "$output" == *"kept site-blue warm on the previous release"* ]]
  [ -f "$STUB_STATE/site-blue" ] && [ -f "$STUB_STATE/site-green" ]
  [ "$(cat "$ROOT/run/live")" = green ]
  : > "$STUB_STATE/calls"
  run deploy rollback
  [ "$status" -eq 0 ]
  [[ "$output" == *"site-blue runs r1 already (started before the switch)"*"health check passed: site-blue"*"stopped site-green"* ]]
  ! grep -q "^start" "$STUB_STATE/calls"
  [ "$(cat "$ROOT/run/live")" = blue ] && [ "$(readlink -f "$ROOT/current")" = "$ROOT/releases/r1" ]
  [ -f "$STUB_STATE/site-blue" ] && [ ! -f "$STUB_STATE/site-green" ]
}

@test "switch with KEEP_WARM: a warm colour started before the settings changed is started again" {
  echo KEEP_WARM=true >> "$ROOT/bin/deploy.env"
  mkdir -p "$ROOT/etc"
  release r1 && release r2
  deploy switch "$ROOT/releases/r1" && deploy switch "$ROOT/releases/r2"
  sleep 0.05 && touch "$ROOT/etc/env"
  : > "$STUB_STATE/calls"
  run deploy rollback
  [ "$status" -eq 0 ]
  [[ "$output" != *"kept warm"* ]]
  grep -q "^start site-blue" "$STUB_STATE/calls"
  [ "$(readlink -f "$ROOT/current")" = "$ROOT/releases/r1" ]
}

@test "switch: a colour whose process dies during the health check is a crash" {
  release r1 && release r2
  deploy switch "$ROOT/releases/r1"
  printf 503 > "$STUB_STATE/health"
  ( until [ -s "$STUB_STATE/site-green" ]; do sleep 0.05; done; kill "$(cat "$STUB_STATE/site-green")" ) &
  run deploy switch "$ROOT/releases/r2"
  wait
  [ "$status" -eq 1 ]
  [[ "$output" == *"crashed at start"*"blue still serves"* ]]
  [ "$(cat "$ROOT/run/live")" = blue ]
}

@test "switch: a failed health check leaves the live release serving" {
  release r1 && release r2
  deploy switch "$ROOT/releases/r1"
  printf 503 > "$STUB_STATE/health"
  run deploy switch "$ROOT/releases/r2"
  [ "$status" -eq 1 ]
  [[ "$output" == *"failed its health check"*"answered 503"*"blue still serves"* ]]
  [ "$(cat "$ROOT/run/live")" = blue ]
  [ "$(readlink -f "$ROOT/current")" = "$ROOT/releases/r1" ]
  [ -f "$STUB_STATE/site-blue" ] && [ ! -f "$STUB_STATE/site-green" ]
  grep -q "blue.sock" "$ROOT/nginx-upstream.conf"
}

@test "switch: a directory without manage.py is refused" {
  mkdir -p "$ROOT/releases/empty"
  run deploy switch "$ROOT/releases/empty"
  [ "$status" -eq 1 ]
  [[ "$output" == *"no release at"* ]]
}

@test "previous and rollback: the release before the live one" {
  release r1 && release r2 && release r3
  deploy switch "$ROOT/releases/r1" && deploy switch "$ROOT/releases/r2"
  [ "$(deploy previous)" = "$ROOT/releases/r1" ]
  run deploy rollback
  [ "$status" -eq 0 ]
  [ "$(readlink -f "$ROOT/current")" = "$ROOT/releases/r1" ]
  # r3 is newer than the live one: never a rollback target.
  [ -z "$(deploy previous)" ]
  run deploy rollback
  [ "$status" -eq 1 ]
  [[ "$output" == *"no release older than the live one"* ]]
}

# What a switch from blue (r1) to green (r2) left when a reboot cut it short once nginx had moved
# to green and `current` to r2, before run/live: then the reboot (every program stopped).
cut_short_switch() {
  release r1 && release r2
  deploy switch "$ROOT/releases/r1"
  ln -sfn "$ROOT/releases/r2" "$ROOT/green" && touch "$ROOT/run/green.on"
  printf 'server unix:%s/sockets/green.sock fail_timeout=0;\n' "$ROOT" > "$ROOT/nginx-upstream.conf"
  ln -sfn "$ROOT/releases/r2" "$ROOT/current"
  supervisorctl stop site-blue site-green
}

@test "boot: a switch cut short by a reboot is put back in line with the live colour; its release is no rollback target" {
  cut_short_switch
  run deploy boot
  [ "$status" -eq 0 ]
  [[ "$output" == *"site-green stays stopped: the switch to its release r2 did not finish"* ]]
  [[ "$output" == *"current points at the live release r1 again"* ]]
  [[ "$output" == *"nginx's upstream names the live colour site-blue again"* ]]
  [[ "$output" == *"boot: live: site-blue on r1"* ]]
  [ -f "$ROOT/run/blue.on" ] && [ ! -e "$ROOT/run/green.on" ]
  [ "$(readlink -f "$ROOT/current")" = "$ROOT/releases/r1" ]
  grep -q "server unix:$ROOT/sockets/blue.sock" "$ROOT/nginx-upstream.conf"
  [ -f "$ROOT/releases/r2/.cut-short" ]
  # The next deploy's release r3 goes live: a rollback goes back to r1, never to r2.
  release r3
  deploy switch "$ROOT/releases/r3"
  [ "$(deploy previous)" = "$ROOT/releases/r1" ]
  # In order already: a second boot changes nothing.
  run deploy boot
  [ "$output" = "boot: live: site-green on r3" ]
}

@test "boot: a cut-short release the project user can write (the former layout) is not marked; a link planted there is not followed" {
  cut_short_switch
  chmod g+w "$ROOT/releases/r2"
  ln -s "$T/victim" "$ROOT/releases/r2/.cut-short"
  run deploy boot
  [ "$status" -eq 0 ]
  [[ "$output" == *"site-green stays stopped"* ]]
  [ ! -e "$T/victim" ]
  [ ! -e "$ROOT/run/green.on" ]
}

@test "boot: nothing before a first release went live; with KEEP_WARM the colour warm on the previous release stays on" {
  run deploy boot
  [ "$status" -eq 0 ]
  [[ "$output" == *"no release went live yet"* ]]
  echo KEEP_WARM=true >> "$ROOT/bin/deploy.env"
  release r1 && release r2
  deploy switch "$ROOT/releases/r1" && deploy switch "$ROOT/releases/r2"
  run deploy boot
  [ "$status" -eq 0 ]
  [ "$output" = "boot: live: site-green on r2" ]
  [ -f "$ROOT/run/blue.on" ] && [ -f "$ROOT/run/green.on" ]
  # A switch that goes through to a release clears the mark a cut-short switch to it left.
  touch "$ROOT/releases/r1/.cut-short"
  [ -z "$(deploy previous)" ]
  deploy switch "$ROOT/releases/r1"
  [ ! -e "$ROOT/releases/r1/.cut-short" ]
}

@test "status: the live colour, its state and release" {
  run deploy status
  [ "$output" = "live=none state=NONE release=none" ]
  release r1
  deploy switch "$ROOT/releases/r1"
  run deploy status
  [ "$output" = "live=blue state=RUNNING release=r1" ]
}

@test "restart: nothing without a live release, else the live release switched again under the lock" {
  run deploy restart 5
  [ "$status" -eq 0 ]
  [[ "$output" == *"nothing to restart"* ]]
  release r1
  deploy switch "$ROOT/releases/r1"
  run deploy restart 5
  [ "$status" -eq 0 ]
  [ "$(cat "$ROOT/run/live")" = green ]
  [ "$(readlink -f "$ROOT/current")" = "$ROOT/releases/r1" ]
  deploy lock 5
  run deploy restart 1
  [ "$status" -eq 1 ]
  [[ "$output" == *"was not restarted"* ]]
}

@test "prune: the N newest releases and the live one kept, unused venvs and static files removed" {
  release r1 v1 && release r2 v1 && release r3 v2 && release r4 v3 && release r5 v3
  deploy switch "$ROOT/releases/r2"
  mkdir -p "$ROOT/venvs/orphan"
  echo stale > "$ROOT/shared/static/gone.css"
  run deploy prune 2
  [ "$status" -eq 0 ]
  [ "$(cd "$ROOT/releases" && echo *)" = "r2 r4 r5" ]
  [ "$(cd "$ROOT/venvs" && echo *)" = "v1 v3" ]
  [ ! -e "$ROOT/shared/static/gone.css" ] && [ ! -e "$ROOT/shared/static/app.r1.css" ]
  [ -f "$ROOT/shared/static/app.r2.css" ]
  [[ "$output" == *"removed release r1"* && "$output" == *"removed venv orphan"* ]]
}

@test "prune: the releases the colours run are kept too" {
  release r1 && release r2 && release r3 && release r4
  deploy switch "$ROOT/releases/r1" && deploy switch "$ROOT/releases/r2"
  run deploy prune 1
  [ "$status" -eq 0 ]
  [ "$(cd "$ROOT/releases" && echo *)" = "r1 r2 r4" ]
}

@test "lock and unlock: a second deploy waits, then fails with who holds it since when" {
  deploy lock 5
  [ -s "$ROOT/run/deploy.lock.pid" ]
  run deploy lock 1
  [ "$status" -eq 1 ]
  [[ "$output" == *"another deploy of site holds the lock since 20"*"retry when it ends"* ]]
  deploy unlock
  [ ! -e "$ROOT/run/deploy.lock.pid" ]
  run deploy lock 1
  [ "$status" -eq 0 ]
  [[ "$output" != *"took over"* ]]
}

@test "lock ... live: under the lock, in the same call, what live prints follows a live: line (after a takeover line)" {
  run deploy lock 5 100 live
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'live:\n\nlive=none state=NONE release=none')" ]
  deploy unlock
  release r1
  deploy switch "$ROOT/releases/r1"
  deploy lock 5 2
  sleep 3
  run deploy lock 1 2 live
  [ "$status" -eq 0 ]
  [[ "${output%%live:*}" == "took over the stale deploy lock held since 20"* ]]
  [ "${output#*live:$'\n'}" = "$(deploy live)" ]
  [[ "$(deploy live)" == *"live=blue state="*" release=r1" ]]
  deploy unlock
}

@test "a stale lock is taken over, saying so: its holder never unlocked, or holds it past the stale age" {
  deploy lock 5 2
  sleep 3
  run deploy lock 1 2
  [ "$status" -eq 0 ]
  [[ "$output" == *"took over the stale deploy lock held since 20"*"by a deploy that never released it (stale after 2 s)"* ]]
  deploy unlock
  deploy lock 5 100
  run deploy lock 5 2
  [ "$status" -eq 0 ]
  [[ "$output" == *"took over the stale deploy lock held since 20"* ]]
  deploy unlock
  [ ! -e "$ROOT/run/deploy.lock.pid" ]
}

@test "a lock whose holder a reboot ended is taken over at once, saying so; the pid it recorded (another process now) is never killed" {
  deploy lock 5
  read -r holder boot < "$ROOT/run/deploy.lock.pid"
  [ "$boot" = "$(cat /proc/sys/kernel/random/boot_id)" ]
  # The reboot: the holder is gone, and its pid now names another process.
  kill "$holder"
  sleep 600 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- & other=$!
  echo "$other 00000000-0000-4000-8000-000000000000" > "$ROOT/run/deploy.lock.pid"
  run deploy lock 1
  [ "$status" -eq 0 ]
  [[ "$output" == *"took over the stale deploy lock held since 20"*"by a deploy that a reboot ended"* ]]
  kill -0 "$other"
  echo "$other 00000000-0000-4000-8000-000000000000" > "$ROOT/run/deploy.lock.pid"
  deploy unlock
  kill -0 "$other"
  kill "$other"
}

@test "unlock N: the lock released, then prune N" {
  release r1 && release r2 && release r3
  ln -sfn "$ROOT/releases/r3" "$ROOT/current"
  deploy lock 5
  [ -s "$ROOT/run/deploy.lock.pid" ]
  run deploy unlock 2
  [ "$status" -eq 0 ]
  [ ! -e "$ROOT/run/deploy.lock.pid" ]
  [[ "$output" == *"removed release r1"* ]]
  [ "$(cd "$ROOT/releases" && echo *)" = "r2 r3" ]
}

@test "dump and restore (SQLite): the database as it was before the release migrated" {
  command -v sqlite3 >/dev/null || python3 -c 'import sqlite3' || skip "no sqlite3"
  release r1
  python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE t (v)"); c.execute("INSERT INTO t VALUES (1)"); c.commit()' "$ROOT/shared/db.sqlite3"
  run deploy dump "$ROOT/releases/r1"
  [ "$status" -eq 0 ]
  [ -s "$ROOT/releases/r1/.pre-migrate.dump" ]
  python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("INSERT INTO t VALUES (2)"); c.commit()' "$ROOT/shared/db.sqlite3"
  run deploy restore "$ROOT/releases/r1"
  [ "$status" -eq 0 ]
  [ "$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT group_concat(v) FROM t").fetchone()[0])' "$ROOT/shared/db.sqlite3")" = 1 ]
}

@test "dump without a database and restore without a dump" {
  release r1
  run deploy dump "$ROOT/releases/r1"
  [ "$status" -eq 0 ]
  [[ "$output" == *"no database yet"* ]]
  run deploy restore "$ROOT/releases/r1"
  [ "$status" -eq 1 ]
  [[ "$output" == *"dump in r1: nothing to restore"* ]]
}

@test "maintenance: on raises the flag with its start (kept by a second on), off lifts it and prints the seconds" {
  run deploy maintenance on
  [ "$status" -eq 0 ]
  [ -f "$T/lib/site.maintenance" ]
  started="$(cat "$T/lib/site.maintenance")"
  [[ "$started" =~ ^[0-9]+\.[0-9]+$ ]]
  deploy maintenance on
  [ "$(cat "$T/lib/site.maintenance")" = "$started" ]
  run deploy maintenance off
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^[0-9]+\.[0-9]$ ]]
  [ ! -e "$T/lib/site.maintenance" ]
  run deploy maintenance off
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run deploy maintenance up
  [ "$status" -eq 1 ]
  [[ "$output" == *"usage:"*"maintenance on | off"* ]]
}

@test "what the script says reaches the journal, tagged <project>-deploy" {
  release r1
  deploy switch "$ROOT/releases/r1"
  deploy maintenance on
  grep -q '^site-deploy: live: site-blue on r1$' "$STUB_STATE/journal"
  grep -q '^site-deploy: maintenance page on$' "$STUB_STATE/journal"
}

@test "an unknown subcommand prints the usage" {
  run deploy frobnicate
  [ "$status" -eq 1 ]
  [[ "$output" == *"usage:"*"switch RELEASE_DIR"*"unlock"* ]]
}

@test "live: the live release's revision (empty without one), then its status" {
  run deploy live
  [ "$status" -eq 0 ]
  [ "$output" = "
live=none state=NONE release=none" ]
}

@test "workdir: an empty 0700 directory of the build user's, made anew; nowhere but releases/ and venvs/" {
  mkdir -p "$ROOT/releases/r1" && touch "$ROOT/releases/r1/left-over"
  deploy workdir "$ROOT/releases/r1"
  [ "$(stat -c '%U %a' "$ROOT/releases/r1")" = "$(id -un) 700" ]
  [ -z "$(ls -A "$ROOT/releases/r1")" ]
  run deploy workdir "$ROOT/shared/x"
  [ "$status" -ne 0 ] && [[ "$output" == *"no work directory outside releases/ and venvs/"* ]]
  [ ! -e "$ROOT/shared/x" ]
}

@test "seal: the build user's processes stopped, everything root's and the project's group, writable by root only, then renamed" {
  [ "$(id -u)" -eq 0 ] || skip "seal changes owners: run as root"
  deploy workdir "$ROOT/venvs/v9.tmp"
  mkdir -p "$ROOT/venvs/v9.tmp/bin" && touch "$ROOT/venvs/v9.tmp/bin/python"
  chmod 0777 "$ROOT/venvs/v9.tmp/bin" && chmod 4775 "$ROOT/venvs/v9.tmp/bin/python"
  deploy seal "$ROOT/venvs/v9.tmp" "$ROOT/venvs/v9"
  [ ! -e "$ROOT/venvs/v9.tmp" ]
  [ "$(stat -c '%U %a' "$ROOT/venvs/v9")" = "root 750" ]
  [ "$(stat -c '%a' "$ROOT/venvs/v9/bin")" = 755 ] && [ "$(stat -c '%a' "$ROOT/venvs/v9/bin/python")" = 755 ]
  [ -z "$(find "$ROOT/venvs/v9" \( ! -user root -o ! -group "$(id -gn)" \) -print)" ]
  grep -qx "pkill -KILL -u $(id -un)" "$STUB_STATE/calls"
  run deploy seal "$ROOT/shared/static"
  [ "$status" -ne 0 ] && [[ "$output" == *"nothing to seal outside releases/ and venvs/"* ]]
  ln -s "$ROOT/shared" "$ROOT/releases/link"
  run deploy seal "$ROOT/releases/link"
  [ "$status" -ne 0 ] && [[ "$output" == *"nothing to seal at"* ]]
}

@test "seal-release: sealed, its venv linked and its revision written by root over what the build left; an unsealed venv refused" {
  [ "$(id -u)" -eq 0 ] || skip "seal changes owners: run as root"
  deploy workdir "$ROOT/releases/r1"
  touch "$ROOT/releases/r1/manage.py"
  ln -s /etc/shadow "$ROOT/releases/r1/.revision"
  mkdir -m 0777 "$ROOT/venvs/open"
  run deploy seal-release "$ROOT/releases/r1" "$ROOT/venvs/open" git-abc
  [ "$status" -ne 0 ] && [[ "$output" == *"no sealed venv at $ROOT/venvs/open"* ]]
  mkdir -m 0755 "$ROOT/venvs/v1"
  deploy seal-release "$ROOT/releases/r1" "$ROOT/venvs/v1" git-abc
  [ "$(readlink "$ROOT/releases/r1/venv")" = "$ROOT/venvs/v1" ]
  [ ! -L "$ROOT/releases/r1/.revision" ] && [ "$(cat "$ROOT/releases/r1/.revision")" = git-abc ]
  [ "$(stat -c '%U %a' "$ROOT/releases/r1")" = "root 750" ]
}

@test "revision: the live release's, only from a sealed release and a plain file" {
  [ "$(id -u)" -eq 0 ] || skip "seal changes owners: run as root"
  [ -z "$(deploy revision)" ]
  deploy workdir "$ROOT/releases/r1" && mkdir -m 0755 "$ROOT/venvs/v1"
  deploy seal-release "$ROOT/releases/r1" "$ROOT/venvs/v1" git-abc
  ln -sfn releases/r1 "$ROOT/current"
  [ "$(deploy revision)" = git-abc ]
  rm "$ROOT/releases/r1/.revision" && ln -s /etc/hostname "$ROOT/releases/r1/.revision"
  [ -z "$(deploy revision)" ]
  mkdir -m 0777 "$ROOT/releases/r2" && echo git-def > "$ROOT/releases/r2/.revision"
  ln -sfn releases/r2 "$ROOT/current"
  [ -z "$(deploy revision)" ]
}

@test "prestart: the idle colour starts on the release and no traffic moves; its switch then starts nothing" {
  release r1 && release r2
  run deploy prestart "$ROOT/releases/r1"
  [ "$status" -eq 0 ] && [[ "$output" == *"no live release: r1 starts at its switch"* ]]
  [ ! -f "$STUB_STATE/site-blue" ] && [ ! -f "$STUB_STATE/site-green" ]
  deploy switch "$ROOT/releases/r1"
  upstream="$(cat "$ROOT/nginx-upstream.conf")"
  run deploy prestart "$ROOT/releases/r2"
  [ "$status" -eq 0 ] && [[ "$output" == *"started site-green on r2 (for its switch)"* ]]
  [ -f "$STUB_STATE/site-green" ] && [ "$(readlink -f "$ROOT/green")" = "$ROOT/releases/r2" ]
  [ "$(cat "$ROOT/run/live")" = blue ] && [ "$(readlink -f "$ROOT/current")" = "$ROOT/releases/r1" ]
  [ "$(cat "$ROOT/nginx-upstream.conf")" = "$upstream" ]
  [ -f "$ROOT/shared/static/app.r2.css" ]
  run deploy prestart "$ROOT/releases/r2"
  [ "$status" -eq 0 ] && [[ "$output" == *"site-green runs r2 already"* ]]
  : > "$STUB_STATE/calls"
  run deploy switch "$ROOT/releases/r2"
  [ "$status" -eq 0 ]
  [[ "$output" == *"site-green runs r2 already (started before the switch)"*"health check passed: site-green"*"stopped site-blue"* ]]
  ! grep -q "^start" "$STUB_STATE/calls"
  [ "$(cat "$ROOT/run/live")" = green ]
  run deploy prestart "$T/log"
  [ "$status" -ne 0 ] && [[ "$output" == *"no release at"* ]]
}

@test "discard: a release that is not live is removed; the live one is not" {
  release r1 && release r2
  ln -sfn releases/r2 "$ROOT/current"
  run deploy discard "$ROOT/releases/r2"
  [ "$status" -ne 0 ] && [[ "$output" == *"r2 is live: not removed"* ]]
  [ -d "$ROOT/releases/r2" ]
  deploy discard "$ROOT/releases/r1"
  [ ! -e "$ROOT/releases/r1" ]
  run deploy discard "$T/log"
  [ "$status" -ne 0 ] && [[ "$output" == *"no release at"* ]]
}

@test "discard: the colour started on the release (prestart) stops first; the live colour runs on" {
  release r1 && release r2
  deploy switch "$ROOT/releases/r1"
  deploy prestart "$ROOT/releases/r2"
  [ -f "$STUB_STATE/site-green" ]
  run deploy discard "$ROOT/releases/r2"
  [ "$status" -eq 0 ] && [[ "$output" == *"stopped site-green, which ran r2"*"removed release r2"* ]]
  [ ! -f "$STUB_STATE/site-green" ] && [ -f "$STUB_STATE/site-blue" ] && [ ! -e "$ROOT/releases/r2" ]
  [ "$(cat "$ROOT/run/live")" = blue ]
}
