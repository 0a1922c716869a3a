#!/usr/bin/python3
"""Off-site backups of one Django project: database (and media) -> tar -> age -> S3.

  django-deploy-backup CONFIG backup     dump, encrypt for the public key, upload, prune, record
  django-deploy-backup CONFIG list       the backups in the bucket, newest first (JSON lines)
  django-deploy-backup CONFIG restore NAME [--force] [--check]
                                         NAME is "latest" or a key; the age identity (private key)
                                         is read from stdin and never written to disk; --check
                                         only says whether NAME exists and may be restored

CONFIG is a root-only ini file written by the backend role (S3 credentials live there, never on a
command line). Every run ends with one line on stderr; a failure exits 1 after updating the record
file and, when a token is configured, reporting to Rollbar.
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
KEY_STAMP = re.compile(r"(\d{8}T\d{6}Z)\.tar\.age$")
# Rows Django writes by itself on migrate: a database holding only these has no user data.
BOOKKEEPING_TABLES = {"django_migrations", "django_content_type", "auth_permission"}


class Failure(Exception):
    """An expected failure, reported as one line."""


def log(msg):
    print(f"django-deploy-backup: {msg}", file=sys.stderr, flush=True)


def load(path):
    ini = configparser.RawConfigParser()
    with open(path, encoding="utf-8") as f:
        ini.read_file(f)
    return ini


def s3_client(ini):
    import boto3  # Debian's python3-boto3
    from botocore.config import Config

    s3 = ini["s3"]
    return boto3.client(
        "s3",
        endpoint_url=s3.get("endpoint") or None,
        region_name=s3.get("region") or None,
        aws_access_key_id=s3["access_key"],
        aws_secret_access_key=s3["secret_key"],
        config=Config(
            s3={"addressing_style": s3.get("addressing_style", "auto")},
            retries={"max_attempts": int(s3.get("attempts", "3")), "mode": "standard"},
            connect_timeout=int(s3.get("timeout", "20")),
            read_timeout=int(s3.get("timeout", "20")) * 3,
        ),
    )


def run(argv, **kw):
    """A command that must succeed; its stderr is part of the error."""
    r = subprocess.run(argv, stderr=subprocess.PIPE, **kw)
    if r.returncode != 0:
        raise Failure(f"{argv[0]} exited {r.returncode}: {r.stderr.decode(errors='replace').strip()[-500:]}")
    return r


def psql(ini, sql, database="postgres"):
    out = run(["runuser", "-u", "postgres", "--", "psql", "-X", "-v", "ON_ERROR_STOP=1", "-qtA", "-d", database],
              input=sql.encode(), stdout=subprocess.PIPE).stdout
    return out.decode().splitlines()


# --- backup ---

def dump_database(ini, work):
    b = ini["backup"]
    if b["engine"] == "postgresql":
        path = os.path.join(work, "database.dump")
        with open(path, "wb") as out:  # streamed to disk by pg_dump, never held in memory
            run(["runuser", "-u", "postgres", "--", "pg_dump", "-Fc", "-d", b["database"]], stdout=out)
        return path, "database.dump"
    import sqlite3

    if not os.path.isfile(b["database"]):
        raise Failure(f"no SQLite database at {b['database']}")
    path = os.path.join(work, "db.sqlite3")
    src = sqlite3.connect(f"file:{b['database']}?mode=ro", uri=True)
    dst = sqlite3.connect(path)
    with dst:
        src.backup(dst)  # online: consistent while the app writes
    src.close()
    dst.close()
    return path, "db.sqlite3"


class HashingReader:
    """Wraps age's stdout: what boto3 reads is counted and hashed on the way to the bucket."""

    def __init__(self, raw):
        self.raw, self.sha, self.bytes = raw, hashlib.sha256(), 0

    def read(self, n=-1):
        data = self.raw.read(n)
        self.sha.update(data)
        self.bytes += len(data)
        return data


def backup(ini):
    b, s3 = ini["backup"], ini["s3"]
    now = datetime.datetime.now(datetime.timezone.utc)
    key = f"{s3.get('prefix', '')}{now.strftime(STAMP)}.tar.age"
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
                    media = b.get("media", "")
                    if media and os.path.isdir(media):
                        tar.add(media, arcname="media")
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
    # The checksum of the encrypted object, beside it: verified before anything is decrypted.
    client.put_object(Bucket=s3["bucket"], Key=f"{key}.sha256", Body=f"{digest}  {key.rsplit('/', 1)[-1]}\n".encode(),
                      ContentType="text/plain")
    pruned = prune(client, ini, keep_also=key)
    record(ini, last_success=now, object=key, bytes=body.bytes, sha256=digest)
    log(f"uploaded s3://{s3['bucket']}/{key} ({body.bytes} bytes, sha256 {digest}); {pruned} old backup(s) removed")


# --- retention ---

def backups(client, ini):
    """(time, key) of every backup under the prefix, newest first."""
    s3 = ini["s3"]
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=s3["bucket"], Prefix=s3.get("prefix", "")):
        for obj in page.get("Contents", []):
            m = KEY_STAMP.search(obj["Key"])
            if m:
                t = datetime.datetime.strptime(m.group(1), STAMP).replace(tzinfo=datetime.timezone.utc)
                found.append((t, obj["Key"], obj["Size"]))
    return sorted(found, reverse=True)


def to_keep(times, daily, weekly, monthly):
    """Grandfather-father-son: the newest backup of each of the last N days, ISO weeks and months."""
    keep = set()
    for count, period in ((daily, lambda t: t.date()), (weekly, lambda t: t.isocalendar()[:2]),
                          (monthly, lambda t: (t.year, t.month))):
        seen = []
        for t in sorted(times, reverse=True):
            p = period(t)
            if p not in seen:
                if len(seen) == count:
                    break
                seen.append(p)
                keep.add(t)
    return keep


def prune(client, ini, keep_also):
    b, s3 = ini["backup"], ini["s3"]
    found = backups(client, ini)
    keep = to_keep([t for t, _, _ in found], int(b["keep_daily"]), int(b["keep_weekly"]), int(b["keep_monthly"]))
    doomed = [k for t, k, _ in found if t not in keep and k != keep_also]
    for i in range(0, len(doomed), 500):
        objects = [{"Key": k} for k in doomed[i:i + 500]] + [{"Key": f"{k}.sha256"} for k in doomed[i:i + 500]]
        client.delete_objects(Bucket=s3["bucket"], Delete={"Objects": objects, "Quiet": True})
    return len(doomed)


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

def newest_write(ini):
    """When the target database last got user data, or None when it holds none (a fresh deploy)."""
    b = ini["backup"]
    if b["engine"] == "postgresql":
        exists = psql(ini, f"SELECT 1 FROM pg_database WHERE datname = '{b['database']}'")
        if not exists:
            return None
        tables = psql(ini, "SELECT c.relname || ' ' || pg_relation_filepath(c.oid) FROM pg_class c "
                           "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'",
                      b["database"])
        files = dict(line.split(" ", 1) for line in tables if line)
        names = [t for t in files if t not in BOOKKEEPING_TABLES]
        if not names:
            return None
        query = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in names)
        full = [t for t in psql(ini, query, b["database"]) if t]
        if not full:
            return None
        psql(ini, "CHECKPOINT")  # table files' times then include every committed write
        data_dir = psql(ini, "SHOW data_directory")[0]
        return max(datetime.datetime.fromtimestamp(os.stat(os.path.join(data_dir, files[t])).st_mtime,
                                                   datetime.timezone.utc) for t in full)
    import sqlite3

    if not os.path.isfile(b["database"]):
        return None
    db = sqlite3.connect(f"file:{b['database']}?mode=ro", uri=True)
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
             if r[0] not in BOOKKEEPING_TABLES and not r[0].startswith("sqlite_")]
    full = [t for t in names if db.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0]]
    db.close()
    if not full:
        return None
    return max(datetime.datetime.fromtimestamp(os.stat(p).st_mtime, datetime.timezone.utc)
               for p in (b["database"], f"{b['database']}-wal") if os.path.exists(p))


def as_user(ini, argv, **kw):
    """Writes into the app's directories happen as the project user, never as root."""
    return run(["runuser", "-u", ini["backup"]["user"], "--"] + argv, **kw)


def restore(ini, name, force, check_only=False):
    b, s3 = ini["backup"], ini["s3"]
    client = s3_client(ini)
    if name == "latest":
        found = backups(client, ini)
        if not found:
            raise Failure(f"no backup under s3://{s3['bucket']}/{s3.get('prefix', '')}")
        taken, key, _ = found[0]
    else:
        key = name if name.startswith(s3.get("prefix", "")) else f"{s3.get('prefix', '')}{name}"
        m = KEY_STAMP.search(key)
        if not m:
            raise Failure(f"{name!r} is not a backup name (expected <prefix>YYYYmmddTHHMMSSZ.tar.age or latest)")
        taken = datetime.datetime.strptime(m.group(1), STAMP).replace(tzinfo=datetime.timezone.utc)
    newest = newest_write(ini)
    if newest and newest > taken and not force:
        raise Failure(f"the database has data written at {iso(newest)}, after the backup {key} ({iso(taken)}); "
                      "restore anyway with backend_restore_force=true (django-deploy restore --force)")
    if check_only:
        client.head_object(Bucket=s3["bucket"], Key=key)
        client.head_object(Bucket=s3["bucket"], Key=f"{key}.sha256")
        log(f"s3://{s3['bucket']}/{key} can be restored ({'the database holds no data' if not newest else 'the database was last written at ' + iso(newest)})")
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
        plain = os.path.join(work, "plain")
        os.mkdir(plain, 0o700)
        with tarfile.open(fileobj=age.stdout, mode="r|") as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extraction_filter = tarfile.data_filter
            for member in tar:
                if member.name.startswith(("/", "..")) or "/../" in member.name:
                    raise Failure(f"{key}: unsafe path {member.name!r} in the archive")
                tar.extract(member, plain)
        if age.wait() != 0:
            raise Failure(f"age could not decrypt {key}: {age.stderr.read().decode(errors='replace').strip()}")
        restore_database(ini, plain)
        media = os.path.join(plain, "media")
        if b.get("media") and os.path.isdir(media):
            os.makedirs(b["media"], exist_ok=True)
            tar = subprocess.Popen(["tar", "-C", media, "-cf", "-", "."], stdout=subprocess.PIPE)
            as_user(ini, ["tar", "--no-same-owner", "-C", b["media"], "-xf", "-"], stdin=tar.stdout)
            tar.wait()
    log(f"restored s3://{s3['bucket']}/{key} (sha256 {expected})")
    print(json.dumps({"object": key, "taken": iso(taken), "sha256": expected}))


def restore_database(ini, plain):
    b = ini["backup"]
    if b["engine"] == "postgresql":
        db, owner = b["database"], b["database_user"]
        psql(ini, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}';\n"
                  f'DROP DATABASE IF EXISTS "{db}";\nCREATE DATABASE "{db}" OWNER "{owner}";')
        with open(os.path.join(plain, "database.dump"), "rb") as dump:  # stdin: postgres cannot read root's files
            run(["runuser", "-u", "postgres", "--", "pg_restore", "--exit-on-error", "--no-owner", f"--role={owner}",
                 "-d", db], stdin=dump)
        return
    target = b["database"]
    with open(os.path.join(plain, "db.sqlite3"), "rb") as src:
        as_user(ini, ["dd", f"of={target}.restore", "status=none"], stdin=src)
    as_user(ini, ["chmod", "0600", f"{target}.restore"])
    for leftover in (f"{target}-wal", f"{target}-shm", f"{target}-journal"):
        if os.path.exists(leftover):
            as_user(ini, ["rm", "-f", leftover])
    as_user(ini, ["mv", "-f", f"{target}.restore", target])


def main(argv):
    if len(argv) < 3 or argv[2] not in ("backup", "list", "restore"):
        print(__doc__, file=sys.stderr)
        return 2
    ini = load(argv[1])
    try:
        if argv[2] == "backup":
            backup(ini)
        elif argv[2] == "list":
            for t, key, size in backups(s3_client(ini), ini):
                print(json.dumps({"object": key, "taken": iso(t), "bytes": size}))
        else:
            if len(argv) < 4:
                raise Failure("restore needs a backup name or latest")
            restore(ini, argv[3], "--force" in argv[4:], "--check" in argv[4:])
        return 0
    except Exception as e:  # every failure is loud: journal, record file, Rollbar
        message = f"{argv[2]} of {ini['backup']['name']} failed: {e.__class__.__name__ + ': ' if not isinstance(e, Failure) else ''}{e}"
        log(message)
        if argv[2] == "backup":
            record(ini, last_failure=datetime.datetime.now(datetime.timezone.utc), error=str(e)[:300])
            report_rollbar(ini, message)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
