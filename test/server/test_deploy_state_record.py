"""Unit tests of roles/deploy_state/files/deploy-state-record.py, run as the role runs it (python3 -c,
the record on stdin): a record merged beside the others, a file that is not JSON refused in one line."""
import json
import os
import stat
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SCRIPT = (Path(__file__).resolve().parent.parent.parent / "roles/deploy_state/files/deploy-state-record.py").read_text()


def record(path, playbook, **fields):
    given = {"playbook": playbook, "record": fields}
    return subprocess.run([sys.executable, "-c", SCRIPT, str(path)], input=json.dumps(given),
                          capture_output=True, text=True)


class DeployStateRecordTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp()) / "django-deploy"
        self.file = self.dir / "org-site.json"

    @unittest.skipUnless(os.geteuid() == 0, "the directory is chowned to root")
    def test_records_merge_beside_the_others(self):
        self.assertEqual(record(self.file, "base", commit="a" * 40, dirty=False, run="1").returncode, 0)
        r = record(self.file, "backend", commit="b" * 40, dirty=True, run="2")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        self.assertEqual(record(self.file, "base", commit="c" * 40, dirty=False, run="3").returncode, 0)
        state = json.loads(self.file.read_text())
        self.assertEqual(state, {"version": 1, "playbooks": {
            "base": {"commit": "c" * 40, "dirty": False, "run": "3"},
            "backend": {"commit": "b" * 40, "dirty": True, "run": "2"},
        }})
        self.assertEqual(stat.S_IMODE(self.file.stat().st_mode), 0o644)
        self.assertEqual(stat.S_IMODE(self.dir.stat().st_mode), 0o755)
        self.assertEqual(sorted(os.listdir(self.dir)), ["org-site.json"], "no temporary file left")

    @unittest.skipUnless(os.geteuid() == 0, "the directory is chowned to root")
    def test_a_file_that_is_not_json_is_refused_in_one_line_and_kept(self):
        self.dir.mkdir(parents=True)
        self.file.write_text("{half")
        r = record(self.file, "base", commit="a" * 40)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^deploy state: .*org-site\.json is not JSON \(.*\): move it away, .*\n$")
        self.assertEqual(self.file.read_text(), "{half")


if __name__ == "__main__":
    unittest.main()
