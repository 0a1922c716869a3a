// The plan's override file (core/plan/config.ts): parsed into globs and rules; a bad file is bad
// input (a ValidationError of one line naming the entry and the expected form); read with the
// inventory in use, defaults when absent.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ValidationError } from '../../src/core/errors.ts'
import { DEFAULT_PLAN_CONFIG, normaliseGlob, parsePlanConfig, readPlanConfig } from '../../src/core/plan/config.ts'

test('globs: a bare directory matches its files; a glob stays as it is; "." is everything', () => {
  assert.deepEqual(normaliseGlob('app/'), ['app', 'app/**'])
  assert.deepEqual(normaliseGlob('./app'), ['app', 'app/**'])
  assert.deepEqual(normaliseGlob('src/**/*.py'), ['src/**/*.py'])
  assert.deepEqual(normaliseGlob('.'), ['**'])
})

test('sets defaults: app/** is the app, nothing ignored, no rules', () => {
  assert.deepEqual(parsePlanConfig(''), DEFAULT_PLAN_CONFIG)
})

test('rules keep their order; playbooks are put in run order; one string is a list of one', () => {
  const c = parsePlanConfig('app: src\nignore: docs/\nrules:\n  - paths: config/**\n    playbooks: [frontend, base]\n  - paths: [x]\n')
  assert.deepEqual(c.app, ['src', 'src/**'])
  assert.deepEqual(c.ignore, ['docs', 'docs/**'])
  assert.deepEqual(c.rules, [{ paths: ['config/**'], playbooks: ['base', 'frontend'] }, { paths: ['x', 'x/**'], playbooks: [] }])
})

const bad: [string, string, RegExp][] = [
  ['a playbook that does not exist', 'rules:\n  - paths: [x]\n    playbooks: [web]\n', /rules\[0\]\.playbooks must list.*expected: app/],
  ['an unknown key', 'apps: []\n', /unknown key "apps"/],
  ['a list instead of a mapping', '- a\n', /not a mapping/],
  ['a rule without paths', 'rules:\n  - playbooks: [base]\n', /rules\[0\] has no paths/],
  ['globs that are not strings', 'ignore: [1, 2]\n', /ignore must be a list of globs/],
  ['broken YAML, with its position', 'app: [a\n', /^\.github\/deploy-plan\.yml:\d+:\d+: .*fix the YAML/],
]
for (const [what, text, message] of bad) {
  test(`bad input: ${what}`, () => {
    assert.throws(() => parsePlanConfig(text), (e: Error) => e instanceof ValidationError && message.test(e.message) && !e.message.includes('\n'))
  })
}

test('read from the working directory with the inventory in use; defaults when there is no file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plan-config-'))
  try {
    assert.deepEqual(readPlanConfig(dir, 'inventories/staging'), { ...DEFAULT_PLAN_CONFIG, inventory: 'inventories/staging' })
    mkdirSync(join(dir, '.github'))
    writeFileSync(join(dir, '.github/deploy-plan.yml'), 'app: [web/]\n')
    assert.deepEqual(readPlanConfig(dir, 'inventories/production').app, ['web', 'web/**'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
