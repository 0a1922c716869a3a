// The callback plugin's failure message: the task's own words, a failed validate: command's output
// included, and nothing from a no_log result. Runs the plugin's _message() with python3 and a
// stand-in for ansible.plugins.callback (no Ansible needed).
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const pluginDir = fileURLToPath(new URL('../../src/ansible', import.meta.url))

/**
 * Runs `script` with python3, the plugin importable and a stand-in for ansible.plugins.callback;
 * `use` reads what it left in the temporary directory before it is removed.
 */
function withPlugin<T>(script: string[], opts: { input?: string; env?: (dir: string) => Record<string, string> }, use: (stdout: string, dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'plugin-test-'))
  try {
    mkdirSync(join(dir, 'ansible/plugins/callback'), { recursive: true })
    writeFileSync(join(dir, 'ansible/__init__.py'), '')
    writeFileSync(join(dir, 'ansible/plugins/__init__.py'), '')
    writeFileSync(join(dir, 'ansible/plugins/callback/__init__.py'), 'class CallbackBase(object):\n    def __init__(self, *a, **k):\n        pass\n')
    const out = execFileSync('python3', ['-c', script.join('\n')], {
      input: opts.input, env: { ...process.env, PYTHONPATH: `${pluginDir}:${dir}`, ...opts.env?.(dir) },
    })
    return use(out.toString(), dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function messages(results: unknown[]): string[] {
  return withPlugin([
    'import json, sys',
    'import django_deploy_results as p',
    'class Task(object):',
    '    no_log = False',
    'print(json.dumps([p._message(Task(), r) for r in json.load(sys.stdin)]))',
  ], { input: JSON.stringify(results) }, (out) => JSON.parse(out) as string[])
}

describe('callback plugin messages', () => {
  test('a failed validate: carries the validator\'s own line; generic messages their stderr; no_log hides all', () => {
    const [validate, validateStdout, command, plain, hidden] = messages([
      { failed: true, msg: 'failed to validate', stderr: 'nginx: [emerg] unknown directive "bogus" in /tmp/x.conf:3\nnginx: configuration file /tmp/x.conf test failed', stdout: '' },
      { failed: true, msg: 'failed to validate', stderr: '', stdout: '>>> /etc/sudoers.d/x: syntax error near line 1 <<<' },
      { failed: true, msg: 'non-zero return code', stderr: 'psql: error: connection refused' },
      { failed: true, msg: 'base_ssh_port is "x": expected a whole number' },
      { failed: true, msg: 'the password is hunter2', _ansible_no_log: true },
    ])
    assert.match(validate!, /^failed to validate: nginx: \[emerg\] unknown directive "bogus" in \/tmp\/x\.conf:3/)
    assert.match(validateStdout!, /^failed to validate: >>> \/etc\/sudoers\.d\/x: syntax error near line 1/)
    assert.equal(command, 'non-zero return code: psql: error: connection refused')
    assert.equal(plain, 'base_ssh_port is "x": expected a whole number')
    assert.doesNotMatch(hidden!, /hunter2/)
  })
})

describe('callback plugin events', () => {
  test('the backend\'s maintenance and migrations facts become the task event\'s maintenance_seconds and migrations', () => {
    const events = withPlugin([
      'import django_deploy_results as p',
      'class Host(object):',
      '    def get_name(self): return "web1"',
      'class Task(object):',
      '    _uuid = "u1"; name = "The time is recorded"; _role = None; action = "set_fact"; no_log = False',
      '    def get_name(self): return self.name',
      '    def get_path(self): return "/repo/roles/backend/tasks/maintenance_off.yml:28"',
      'class Result(object):',
      '    def __init__(self, r): self._task = Task(); self._host = Host(); self._result = r',
      'c = p.CallbackModule()',
      'c.v2_runner_on_ok(Result({"ansible_facts": {"django_deploy_maintenance_seconds": "7.5"}}))',
      'c.v2_runner_on_ok(Result({"ansible_facts": {"other": 1}}))',
      'c.v2_runner_on_ok(Result({"ansible_facts": {"django_deploy_migrations": {"class": "none", "migrations": []}}}))',
    ], { env: (dir) => ({ DJANGO_DEPLOY_RESULTS: join(dir, 'events.jsonl') }) },
    (_, dir) => readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { maintenance_seconds?: number; migrations?: unknown }))
    assert.deepEqual(events.map((e) => e.maintenance_seconds), [7.5, undefined, undefined])
    assert.deepEqual(events.map((e) => e.migrations), [undefined, undefined, { class: 'none', migrations: [] }])
  })
})

describe('callback plugin diffs', () => {
  test('a changed task carries its diff; a no_log task, a diff: false task and an unchanged one carry none', () => {
    const diffs = withPlugin([
      'import django_deploy_results as p',
      'class Host(object):',
      '    def get_name(self): return "web1"',
      'class Task(object):',
      '    _uuid = "u1"; name = "The site is configured"; _role = None; action = "template"',
      '    def __init__(self, no_log=False, diff=None): self.no_log = no_log; self.diff = diff',
      '    def get_name(self): return self.name',
      '    def get_path(self): return "/repo/roles/frontend/tasks/site.yml:3"',
      'class Result(object):',
      '    def __init__(self, r, **k): self._task = Task(**k); self._host = Host(); self._result = r',
      'c = p.CallbackModule()',
      'd = {"before": "a\\nb\\n", "after": "a\\nc\\n", "before_header": "/etc/x", "after_header": "site.conf.j2"}',
      'c.v2_runner_on_ok(Result({"changed": True, "diff": [d]}))',
      'c.v2_runner_on_ok(Result({"changed": True, "diff": [{"before": "pw=old\\n", "after": "pw=hunter2\\n"}]}, no_log=True))',
      'c.v2_runner_on_ok(Result({"changed": True, "diff": [{"before": "pw=old\\n", "after": "pw=hunter2\\n"}]}, diff=False))',
      'c.v2_runner_on_ok(Result({"changed": True, "results": [{"changed": True, "diff": {"prepared": "+one"}}, {"changed": True, "_ansible_no_log": True, "diff": {"prepared": "+hunter2"}}]}))',
      'c.v2_runner_on_ok(Result({"changed": False, "diff": [d]}))',
    ], { env: (dir) => ({ DJANGO_DEPLOY_RESULTS: join(dir, 'events.jsonl') }) },
    (_, dir) => readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { diff?: string }).diff))
    assert.equal(diffs[0], '--- /etc/x\n+++ site.conf.j2\n@@ -1,2 +1,2 @@\n a\n-b\n+c')
    assert.equal(diffs[1], undefined)
    assert.equal(diffs[2], undefined)
    assert.equal(diffs[3], '+one')
    assert.equal(diffs[4], undefined)
  })
})

describe('callback plugin: handlers', () => {
  test('a handler\'s event says it is one; a task\'s does not', () => {
    const events = withPlugin([
      'import django_deploy_results as p',
      'class Host(object):',
      '    def get_name(self): return "web1"',
      'class Task(object):',
      '    action = "service"; no_log = False; _role = None',
      '    def __init__(self, uuid, name): self._uuid = uuid; self.name = name',
      '    def get_name(self): return self.name',
      '    def get_path(self): return "/repo/roles/frontend/handlers/main.yml:13"',
      'class Result(object):',
      '    def __init__(self, t): self._task = t; self._host = Host(); self._result = {"changed": True}',
      'c = p.CallbackModule()',
      'task, handler = Task("t1", "The site is configured"), Task("h1", "Nginx reloads")',
      'c.v2_playbook_on_task_start(task, False)',
      'c.v2_runner_on_ok(Result(task))',
      'c.v2_playbook_on_handler_task_start(handler)',
      'c.v2_runner_on_ok(Result(handler))',
    ], { env: (dir) => ({ DJANGO_DEPLOY_RESULTS: join(dir, 'events.jsonl') }) },
    (_, dir) => readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { task: string; handler?: boolean }))
    assert.deepEqual(events.map((e) => [e.task, e.handler ?? false]), [['The site is configured', false], ['Nginx reloads', true]])
  })
})
