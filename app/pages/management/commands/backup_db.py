"""`manage.py backup_db backup`: dumps the database into BACKUP_DIRECTORY, keeps BACKUP_KEEP dumps.

The same command line as telescoop-backup's, so a project using that package (which also uploads
to S3) needs no change on the server. `manage.py backup_db list` lists the dumps.
"""
import gzip
import os
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Dump the database to a compressed file in BACKUP_DIRECTORY (backup) or list the dumps (list)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["backup", "list"])

    def handle(self, *args, action, **options):
        directory = Path(settings.BACKUP_DIRECTORY)
        if action == "list":
            for f in sorted(directory.glob("db-*.gz")):
                self.stdout.write(f"{f.name} {f.stat().st_size}")
            return
        directory.mkdir(parents=True, exist_ok=True)
        db = settings.DATABASES["default"]
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        vendor = connection.vendor
        target = directory / f"db-{stamp}.{'sql' if vendor == 'postgresql' else 'sqlite3'}.gz"
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".db-")
        os.close(fd)
        try:
            if vendor == "postgresql":
                env = dict(os.environ, PGPASSWORD=db["PASSWORD"])
                dump = subprocess.run(
                    ["pg_dump", "--no-owner", "-h", db["HOST"] or "localhost", "-p", str(db["PORT"] or 5432), "-U", db["USER"], db["NAME"]],
                    env=env, capture_output=True, check=False,
                )
                if dump.returncode != 0:
                    raise CommandError(f"pg_dump failed: {dump.stderr.decode(errors='replace').strip()}")
                with gzip.open(tmp, "wb") as out:
                    out.write(dump.stdout)
            elif vendor == "sqlite":
                with tempfile.NamedTemporaryFile(dir=directory, prefix=".db-") as copy:
                    src = sqlite3.connect(db["NAME"])
                    dst = sqlite3.connect(copy.name)
                    with dst:
                        src.backup(dst)
                    src.close()
                    dst.close()
                    with open(copy.name, "rb") as raw, gzip.open(tmp, "wb") as out:
                        shutil.copyfileobj(raw, out)
            else:
                raise CommandError(f"no backup method for the {vendor} database")
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        dumps = sorted(directory.glob("db-*.gz"))
        for old in dumps[: max(0, len(dumps) - settings.BACKUP_KEEP)]:
            old.unlink()
        self.stdout.write(f"backup written: {target}")
