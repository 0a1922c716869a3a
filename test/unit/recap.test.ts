import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseRecap } from '../support/recap.ts'

const zero = { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 }

test('parseRecap reads every host line after the last PLAY RECAP', () => {
  const output = [
    'PLAY RECAP *********************************************************************',
    'old                        : ok=9    changed=9    unreachable=0    failed=0',
    '',
    'PLAY [second] ******************************************************************',
    'PLAY RECAP *********************************************************************',
    'web1                       : ok=12   changed=3    unreachable=0    failed=0    skipped=4    rescued=0    ignored=1   ',
    'web-2.example              : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0   ',
    '',
  ].join('\n')
  assert.deepEqual(parseRecap(output), {
    web1: { ...zero, ok: 12, changed: 3, skipped: 4, ignored: 1 },
    'web-2.example': { ...zero, unreachable: 1 },
  })
})

test('parseRecap returns nothing when the run never reached a recap', () => {
  assert.deepEqual(parseRecap('ERROR! the playbook: x.yml could not be found'), {})
})

test('parseRecap ignores lines that are not host counts', () => {
  const output = 'PLAY RECAP ***\nweb1 : ok=1 changed=0 unreachable=0 failed=0\nnote : not a host line\n'
  assert.deepEqual(Object.keys(parseRecap(output)), ['web1'])
})
