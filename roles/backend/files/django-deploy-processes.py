"""The project's processes and scheduled jobs (`django-deploy status`, run by <project>-ops as root).

Prints one line of JSON:
  {"processes": [{"kind": "web"|"worker", "name", "state", "description"}] or null,
   "timers": [{"job", "calendar", "active", "state", "next", "last", "result"}] or null,
   "errors": [...]}
processes: supervisord's programs of the project (gunicorn's blue and green, the workers), as
`supervisorctl status` reports them; timers: the scheduled jobs' systemd timers, with the calendar,
the next and last run and the last run's result (its service's). While a job runs, systemd knows
no next run (state "running", next empty) and the result is that of the run under way. Reads only.
"""
import argparse
import json
import re
import subprocess


def supervisor_processes(project):
    r = subprocess.run(["supervisorctl", "status"], capture_output=True, text=True)
    # Exit code 3: some program is not running, still a full answer.
    if r.returncode not in (0, 3):
        why = (r.stdout + r.stderr).strip().splitlines()
        raise RuntimeError("supervisorctl status: " + (why[-1] if why else "exit code %d" % r.returncode))
    out = []
    for line in r.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) < 2:
            continue
        name, state, description = parts[0], parts[1], parts[2].strip() if len(parts) > 2 else ""
        worker = re.match(r"^%s-workers:%s-worker-(.+)$" % (re.escape(project), re.escape(project)), name)
        web = re.match(r"^%s-(blue|green)$" % re.escape(project), name)
        if worker:
            out.append({"kind": "worker", "name": worker.group(1), "state": state, "description": description})
        elif web:
            out.append({"kind": "web", "name": web.group(1), "state": state, "description": description})
    return out


def systemctl_show(units, properties):
    """{unit: {property: value}} for the units (patterns allowed) systemd has loaded."""
    r = subprocess.run(["systemctl", "show", "--property=" + ",".join(["Id"] + properties), "--"] + units,
                       capture_output=True, text=True, check=True)
    shown, cur = {}, {}
    for line in r.stdout.splitlines() + [""]:
        if not line.strip():
            if cur.get("Id"):
                shown[cur["Id"]] = cur
            cur = {}
            continue
        key, _, value = line.partition("=")
        cur[key] = value
    return shown


def timers(prefix):
    shown = systemctl_show([prefix + "*.timer"],
                           ["ActiveState", "SubState", "NextElapseUSecRealtime", "LastTriggerUSec", "TimersCalendar"])
    services = systemctl_show([u[:-len(".timer")] + ".service" for u in shown], ["Result"]) if shown else {}
    out = []
    for unit in sorted(shown):
        t = shown[unit]
        calendar = re.search(r"OnCalendar=(.*?) ;", t.get("TimersCalendar", ""))
        service = services.get(unit[:-len(".timer")] + ".service", {})
        out.append({
            "job": unit[len(prefix):-len(".timer")],
            "calendar": calendar.group(1) if calendar else "",
            "active": t.get("ActiveState", ""),
            "state": t.get("SubState", ""),
            "next": t.get("NextElapseUSecRealtime", ""),
            "last": t.get("LastTriggerUSec", ""),
            "result": service.get("Result", "") if t.get("LastTriggerUSec") not in ("", "n/a") else "",
        })
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--project", required=True)
    p.add_argument("--job-prefix", required=True)
    a = p.parse_args()
    answer = {"processes": None, "timers": None, "errors": []}
    try:
        answer["processes"] = supervisor_processes(a.project)
    except (OSError, RuntimeError) as e:
        answer["errors"].append("processes: %s" % e)
    try:
        answer["timers"] = timers(a.job_prefix)
    except (OSError, subprocess.CalledProcessError) as e:
        answer["errors"].append("timers: %s" % e)
    print(json.dumps(answer, separators=(",", ":")))


main()
