// The local package index's pages (src/lab/pyindex.ts): what pip reads of PEP 503.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { indexKey, normalize, writeSimplePages, type IndexFile } from '../../src/lab/pyindex.ts'

test('project names are normalized as PEP 503 says', () => {
  for (const [name, want] of [['Django', 'django'], ['async_timeout', 'async-timeout'], ['zope.interface', 'zope-interface'], ['A__b-.C', 'a-b-c']]) {
    assert.equal(normalize(name!), want)
  }
})

test('an index is keyed by its suite (each suite its own Python)', () => {
  assert.match(indexKey('bookworm'), /^bookworm-[0-9a-f]{12}$/)
  assert.notEqual(indexKey('bookworm').slice(-12), indexKey('trixie').slice(-12))
})

test('the simple pages list each project and link its files with their sha256', () => {
  const out = mkdtempSync(join(tmpdir(), 'pyindex-'))
  try {
    mkdirSync(join(out, 'files'))
    const files: IndexFile[] = [
      { file: 'Django-3.2.25.tar.gz', name: 'Django', version: '3.2.25', kind: 'sdist', source: 'python-django', sourceVersion: '3.2.25' },
      { file: 'async_timeout-4.0.2-py3-none-any.whl', name: 'async-timeout', version: '4.0.2', kind: 'wheel', source: 'python-async-timeout', sourceVersion: '4.0.2-1' },
    ]
    for (const f of files) writeFileSync(join(out, 'files', f.file), `bytes of ${f.file}`)
    writeSimplePages(out, files)
    const root = readFileSync(join(out, 'simple/index.html'), 'utf8')
    assert.match(root, /<a href="async-timeout\/">async-timeout<\/a>/)
    assert.match(root, /<a href="django\/">django<\/a>/)
    const sha = createHash('sha256').update('bytes of Django-3.2.25.tar.gz').digest('hex')
    assert.match(readFileSync(join(out, 'simple/django/index.html'), 'utf8'),
      new RegExp(`<a href="\\.\\./\\.\\./files/Django-3\\.2\\.25\\.tar\\.gz#sha256=${sha}">Django-3\\.2\\.25\\.tar\\.gz</a>`))
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})
