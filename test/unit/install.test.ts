// Which Ansible, on which Python, under which cache key: the install decisions.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { cacheKey, choosePython, noPythonMessage, parseAnsibleSpec, pythonProbeList, venvDir, type AnsibleSpec, type PythonCandidate } from '../../src/action/install.ts'

type Pip = Extract<AnsibleSpec, { kind: 'pip' }>
const pip = (v: string) => parseAnsibleSpec(v) as Pip
const py = (v: string, path = `/usr/bin/python${v}`): PythonCandidate => ({ path, version: v.split('.').map(Number) as [number, number, number] })

describe('ansible-version', () => {
  // passlib with every version: password_hash on Pythons without crypt (3.13+).
  const table: [string, string[], [number, number] | undefined][] = [
    // 2.9: exact pins, the Jinja2 and MarkupSafe 2.9.27 was tested with (2.11.3 / 1.1.1).
    ['', ['ansible==2.9.27', 'jinja2==2.11.3', 'markupsafe==1.1.1', 'passlib==1.7.4'], [3, 11]],
    ['2.9', ['ansible==2.9.27', 'jinja2==2.11.3', 'markupsafe==1.1.1', 'passlib==1.7.4'], [3, 11]],
    ['2.9.16', ['ansible==2.9.16', 'jinja2==2.11.3', 'markupsafe==1.1.1', 'passlib==1.7.4'], [3, 11]],
    ['2.9.20', ['ansible==2.9.20', 'jinja2==2.11.3', 'markupsafe==1.1.1', 'passlib==1.7.4'], [3, 11]],
    ['ansible==2.9.27', ['ansible==2.9.27', 'jinja2==2.11.3', 'markupsafe==1.1.1', 'passlib==1.7.4'], [3, 11]],
    // Jinja2 2.10 at least: the roles use its tests.
    ['2.10', ['ansible-base==2.10.*', 'jinja2>=2.10,<3.1', 'markupsafe<2.1', 'passlib==1.7.4'], [3, 11]],
    ['2.11.12', ['ansible-core==2.11.12', 'jinja2>=2.10,<3.1', 'markupsafe<2.1', 'passlib==1.7.4'], [3, 11]],
    ['2.16.3', ['ansible-core==2.16.3', 'passlib==1.7.4'], undefined],
    ['2.16', ['ansible-core==2.16.*', 'passlib==1.7.4'], undefined],
    ['ansible-core==2.17.1', ['ansible-core==2.17.1', 'passlib==1.7.4'], undefined],
    ['ansible==9.1.0', ['ansible==9.1.0', 'passlib==1.7.4'], undefined],
    ['9.1.0', ['ansible==9.1.0', 'passlib==1.7.4'], undefined],
    ['ansible-core>=2.15,<2.17', ['ansible-core>=2.15,<2.17', 'passlib==1.7.4'], undefined],
  ]
  for (const [input, packages, max] of table) {
    test(`"${input}" → ${packages.join(' ')}`, () => {
      const s = pip(input)
      assert.deepEqual(s.packages, packages)
      assert.deepEqual(s.maxPython, max)
    })
  }
  for (const early of ['2.9.0', '2.9.9', '2.9.15', 'ansible==2.9.15', '2.9.015']) {
    test(`"${early}" is refused in one line: the roles need 2.9.16`, () => {
      assert.throws(() => parseAnsibleSpec(early), (e: Error) => {
        assert.equal(e.message.split('\n').length, 1)
        assert.match(e.message, new RegExp(`^ansible-version "${early.replace(/\./g, '\\.')}": the roles need Ansible 2\\.9\\.16 or later .*; use 2\\.9 \\(2\\.9\\.27\\) or a later version$`))
        return true
      })
    })
  }
  test('system uses the ansible-playbook on PATH', () => assert.deepEqual(parseAnsibleSpec('system'), { kind: 'system' }))
  for (const bad of ['latest', '1.9', 'ansible-core', 'pip install ansible', '2.9; rm -rf /']) {
    test(`"${bad}" is refused`, () => assert.throws(() => parseAnsibleSpec(bad), /is not an Ansible version \(expected system, 2\.9/))
  }
})

describe('python for the install', () => {
  test('2.9 takes the newest Python up to 3.11, never 3.12+', () => {
    const c = choosePython([py('3.12.3'), py('3.10.14'), py('3.11.9'), py('3.13.0')], pip('2.9'))
    assert.deepEqual(c, py('3.11.9'))
  })
  test('a current ansible-core takes the newest Python', () => {
    assert.deepEqual(choosePython([py('3.11.9'), py('3.12.3')], pip('2.16.3')), py('3.12.3'))
  })
  test('no fitting Python: the message says what was found and what to add', () => {
    const cands = [py('3.12.3', '/usr/bin/python3')]
    assert.equal(choosePython(cands, pip('2.9')), undefined)
    const msg = noPythonMessage(cands, pip('2.9'))
    assert.match(msg, /ansible 2\.9\.27 needs Python 3\.8 to 3\.11; found: 3\.12\.3 \(\/usr\/bin\/python3\)/)
    assert.match(msg, /actions\/setup-python@v5 with: python-version: "3\.11"/)
  })
  test('the tool cache comes first, then python3.13 … python3.8, then python3', () => {
    const list = pythonProbeList([{ version: '3.11.9', bin: '/opt/hostedtoolcache/Python/3.11.9/x64/bin/python3' }])
    assert.equal(list[0], '/opt/hostedtoolcache/Python/3.11.9/x64/bin/python3')
    assert.equal(list[1], 'python3.13')
    assert.equal(list[list.length - 1], 'python3')
  })
})

describe('cache', () => {
  test('key: OS, arch, Python and a hash of the requirements', () => {
    const k = cacheKey('linux', 'x64', [3, 11, 9], pip('2.9'))
    assert.match(k, /^django-deploy-ansible-v1-linux-x64-py3\.11\.9-[0-9a-f]{16}$/)
    assert.equal(k, cacheKey('linux', 'x64', [3, 11, 9], pip('ansible==2.9.27')))
    assert.notEqual(k, cacheKey('linux', 'x64', [3, 11, 8], pip('2.9')))
    assert.notEqual(k, cacheKey('linux', 'arm64', [3, 11, 9], pip('2.9')))
    assert.notEqual(k, cacheKey('linux', 'x64', [3, 11, 9], pip('2.9.26')))
  })
  test('the virtualenv has a stable path named by the key', () => {
    assert.equal(venvDir('/home/runner', 'k'), '/home/runner/.cache/django-deploy/k')
  })
})
