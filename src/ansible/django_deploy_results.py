# -*- coding: utf-8 -*-
# Writes structured results of a playbook run as JSON lines to the file named by
# DJANGO_DEPLOY_RESULTS: one line per play, per task result (host, status, changed, duration,
# task path file:line, message) and a final line with the per-host stats. The action and the CLI
# read it instead of scraping the coloured output.
#
# Never writes module arguments, and nothing but a fixed notice for a result under no_log.
# Works on Ansible 2.9 (Python 2.7/3.5+) and ansible-core 2.14 and later: no f-strings, no
# features newer than what 2.9 offers.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
    name: django_deploy_results
    callback_type: aggregate
    short_description: Structured results as JSON lines for django-deploy
    description:
      - Appends one JSON object per line to the file named by the environment variable
        C(DJANGO_DEPLOY_RESULTS); does nothing when it is not set.
      - Results of tasks with C(no_log) carry a fixed notice instead of their message.
    requirements:
      - the environment variable DJANGO_DEPLOY_RESULTS
'''

import difflib
import json
import os
import time

from ansible.plugins.callback import CallbackBase

HIDDEN = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
MAX_MESSAGE = 2000


def _no_log(task, result):
    if getattr(task, 'no_log', False) is True:
        return True
    return bool(result.get('_ansible_no_log', False))


def _text(value):
    if value is None:
        return ''
    if isinstance(value, (list, tuple)):
        return '\n'.join(_text(v) for v in value)
    try:
        return u'%s' % (value,)
    except Exception:  # pylint: disable=broad-except
        return repr(value)


def _message(task, result):
    """One human message for a result: msg, else the tail of stderr/stdout. No args, no dumps."""
    if _no_log(task, result):
        return HIDDEN
    msg = _text(result.get('msg')).strip()
    stderr = _text(result.get('stderr')).strip()
    stdout = _text(result.get('stdout')).strip()
    # Generic messages say nothing: the command's (or the validate: command's) own words do.
    generic = not msg or msg in ('non-zero return code', 'failed to validate')
    if generic and (stderr or (msg == 'failed to validate' and stdout)):
        tail = (stderr or stdout).splitlines()[-5:]
        msg = ((msg + ': ') if msg else '') + '\n'.join(tail)
    if not msg and result.get('stdout'):
        msg = '\n'.join(_text(result.get('stdout')).strip().splitlines()[-5:])
    if not msg and 'failed_when_result' in result:
        msg = 'failed_when condition met'
    # Loops: take the first failed item's message.
    if not msg and isinstance(result.get('results'), list):
        for item in result['results']:
            if isinstance(item, dict) and item.get('failed'):
                if item.get('_ansible_no_log'):
                    return HIDDEN
                msg = _text(item.get('msg')).strip() or '\n'.join(_text(item.get('stderr')).strip().splitlines()[-5:])
                break
    if len(msg) > MAX_MESSAGE:
        msg = msg[:MAX_MESSAGE] + u'…'
    return msg


def _task_name(task):
    """"role : name" for a role's task on every version (2.9's get_name() drops the role when the
    task's name contains the role's name; later versions always prefix it), else get_name()."""
    role = getattr(task, '_role', None)
    name = _text(getattr(task, 'name', None)).strip()
    if role is not None and name:
        return u'%s : %s' % (_text(role.get_name()).strip(), name)
    return _text(task.get_name()).strip()


MAX_DIFF = 6000


def _diff_text(task, result):
    """A changed task's --diff as unified text; '' for a task under no_log or diff: false (the roles
    mark every secret so), whose diff never leaves the run."""
    if _no_log(task, result) or getattr(task, 'diff', None) is False:
        return ''
    diffs = result.get('diff')
    if isinstance(diffs, dict):
        diffs = [diffs]
    if not isinstance(diffs, list):
        # A loop: each changed item's diff, none of an item under no_log.
        diffs = []
        for item in result.get('results') or []:
            if isinstance(item, dict) and item.get('changed') and not item.get('_ansible_no_log'):
                d = item.get('diff')
                diffs.extend(d if isinstance(d, list) else [d] if isinstance(d, dict) else [])
    out = []
    for d in diffs:
        if not isinstance(d, dict):
            continue
        if d.get('prepared'):
            out.append(_text(d.get('prepared')).rstrip('\n'))
        if 'before' in d or 'after' in d:
            before, after = d.get('before', ''), d.get('after', '')
            if not isinstance(before, (str, type(u''))) or not isinstance(after, (str, type(u''))):
                # State dicts (file, user modules): one key per line.
                before = '\n'.join('%s: %s' % (k, _text(v)) for k, v in sorted((before or {}).items())) + '\n'
                after = '\n'.join('%s: %s' % (k, _text(v)) for k, v in sorted((after or {}).items())) + '\n'
            lines = difflib.unified_diff(
                _text(before).splitlines(True), _text(after).splitlines(True),
                _text(d.get('before_header', 'before')), _text(d.get('after_header', 'after')))
            out.append(''.join(ln if ln.endswith('\n') else ln + '\n' for ln in lines).rstrip('\n'))
    text = '\n'.join(t for t in out if t)
    if len(text) > MAX_DIFF:
        text = text[:MAX_DIFF] + u'\n…'
    return text


# Set by roles/backend/tasks/maintenance_off.yml when a release migrated behind the maintenance page.
MAINTENANCE_FACT = 'django_deploy_maintenance_seconds'
# Set by roles/backend/tasks/migrations.yml: the release's pending migrations, classified.
MIGRATIONS_FACT = 'django_deploy_migrations'


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'django_deploy_results'
    # Loaded from ANSIBLE_CALLBACK_PLUGINS without being enabled in the configuration, so the
    # user's callbacks_enabled / callback_whitelist stays untouched (2.9 reads the first name).
    CALLBACK_NEEDS_WHITELIST = False
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._path = os.environ.get('DJANGO_DEPLOY_RESULTS')
        self._file = None
        self._play = ''
        self._started = {}
        self._handlers = set()
        if self._path:
            self._file = open(self._path, 'a')

    def _write(self, obj):
        if self._file is None:
            return
        self._file.write(json.dumps(obj, sort_keys=True) + '\n')
        self._file.flush()

    def _task_start(self, task):
        self._started[task._uuid] = time.time()

    def v2_playbook_on_play_start(self, play):
        self._play = _text(play.get_name()).strip()
        self._write({'event': 'play', 'play': self._play, 'time': time.time()})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._handlers.add(task._uuid)
        self._task_start(task)

    def _result(self, status, result, ignore_errors=False):
        task = result._task
        res = result._result if isinstance(result._result, dict) else {}
        start = self._started.get(task._uuid)
        host = result._host.get_name() if result._host is not None else ''
        delegated = res.get('_ansible_delegated_vars', {}) or {}
        entry = {
            'event': 'task',
            'play': self._play,
            'task': _task_name(task),
            'action': _text(task.action),
            'path': _text(task.get_path() or ''),
            'host': host,
            'status': status,
            'changed': bool(res.get('changed', False)),
            'duration': round(time.time() - start, 3) if start else None,
        }
        if task._uuid in self._handlers:
            # A handler runs because a task changed: its change is that task's consequence.
            entry['handler'] = True
        if 'cache_updated' in res:
            # apt: whether this task refreshed the package index (what makes a run slow).
            entry['cache_updated'] = bool(res.get('cache_updated'))
        facts = res.get('ansible_facts') or {}
        if status in ('ok', 'changed') and MAINTENANCE_FACT in facts:
            # backend: the seconds the site answered the maintenance page (a breaking migration).
            try:
                entry['maintenance_seconds'] = float(facts[MAINTENANCE_FACT])
            except (TypeError, ValueError):
                pass
        if status in ('ok', 'changed') and isinstance(facts.get(MIGRATIONS_FACT), dict):
            entry['migrations'] = facts[MIGRATIONS_FACT]
        if delegated.get('ansible_host'):
            entry['delegated_to'] = _text(delegated.get('ansible_host'))
        if status == 'changed':
            diff = _diff_text(task, res)
            if diff:
                entry['diff'] = diff
        if status in ('failed', 'unreachable'):
            entry['msg'] = _message(task, res)
            entry['ignored'] = bool(ignore_errors)
        elif status == 'skipped':
            pass
        self._write(entry)

    def v2_runner_on_ok(self, result):
        self._result('changed' if result._result.get('changed', False) else 'ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result('failed', result, ignore_errors)

    def v2_runner_on_unreachable(self, result):
        self._result('unreachable', result)

    def v2_runner_on_skipped(self, result):
        self._result('skipped', result)

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for host in sorted(stats.processed.keys()):
            s = stats.summarize(host)
            hosts[host] = {
                'ok': s.get('ok', 0),
                'changed': s.get('changed', 0),
                'failed': s.get('failures', 0),
                'unreachable': s.get('unreachable', 0),
                'skipped': s.get('skipped', 0),
                'rescued': s.get('rescued', 0),
                'ignored': s.get('ignored', 0),
            }
        self._write({'event': 'stats', 'hosts': hosts, 'time': time.time()})
        if self._file is not None:
            self._file.close()
            self._file = None
