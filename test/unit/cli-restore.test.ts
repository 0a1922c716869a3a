// `django-deploy restore`: which backup and --force become the playbook's variables; bad names and
// missing files are usage errors (one line, exit 2) before anything runs.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dispatch, type Io } from '../../src/cli/dispatch.ts'
import { command as restore, restoreVars } from '../../src/cli/restore.ts'

function capture(): Io & { o: string; e: string } {
  const io = { o: '', e: '', out: (t: string) => { io.o += t }, err: (t: string) => { io.e += t } }
  return io
}

describe('restore', () => {
  test('latest by default; a named backup, with or without its prefix; --force', () => {
    assert.deepEqual(restoreVars(undefined, false), { backend_restore_backup: 'latest', backend_restore_force: false })
    assert.deepEqual(restoreVars('20261201T031700Z.tar.age', true), { backend_restore_backup: '20261201T031700Z.tar.age', backend_restore_force: true })
    assert.equal(restoreVars('example-org/example/20261201T031700Z.tar.age', false).backend_restore_backup, 'example-org/example/20261201T031700Z.tar.age')
  })

  for (const bad of ['yesterday', '20261201.tar.age', '20261201T031700Z.tar.age; rm -rf /', '--x']) {
    test(`"${bad}" is refused as a usage error`, async () => {
      const io = capture()
      assert.equal(await dispatch(['restore', '--', bad], [restore], io), 2)
      assert.match(io.e, /^django-deploy restore: backup ".*": expected latest or a backup's name such as 20261201T031700Z\.tar\.age\n$/)
    })
  }

  test('a missing vault key is one line, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-restore-'))
    mkdirSync(join(dir, 'playbooks'))
    writeFileSync(join(dir, 'playbooks/restore.yml'), '---\n')
    mkdirSync(join(dir, 'inventories/production'), { recursive: true })
    const io = capture()
    assert.equal(await dispatch(['restore', '--dir', dir], [restore], io), 2)
    assert.equal(io.e, 'django-deploy restore: vault key file "vault.key" does not exist (create it with django-deploy init, or pass --vault-key FILE)\n')
  })

  test('two backups are refused', async () => {
    const io = capture()
    assert.equal(await dispatch(['restore', 'a', 'b'], [restore], io), 2)
    assert.match(io.e, /one backup at most, not 2/)
  })
})
