// A preview (check mode with diff) of base, backend and frontend on a server that only bootstrap has
// run on, as a pull request on a new server shows it: every playbook succeeds, says what it would
// install, and the server's files are byte for byte the same afterwards.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PLAIN_SITE_VARS, startLab, type Lab } from '../../src/lab/index.ts'

const LONG = { timeout: 30 * 60_000 }
const SSH_PORT = 2222

describe('check mode on a server that only bootstrap has run on', () => {
  let lab: Lab
  let inventory: string

  /** sha256, mode and owner of every file under the directories the roles write to. */
  const fingerprint = async () => {
    const dirs = '/etc /srv /usr/local /var/www /var/lib/django-deploy'
    const r = await lab.ssh('web1', `sudo -n sh -c 'find ${dirs} -xdev -type f -printf "%p %m %u\\n" 2>/dev/null | sort; find ${dirs} -xdev -type f -exec sha256sum {} + 2>/dev/null | sort'`,
      { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy })
    assert.equal(r.code, 0, r.stderr)
    return r.stdout
  }

  before(async () => {
    lab = await startLab({ hosts: ['web1'] })
    inventory = await lab.writeInventory({
      vars: { ...PLAIN_SITE_VARS, public_hostnames: [lab.hosts[0]!.address] },
    })
    const r = await lab.runPlaybook('bootstrap', { inventory })
    assert.equal(r.code, 0, r.output.slice(-4000))
  }, LONG)

  after(async () => {
    await lab?.destroy()
  })

  test('base, backend and frontend previews succeed, say what they would install, and change nothing', LONG, async () => {
    const before = await fingerprint()
    for (const playbook of ['base', 'backend', 'frontend']) {
      const r = await lab.runPlaybook(playbook, { inventory, check: true, diff: true })
      assert.equal(r.code, 0, `${playbook}: ${r.output.slice(-4000)}`)
      assert.equal(r.recap.web1?.failed, 0, r.output.slice(-4000))
      assert.match(r.output, /Would install: /, `${playbook} says what it would install`)
    }
    assert.equal(await fingerprint(), before, 'the previews changed a file on the server')
  })
})
