import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseDemoArgs } from '../../src/cli/demo.ts'
import { progressLine, tail } from '../../src/cli/demo-output.ts'
import { demoVars } from '../../src/cli/demo-run.ts'
import { UsageError } from '../../src/cli/command.ts'

test('parseDemoArgs: defaults, --exit, --keep-on-failure, --suite', () => {
  assert.deepEqual(parseDemoArgs([]), { exit: false, keepOnFailure: false, suite: undefined })
  assert.deepEqual(parseDemoArgs(['--exit', '--suite', 'trixie']), { exit: true, keepOnFailure: false, suite: 'trixie' })
  assert.deepEqual(parseDemoArgs(['--keep-on-failure']), { exit: false, keepOnFailure: true, suite: undefined })
})

test('parseDemoArgs: bad input is one UsageError line', () => {
  const cases: [string[], RegExp][] = [
    [['--bogus'], /Unknown option '--bogus'/],
    [['now'], /positional/i],
    [['--suite'], /argument missing/],
    [['--suite', 'Bookworm;rm'], /--suite "Bookworm;rm": expected a Debian release name/],
    [['--exit', '--keep-on-failure'], /contradict/],
  ]
  for (const [argv, expected] of cases) {
    assert.throws(() => parseDemoArgs(argv), (e: Error) => e instanceof UsageError && expected.test(e.message) && !e.message.includes('\n'), argv.join(' '))
  }
})

test('demoVars: the address is a public host name (a plain URL works), TLS is off, Python packages come from Debian', () => {
  const vars = demoVars('198.18.4.2', 'web1')
  assert.deepEqual(vars.public_hostnames, ['198.18.4.2', 'web1.test'])
  assert.equal(vars.frontend_tls_enabled, false)
  assert.equal(vars.backend_https, false)
  assert.equal(vars.backend_venv_system_site_packages, true)
  assert.deepEqual(vars.backend_packages_extra, ['python3-django', 'python3-gunicorn', 'python3-psycopg2'])
})

test('progressLine: index, playbook, outcome, duration and counts', () => {
  const recap = { ok: 40, changed: 25, unreachable: 0, failed: 0, skipped: 3, rescued: 0, ignored: 0 }
  assert.equal(progressLine(2, 4, 'base', true, 75_000, recap), '[2/4] base       ok     1 min 15 s  ok=40 changed=25')
  assert.equal(progressLine(1, 4, 'bootstrap', false, 5_000, { ...recap, ok: 0, changed: 0, unreachable: 1 }), '[1/4] bootstrap  FAILED        5 s  ok=0 changed=0 unreachable=1')
  assert.equal(progressLine(3, 4, 'backend', false, 1_000), '[3/4] backend    FAILED        1 s')
})

test('tail keeps the last lines, without trailing blank ones', () => {
  assert.equal(tail('a\nb\nc\nd\n\n', 2), 'c\nd')
  assert.equal(tail('only', 5), 'only')
})
