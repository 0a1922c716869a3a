// The CLI dispatcher: command list, --help everywhere, usage errors as one line and exit 2.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { UsageError, type Command } from '../../src/cli/command.ts'
import { dispatch, type Io } from '../../src/cli/dispatch.ts'
import { command as plan } from '../../src/cli/plan.ts'
import { command as deploy } from '../../src/cli/deploy.ts'

function capture(): Io & { o: string; e: string } {
  const io = { o: '', e: '', out: (t: string) => { io.o += t }, err: (t: string) => { io.e += t } }
  return io
}

const ran: string[][] = []
const fake: Command = {
  name: 'fake',
  summary: 'does fake things',
  usage: 'Usage: django-deploy fake [--x]',
  async run(argv) {
    ran.push(argv)
    if (argv[0] === 'bad') throw new UsageError('bad value "bad" (expected good)\nsecond line')
    if (argv[0] === 'boom') throw new Error('it broke')
    return 0
  },
}

describe('dispatch', () => {
  test('no command: the list, exit 2; --help: the list, exit 0', async () => {
    const a = capture()
    assert.equal(await dispatch([], [fake, plan, deploy], a), 2)
    assert.match(a.o, /Commands:\n {2}fake {4}does fake things\n {2}plan {4}which playbooks/)
    const b = capture()
    assert.equal(await dispatch(['--help'], [fake], b), 0)
    assert.match(b.o, /Usage: django-deploy <command>/)
  })

  test('--help on a command prints its usage and runs nothing', async () => {
    for (const c of [fake, plan, deploy]) {
      const io = capture()
      const before = ran.length
      assert.equal(await dispatch([c.name, '--from', 'x', '--help'], [fake, plan, deploy], io), 0)
      assert.equal(io.o.split('\n')[0], c.usage.split('\n')[0])
      assert.equal(ran.length, before)
    }
  })

  test('a UsageError is one line and exit 2; another error exit 1', async () => {
    const io = capture()
    assert.equal(await dispatch(['fake', 'bad'], [fake], io), 2)
    assert.equal(io.e, 'django-deploy fake: bad value "bad" (expected good)\n')
    const io2 = capture()
    assert.equal(await dispatch(['fake', 'boom'], [fake], io2), 1)
    assert.equal(io2.e, 'django-deploy fake: it broke\n')
  })

  test('unknown command', async () => {
    const io = capture()
    assert.equal(await dispatch(['nope'], [fake], io), 2)
    assert.match(io.e, /unknown command "nope" \(commands: fake\)/)
  })

  test('plan and deploy refuse unknown options as usage errors', async () => {
    for (const c of [plan, deploy]) {
      const io = capture()
      assert.equal(await dispatch([c.name, '--bogus'], [plan, deploy], io), 2)
      assert.match(io.e, new RegExp(`^django-deploy ${c.name}: Unknown option '--bogus'\n$`))
    }
  })
})
