// `django-deploy status`'s processes: the ad-hoc command, its answers parsed, the lines shown.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseProcessesOutput, processesArgs, processesLines } from '../../src/cli/processes.ts'

const answer = JSON.stringify({
  processes: [{ kind: 'worker', name: 'tasks-1', state: 'FATAL', description: 'Exited too quickly (process log may have details)' }],
  timers: [{ job: 'report', calendar: 'Mon *-*-* 06:00:00', active: 'active', next: 'Mon 2026-12-07 06:00:00 UTC', last: 'n/a', result: '' }],
  errors: [],
})

describe('django-deploy status: processes', () => {
  test('the command: the ops wrapper templated per host, as root, one line per host, the runs\' extra vars', () => {
    assert.deepEqual(processesArgs({ inventory: 'inv', limit: 'web1', extraVarsFiles: ['/t/ssh.json'] }), [
      'webservers', '-i', 'inv', '--limit', 'web1', '--extra-vars', '@/t/ssh.json',
      '-m', 'ansible.builtin.command', '-a', '/usr/local/bin/{{ backend_project_slug | default(project_slug) }}-ops status',
      '--become', '--one-line', '-T', '10',
    ])
  })

  test('answers: read, a server without the wrapper or with an older one, another failure, unreachable', () => {
    const out = parseProcessesOutput([
      `web1 | CHANGED | rc=0 | (stdout) ${answer}`,
      'web2 | FAILED! => {"changed": false, "cmd": "/usr/local/bin/example-ops status", "msg": "[Errno 2] No such file or directory: b\'/usr/local/bin/example-ops\'", "rc": 2}',
      'web3 | FAILED! => {"changed": true, "rc": 2, "stderr": "example-ops: unknown operation \\"status\\" (manage, logs, maintenance)", "stdout": ""}',
      'web4 | FAILED! => {"changed": true, "rc": 1, "stderr": "Traceback\\nboom", "stdout": ""}',
      'web5 | UNREACHABLE!: Failed to connect to the host via ssh: timed out',
      '[WARNING]: something',
    ].join('\n'))
    assert.deepEqual(out.map((h) => [h.host, h.status, h.status === 'read' ? h.processes?.length : h.message]), [
      ['web1', 'read', 1],
      ['web2', 'failed', 'no <project>-ops on the server (deploy the backend to install it)'],
      ['web3', 'failed', 'its <project>-ops has no status (deploy the backend to update it)'],
      ['web4', 'failed', 'boom'],
      ['web5', 'unreachable', 'Failed to connect to the host via ssh: timed out'],
    ])
  })

  test('lines: one per process and per timer; a timer that never ran or is running says so; a failed read says why', () => {
    const [read] = parseProcessesOutput(`web1 | CHANGED | rc=0 | (stdout) ${answer}`)
    assert.deepEqual(processesLines(read), [
      '  worker    tasks-1    FATAL    Exited too quickly (process log may have details)',
      '  timer     report     Mon *-*-* 06:00:00: next Mon 2026-12-07 06:00:00 UTC, never ran',
    ])
    // While its job runs systemd has no next run for a timer (the e2e status check met it at :00).
    const running = { job: 'tick', calendar: '*-*-* *:*:00', active: 'active', state: 'running', next: '', last: 'Mon 2026-12-07 16:08:00 UTC', result: 'success' }
    assert.deepEqual(processesLines({ host: 'web1', status: 'read', processes: [], timers: [running], errors: [] }), [
      '  timer     tick       *-*-* *:*:00: running since Mon 2026-12-07 16:08:00 UTC',
    ])
    assert.deepEqual(processesLines({ host: 'web1', status: 'read', processes: [], timers: null, errors: ['timers: systemctl failed'] }), ['  processes not read: timers: systemctl failed'])
    assert.deepEqual(processesLines({ host: 'web2', status: 'unreachable', message: 'timed out' }), ['  processes not read: timed out'])
    assert.deepEqual(processesLines(undefined), [])
  })
})
