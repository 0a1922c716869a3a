// Changed paths for each event kind, against an in-memory git (shallow clones included).
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { changesBetween, changesForEvent } from '../../src/core/plan/changes.ts'
import { FakeGit, sha } from './fake-git.ts'

const ZERO = '0'.repeat(40)

/** main: a → b → c; a feature branch f1 → f2 from b; a rewritten history r1 from a. */
function history(): FakeGit {
  const g = new FakeGit()
  g.commit('a', [], { 'roles/base/tasks/main.yml': '1', 'README.md': '1' })
  g.commit('b', ['a'], { 'roles/backend/tasks/main.yml': '1' })
  g.commit('c', ['b'], { 'roles/frontend/tasks/main.yml': '1', 'docs/x.md': '1' })
  g.commit('f1', ['b'], { 'app/views.py': '1', 'roles/backend/templates/old.j2': '1' })
  g.commit('f2', ['f1'], { 'roles/backend/templates/old.j2': null, 'roles/backend/templates/new.j2': '1' })
  g.commit('r1', ['a'], { 'inventories/production/hosts.yml': '2' })
  g.remoteRefs.set('main', sha('c'))
  return g
}

const push = (before: string, after: string, extra: Record<string, unknown> = {}) => ({
  name: 'push',
  payload: { before, after, ref: 'refs/heads/main', repository: { default_branch: 'main' }, ...extra },
})

describe('changed paths', () => {
  test('push: before..after of a full clone', async () => {
    const g = history()
    g.clone(['c'])
    const c = await changesForEvent(g, push(sha('a'), sha('c'), { forced: false }))
    assert.equal(c.kind, 'diff')
    assert.deepEqual(c.kind === 'diff' && c.paths, ['docs/x.md', 'roles/backend/tasks/main.yml', 'roles/frontend/tasks/main.yml'])
  })

  test('push on a depth-1 clone fetches the previous tip by id', async () => {
    const g = history()
    g.clone(['c'], 1)
    const c = await changesForEvent(g, push(sha('b'), sha('c'), { forced: false }))
    assert.deepEqual(c.kind === 'diff' && c.paths, ['docs/x.md', 'roles/frontend/tasks/main.yml'])
    assert.ok(g.calls.some((a) => a[0] === 'fetch' && a.includes(sha('b'))), 'the before commit was fetched')
  })

  test('a rename counts both paths and a deletion counts', async () => {
    const g = history()
    g.clone(['f2'])
    const c = await changesForEvent(g, { ...push(sha('f1'), sha('f2'), { forced: false }), payload: { ...push(sha('f1'), sha('f2')).payload, ref: 'refs/heads/feature', forced: false } })
    assert.deepEqual(c.kind === 'diff' && c.paths, ['roles/backend/templates/new.j2', 'roles/backend/templates/old.j2'])
  })

  test('new branch (zero before): compared with where it left the default branch, deepening the clone', async () => {
    const g = history()
    g.clone(['f2'], 1)
    const c = await changesForEvent(g, { name: 'push', payload: { before: ZERO, after: sha('f2'), ref: 'refs/heads/feature', repository: { default_branch: 'main' } } })
    assert.equal(c.kind, 'diff')
    if (c.kind !== 'diff') return
    assert.equal(c.base, sha('b'))
    assert.deepEqual(c.paths, ['app/views.py', 'roles/backend/templates/new.j2'])
    assert.ok(g.calls.some((a) => a[0] === 'fetch' && a.some((x) => x.startsWith('--deepen='))), 'the shallow clone was deepened')
  })

  test('zero before on the default branch itself: unresolved, with the reason', async () => {
    const g = history()
    g.clone(['c'])
    const c = await changesForEvent(g, push(ZERO, sha('c')))
    assert.equal(c.kind, 'unresolved')
    assert.match(c.kind === 'unresolved' ? c.reason : '', /no earlier commit/)
  })

  test('force push: compared from the common ancestor of the old and new tips', async () => {
    const g = history()
    g.clone(['r1', 'c'], 1)
    const c = await changesForEvent(g, push(sha('c'), sha('r1'), { forced: true }))
    assert.equal(c.kind, 'diff')
    if (c.kind !== 'diff') return
    assert.equal(c.base, sha('a'))
    assert.deepEqual(c.paths, ['inventories/production/hosts.yml'])
    assert.match(c.notes!.join(' '), /Force push/)
  })

  test('force push without the flag is recognised (before is not an ancestor)', async () => {
    const g = history()
    g.clone(['r1', 'c'])
    const c = await changesForEvent(g, push(sha('c'), sha('r1')))
    assert.equal(c.kind === 'diff' && c.base, sha('a'))
  })

  test('force push whose old tip is gone: unresolved', async () => {
    const g = history()
    g.clone(['r1'])
    const c = await changesForEvent(g, push(sha('gone'), sha('r1'), { forced: true }))
    assert.equal(c.kind, 'unresolved')
    assert.match(c.kind === 'unresolved' ? c.reason : '', /no longer available/)
  })

  test('deleted branch: nothing to deploy', async () => {
    const g = history()
    const c = await changesForEvent(g, push(sha('c'), ZERO, { deleted: true }))
    assert.equal(c.kind, 'diff')
    assert.deepEqual(c.kind === 'diff' ? c.paths : undefined, [])
  })

  test('pull_request: from the merge base of base and head', async () => {
    const g = history()
    g.clone(['c'], 1)
    const c = await changesForEvent(g, { name: 'pull_request', payload: { number: 7, pull_request: { base: { sha: sha('c') }, head: { sha: sha('f2') } } } })
    assert.equal(c.kind, 'diff')
    if (c.kind !== 'diff') return
    assert.equal(c.base, sha('b'))
    assert.deepEqual(c.paths, ['app/views.py', 'roles/backend/templates/new.j2'])
    assert.match(c.description, /pull_request #7/)
  })

  test('workflow_dispatch and schedule have no diff', async () => {
    for (const name of ['workflow_dispatch', 'schedule']) {
      const c = await changesForEvent(new FakeGit(), { name, payload: {} })
      assert.deepEqual(c, { kind: 'none', description: name })
    }
  })

  test('CLI range: unknown ref is unresolved, known refs give the diff', async () => {
    const g = history()
    g.clone(['c'])
    assert.equal((await changesBetween(g, 'nope', sha('c'))).kind, 'unresolved')
    const c = await changesBetween(g, sha('b'), sha('c'))
    assert.deepEqual(c.kind === 'diff' && c.paths, ['docs/x.md', 'roles/frontend/tasks/main.yml'])
  })
})
