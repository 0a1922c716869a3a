// The bench's pure helpers: which static files a page links, and a figure's task report.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { linkedAssets } from '../../bench/lib/page-assets.ts'
import { reportLine, taskReport } from '../../bench/lib/slowness.ts'
import type { TimedRun } from '../../bench/lib/deploy.ts'

describe('bench: static files a page links', () => {
  test('href and src under /static/, each once, in order; other links left out', () => {
    const html = '<link rel="stylesheet" href="/static/pages/site.4e2f.css"><a href="/about/">a</a>' +
      '<script src="/static/pages/app.9a1b.js"></script><img src="/static/pages/site.4e2f.css"><img src="https://cdn.example/x.png">'
    assert.deepEqual(linkedAssets(html), ['/static/pages/site.4e2f.css', '/static/pages/app.9a1b.js'])
    assert.deepEqual(linkedAssets('<p>no links</p>'), [])
  })
})

describe('bench: tasks that ran and the slowest', () => {
  const task = (task: string, seconds: number, status = 'ok') =>
    ({ task, seconds, status, action: 'ansible.builtin.command', file: 'roles/x/tasks/main.yml', line: 3 }) as unknown as TimedRun['tasks'][number]
  const run = (playbook: string, tasks: TimedRun['tasks']): TimedRun =>
    ({ playbook, seconds: 1, code: 0, recap: {} as TimedRun['recap'], changedTasks: [], tasks })

  test('skipped tasks are not counted; the slowest come first across playbooks, at most `top`', () => {
    const r = taskReport([
      run('base', [task('a', 0.5), task('b', 3), task('skipped', 9, 'skipped')]),
      run('backend', [task('c', 2), task('d', 0.1)]),
    ], 3)
    assert.equal(r.tasks, 4)
    assert.deepEqual(r.slowest.map((t) => [t.playbook, t.task, t.seconds]), [['base', 'b', 3], ['backend', 'c', 2], ['base', 'a', 0.5]])
    assert.equal(r.slowest[0]!.path, 'roles/x/tasks/main.yml:3')
  })

  test('the note line says tasks, sessions (or unknown) and the slowest', () => {
    const r = taskReport([run('base', [task('a', 1.5)])])
    assert.equal(reportLine('No-op', r, 3), 'No-op: 1 tasks run, 3 SSH sessions opened; slowest: 1.5 s a')
    assert.match(reportLine('No-op', r, null), /unknown SSH sessions/)
  })
})
