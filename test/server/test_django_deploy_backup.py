"""Unit tests of roles/backend/files/django-deploy-backup.py: naming, listing, retention, pruning and
restore decisions, with S3 stubbed by an in-memory bucket; runuser by a stub that runs the command as
the current user (test/server/bin), so the SQLite and media paths run for real, with Debian's age."""
import configparser
import datetime
import importlib.util
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import types
import unittest
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parent.parent / "roles/backend/files/django-deploy-backup.py"
spec = importlib.util.spec_from_file_location("django_deploy_backup", SCRIPT)
ddb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ddb)

UTC = datetime.timezone.utc
PREFIX = "org/project/"


def t(text):
    """'2026-03-01 04:00' -> an aware UTC datetime."""
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def name(when, prefix=PREFIX):
    return f"{prefix}{when.strftime(ddb.STAMP)}.tar.age"


def objects(*backups, checksum=True):
    """Listing entries for backups given as (name time, LastModified)."""
    out = []
    for named, modified in backups:
        out.append({"Key": name(named), "LastModified": modified, "Size": 10})
        if checksum:
            out.append({"Key": name(named) + ".sha256", "LastModified": modified, "Size": 80})
    return out


def ini(**backup):
    c = configparser.RawConfigParser()
    c.read_dict({
        "backup": {"name": "org-project", "user": "nobody", "engine": "sqlite", "database": "/nonexistent",
                   "media": "", "recipient": "", "keep_daily": "7", "keep_weekly": "4", "keep_monthly": "3",
                   "record": "/nonexistent/record.json", "work_dir": "", **backup},
        "s3": {"bucket": "backups", "prefix": PREFIX, "access_key": "server-key", "secret_key": "server-secret"},
    })
    return c


class FakeS3:
    """The calls the script makes, on a dict: key -> (body, LastModified)."""

    class ClientError(Exception):
        pass

    def __init__(self, clock=None):
        self.objects = {}
        self.deleted = []
        self.clock = clock or (lambda: datetime.datetime.now(UTC))
        self.exceptions = types.SimpleNamespace(ClientError=FakeS3.ClientError)

    def put(self, key, body=b"", modified=None):
        self.objects[key] = (body, modified or self.clock())

    def upload_fileobj(self, body, bucket, key):
        data = b""
        while chunk := body.read(65536):
            data += chunk
        self.put(key, data)

    def put_object(self, Bucket, Key, Body, **kw):
        self.put(Key, Body)

    def get_paginator(self, operation):
        assert operation == "list_objects_v2"
        fake = self

        class Paginator:
            def paginate(self, Bucket, Prefix, Delimiter=None):
                keys = sorted(k for k in fake.objects if k.startswith(Prefix)
                              and not (Delimiter and Delimiter in k[len(Prefix):]))
                # Two pages, as S3 would split a long listing.
                contents = [{"Key": k, "LastModified": fake.objects[k][1], "Size": len(fake.objects[k][0])} for k in keys]
                half = len(contents) // 2
                return [{"Contents": contents[:half]}, {"Contents": contents[half:]}]

        return Paginator()

    def delete_objects(self, Bucket, Delete):
        assert len(Delete["Objects"]) <= 1000
        for o in Delete["Objects"]:
            self.deleted.append(o["Key"])
            self.objects.pop(o["Key"], None)

    def download_file(self, bucket, key, path):
        if key not in self.objects:
            raise FakeS3.ClientError(key)
        Path(path).write_bytes(self.objects[key][0])

    def get_object(self, Bucket, Key):
        if Key not in self.objects:
            raise FakeS3.ClientError(Key)
        return {"Body": io.BytesIO(self.objects[Key][0])}


class Naming(unittest.TestCase):
    def test_a_backup_is_named_by_the_prefix_and_the_utc_time(self):
        self.assertEqual(ddb.backup_key(PREFIX, t("2026-03-01 04:05")), "org/project/20260301T040500Z.tar.age")

    def test_the_clock_offset_shifts_the_scripts_own_time_only(self):
        with mock.patch.dict(os.environ, {ddb.CLOCK_OFFSET: str(365 * 86400)}):
            ahead = ddb.now()
        self.assertAlmostEqual((ahead - datetime.datetime.now(UTC)).total_seconds(), 365 * 86400, delta=5)
        with mock.patch.dict(os.environ, {ddb.CLOCK_OFFSET: ""}):
            self.assertAlmostEqual((ddb.now() - datetime.datetime.now(UTC)).total_seconds(), 0, delta=5)

    def test_the_prefix_must_be_non_empty_and_end_in_a_slash(self):
        for good in ("org/project/", "p/", "a.b/c_d-e/"):
            self.assertEqual(ddb.prefix_of(ini() if good == PREFIX else self.with_prefix(good)), good)
        for bad in ("", "project", "/org/project/", "org//project/", "org/../x/", "../x/", "./", "org/pro ject/"):
            with self.assertRaisesRegex(ddb.Failure, "prefix"):
                ddb.prefix_of(self.with_prefix(bad))

    @staticmethod
    def with_prefix(prefix):
        c = ini()
        c["s3"]["prefix"] = prefix
        return c


class Listing(unittest.TestCase):
    def test_ordered_by_the_stores_time_not_by_the_name(self):
        # A name may be earlier than the upload (clock behind): the store's time decides.
        found = ddb.classify(objects((t("2026-03-02 04:00"), t("2026-03-02 04:01")),
                                     (t("2026-01-01 00:00"), t("2026-03-03 04:01"))), PREFIX)
        self.assertEqual([e["key"] for e in found], [name(t("2026-01-01 00:00")), name(t("2026-03-02 04:00"))])
        self.assertTrue(all("ignored" not in e for e in found))

    def test_a_backup_without_its_checksum_is_ignored(self):
        found = ddb.classify(objects((t("2026-03-02 04:00"), t("2026-03-02 04:01")), checksum=False), PREFIX)
        self.assertEqual(found[0]["ignored"], "no .sha256 checksum beside it")

    def test_a_name_later_than_the_upload_is_ignored_beyond_the_tolerated_skew(self):
        up = t("2026-03-02 04:00")
        found = ddb.classify(objects((up + datetime.timedelta(minutes=14), up),
                                     (up + datetime.timedelta(minutes=16), up + datetime.timedelta(seconds=1)),
                                     (t("2999-12-31 00:00"), up)), PREFIX)
        by_key = {e["key"]: e for e in found}
        self.assertNotIn("ignored", by_key[name(up + datetime.timedelta(minutes=14))])
        self.assertRegex(by_key[name(up + datetime.timedelta(minutes=16))]["ignored"], "later than")
        self.assertRegex(by_key[name(t("2999-12-31 00:00"))]["ignored"], "later than")

    def test_only_backups_directly_under_the_prefix_count(self):
        up = t("2026-03-02 04:00")
        listing = objects((up, up)) + [
            {"Key": f"{PREFIX}sub/20260302T040000Z.tar.age", "LastModified": up, "Size": 1},
            {"Key": f"{PREFIX}sub/20260302T040000Z.tar.age.sha256", "LastModified": up, "Size": 1},
            {"Key": "org/project-two/20260302T040000Z.tar.age", "LastModified": up, "Size": 1},
            {"Key": f"{PREFIX}notes.txt", "LastModified": up, "Size": 1},
            {"Key": f"{PREFIX}x20260302T040000Z.tar.age", "LastModified": up, "Size": 1},
        ]
        self.assertEqual([e["key"] for e in ddb.classify(listing, PREFIX)], [name(up)])

    def test_the_listing_asks_for_the_prefixs_own_level(self):
        fake = FakeS3()
        fake.put(name(t("2026-03-02 04:00")), b"x", t("2026-03-02 04:00"))
        fake.put(name(t("2026-03-02 04:00")) + ".sha256", b"x", t("2026-03-02 04:00"))
        fake.put(f"{PREFIX}nested/20260303T040000Z.tar.age", b"x", t("2026-03-03 04:00"))
        fake.put(f"{PREFIX}nested/20260303T040000Z.tar.age.sha256", b"x", t("2026-03-03 04:00"))
        self.assertEqual([e["key"] for e in ddb.listing(fake, ini())], [name(t("2026-03-02 04:00"))])

    def test_an_invalid_prefix_lists_nothing(self):
        c = ini()
        c["s3"]["prefix"] = ""
        with self.assertRaisesRegex(ddb.Failure, "prefix"):
            ddb.listing(FakeS3(), c)


def daily(first, days, hour=3):
    """One trusted backup a day, named and stored at the same time."""
    return [{"key": name(first + datetime.timedelta(days=i, hours=hour)), "taken": first + datetime.timedelta(days=i, hours=hour)}
            for i in range(days)]


class Retention(unittest.TestCase):
    def test_the_newest_of_each_of_the_last_days_weeks_and_months(self):
        backups = daily(t("2026-01-01 00:00"), 90)  # 2026-01-01 .. 2026-03-31
        kept = ddb.to_keep(backups, 7, 4, 3)
        days = sorted(k[len(PREFIX):len(PREFIX) + 8] for k in kept)
        # 7 days: 25..31 March; 4 ISO weeks: Tuesday 31 March and Sunday 29 March (already), Sundays
        # 22 and 15 March; 3 months: 31 March (already), 28 February, 31 January.
        self.assertEqual(days, ["20260131", "20260228", "20260315", "20260322",
                                "20260325", "20260326", "20260327", "20260328", "20260329", "20260330", "20260331"])

    def test_two_backups_a_day_keep_the_later(self):
        backups = daily(t("2026-03-01 00:00"), 3, hour=3) + daily(t("2026-03-01 00:00"), 3, hour=15)
        kept = ddb.to_keep(backups, 3, 0, 0)
        self.assertEqual(sorted(kept), sorted(name(t(f"2026-03-0{d} 15:00")) for d in (1, 2, 3)))

    def test_zero_weekly_and_monthly_keep_only_the_days(self):
        self.assertEqual(len(ddb.to_keep(daily(t("2026-01-01 00:00"), 60), 5, 0, 0)), 5)

    def test_days_are_those_of_the_stores_time(self):
        # Two objects named on different days but uploaded on the same day: one day, the later kept.
        backups = [{"key": name(t("2026-03-01 23:59")), "taken": t("2026-03-02 00:30")},
                   {"key": name(t("2026-03-02 01:00")), "taken": t("2026-03-02 01:00")}]
        self.assertEqual(ddb.to_keep(backups, 1, 0, 0), {name(t("2026-03-02 01:00"))})

    def test_ignored_objects_are_neither_counted_nor_deleted(self):
        real = daily(t("2026-03-01 00:00"), 10)
        listing = [dict(e) for e in real] + [
            {"key": name(t("2999-12-31 00:00")), "taken": t("2026-03-10 05:00"), "ignored": "later"},
            {"key": name(t("2026-03-10 06:00")), "taken": t("2026-03-10 06:00"), "ignored": "no checksum"},
        ]
        newest_first = sorted(listing, key=lambda e: e["taken"], reverse=True)
        gone = ddb.doomed(newest_first, ini(keep_daily="3", keep_weekly="0", keep_monthly="0"))
        self.assertEqual(sorted(gone), sorted(e["key"] for e in real[:7]))

    def test_a_month_with_the_clock_a_year_ahead_then_corrected_keeps_the_real_backups(self):
        year = datetime.timedelta(days=365)
        fake = FakeS3()
        stored = []
        for i in range(30):  # each day's backup named a year ahead of the day it was stored
            day = t("2026-01-01 03:00") + datetime.timedelta(days=i)
            for suffix in ("", ".sha256"):
                fake.put(name(day + year) + suffix, b"x", day)
        for i in range(30, 60):  # the clock corrected
            day = t("2026-01-01 03:00") + datetime.timedelta(days=i)
            stored.append(name(day))
            for suffix in ("", ".sha256"):
                fake.put(name(day) + suffix, b"x", day)
        expected = ddb.to_keep([{"key": k, "taken": fake.objects[k][1]} for k in stored], 7, 4, 3)
        with mock.patch.object(ddb, "s3_client", return_value=fake), mock.patch.object(ddb, "log"):
            ddb.prune(ini(keep_daily="7", keep_weekly="4", keep_monthly="3"))
        left = {k for k in fake.objects if k.endswith(".tar.age")}
        real_left = sorted(k for k in left if k in stored)
        self.assertEqual(real_left, sorted(expected))
        self.assertEqual(len(left - set(stored)), 30, "the mis-named ones are left alone")
        self.assertTrue(all(not k.startswith(PREFIX + "2027") for k in fake.deleted))


class Prune(unittest.TestCase):
    def test_deletes_each_doomed_object_with_its_checksum_in_batches(self):
        fake = FakeS3()
        for e in daily(t("2024-01-01 00:00"), 800):
            fake.put(e["key"], b"x", e["taken"])
            fake.put(e["key"] + ".sha256", b"x", e["taken"])
        with mock.patch.object(ddb, "s3_client", return_value=fake), mock.patch.object(ddb, "log") as log:
            ddb.prune(ini(keep_daily="7", keep_weekly="0", keep_monthly="0"))
        self.assertEqual(len([k for k in fake.objects if k.endswith(".tar.age")]), 7)
        self.assertEqual(len(fake.objects), 14)
        self.assertEqual(len(fake.deleted), 2 * 793)
        log.assert_called_with("793 old backup(s) removed, 7 kept")

    def test_the_admin_keys_come_from_stdin(self):
        with mock.patch("sys.stdin", io.StringIO("admin-key\nadmin-secret\n")):
            self.assertEqual(ddb.keys_from_stdin(), ("admin-key", "admin-secret"))
        with mock.patch("sys.stdin", io.StringIO("only-one\n")), self.assertRaisesRegex(ddb.Failure, "two lines"):
            ddb.keys_from_stdin()

    def test_main_prunes_with_the_keys_on_stdin(self):
        fake = FakeS3()
        with tempfile.NamedTemporaryFile("w", suffix=".ini") as f:
            ini().write(f)
            f.flush()
            with mock.patch.object(ddb, "s3_client", return_value=fake) as client, \
                    mock.patch("sys.stdin", io.StringIO("k\ns\n")), mock.patch.object(ddb, "log"):
                self.assertEqual(ddb.main(["x", f.name, "prune", "--keys-from-stdin"]), 0)
            self.assertEqual(client.call_args.args[1], ("k", "s"))


class RestoreDecisions(unittest.TestCase):
    entries = ddb.classify(objects((t("2026-03-02 04:00"), t("2026-03-02 04:01")),
                                   (t("2026-03-01 04:00"), t("2026-03-01 04:01")),
                                   (t("2999-12-31 00:00"), t("2026-03-03 04:00")))
                           + objects((t("2026-03-04 04:00"), t("2026-03-04 04:01")), checksum=False), PREFIX)

    def test_latest_is_the_newest_trusted_backup(self):
        self.assertEqual(ddb.choose(self.entries, "latest", PREFIX)["key"], name(t("2026-03-02 04:00")))

    def test_a_named_backup_with_or_without_the_prefix(self):
        self.assertEqual(ddb.choose(self.entries, "20260301T040000Z.tar.age", PREFIX)["key"], name(t("2026-03-01 04:00")))
        self.assertEqual(ddb.choose(self.entries, name(t("2026-03-01 04:00")), PREFIX)["key"], name(t("2026-03-01 04:00")))

    def test_an_ignored_unknown_or_malformed_name_is_refused(self):
        with self.assertRaisesRegex(ddb.Failure, "later than"):
            ddb.choose(self.entries, "29991231T000000Z.tar.age", PREFIX)
        with self.assertRaisesRegex(ddb.Failure, "no .sha256"):
            ddb.choose(self.entries, "20260304T040000Z.tar.age", PREFIX)
        with self.assertRaisesRegex(ddb.Failure, "no backup"):
            ddb.choose(self.entries, "20200101T000000Z.tar.age", PREFIX)
        with self.assertRaisesRegex(ddb.Failure, "not a backup name"):
            ddb.choose(self.entries, "../other/20200101T000000Z.tar.age", PREFIX)
        with self.assertRaisesRegex(ddb.Failure, "no backup under"):
            ddb.choose([e for e in self.entries if "ignored" in e], "latest", PREFIX)

    def test_data_newer_than_the_backup_refuses_unless_forced(self):
        chosen = {"key": "k", "taken": t("2026-03-02 04:01")}
        with self.assertRaisesRegex(ddb.Failure, "backend_restore_force=true"):
            ddb.refuse_newer_data(t("2026-03-02 05:00"), chosen, force=False)
        ddb.refuse_newer_data(t("2026-03-02 05:00"), chosen, force=True)
        ddb.refuse_newer_data(t("2026-03-02 04:00"), chosen, force=False)
        ddb.refuse_newer_data(None, chosen, force=False)

    def test_member_names_that_leave_the_media_directory_are_dropped(self):
        self.assertEqual(ddb.media_name("./a/b.txt"), "a/b.txt")
        self.assertEqual(ddb.media_name("a//b"), "a/b")
        for bad in ("", ".", "../x", "a/../../x", "a/.."):
            self.assertIsNone(ddb.media_name(bad))
        self.assertEqual(ddb.media_name("/etc/passwd"), "etc/passwd")  # relative to the media directory

    def test_usage_and_a_restore_without_a_name(self):
        with mock.patch("sys.stderr", io.StringIO()):
            self.assertEqual(ddb.main(["x"]), 2)
            self.assertEqual(ddb.main(["x", "/nonexistent", "delete"]), 2)
            with tempfile.NamedTemporaryFile("w", suffix=".ini") as f:
                ini().write(f)
                f.flush()
                self.assertEqual(ddb.main(["x", f.name, "restore"]), 1)


@unittest.skipUnless(shutil.which("age") and shutil.which("age-keygen"), "needs age (Debian's age)")
class RoundTrip(unittest.TestCase):
    """backup then restore of a SQLite project and its media through the stubbed bucket, with the
    real age and tar; runuser is test/server/bin/runuser (the current user)."""

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="ddb-test."))
        self.addCleanup(shutil.rmtree, self.dir)
        self.env = mock.patch.dict(os.environ, {"PATH": f"{HERE / 'bin'}:{os.environ['PATH']}"})
        self.env.start()
        self.addCleanup(self.env.stop)
        subprocess.run(["age-keygen", "-o", str(self.dir / "key")], check=True, capture_output=True)
        self.identity = (self.dir / "key").read_bytes()
        recipient = subprocess.run(["age-keygen", "-y", str(self.dir / "key")], check=True, capture_output=True,
                                   text=True).stdout.strip()
        (self.dir / "work").mkdir()
        self.media = self.dir / "media"
        (self.media / "uploads").mkdir(parents=True)
        (self.media / "uploads/a.txt").write_text("media a\n")
        os.symlink("/etc/passwd", self.media / "uploads/link")
        self.db = self.dir / "db.sqlite3"
        con = sqlite3.connect(self.db)
        con.execute("CREATE TABLE notes (text TEXT)")
        con.execute("INSERT INTO notes VALUES ('hello')")
        con.commit()
        con.close()
        self.ini = ini(database=str(self.db), media=str(self.media), recipient=recipient, work_dir=str(self.dir / "work"),
                       record=str(self.dir / "record.json"))
        self.fake = FakeS3()

    def run_main(self, *args, stdin=b""):
        path = self.dir / "backup.ini"
        with open(path, "w") as f:
            self.ini.write(f)
        with mock.patch.object(ddb, "s3_client", return_value=self.fake), \
                mock.patch("sys.stdin", types.SimpleNamespace(buffer=io.BytesIO(stdin), read=lambda: "")), \
                mock.patch("sys.stderr", io.StringIO()) as err, mock.patch("sys.stdout", io.StringIO()) as out:
            code = ddb.main(["x", str(path), *args])
        return code, out.getvalue(), err.getvalue()

    def test_backup_then_restore_brings_back_rows_and_media_but_no_link(self):
        code, _, err = self.run_main("backup")
        self.assertEqual(code, 0, err)
        keys = sorted(self.fake.objects)
        self.assertEqual(len(keys), 2)
        self.assertTrue(keys[1].endswith(".sha256"))
        record = json.loads((self.dir / "record.json").read_text())
        self.assertEqual(record["object"], keys[0])
        plain = subprocess.run(["age", "-d", "-i", str(self.dir / "key")], input=self.fake.objects[keys[0]][0],
                               capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
            self.assertEqual(sorted(tar.getnames()), ["db.sqlite3", "media/uploads", "media/uploads/a.txt"])

        # The data changes after the backup: a restore refuses, then --force restores.
        con = sqlite3.connect(self.db)
        con.execute("INSERT INTO notes VALUES ('later')")
        con.commit()
        con.close()
        (self.media / "uploads/a.txt").write_text("changed\n")
        code, _, err = self.run_main("restore", "latest", "--check")
        self.assertEqual(code, 1)
        self.assertIn("backend_restore_force=true", err)
        code, out, err = self.run_main("restore", "latest", "--force", stdin=self.identity)
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["object"], keys[0])
        self.assertEqual([r[0] for r in sqlite3.connect(self.db).execute("SELECT text FROM notes")], ["hello"])
        self.assertEqual((self.media / "uploads/a.txt").read_text(), "media a\n")
        self.assertEqual(list((self.dir / "work").iterdir()), [], "nothing left in the work directory")

    def test_a_failed_backup_exits_1_and_records_the_failure_keeping_the_last_success(self):
        self.assertEqual(self.run_main("backup")[0], 0)
        success = json.loads((self.dir / "record.json").read_text())["last_success"]

        def unreachable(*args, **kw):
            raise ConnectionError("Could not connect to the endpoint URL")
        self.fake.upload_fileobj = unreachable
        code, _, err = self.run_main("backup")
        self.assertEqual(code, 1)
        self.assertIn("backup of org-project failed: ConnectionError: Could not connect", err)
        record = json.loads((self.dir / "record.json").read_text())
        self.assertEqual(record["last_success"], success)
        self.assertIsNotNone(record["last_failure"])
        self.assertEqual(list((self.dir / "work").iterdir()), [], "nothing left in the work directory")

    def test_a_tampered_object_is_not_restored(self):
        self.assertEqual(self.run_main("backup")[0], 0)
        key = next(k for k in self.fake.objects if k.endswith(".tar.age"))
        body, modified = self.fake.objects[key]
        self.fake.objects[key] = (body[:-1] + bytes([body[-1] ^ 1]), modified)
        code, _, err = self.run_main("restore", "latest", "--force", stdin=self.identity)
        self.assertEqual(code, 1)
        self.assertIn("does not match its checksum", err)

    def test_a_hostile_archive_writes_nothing_outside_the_media_directory(self):
        # A forged archive (anyone can encrypt to the public key): links, absolute and .. names.
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            def add(name, data=b"", kind=tarfile.REGTYPE, link=""):
                info = tarfile.TarInfo(name)
                info.type, info.linkname, info.size = kind, link, len(data)
                tar.addfile(info, io.BytesIO(data) if data else None)
            add("db.sqlite3", self.db.read_bytes())
            add("media/evil", kind=tarfile.SYMTYPE, link=str(self.dir / "outside"))
            add("media/evil/x", b"through the link\n")
            add("media/../../escaped", b"escaped\n")
            add("/abs", b"absolute\n")
            add("media/hard", kind=tarfile.LNKTYPE, link="/etc/passwd")
            add("media/ok.txt", b"ok\n")
        (self.dir / "outside").mkdir()
        encrypted = subprocess.run(["age", "-r", self.ini["backup"]["recipient"]], input=archive.getvalue(),
                                   capture_output=True, check=True).stdout
        key = name(t("2026-03-02 04:00"))
        self.fake.put(key, encrypted, t("2026-03-02 04:00"))
        self.fake.put(key + ".sha256", f"{__import__('hashlib').sha256(encrypted).hexdigest()}  x\n".encode(),
                      t("2026-03-02 04:00"))
        code, _, err = self.run_main("restore", "latest", "--force", stdin=self.identity)
        self.assertEqual(code, 0, err)
        self.assertEqual((self.media / "ok.txt").read_text(), "ok\n")
        self.assertEqual(list((self.dir / "outside").iterdir()), [])
        self.assertFalse((self.media / "evil").is_symlink())
        self.assertFalse((self.media / "hard").exists())
        self.assertFalse((self.dir / "escaped").exists() or (self.dir.parent / "escaped").exists())


if __name__ == "__main__":
    unittest.main()
