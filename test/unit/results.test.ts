// Results from the callback plugin's JSON lines, and the summary rendered from them.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseResults, resultJson, taskLocation, type RunResult } from '../../src/core/results.ts'
import { formatDuration } from '../../src/core/format.ts'
import { DEFAULT_PLAN_CONFIG } from '../../src/core/plan/config.ts'
import { planAuto, planExplicit } from '../../src/core/plan/from-changes.ts'
import { parseRepo } from '../../src/core/repo.ts'
import { cell, maintenanceLine, mermaid, planText, resultText, summaryMarkdown } from '../../src/core/summary.ts'

const line = (o: Record<string, unknown>) => JSON.stringify(o)
const JSONL = [
  line({ event: 'play', play: 'Backend' }),
  line({ event: 'task', play: 'Backend', task: 'Gathering Facts', path: '/repo/playbooks/backend.yml:2', host: 'web1', status: 'ok' }),
  line({ event: 'task', play: 'Backend', task: 'The app is unpacked', path: '/repo/roles/backend/tasks/main.yml:4', host: 'web1', status: 'changed', changed: true }),
  line({ event: 'task', play: 'Backend', task: 'Probe', path: '/repo/roles/backend/tasks/main.yml:9', host: 'web1', status: 'failed', ignored: true, msg: 'ignored' }),
  line({ event: 'task', play: 'Backend', task: 'Settings <ini> | written', path: '/repo/roles/backend/tasks/main.yml:12', host: 'web1', status: 'failed', ignored: false, msg: 'boom\nsecond line' }),
  line({ event: 'task', play: 'Backend', task: 'Gathering Facts', path: '/repo/playbooks/backend.yml:2', host: 'web2', status: 'unreachable', msg: 'ssh: connect timed out' }),
  '{"event": "task", "cut sho',
  line({ event: 'stats', hosts: { web1: { ok: 2, changed: 1, failed: 1, unreachable: 0, skipped: 0, rescued: 0, ignored: 1 }, web2: { ok: 0, changed: 0, failed: 0, unreachable: 1, skipped: 0, rescued: 0, ignored: 0 } } }),
].join('\n')

describe('results', () => {
  const r = parseResults('backend', JSONL, 2, 61_000, '/repo')

  test('per host stats, changed tasks, failures (ignored ones excluded), file:line relative to the repo', () => {
    assert.equal(r.status, 'failure')
    assert.deepEqual(r.hosts.web1, { ok: 2, changed: 1, failed: 1, unreachable: 0, skipped: 0, rescued: 0, ignored: 1 })
    assert.deepEqual(r.changed, [{ play: 'Backend', task: 'The app is unpacked', host: 'web1', file: 'roles/backend/tasks/main.yml', line: 4 }])
    assert.deepEqual(r.failures.map((f) => [f.task, f.host, f.status, f.file, f.line]), [
      ['Settings <ini> | written', 'web1', 'failed', 'roles/backend/tasks/main.yml', 12],
      ['Gathering Facts', 'web2', 'unreachable', 'playbooks/backend.yml', 2],
    ])
    assert.equal(r.error, undefined)
  })

  test('a handler\'s change is marked as one', () => {
    const h = parseResults('frontend', [
      line({ event: 'task', play: 'Frontend', task: 'Nginx reloads', path: '/repo/roles/frontend/handlers/main.yml:13', host: 'web1', status: 'changed', changed: true, handler: true }),
      line({ event: 'stats', hosts: { web1: { ok: 1, changed: 1 } } }),
    ].join('\n'), 0, 1000, '/repo')
    assert.deepEqual(h.changed, [{ play: 'Frontend', task: 'Nginx reloads', host: 'web1', file: 'roles/frontend/handlers/main.yml', line: 13, handler: true }])
  })

  test('a run that dies before its recap says so', () => {
    const dead = parseResults('base', '', 4, 1000, '/repo')
    assert.equal(dead.status, 'failure')
    assert.match(dead.error!, /exited with code 4 before its recap/)
  })

  test('a clean run is a success', () => {
    const ok = parseResults('base', line({ event: 'stats', hosts: { web1: { ok: 3 } } }), 0, 1000, '/repo')
    assert.equal(ok.status, 'success')
    assert.equal(ok.hosts.web1!.changed, 0)
  })

  test('task locations outside the repository stay absolute', () => {
    assert.deepEqual(taskLocation('/usr/share/x.yml:3', '/repo'), { file: '/usr/share/x.yml', line: 3 })
    assert.deepEqual(taskLocation(undefined, '/repo'), {})
  })

  test('the result output is plain JSON with the failures', () => {
    const run: RunResult = { status: 'failure', playbooks: [r], notRun: ['frontend'], check: false }
    const j = resultJson(run) as { playbooks: { failures: unknown[]; changedTasks: number }[]; notRun: string[] }
    assert.equal(j.playbooks[0]!.failures.length, 2)
    assert.equal(j.playbooks[0]!.changedTasks, 1)
    assert.deepEqual(j.notRun, ['frontend'])
  })
})

describe('summary', () => {
  const model = parseRepo({ playbooks: { bootstrap: '- hosts: all\n  roles: [bootstrap]\n', base: '- hosts: all\n  roles: [base]\n', backend: '- hosts: all\n  roles: [backend]\n', frontend: '- hosts: all\n  roles: [frontend]\n' }, roles: {} })
  const plan = planAuto(model, { kind: 'diff', description: 'push 1234567..89abcde (3 changed paths)', base: 'a', head: 'b', paths: ['roles/backend/tasks/main.yml', 'roles/bootstrap/tasks/main.yml', 'docs/x.md'] }, DEFAULT_PLAN_CONFIG)
  const r = parseResults('backend', JSONL, 2, 61_000, '/repo')
  const run: RunResult = { status: 'failure', playbooks: [r], notRun: [], check: false }
  const md = summaryMarkdown(plan, run, { inventory: 'inventories/production' })

  test('title, plan table with causes, skipped ones and why, notes', () => {
    assert.match(md, /^## Deploy ❌ failed\n/)
    assert.match(md, /\| backend \| ✅ yes \| role backend changed \| role backend: <code>roles\/backend\/tasks\/main\.yml<\/code> \|/)
    assert.match(md, /\| base \| ⏭️ no \| no change concerns it \|/)
    assert.match(md, /\| bootstrap \| ⏭️ no \| never runs from a push: run it by dispatch \|/)
    assert.match(md, /<details><summary>1 changed path trigger nothing<\/summary>/)
    assert.match(md, /> \[!NOTE\]\n> bootstrap changed/)
  })

  test('a Mermaid graph from causes to playbooks', () => {
    const g = mermaid(plan)
    assert.match(md, /```mermaid\nflowchart LR/)
    assert.match(g, /c\d\["role backend \(1\)"\]/)
    assert.match(g, /c\d --> backend/)
    assert.match(g, /class backend run/)
    assert.match(g, /class bootstrap,base,frontend skip/)
  })

  test('per playbook and host counts with duration, failures with task, host, location, message; changed tasks collapsed', () => {
    assert.match(md, /\| ❌ backend \| web1 \| 2 \| 1 \| 1 \| 0 \| 1 min 01 s \|/)
    assert.match(md, /\| {2}\| web2 \| 0 \| 0 \| 0 \| 1 \| {2}\|/)
    assert.match(md, /\| backend \| web1 \| Settings &lt;ini&gt; \\\| written \| <code>roles\/backend\/tasks\/main\.yml:12<\/code> \| boom<br>second line \|/)
    assert.match(md, /\| backend \| web2 \| Gathering Facts \| <code>playbooks\/backend\.yml:2<\/code> \| unreachable: ssh: connect timed out \|/)
    assert.match(md, /<details><summary>backend: 1 changed task<\/summary>/)
  })

  test('check mode and an empty plan', () => {
    const empty = planAuto(model, { kind: 'diff', description: 'push', base: 'a', head: 'b', paths: ['docs/x.md'] }, DEFAULT_PLAN_CONFIG)
    const m = summaryMarkdown(empty, { status: 'skipped', playbooks: [], notRun: [], check: true }, { inventory: 'i' })
    assert.match(m, /^## Deploy ⏭️ nothing to deploy \(check mode: nothing was changed\)/)
    assert.match(m, /Nothing to run\./)
    assert.match(m, /No playbook ran\./)
  })

  test('long path lists are cut', () => {
    const many = Array.from({ length: 40 }, (_, i) => `roles/backend/files/f${i}`)
    const p = planAuto(model, { kind: 'diff', description: 'push', base: 'a', head: 'b', paths: many }, DEFAULT_PLAN_CONFIG)
    assert.match(summaryMarkdown(p, { status: 'skipped', playbooks: [], notRun: [], check: false }, { inventory: 'i' }), /… and 35 more/)
  })

  test('terminal text: plan and results', () => {
    assert.match(planText(planExplicit(model, ['base'], 'named')), /run {2}base {6}requested/)
    const t = resultText(run)
    assert.match(t, /^FAIL backend\s+1 min 01 s {2}ok=2 changed=1 failed=1 unreachable=1/)
    assert.match(t, /failed: \[web1\] Settings <ini> \| written \(roles\/backend\/tasks\/main\.yml:12\): boom \/ second line/)
  })

  test('helpers', () => {
    assert.equal(cell('a|b\n<c>'), 'a\\|b<br>&lt;c&gt;')
    assert.equal(formatDuration(4_400), '4 s')
    assert.equal(formatDuration(125_000), '2 min 05 s')
  })
})

describe('time in maintenance', () => {
  const stats = line({ event: 'stats', hosts: { web1: { ok: 3 }, web2: { ok: 3 } } })
  const task = (host: string, seconds?: number) => line({
    event: 'task', play: 'Backend', task: 'backend : The time the site spent in maintenance is recorded for the summary',
    path: '/repo/roles/backend/tasks/maintenance_off.yml:28', host, status: 'ok', ...(seconds === undefined ? {} : { maintenance_seconds: seconds }),
  })

  test('the seconds per host a breaking migration kept the site behind the maintenance page, in the summary and the output', () => {
    const p = parseResults('backend', [task('web1', 12.34), task('web2'), stats].join('\n'), 0, 90_000, '/repo')
    assert.deepEqual(p.maintenanceSeconds, { web1: 12.34 })
    const run: RunResult = { status: 'success', playbooks: [p], notRun: [], check: false }
    assert.equal(maintenanceLine(run), 'Time in maintenance: web1 12.3 s (breaking migrations: migrate and switch behind the maintenance page)')
    const model = parseRepo({ playbooks: { backend: '- hosts: all\n  roles: [backend]\n' }, roles: {} })
    assert.match(summaryMarkdown(planExplicit(model, ['backend'], 'named'), run, { inventory: 'i' }), /\nTime in maintenance: web1 12\.3 s/)
    assert.match(resultText(run), /\nTime in maintenance: web1 12\.3 s/)
    assert.deepEqual((resultJson(run) as { playbooks: Array<{ maintenanceSeconds?: unknown }> }).playbooks[0]!.maintenanceSeconds, { web1: 12.34 })
  })

  test('0 for a zero-downtime deploy; nothing in check mode or without backend', () => {
    const p = parseResults('backend', stats, 0, 90_000, '/repo')
    assert.equal(maintenanceLine({ status: 'success', playbooks: [p], notRun: [], check: false }), 'Time in maintenance: 0 s (zero downtime)')
    assert.equal(maintenanceLine({ status: 'success', playbooks: [p], notRun: [], check: true }), undefined)
    assert.equal(maintenanceLine({ status: 'success', playbooks: [{ ...p, playbook: 'frontend' }], notRun: [], check: false }), undefined)
  })
})

describe('pending migrations', () => {
  test('the backend\'s classified migrations per host reach the summary, breaking ones marked', () => {
    const migrations = { class: 'breaking', migrations: [{ migration: 'pages.0002_remove_note_body', operations: [
      { operation: 'Remove field body from note', class: 'breaking', reason: 'drops a column the serving release reads' },
      { operation: 'Create model Tag', class: 'additive', reason: 'a new table' },
    ] }] }
    const p = parseResults('backend', [
      line({ event: 'task', play: 'Backend', task: 'backend : The release\'s migrations need the maintenance page', path: '/repo/roles/backend/tasks/migrations.yml:31', host: 'web1', status: 'ok', migrations }),
      line({ event: 'stats', hosts: { web1: { ok: 1 } } }),
    ].join('\n'), 0, 1_000, '/repo')
    assert.deepEqual(p.migrations, { web1: migrations })
    const run: RunResult = { status: 'success', playbooks: [p], notRun: [], check: false }
    const model = parseRepo({ playbooks: { backend: '- hosts: all\n  roles: [backend]\n' }, roles: {} })
    const md = summaryMarkdown(planExplicit(model, ['backend'], 'named'), run, { inventory: 'i' })
    assert.match(md, /#### Pending migrations/)
    assert.match(md, /\| web1 \| pages\.0002_remove_note_body \| Remove field body from note \| ⚠️ breaking \| drops a column the serving release reads \|/)
    assert.match(md, /\| web1 \| pages\.0002_remove_note_body \| Create model Tag \| additive \| a new table \|/)
  })
})
