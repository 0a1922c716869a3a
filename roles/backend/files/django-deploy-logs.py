"""The project's logs as one stream (`django-deploy logs`, run by <project>-ops as root).

Prints one line per log line: EPOCH<TAB>PROCESS<TAB>TEXT, oldest first, from
  web     gunicorn (blue and green: LOG_DIR/gunicorn-*.log)
  worker  the workers (LOG_DIR/worker-*.log)
  nginx   nginx (/var/log/nginx/access.log and error.log: shared by the server's sites)
  deploy  the deploy script (the journal, tag <project>-deploy)
--since SECONDS (ago) or @EPOCH; --follow keeps printing what is written next. A line without a
time of its own takes the previous line's (the file's modification time when none came before).
"""
import argparse
import datetime
import glob
import json
import os
import re
import subprocess
import sys
import threading
import time

PROCESSES = ("web", "worker", "nginx", "deploy")
TAIL_BYTES = 8 << 20  # at most the last 8 MiB of each file are read
MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
# [2026-12-06 22:00:00 +0000] (gunicorn's own), [06/Dec/2026:22:00:00 +0000] (access logs),
# 2026/12/06 22:00:00 (nginx's error log, local time).
ISO = re.compile(r"\[?(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:[.,]\d+)? ?([+-]\d\d:?\d\d|Z)?")
CLF = re.compile(r"\[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})\]")
NGINX = re.compile(r"^(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) ")

out_lock = threading.Lock()


def emit(when, process, text):
    with out_lock:
        sys.stdout.write("%.3f\t%s\t%s\n" % (when, process, text.replace("\t", " ")))
        sys.stdout.flush()


def offset(tz):
    if not tz or tz == "Z":
        return datetime.timezone.utc
    tz = tz.replace(":", "")
    minutes = int(tz[1:3]) * 60 + int(tz[3:5])
    return datetime.timezone(datetime.timedelta(minutes=-minutes if tz[0] == "-" else minutes))


def line_time(line):
    """The time a line states, as an epoch, or None."""
    m = CLF.search(line[:200])
    if m:
        d, mon, y, hh, mm, ss, tz = m.groups()
        if mon in MONTHS:
            return datetime.datetime(int(y), MONTHS[mon], int(d), int(hh), int(mm), int(ss),
                                     tzinfo=offset(tz)).timestamp()
    m = ISO.search(line[:200])
    if m:
        y, mo, d, hh, mm, ss, tz = m.groups()
        dt = datetime.datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss))
        return (dt.replace(tzinfo=offset(tz)) if tz else dt).timestamp()
    m = NGINX.match(line)
    if m:
        return datetime.datetime(*map(int, m.groups())).timestamp()
    return None


def files_of(process, log_dir):
    if process == "web":
        return sorted(glob.glob(os.path.join(log_dir, "gunicorn-*.log")))
    if process == "worker":
        return sorted(glob.glob(os.path.join(log_dir, "worker-*.log")))
    if process == "nginx":
        return [f for f in ("/var/log/nginx/access.log", "/var/log/nginx/error.log") if os.path.isfile(f)]
    return []


class Tail:
    """One log file read from `since` on, then followed (truncation and rotation start it over)."""

    def __init__(self, path, process):
        self.path, self.process = path, process
        self.pos, self.inode, self.last, self.partial = 0, None, None, b""

    def read(self, since, lines):
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return
        if self.inode != st.st_ino or st.st_size < self.pos:
            self.inode, self.partial = st.st_ino, b""
            self.pos = max(0, st.st_size - TAIL_BYTES) if self.last is None else 0
            if self.last is None:
                self.last = st.st_mtime
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            data = self.partial + f.read()
            self.pos = f.tell()
        *complete, self.partial = data.split(b"\n")
        for raw in complete:
            text = raw.decode("utf-8", "replace").rstrip("\r")
            when = line_time(text)
            if when is None:
                when = self.last
            self.last = when
            if text and when >= since:
                lines.append((when, self.process, text))


def journal(project, since, follow):
    argv = ["journalctl", "-q", "--no-pager", "-o", "json", "-t", project + "-deploy",
            "--since", "@%d" % int(since)] + (["-f"] if follow else [])
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except FileNotFoundError:
        return [], None
    lines = []

    def entries():
        for raw in proc.stdout:
            try:
                e = json.loads(raw)
                yield int(e["__REALTIME_TIMESTAMP"]) / 1e6, str(e.get("MESSAGE", ""))
            except (ValueError, KeyError, TypeError):
                continue

    if not follow:
        lines = [(w, "deploy", m) for w, m in entries() if w >= since]
        proc.wait()
        return lines, None

    def pump():
        for w, m in entries():
            emit(w, "deploy", m)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    return [], t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--project", required=True)
    p.add_argument("--log-dir", required=True)
    p.add_argument("--since", default="3600")
    p.add_argument("--follow", action="store_true")
    p.add_argument("--process", action="append", choices=PROCESSES)
    a = p.parse_args()
    if not re.fullmatch(r"@?\d+(\.\d+)?", a.since):
        p.error("--since: SECONDS or @EPOCH")
    since = float(a.since[1:]) if a.since.startswith("@") else time.time() - float(a.since)
    processes = a.process or list(PROCESSES)

    tails = [Tail(f, proc) for proc in processes for f in files_of(proc, a.log_dir)]
    lines = []
    for t in tails:
        t.read(since, lines)
    if "deploy" in processes:
        found, _ = journal(a.project, since, False)
        lines += found
    for when, proc, text in sorted(lines, key=lambda line: line[0]):
        emit(when, proc, text)
    if not a.follow:
        return 0
    if "deploy" in processes:
        journal(a.project, time.time(), True)
    while True:
        time.sleep(0.5)
        new = []
        for t in tails:
            t.read(0, new)
        for proc in processes:  # a file that appeared since (the other colour's first start)
            for f in files_of(proc, a.log_dir):
                if all(t.path != f for t in tails):
                    t = Tail(f, proc)
                    t.last = time.time()
                    t.read(time.time() - 1, new)
                    tails.append(t)
        for when, proc, text in sorted(new, key=lambda line: line[0]):
            emit(when, proc, text)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(0)
