#!/usr/bin/python3
"""Off-site backups of one Django project: database (and media) -> tar -> age -> S3.

  django-deploy-backup CONFIG backup     dump, encrypt for the public key, upload with its checksum, record
  django-deploy-backup CONFIG list       the backups under the prefix, newest first (JSON lines; those
                                         retention and restores ignore carry "ignored": why)
  django-deploy-backup CONFIG prune [--keys-from-stdin]
                                         retention: delete what the daily/weekly/monthly counts do not keep;
                                         with --keys-from-stdin the bucket's keys are read from stdin (two
                                         lines: access key, secret key), so the server's own key can be
                                         write-only
  django-deploy-backup CONFIG restore NAME [--force] [--check]
                                         NAME is "latest" or a key; the age identity (private key)
                                         is read from stdin and never written to disk; --check
                                         only says whether NAME exists and may be restored

CONFIG is a root-only ini file written by the backend role (S3 credentials live there, never on a
command line). Every run ends with one line on stderr; a failure exits 1 after updating the record
file and, when a token is configured, reporting to Rollbar.

Root never opens a path the project user can write: media and the SQLite database are read and
written by processes running as that user (runuser), connected to this one by pipes; PostgreSQL is
dumped, checked and restored connected as the database's owner role, never as postgres.
"""
import configparser
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import threading
import urllib.request

STAMP = "%Y%m%dT%H%M%SZ"
# A backup's name under the prefix: nothing else (a deeper key is another prefix's, never ours).
NAME = re.compile(r"^(\d{8}T\d{6}Z)\.tar\.age$")
PREFIX = re.compile(r"^(?!(.*/)?\.\.?/)[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/$")
# A name may be later than the store's LastModified by the clock difference S3 itself tolerates
# between a request's signature and the store's time (15 minutes); later than that, the name lies.
SKEW = datetime.timedelta(minutes=15)
# Rows Django writes by itself on migrate: a database holding only these has no user data.
BOOKKEEPING_TABLES = ("django_migrations", "django_content_type", "auth_permission")
# Environment variable shifting the script's own clock (its names and records, never S3's request
# signatures): rehearses a server whose clock is wrong.
CLOCK_OFFSET = "DJANGO_DEPLOY_BACKUP_CLOCK_OFFSET"


class Failure(Exception):
    """An expected failure, reported as one line."""


def log(msg):
    print(f"django-deploy-backup: {msg}", file=sys.stderr, flush=True)


def now():
    offset = int(os.environ.get(CLOCK_OFFSET) or 0)
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)


def load(path):
    ini = configparser.RawConfigParser()
    with open(path, encoding="utf-8") as f:
        ini.read_file(f)
    return ini


def prefix_of(ini):
    """The project's key prefix: non-empty and ending in '/', so that no two projects share names."""
    prefix = ini["s3"].get("prefix", "")
    if not PREFIX.match(prefix):
        raise Failure(f"the S3 prefix {prefix!r} is not valid: set backend_backup_s3_prefix to a path ending in '/', "
                      "one per project (e.g. my-org/my-project/)")
    return prefix


def s3_client(ini, keys=None):
    import boto3  # Debian's python3-boto3
    from botocore.config import Config

    s3 = ini["s3"]
    access_key, secret_key = keys or (s3["access_key"], s3["secret_key"])
    return boto3.client(
        "s3",
        endpoint_url=s3.get("endpoint") or None,
        region_name=s3.get("region") or None,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(
            s3={"addressing_style": s3.get("addressing_style", "auto")},
            retries={"max_attempts": int(s3.get("attempts", "3")), "mode": "standard"},
            connect_timeout=int(s3.get("timeout", "20")),
            read_timeout=int(s3.get("timeout", "20")) * 3,
        ),
    )


def keys_from_stdin():
    lines = [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
    if len(lines) != 2:
        raise Failure("--keys-from-stdin expects two lines on stdin: the access key, then the secret key")
    return lines[0], lines[1]


def run(argv, **kw):
    """A command that must succeed; its stderr is part of the error. Started in / (a user it runs as
    may not enter the caller's directory)."""
    r = subprocess.run(argv, stderr=subprocess.PIPE, cwd="/", **kw)
    if r.returncode != 0:
        raise Failure(f"{argv[0]} exited {r.returncode}: {r.stderr.decode(errors='replace').strip()[-500:]}")
    return r


def as_user(ini, argv, **kw):
    """What touches the project's directories runs as the project user, never as root."""
    return run(["runuser", "-u", ini["backup"]["user"], "--"] + argv, **kw)


def pg_env(ini):
    """libpq's settings to connect as the database's owner role (the password only in this environment,
    readable by root alone)."""
    b = ini["backup"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PGHOST=b.get("database_host") or "localhost", PGPORT=b.get("database_port") or "5432",
               PGUSER=b["database_user"], PGPASSWORD=b.get("database_password", ""), PGCONNECT_TIMEOUT="20")
    return env


def psql_owner(ini, sql, database, **variables):
    """SQL run as the owner role; values reach it as psql variables (:'name' literals, %I identifiers)."""
    argv = ["psql", "-X", "-w", "-v", "ON_ERROR_STOP=1", "-qtA", "-d", database]
    for name, value in variables.items():
        argv += ["-v", f"{name}={value}"]
    out = run(argv, input=sql.encode(), stdout=subprocess.PIPE, env=pg_env(ini)).stdout
    return [line for line in out.decode().splitlines() if line]


# --- backup ---

# Run as the project user: an online copy of its SQLite database (consistent while the app writes),
# made in a private temporary file and written to stdout. Exit 3: no database.
SQLITE_COPY = """
import os, shutil, sqlite3, sys, tempfile
if not os.path.isfile(sys.argv[1]):
    sys.exit(3)
src = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
with tempfile.NamedTemporaryFile() as f:
    dst = sqlite3.connect(f.name)
    src.backup(dst)
    dst.close()
    f.seek(0)
    shutil.copyfileobj(f, sys.stdout.buffer)
"""


def dump_database(ini, work):
    """The database in root's private work directory, dumped by processes that are not root."""
    b = ini["backup"]
    if b["engine"] == "postgresql":
        path, member = os.path.join(work, "database.dump"), "database.dump"
        with open(path, "wb") as out:  # streamed to disk by pg_dump, never held in memory
            run(["pg_dump", "-w", "-Fc", "-d", b["database"]], stdout=out, env=pg_env(ini))
        return path, member
    path, member = os.path.join(work, "db.sqlite3"), "db.sqlite3"
    with open(path, "wb") as out:
        r = subprocess.run(["runuser", "-u", b["user"], "--", "python3", "-c", SQLITE_COPY, b["database"]],
                           stdout=out, stderr=subprocess.PIPE, cwd="/")
    if r.returncode == 3:
        raise Failure(f"no SQLite database at {b['database']}")
    if r.returncode != 0:
        raise Failure(f"the SQLite copy exited {r.returncode}: {r.stderr.decode(errors='replace').strip()[-500:]}")
    return path, member


def media_name(name):
    """A member's path inside the media directory, or None when it must not leave or enter it."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def add_media(ini, tar):
    """Copies the media directory into the archive: tar runs as the project user (it reads only what
    that user can), root re-packs its stream; only regular files and directories are kept."""
    media = ini["backup"].get("media", "")
    if not media:
        return
    reader = subprocess.Popen(["runuser", "-u", ini["backup"]["user"], "--", "sh", "-c",
                               'if [ -d "$1" ]; then exec tar -C "$1" -cf - .; fi', "sh", media],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/")
    try:
        with tarfile.open(fileobj=reader.stdout, mode="r|") as src:
            for member in src:
                name = media_name(member.name)
                if name is None or not (member.isreg() or member.isdir()):
                    continue
                member.name, member.mode = f"media/{name}", member.mode & 0o755
                member.uid = member.gid = 0
                member.uname = member.gname = ""
                tar.addfile(member, src.extractfile(member) if member.isreg() else None)
    except tarfile.ReadError:
        pass  # no media directory: an empty stream
    finally:
        reader.stdout.close()
        err = reader.stderr.read().decode(errors="replace").strip()
        # GNU tar's 1: a file changed while it was read (an upload meanwhile): the backup holds what was read.
        if reader.wait() not in (0, 1):
            raise Failure(f"tar of {media} as {ini['backup']['user']} exited {reader.returncode}: {err[-500:]}")


class HashingReader:
    """Wraps age's stdout: what boto3 reads is counted and hashed on the way to the bucket."""

    def __init__(self, raw):
        self.raw, self.sha, self.bytes = raw, hashlib.sha256(), 0

    def read(self, n=-1):
        data = self.raw.read(n)
        self.sha.update(data)
        self.bytes += len(data)
        return data


def backup_key(prefix, t):
    return f"{prefix}{t.strftime(STAMP)}.tar.age"


def backup(ini):
    b, s3 = ini["backup"], ini["s3"]
    prefix = prefix_of(ini)
    started = now()
    key = backup_key(prefix, started)
    client = s3_client(ini)
    with tempfile.TemporaryDirectory(prefix="django-deploy-backup.", dir=b.get("work_dir") or None) as work:
        dump, member = dump_database(ini, work)
        age = subprocess.Popen(["age", "-r", b["recipient"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        failed = []

        def write_tar():
            try:
                with tarfile.open(fileobj=age.stdin, mode="w|") as tar:
                    tar.add(dump, arcname=member)
                    add_media(ini, tar)
            except Exception as e:  # reported after the upload stops
                failed.append(e)
            finally:
                age.stdin.close()

        writer = threading.Thread(target=write_tar, daemon=True)
        writer.start()
        body = HashingReader(age.stdout)
        try:
            client.upload_fileobj(body, s3["bucket"], key)
        finally:
            age.stdout.close()
            writer.join()
            age.wait()
        if failed:
            raise Failure(f"archive: {failed[0]}")
        if age.returncode != 0:
            raise Failure(f"age exited {age.returncode}: {age.stderr.read().decode(errors='replace').strip()}")
    digest = body.sha.hexdigest()
    # The checksum of the encrypted object, beside it: verified before anything is decrypted. A
    # backup without it is not one (an upload cut short): retention and restores ignore it.
    client.put_object(Bucket=s3["bucket"], Key=f"{key}.sha256", Body=f"{digest}  {key.rsplit('/', 1)[-1]}\n".encode(),
                      ContentType="text/plain")
    record(ini, last_success=started, object=key, bytes=body.bytes, sha256=digest)
    log(f"uploaded s3://{s3['bucket']}/{key} ({body.bytes} bytes, sha256 {digest})")


# --- listing and retention ---

def classify(objects, prefix):
    """The backups among a listing's objects ({'Key', 'LastModified', 'Size'}), newest first by the
    store's LastModified, each {'key', 'taken', 'named', 'bytes'} plus 'ignored' (why) for those that
    retention and restores must not trust: no checksum beside it, or a name later than LastModified
    (a forged name, or a server clock ahead). Keys deeper than the prefix are another prefix's."""
    objects = list(objects)
    keys = {o["Key"] for o in objects}
    found = []
    for o in objects:
        key = o["Key"]
        if not key.startswith(prefix):
            continue
        m = NAME.match(key[len(prefix):])
        if not m:
            continue
        named = datetime.datetime.strptime(m.group(1), STAMP).replace(tzinfo=datetime.timezone.utc)
        taken = o["LastModified"]
        entry = {"key": key, "taken": taken, "named": named, "bytes": o.get("Size", 0)}
        if f"{key}.sha256" not in keys:
            entry["ignored"] = "no .sha256 checksum beside it"
        elif named > taken + SKEW:
            entry["ignored"] = f"its name is later than the store's time of the upload ({iso(taken)})"
        found.append(entry)
    return sorted(found, key=lambda e: (e["taken"], e["key"]), reverse=True)


def listing(client, ini):
    s3 = ini["s3"]
    prefix = prefix_of(ini)
    objects = []
    # Delimiter: only the prefix's own level, never a deeper prefix's backups.
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=s3["bucket"], Prefix=prefix, Delimiter="/"):
        objects.extend(page.get("Contents", []))
    return classify(objects, prefix)


def trusted(entries):
    return [e for e in entries if "ignored" not in e]


def to_keep(entries, daily, weekly, monthly):
    """Grandfather-father-son over trusted backups (newest first): the newest of each of the last N
    days, ISO weeks and months, by the store's time. Returns the keys kept."""
    keep = set()
    for count, period in ((daily, lambda t: t.date()), (weekly, lambda t: t.isocalendar()[:2]),
                          (monthly, lambda t: (t.year, t.month))):
        seen = []
        for e in sorted(entries, key=lambda e: (e["taken"], e["key"]), reverse=True):
            p = period(e["taken"])
            if p not in seen:
                if len(seen) == count:
                    break
                seen.append(p)
                keep.add(e["key"])
    return keep


def doomed(entries, ini):
    """The trusted backups retention deletes; ignored objects are neither counted nor deleted."""
    b = ini["backup"]
    good = trusted(entries)
    keep = to_keep(good, int(b["keep_daily"]), int(b["keep_weekly"]), int(b["keep_monthly"]))
    return [e["key"] for e in good if e["key"] not in keep]


def prune(ini, keys=None):
    s3 = ini["s3"]
    client = s3_client(ini, keys)
    entries = listing(client, ini)
    gone = doomed(entries, ini)
    for i in range(0, len(gone), 500):
        objects = [{"Key": k} for k in gone[i:i + 500]] + [{"Key": f"{k}.sha256"} for k in gone[i:i + 500]]
        client.delete_objects(Bucket=s3["bucket"], Delete={"Objects": objects, "Quiet": True})
    ignored = len(entries) - len(trusted(entries))
    log(f"{len(gone)} old backup(s) removed, {len(trusted(entries)) - len(gone)} kept"
        + (f", {ignored} ignored (see list)" if ignored else ""))


# --- record and reports ---

def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def record(ini, last_success=None, last_failure=None, **fields):
    """/var/lib/django-deploy/<org>-<project>.backup.json: what `django-deploy status` shows (no secrets)."""
    path = ini["backup"]["record"]
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {"last_success": None, "object": None, "bytes": None, "sha256": None, "last_failure": None}
    if last_success:
        data.update(last_success=iso(last_success), **fields)
    if last_failure:
        data.update(last_failure=iso(last_failure), error=fields.get("error"))
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def report_rollbar(ini, message):
    r = ini["report"] if ini.has_section("report") else {}
    token = r.get("rollbar_token", "")
    if not token:
        return
    payload = {"access_token": token, "data": {
        "environment": r.get("rollbar_environment", "production"), "level": "error",
        "body": {"message": {"body": message}}, "server": {"host": os.uname().nodename}}}
    req = urllib.request.Request(r.get("rollbar_endpoint", "https://api.rollbar.com/api/1/item/"),
                                 data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=10).close()
    except OSError as e:
        log(f"Rollbar not reached: {e}")


# --- restore ---

# Connected as the owner role: the files of the public tables that hold rows (other than Django's
# bookkeeping), every identifier quoted by format's %I.
PG_FILLED_TABLES = """
SELECT format('SELECT pg_relation_filepath(%s) WHERE EXISTS (SELECT 1 FROM %I.%I)', c.oid, n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.relname <> ALL (string_to_array(:'bookkeeping', ','))
\\gexec
"""

# Run as the project user: when its SQLite database last got user data (JSON: null when it holds none).
SQLITE_NEWEST = """
import json, os, sqlite3, sys
path, bookkeeping = sys.argv[1], sys.argv[2].split(",")
if not os.path.isfile(path):
    print("null"); sys.exit()
db = sqlite3.connect("file:" + path + "?mode=ro", uri=True)
quote = lambda name: '"' + name.replace('"', '""') + '"'
names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
         if r[0] not in bookkeeping and not r[0].startswith("sqlite_")]
full = [t for t in names if db.execute("SELECT EXISTS (SELECT 1 FROM " + quote(t) + ")").fetchone()[0]]
db.close()
print(json.dumps(max((os.stat(p).st_mtime for p in (path, path + "-wal") if os.path.exists(p)), default=None) if full else None))
"""


def newest_write(ini):
    """When the target database last got user data, or None when it holds none (a fresh deploy)."""
    b = ini["backup"]
    if b["engine"] == "postgresql":
        if not psql_owner(ini, "SELECT 1 FROM pg_database WHERE datname = :'db'", "postgres", db=b["database"]):
            return None
        files = psql_owner(ini, PG_FILLED_TABLES, b["database"], bookkeeping=",".join(BOOKKEEPING_TABLES))
        if not files:
            return None
        # Table files' times include every committed write after a checkpoint; both need postgres,
        # with nothing of the project's in the SQL.
        run(["runuser", "-u", "postgres", "--", "psql", "-X", "-qtA", "-c", "CHECKPOINT"], stdout=subprocess.DEVNULL)
        data_dir = run(["runuser", "-u", "postgres", "--", "psql", "-X", "-qtA", "-c", "SHOW data_directory"],
                       stdout=subprocess.PIPE).stdout.decode().strip()
        return max(datetime.datetime.fromtimestamp(os.stat(os.path.join(data_dir, f)).st_mtime, datetime.timezone.utc)
                   for f in files)
    out = as_user(ini, ["python3", "-c", SQLITE_NEWEST, b["database"], ",".join(BOOKKEEPING_TABLES)],
                  stdout=subprocess.PIPE).stdout
    mtime = json.loads(out)
    return datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc) if mtime else None


def choose(entries, name, prefix):
    """The backup a restore takes: the newest trusted one for "latest", else the one named."""
    if name == "latest":
        good = trusted(entries)
        if not good:
            raise Failure(f"no backup under {prefix} (with its checksum, and a name no later than its upload)")
        return good[0]
    key = name if name.startswith(prefix) else f"{prefix}{name}"
    if not NAME.match(key[len(prefix):]):
        raise Failure(f"{name!r} is not a backup name (expected <prefix>YYYYmmddTHHMMSSZ.tar.age or latest)")
    for e in entries:
        if e["key"] == key:
            if "ignored" in e:
                raise Failure(f"{key} is not restored: {e['ignored']}")
            return e
    raise Failure(f"no backup {key} (django-deploy-backup list shows them)")


def refuse_newer_data(newest, chosen, force):
    if newest and newest > chosen["taken"] and not force:
        raise Failure(f"the database has data written at {iso(newest)}, after the backup {chosen['key']} "
                      f"({iso(chosen['taken'])}); restore anyway with backend_restore_force=true (django-deploy restore --force)")


def restore(ini, name, force, check_only=False):
    b, s3 = ini["backup"], ini["s3"]
    prefix = prefix_of(ini)
    client = s3_client(ini)
    chosen = choose(listing(client, ini), name, prefix)
    key = chosen["key"]
    newest = newest_write(ini)
    refuse_newer_data(newest, chosen, force)
    if check_only:
        log(f"s3://{s3['bucket']}/{key} can be restored "
            f"({'the database holds no data' if not newest else 'the database was last written at ' + iso(newest)})")
        return
    identity = sys.stdin.buffer.read()
    if b"AGE-SECRET-KEY-" not in identity:
        raise Failure("no age identity on stdin (the vault's backend_backup_age_identity)")
    with tempfile.TemporaryDirectory(prefix="django-deploy-restore.", dir=b.get("work_dir") or None) as work:
        encrypted = os.path.join(work, "backup.tar.age")
        try:
            client.download_file(s3["bucket"], key, encrypted)
            expected = client.get_object(Bucket=s3["bucket"], Key=f"{key}.sha256")["Body"].read().decode().split()[0]
        except client.exceptions.ClientError as e:
            raise Failure(f"s3://{s3['bucket']}/{key}: {e}") from e
        sha = hashlib.sha256()
        with open(encrypted, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                sha.update(chunk)
        if sha.hexdigest() != expected:
            raise Failure(f"{key}: sha256 {sha.hexdigest()} does not match its checksum {expected}: not restored")
        # The identity reaches age through a pipe (/dev/fd), never a file.
        rfd, wfd = os.pipe()
        age = subprocess.Popen(["age", "-d", "-i", f"/dev/fd/{rfd}", encrypted], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, pass_fds=[rfd])
        os.close(rfd)
        os.write(wfd, identity)
        os.close(wfd)
        database = unpack(ini, age.stdout, work, key)
        if age.wait() != 0:
            raise Failure(f"age could not decrypt {key}: {age.stderr.read().decode(errors='replace').strip()}")
        if database is None:
            raise Failure(f"{key} holds no database")
        restore_database(ini, database)
    log(f"restored s3://{s3['bucket']}/{key} (sha256 {expected})")
    print(json.dumps({"object": key, "taken": iso(chosen["taken"]), "sha256": expected}))


def unpack(ini, stream, work, key):
    """Reads the decrypted archive without extracting it (Debian 12's Python has no tarfile.data_filter,
    and root extracts nothing anyway): the database member is copied into a file of root's private
    work directory, under a name chosen here; media members are re-packed, regular files and
    directories only, into a tar that the project user's tar extracts into the media directory."""
    b = ini["backup"]
    database, media_writer, media_tar = None, None, None
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                if member.isreg() and member.name in ("database.dump", "db.sqlite3"):
                    database = os.path.join(work, member.name)
                    fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                    with os.fdopen(fd, "wb") as out, tar.extractfile(member) as src:
                        while chunk := src.read(1 << 20):
                            out.write(chunk)
                    continue
                name = media_name(member.name[len("media/"):]) if member.name.startswith("media/") else None
                if name is None or not b.get("media") or not (member.isreg() or member.isdir()):
                    continue
                if media_writer is None:
                    as_user(ini, ["mkdir", "-p", b["media"]])
                    media_writer = subprocess.Popen(
                        ["runuser", "-u", b["user"], "--", "tar", "--no-same-owner", "--no-overwrite-dir", "-C", b["media"],
                         "-xf", "-"], stdin=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/")
                    media_tar = tarfile.open(fileobj=media_writer.stdin, mode="w|")
                member.name, member.mode = name, member.mode & 0o755
                media_tar.addfile(member, tar.extractfile(member) if member.isreg() else None)
    except tarfile.TarError as e:
        raise Failure(f"{key}: not a readable archive ({e})") from e
    finally:
        if media_writer is not None:
            media_tar.close()
            media_writer.stdin.close()
            err = media_writer.stderr.read().decode(errors="replace").strip()
            if media_writer.wait() != 0:
                raise Failure(f"the media's tar as {b['user']} exited {media_writer.returncode}: {err[-500:]}")
    return database


# Connected as the owner role: its own sessions ended (gunicorn is stopped), then the database emptied
# by the role's SQL (files/pg-empty.sql, which bin/deploy's restore runs too).
PG_END_OWN_SESSIONS = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
 WHERE datname = current_database() AND usename = current_user AND pid <> pg_backend_pid();
"""

# A line of pg_restore -l naming a comment on an extension ("3486; 0 0 COMMENT - EXTENSION citext ").
PG_EXTENSION_COMMENT = re.compile(r"^\d+; \d+ \d+ COMMENT - EXTENSION ")

# As postgres, with nothing of the project's in it: the database (when missing) owned by its role.
PG_CREATE_DATABASE = """
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db')
\\gexec
"""


def restore_database(ini, path):
    b = ini["backup"]
    if b["engine"] == "postgresql":
        db, owner = b["database"], b["database_user"]
        run(["runuser", "-u", "postgres", "--", "psql", "-X", "-v", "ON_ERROR_STOP=1", "-qtA", "-d", "postgres",
             "-v", f"db={db}", "-v", f"owner={owner}"], input=PG_CREATE_DATABASE.encode(), stdout=subprocess.DEVNULL)
        # Then, connected as the owner role: the schema emptied, and pg_restore straight into the database
        # (never its SQL through psql, whose meta-commands run client-side): the archive's SQL runs with
        # that role's rights only.
        # What the role owns is dropped, not the schema: an extension a superuser created in the database
        # (and the role cannot create again) stays; the archive's comments on extensions, which only
        # their owner may set, are left out.
        with open(path, "rb") as dump:
            toc = run(["pg_restore", "-l"], stdin=dump, stdout=subprocess.PIPE).stdout.decode()
        listed = os.path.join(os.path.dirname(path), "restore.list")
        with open(listed, "w") as f:
            f.write("".join(line for line in toc.splitlines(True) if not PG_EXTENSION_COMMENT.match(line)))
        with open(b["empty_sql"]) as f:
            psql_owner(ini, PG_END_OWN_SESSIONS + f.read(), db)
        with open(path, "rb") as dump:
            run(["pg_restore", "-w", "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges",
                 "-L", listed, "-d", db], stdin=dump, env=pg_env(ini))
        return
    target = b["database"]
    with open(path, "rb") as src:
        as_user(ini, ["dd", f"of={target}.restore", "status=none"], stdin=src)
    as_user(ini, ["chmod", "0600", f"{target}.restore"])
    as_user(ini, ["rm", "-f", f"{target}-wal", f"{target}-shm", f"{target}-journal"])
    as_user(ini, ["mv", "-f", f"{target}.restore", target])


def main(argv):
    if len(argv) < 3 or argv[2] not in ("backup", "list", "prune", "restore"):
        print(__doc__, file=sys.stderr)
        return 2
    ini = load(argv[1])
    try:
        if argv[2] == "backup":
            backup(ini)
        elif argv[2] == "list":
            for e in listing(s3_client(ini), ini):
                print(json.dumps({"object": e["key"], "taken": iso(e["taken"]), "named": iso(e["named"]),
                                  "bytes": e["bytes"], **({"ignored": e["ignored"]} if "ignored" in e else {})}))
        elif argv[2] == "prune":
            prune(ini, keys_from_stdin() if "--keys-from-stdin" in argv[3:] else None)
        else:
            if len(argv) < 4:
                raise Failure("restore needs a backup name or latest")
            restore(ini, argv[3], "--force" in argv[4:], "--check" in argv[4:])
        return 0
    except Exception as e:  # every failure is loud: journal, record file, Rollbar
        kind = "" if isinstance(e, Failure) else f"{e.__class__.__name__}: "  # a bug says what it is
        message = f"{argv[2]} of {ini['backup']['name']} failed: {kind}{e}"
        log(message)
        if argv[2] == "backup":
            record(ini, last_failure=now(), error=str(e)[:300])
            report_rollbar(ini, message)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
