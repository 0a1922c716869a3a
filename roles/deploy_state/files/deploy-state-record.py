"""Merges one playbook's record into the host's deploy state file, in one call (the deploy_state role).

argv: the state file. stdin: {"playbook": NAME, "record": {...}}. The other playbooks' records are kept;
the file is written whole (a temporary file beside it, then renamed), root's and 0644, in a directory
root owns (0755). Prints nothing: the record is bookkeeping, never a change the run reports.
"""
import json
import os
import sys
import tempfile

path = sys.argv[1]
given = json.load(sys.stdin)
directory = os.path.dirname(path)
os.makedirs(directory, mode=0o755, exist_ok=True)
os.chown(directory, 0, 0)
os.chmod(directory, 0o755)
try:
    with open(path) as f:
        state = json.load(f)
except FileNotFoundError:
    state = {}
except ValueError as e:
    sys.exit("deploy state: %s is not JSON (%s): move it away, and the next run of each playbook records afresh" % (path, e))
state["version"] = 1
records = state.setdefault("playbooks", {})
records[given["playbook"]] = dict(records.get(given["playbook"], {}), **given["record"])
fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
try:
    with os.fdopen(fd, "w") as f:
        json.dump(state, f, indent=4, sort_keys=True, separators=(",", ": "))
        f.write("\n")
        f.flush()
        os.fchmod(f.fileno(), 0o644)
        os.fsync(f.fileno())
    os.replace(tmp, path)
except BaseException:
    os.unlink(tmp)
    raise
