// The one process helper: exit codes, deadlines that take the whole process group, streamed lines,
// the shared terminal, and environments without the action's inputs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { childEnv, run, runOk } from '../../src/core/exec.ts'

test('childEnv drops the action inputs and adds the extra variables', () => {
  const env = childEnv({ EXTRA: '1' }, { PATH: '/bin', 'INPUT_VAULT-KEY': 'secret', HOME: '/root' })
  assert.deepEqual(env, { PATH: '/bin', HOME: '/root', EXTRA: '1' })
})

test('run resolves with the exit code and both outputs; runOk names the command and its last line', async () => {
  const r = await run('sh', ['-c', 'echo out; echo err >&2; exit 3'])
  assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' })
  await assert.rejects(runOk('sh', ['-c', 'echo first >&2; echo last >&2; exit 4']), /^Error: sh -c .* exited 4: last$/)
})

test('a program that cannot start rejects with the reason', async () => {
  await assert.rejects(run('/nonexistent/program', []), { code: 'ENOENT' })
})

test('the deadline kills the whole process group, so a grandchild holding the pipes goes too', async () => {
  const started = Date.now()
  const r = await run('sh', ['-c', 'sleep 30 & echo started; wait'], { timeoutMs: 300, killGroup: true })
  assert.equal(r.timedOut, true)
  assert.equal(r.stdout, 'started\n')
  assert.ok(Date.now() - started < 10_000, 'resolved once the group was killed, not when sleep ended')
})

test('stdout streamed line by line is not kept; a last line without a newline still arrives', async () => {
  const lines: string[] = []
  const r = await run('sh', ['-c', 'printf "a\\nb\\n"; sleep 0.1; printf "c"; echo warn >&2'], { onStdoutLine: (l) => lines.push(l) })
  assert.deepEqual(lines, ['a', 'b', 'c'])
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, 'warn\n')
})

test('an abort stops the program with the chosen signal and run still resolves', async () => {
  const stop = new AbortController()
  const pending = run('sleep', ['30'], { stop: stop.signal, stopSignal: 'SIGINT' })
  setTimeout(() => stop.abort(), 100)
  const r = await pending
  assert.notEqual(r.code, 0)
})

test('a program that ignores the stop signal is killed, with its process group, once the grace has passed', async () => {
  const stop = new AbortController()
  // The shell ignores SIGTERM, as does the sleep it starts (inherited): only SIGKILL ends them.
  const pending = run('sh', ['-c', 'trap "" TERM; sleep 30 & wait'], { stop: stop.signal, stopSignal: 'SIGTERM', stopGraceMs: 300, killGroup: true })
  setTimeout(() => stop.abort(), 100)
  const started = Date.now()
  const r = await pending
  assert.notEqual(r.code, 0)
  assert.ok(Date.now() - started < 10_000, 'the group was killed, not waited for')
})

test('a program on this terminal passes its exit code through and is given no input pipe', async () => {
  const r = await run('sh', ['-c', 'exit 7'], { terminal: true, input: 'ignored' })
  assert.deepEqual(r, { code: 7, stdout: '', stderr: '' })
})
