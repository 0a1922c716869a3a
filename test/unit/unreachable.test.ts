// A host the state read could not reach fails the run, after the others are deployed: one line naming
// it and what it did not get. A reachable host with no state (never deployed from this copy) stays a
// notice and the run does not fail for it.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_PLAN_CONFIG } from '../../src/core/plan/config.ts'
import { parseRepo } from '../../src/core/repo.ts'
import type { PlaybookResult, RunResult } from '../../src/core/results.ts'
import { planFromState } from '../../src/core/plan/from-state.ts'
import type { HostState, Records } from '../../src/core/plan/types.ts'
import { summaryMarkdown } from '../../src/core/summary.ts'
import { statusWithUnreached, unreachedHosts } from '../../src/core/unreachable.ts'

const model = parseRepo({
  playbooks: Object.fromEntries(['bootstrap', 'base', 'backend', 'frontend'].map((p) => [p, `- hosts: webservers\n  roles: [${p}]\n`])),
  roles: { bootstrap: { tasks: [] }, base: { tasks: [] }, backend: { tasks: [] }, frontend: { tasks: [] } },
})
const [A, H] = ['a', 'e'].map((c) => c.repeat(40)) as [string, string]
const NOW = Date.parse('2026-12-01T12:00:00Z')
const rec = { commit: A, finished: '2026-11-30T12:00:00Z', run: 'r' }
const all: Records = { bootstrap: rec, base: rec, backend: rec, frontend: rec }
const read = (host: string, records: Records): HostState => ({ host, status: 'read', records })
const cut: HostState = { host: 'web2', status: 'unreachable', records: {}, message: 'ssh: connect to host 198.18.1.3 port 22: Connection timed out' }

const plan = (hosts: HostState[]) => planFromState({
  model, config: DEFAULT_PLAN_CONFIG, head: { commit: H, dirty: false }, hosts, changedSince: { [A]: ['app/pages/views.py'] }, now: NOW, event: 'push',
})
const ran = (playbook: 'backend' | 'frontend'): PlaybookResult => ({
  playbook, status: 'success', exitCode: 0, durationMs: 1, hosts: { web1: { ok: 1, changed: 1, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 } }, changed: [], failures: [], tasks: [],
})

describe('an unreachable host fails the run', () => {
  test('the others are deployed; the line names the host, why, and what it did not get', () => {
    const p = plan([read('web1', all), cut])
    assert.deepEqual(p.run, ['backend'])
    assert.equal(p.limit, 'all:!web2')
    const result: RunResult = { status: 'success', playbooks: [ran('backend')], notRun: [], check: false }
    const u = unreachedHosts(p, result)
    assert.deepEqual(u, [{
      host: 'web2',
      message: 'web2 was not deployed: unreachable (ssh: connect to host 198.18.1.3 port 22: Connection timed out): it did not get backend (eeeeeee), which ran on web1; the next push deploys it once it answers',
    }])
    assert.equal(statusWithUnreached(result, u), 'failure')
    result.status = statusWithUnreached(result, u)
    const md = summaryMarkdown(p, result, { inventory: 'inventories/production' })
    assert.match(md, /^## Deploy ❌ failed/)
    assert.match(md, /#### Unreachable\n\n> \[!CAUTION\]\n> web2 was not deployed: unreachable \(ssh: connect to host 198\.18\.1\.3 port 22: Connection timed out\): it did not get backend \(eeeeeee\)/)
    assert.doesNotMatch(p.notes.join('\n'), /web2/, 'not also a notice')
  })

  test('its only server unreachable: nothing runs, and the run fails instead of "nothing to deploy"', () => {
    const p = plan([cut])
    assert.deepEqual(p.run, [])
    const result: RunResult = { status: 'skipped', playbooks: [], notRun: [], check: false }
    const u = unreachedHosts(p, result)
    assert.deepEqual(u.map((x) => x.message), [
      'web2 was not deployed: unreachable (ssh: connect to host 198.18.1.3 port 22: Connection timed out): its deploy state is unknown, so it may lack eeeeeee; the next push deploys it once it answers',
    ])
    assert.equal(statusWithUnreached(result, u), 'failure')
  })

  test('never deployed from this copy (reachable, no state): a notice, the run is not failed', () => {
    const p = plan([read('web1', all), read('web2', {})])
    const result: RunResult = { status: 'success', playbooks: [ran('backend')], notRun: [], check: false }
    assert.deepEqual(unreachedHosts(p, result), [])
    assert.equal(statusWithUnreached(result, []), 'success')
    assert.match(p.notes.join('\n'), /Not deployed by this push: web2 \(nothing deployed from this copy yet\)/)
  })
})
