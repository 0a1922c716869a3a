// The operations commands (manage, logs, maintenance): bad input is one line, exit 2, before
// anything connects; the hosts and their logins come from the inventory through Ansible (a local
// debug, no connection), with the deploy's SSH options; logs of several hosts merge by time.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dispatch, type Io } from '../../src/cli/dispatch.ts'
import { command as logs, formatLogLine, mergeByTime, parseLogLine } from '../../src/cli/logs.ts'
import { command as maintenance } from '../../src/cli/maintenance.ts'
import { command as manage } from '../../src/cli/manage.ts'
import { checkManage, parseSince, pickHosts } from '../../src/cli/ops-args.ts'
import { opsCommand, parseTargets, resolveTargets, shellSplit, sshArgv, type SshTarget } from '../../src/cli/remote.ts'
import { checkServerOptions, withConnection } from '../../src/cli/server-options.ts'

const commands = [manage, logs, maintenance]

function capture(): Io & { o: string; e: string } {
  const io = { o: '', e: '', out: (t: string) => { io.o += t }, err: (t: string) => { io.e += t } }
  return io
}

let repo: string
before(() => {
  repo = mkdtempSync(join(tmpdir(), 'cli-ops-'))
  mkdirSync(join(repo, 'playbooks'))
  mkdirSync(join(repo, 'inventories/production/group_vars/all'), { recursive: true })
  writeFileSync(join(repo, 'inventories/production/hosts.yml'),
    'all:\n  children:\n    webservers:\n      hosts:\n        web1: {ansible_host: 198.18.200.2}\n        web2: {ansible_host: 198.18.200.3}\n')
  writeFileSync(join(repo, 'inventories/production/group_vars/all/vars.yml'),
    'project_slug: example\nserver_ssh_port: 2222\nansible_port: "{{ server_ssh_port }}"\nansible_user: deploy\nserver_ssh_common_args: -o ProxyJump=bastion\n')
  writeFileSync(join(repo, 'vault.key'), 'a-key\n', { mode: 0o600 })
  writeFileSync(join(repo, 'id'), 'not read here\n', { mode: 0o600 })
})
after(() => rmSync(repo, { recursive: true, force: true }))

describe('operations: bad input, one line, exit 2, nothing connected', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown process', ['logs', '--process', 'cron'], /^django-deploy logs: --process "cron": unknown process \(one of web, worker, nginx, deploy; repeat --process for several\)\n$/],
    ['a bad --since', ['logs', '--since', 'yesterday'], /^django-deploy logs: --since "yesterday": expected a duration \(30s, 5m, 1h, 2d\) or a date \(2026-12-06T21:00:00Z\)\n$/],
    ['a --since of 0', ['logs', '--since', '0m'], /--since "0m": give a duration above 0/],
    ['a --since in the future', ['logs', '--since', '2999-01-01T00:00:00Z'], /--since "2999-01-01T00:00:00Z" is in the future/],
    ['a --host that is a pattern', ['logs', '--host', 'web*'], /^django-deploy logs: --host "web\*": expected one inventory host name/],
    ['maintenance without on|off', ['maintenance'], /^django-deploy maintenance: expected on or off \(django-deploy maintenance on\|off\)\n$/],
    ['maintenance with another word', ['maintenance', 'up'], /expected on or off, not "up"/],
    ['manage without a command', ['manage'], /^django-deploy manage: no manage\.py command: django-deploy manage \[--host H\] -- COMMAND/],
    ['manage with an unknown option before --', ['manage', '--deploy'], /^django-deploy manage: Unknown option '--deploy'/],
    ['a directory that is not the repository', ['maintenance', 'on', '--dir', '/nonexistent'], /^django-deploy maintenance: \/nonexistent has no playbooks\/ directory/],
  ]
  for (const [what, argv, message] of cases) {
    test(what, async () => {
      const io = capture()
      assert.equal(await dispatch(argv, commands, io), 2)
      assert.match(io.e, message)
      assert.equal(io.e.split('\n').length, 2, 'one line')
    })
  }

  test('a host not in the inventory (read by Ansible, nothing connected)', async () => {
    const io = capture()
    assert.equal(await dispatch(['logs', '--host', 'web9', '--dir', repo], commands, io), 2)
    assert.equal(io.e, 'django-deploy logs: --host "web9" is not in the inventory\'s webservers (hosts: web1, web2)\n')
  })

  test('manage on an inventory of two hosts without --host', async () => {
    const io = capture()
    assert.equal(await dispatch(['manage', '--dir', repo, '--', 'check', '--deploy'], commands, io), 2)
    assert.equal(io.e, 'django-deploy manage: which host? the inventory has 2 (web1, web2): name one with --host\n')
  })

  test('--help before -- is ours; after --, manage.py\'s', async () => {
    const io = capture()
    assert.equal(await dispatch(['manage', '--help'], commands, io), 0)
    assert.match(io.o, /^Usage: django-deploy manage/)
    const io2 = capture()
    assert.equal(await dispatch(['manage', '--dir', '/nonexistent', '--', 'check', '--help'], commands, io2), 2)
    assert.match(io2.e, /^django-deploy manage: \/nonexistent has no playbooks\/ directory/, 'past the help, to the checks')
  })
})

describe('operations: the login comes from Ansible with the deploy\'s connection', () => {
  test('address, templated port and user, the run\'s SSH options then the inventory\'s', async () => {
    const o = { 'ssh-key': join(repo, 'id') }
    const targets = await withConnection(checkServerOptions(repo, o), o, async (run, c) => {
      const t = await resolveTargets(run)
      for (const x of t) assert.match(x.sshArgs, new RegExp(`StrictHostKeyChecking=yes -o IdentityFile=${join(repo, 'id')} -o IdentitiesOnly=yes -o ControlPath=${c.controlDir}/%C -o ProxyJump=bastion`))
      return t
    })
    assert.deepEqual(targets.map(({ host, address, port, user, project }) => ({ host, address, port, user, project })), [
      { host: 'web1', address: '198.18.200.2', port: 2222, user: 'deploy', project: 'example' },
      { host: 'web2', address: '198.18.200.3', port: 2222, user: 'deploy', project: 'example' },
    ])
  })
})

describe('operations: pure parts', () => {
  test('--since: durations as seconds ago (the server\'s clock), dates as an epoch', () => {
    assert.equal(parseSince('30s'), '30')
    assert.equal(parseSince('5m'), '300')
    assert.equal(parseSince('1h'), '3600')
    assert.equal(parseSince('2d'), '172800')
    assert.equal(parseSince('2026-12-06T21:00:00Z', Date.parse('2026-12-07T00:00:00Z')), `@${Date.parse('2026-12-06T21:00:00Z') / 1000}`)
  })

  test('the hosts: all by default, the named ones, exactly one for manage', () => {
    assert.deepEqual(pickHosts(['web1', 'web2'], [], false), ['web1', 'web2'])
    assert.deepEqual(pickHosts(['web1', 'web2'], ['web2', 'web2'], false), ['web2'])
    assert.deepEqual(pickHosts(['web1'], [], true), ['web1'])
    assert.throws(() => pickHosts([], [], false), /no host in the inventory/)
    assert.throws(() => pickHosts(['web1', 'web2'], ['web1', 'web2'], true), /one --host at a time, not 2/)
  })

  test('a terminal for shell, dbshell, createsuperuser; not for check nor a shell given its command', () => {
    assert.equal(checkManage(['shell']).interactive, true)
    assert.equal(checkManage(['createsuperuser']).interactive, true)
    assert.equal(checkManage(['createsuperuser', '--noinput']).interactive, false)
    assert.equal(checkManage(['shell', '-c', 'print(1)']).interactive, false)
    assert.equal(checkManage(['check', '--deploy']).interactive, false)
  })

  test('logs of several hosts merge by time; equal times keep each host\'s order', () => {
    const lines = [
      parseLogLine('web1', '100.500\tweb\tb')!, parseLogLine('web1', '101.000\tnginx\tc')!,
      parseLogLine('web2', '100.000\tdeploy\ta')!, parseLogLine('web2', '101.000\tweb\td\twith a tab')!,
    ]
    assert.deepEqual(mergeByTime(lines).map((l) => l.text), ['a', 'b', 'c', 'd\twith a tab'])
    assert.equal(parseLogLine('web1', 'sudo: a password is required'), undefined)
    assert.equal(formatLogLine(lines[2]!, 4), '1970-01-01T00:01:40.000Z web2 deploy a')
  })

  test('the login: Ansible\'s own options first, then the inventory\'s; the command quoted for the remote shell', () => {
    const [t] = parseTargets('web1 | SUCCESS => {    "changed": false,    "msg": "{\\"address\\": \\"198.18.200.2\\", \\"port\\": 2222, \\"user\\": \\"deploy\\", '
      + '\\"ssh_args\\": \\"-o UserKnownHostsFile=\'/tmp/a b/known_hosts\' -o StrictHostKeyChecking=yes -o ControlPath=/tmp/cp/%C -o ProxyJump=bastion\\", \\"project\\": \\"example\\"}"}\n')
    assert.deepEqual(t, { host: 'web1', address: '198.18.200.2', port: 2222, user: 'deploy', project: 'example',
      sshArgs: "-o UserKnownHostsFile='/tmp/a b/known_hosts' -o StrictHostKeyChecking=yes -o ControlPath=/tmp/cp/%C -o ProxyJump=bastion" })
    const remote = opsCommand(t as SshTarget, "me@laptop", ['manage', 'shell', '-c', "print('x')"])
    assert.equal(remote, `sudo -n /usr/local/bin/example-ops --by me@laptop --from "\${SSH_CLIENT%% *}" manage shell -c 'print('"'"'x'"'"')'`)
    assert.deepEqual(sshArgv(t as SshTarget, remote, true), [
      '-o', 'UserKnownHostsFile=/tmp/a b/known_hosts', '-o', 'StrictHostKeyChecking=yes', '-o', 'ControlPath=/tmp/cp/%C', '-o', 'ProxyJump=bastion',
      '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', '-t', '-p', '2222', '-l', 'deploy', '198.18.200.2', '--', remote,
    ])
    assert.deepEqual(shellSplit(`a "b c" 'd e' f\\ g`), ['a', 'b c', 'd e', 'f g'])
  })
})
