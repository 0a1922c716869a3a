"""Unit tests of roles/backend/files/django-deploy-migrations-source.py (a preview's pending migrations,
read from the migration files as source against the applied list) and of the rules it shares with the
deploy's classifier (django-deploy-migrations.py, imported without Django)."""
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

FILES = Path(__file__).resolve().parent.parent.parent / "roles/backend/files"
SCRIPT = FILES / "django-deploy-migrations-source.py"
INITIAL = '''from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Note",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True)),
                ("text", models.CharField(max_length=200)),
                ("created", models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]
'''


def migration(after, *operations):
    return "\n".join([
        "from django.db import migrations, models", "", "",
        "class Migration(migrations.Migration):",
        '    dependencies = [("pages", "%s")]' % after,
        "    operations = [",
        *("        %s," % o for o in operations),
        "    ]", "",
    ])


class PendingMigrations(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.app = Path(self.dir.name)
        (self.app / "pages/migrations").mkdir(parents=True)
        (self.app / "pages/migrations/__init__.py").write_text("")
        (self.app / "pages/migrations/0001_initial.py").write_text(INITIAL)
        # A virtualenv's packages are not the project's.
        (self.app / "venv/lib/other/migrations").mkdir(parents=True)
        (self.app / "venv/lib/other/migrations/__init__.py").write_text("")
        (self.app / "venv/lib/other/migrations/0001_x.py").write_text(migration("0001_initial", 'migrations.DeleteModel("x")'))

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        (self.app / "pages/migrations" / name).write_text(text)

    def run_script(self, applied):
        server = "Django's banner\nDJANGO_DEPLOY_APPLIED " + json.dumps(applied)
        out = subprocess.run([sys.executable, str(SCRIPT), str(self.app)], input=server,
                             capture_output=True, text=True, check=True).stdout
        self.assertTrue(out.startswith("DJANGO_DEPLOY_MIGRATIONS "))
        return json.loads(out[len("DJANGO_DEPLOY_MIGRATIONS "):])

    def ops(self, report):
        return [(m["migration"], o["operation"], o["class"]) for m in report["migrations"] for o in m["operations"]]

    def test_nothing_pending(self):
        self.assertEqual(self.run_script(["pages.0001_initial"]), {"migrations": [], "class": "none"})

    def test_a_new_server_has_every_migration_pending(self):
        report = self.run_script([])
        self.assertEqual(self.ops(report), [("pages.0001_initial", "Create model Note", "additive")])
        self.assertEqual(report["class"], "additive")

    def test_additive_and_breaking_operations_positional_or_named(self):
        self.write("0002_extra.py", migration(
            "0001_initial",
            'migrations.AddField("note", "extra", models.IntegerField(null=True))',
            'migrations.AddField(model_name="note", name="flag", field=models.BooleanField(default=False))',
            'migrations.AddField("note", "must", models.IntegerField())',
            'migrations.RunPython(migrations.RunPython.noop, hints={"zero_downtime": True})',
            'migrations.RunSQL("UPDATE pages_note SET text = 1")'))
        self.write("0003_drop.py", migration("0002_extra", 'migrations.RemoveField("note", "extra")',
                                             'migrations.RenameField("note", "text", "body")'))
        report = self.run_script(["pages.0001_initial"])
        self.assertEqual(report["class"], "breaking")
        self.assertEqual(self.ops(report), [
            ("pages.0002_extra", "Add field extra to note", "additive"),
            ("pages.0002_extra", "Add field flag to note", "additive"),
            ("pages.0002_extra", "Add field must to note", "breaking"),
            ("pages.0002_extra", "Raw Python operation", "additive"),
            ("pages.0002_extra", "Raw SQL operation", "breaking"),
            ("pages.0003_drop", "Remove field extra from note", "breaking"),
            ("pages.0003_drop", "Rename field text on note to body", "breaking"),
        ])

    def test_alter_field_compares_with_the_field_the_earlier_migrations_left(self):
        self.write("0002_alter.py", migration(
            "0001_initial",
            'migrations.AlterField("note", "created", models.DateTimeField(auto_now_add=True, help_text="When"))',
            'migrations.AlterField("note", "text", models.CharField(max_length=300))',
            'migrations.AlterField("note", "text", models.CharField(max_length=100))',
            'migrations.AlterField("note", "created", models.DateField())',
            'migrations.AlterField("note", "missing", models.DateField())'))
        reasons = [o["reason"] for m in self.run_script(["pages.0001_initial"])["migrations"] for o in m["operations"]]
        self.assertEqual(reasons, [
            "the column stays readable and writable by the serving release",
            "the column stays readable and writable by the serving release",
            "shortens the column",
            "changes the column's type",
            "alters a field the deploy cannot find",
        ])

    def test_applied_migrations_are_replayed_in_dependency_order(self):
        # 0002 depends on 0003 by name order's reverse: the state must follow the dependencies.
        self.write("0002_b.py", migration("0003_a", 'migrations.AlterField("note", "extra", models.IntegerField(null=True))'))
        self.write("0003_a.py", migration("0001_initial", 'migrations.AddField("note", "extra", models.IntegerField())'))
        report = self.run_script(["pages.0001_initial", "pages.0003_a"])
        self.assertEqual(self.ops(report), [("pages.0002_b", "Alter field extra on note", "additive")])


if __name__ == "__main__":
    unittest.main()
