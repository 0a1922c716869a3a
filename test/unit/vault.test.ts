import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  generateDjangoSecretKey, generatePassword, generateVaultKey, hasInlineVault, isVaultText, randomString,
} from '../../src/core/vault.ts'

test('generateVaultKey: 256 bits as 64 hex characters, never twice the same', () => {
  const keys = new Set(Array.from({ length: 50 }, generateVaultKey))
  assert.equal(keys.size, 50)
  for (const k of keys) assert.match(k, /^[0-9a-f]{64}$/)
})

test('generateDjangoSecretKey: 50 characters, none that ini readers or shells expand', () => {
  for (let i = 0; i < 50; i++) {
    const k = generateDjangoSecretKey()
    assert.equal(k.length, 50)
    assert.match(k, /^[a-z0-9!@#^&*(\-_=+)]+$/)
    assert.ok(!/[%${}'"\\\s]/.test(k))
  }
})

test('generatePassword: letters and digits only, of the asked length', () => {
  assert.match(generatePassword(), /^[A-Za-z0-9]{32}$/)
  assert.match(generatePassword(12), /^[A-Za-z0-9]{12}$/)
})

test('randomString uses every letter of the alphabet and nothing else', () => {
  const s = randomString('ab', 2000)
  assert.match(s, /^[ab]+$/)
  const a = s.split('a').length - 1
  assert.ok(a > 800 && a < 1200, `a appears ${a} times of 2000`)
  assert.throws(() => randomString('a', 5), /alphabet of 2\+/)
  assert.throws(() => randomString('ab', 0), /length of 1\+/)
})

test('isVaultText and hasInlineVault tell whole-file vaults, inline values and plaintext apart', () => {
  const whole = '$ANSIBLE_VAULT;1.1;AES256\n3135\n'
  const inline = 'db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n'
  const plain = 'vault_django_secret_key: ""\n'
  assert.deepEqual([isVaultText(whole), isVaultText(inline), isVaultText(plain)], [true, false, false])
  assert.deepEqual([hasInlineVault(whole), hasInlineVault(inline), hasInlineVault(plain)], [false, true, false])
})
