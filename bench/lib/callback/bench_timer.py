# Records how long each task took on each host (no results, so nothing secret) as JSON lines in
# the file named by BENCH_TIMER_FILE. Used by bench/ to find what makes a run slow.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    name: bench_timer
    type: aggregate
    short_description: per-task durations as JSON lines
    description: Appends one JSON line per task and host to the file named by BENCH_TIMER_FILE.
    requirements:
      - enabled in configuration (ANSIBLE_CALLBACKS_ENABLED=bench_timer)
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._file = os.environ.get("BENCH_TIMER_FILE")
        self._start = {}
        self._play = ""

    def _write(self, record):
        if not self._file:
            return
        with open(self._file, "a") as f:
            f.write(json.dumps(record) + "\n")

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def _task_start(self, task):
        self._start[task._uuid] = time.time()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task)

    def _done(self, result, status):
        task = result._task
        started = self._start.get(task._uuid, time.time())
        args = task.args if isinstance(task.args, dict) else {}
        self._write({
            "play": self._play,
            "task": task.get_name(),
            "action": task.action,
            "path": task.get_path(),
            "host": result._host.get_name(),
            "status": status,
            "changed": bool(result._result.get("changed", False)),
            "seconds": round(time.time() - started, 3),
            # Only the argument that matters to a run's speed (never a value that could be secret).
            "update_cache": bool(args.get("update_cache")) if "update_cache" in args else None,
            "cache_valid_time": args.get("cache_valid_time") if "cache_valid_time" in args else None,
        })

    def v2_runner_on_ok(self, result):
        self._done(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._done(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._done(result, "unreachable")
