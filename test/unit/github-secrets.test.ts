import { test } from 'node:test'
import assert from 'node:assert/strict'
import sodium from 'libsodium-wrappers'
import {
  apiBase, checkSecretName, describeTarget, httpErrorMessage, parseSecretsTarget, readToken, sealSecret, secretsPath,
} from '../../src/cli/github-secrets.ts'

test('parseSecretsTarget accepts OWNER/REPO and an optional environment', () => {
  assert.deepEqual(parseSecretsTarget('my-org/my.site_2'), { owner: 'my-org', repo: 'my.site_2', environment: undefined })
  assert.deepEqual(parseSecretsTarget(' o/r ', 'production'), { owner: 'o', repo: 'r', environment: 'production' })
})

test('parseSecretsTarget rejects what is not OWNER/REPO, and bad environment names', () => {
  for (const bad of ['', 'o', 'o/', '/r', 'o/r/x', 'https://github.com/o/r', '-o/r', 'o/..', 'o w/r']) {
    assert.throws(() => parseSecretsTarget(bad), /not a repository: expected OWNER\/REPO/, bad)
  }
  for (const env of ['', '  ', 'a/b', 'x\ny']) assert.throws(() => parseSecretsTarget('o/r', env), /not an environment name/, env)
})

test('secretsPath: repository and environment collections, names encoded', () => {
  assert.equal(secretsPath({ owner: 'o', repo: 'r' }), '/repos/o/r/actions/secrets')
  assert.equal(secretsPath({ owner: 'o', repo: 'r', environment: 'prod eu' }), '/repos/o/r/environments/prod%20eu/secrets')
  assert.equal(describeTarget({ owner: 'o', repo: 'r', environment: 'staging' }), 'o/r (environment staging)')
})

test('checkSecretName follows GitHub rules', () => {
  for (const ok of ['ANSIBLE_VAULT_KEY', 'ssh_key', '_X1']) assert.doesNotThrow(() => checkSecretName(ok))
  for (const bad of ['', '1KEY', 'GITHUB_TOKEN', 'github_x', 'A-B', 'A B']) assert.throws(() => checkSecretName(bad), /not a valid secret name/, bad)
})

test('apiBase: GITHUB_API_URL or api.github.com, without a trailing slash; http(s) only', () => {
  assert.equal(apiBase({}), 'https://api.github.com')
  assert.equal(apiBase({ GITHUB_API_URL: '' }), 'https://api.github.com')
  assert.equal(apiBase({ GITHUB_API_URL: 'https://ghe.example.com/api/v3/' }), 'https://ghe.example.com/api/v3')
  assert.equal(apiBase({ GITHUB_API_URL: 'http://127.0.0.1:8080' }), 'http://127.0.0.1:8080')
  assert.throws(() => apiBase({ GITHUB_API_URL: 'file:///etc/passwd' }), /use http\(s\)/)
  assert.throws(() => apiBase({ GITHUB_API_URL: 'not a url' }), /is not a URL/)
})

test('httpErrorMessage: one line per status, saying what to fix', () => {
  const repo = { owner: 'o', repo: 'r' }
  const env = { owner: 'o', repo: 'r', environment: 'production' }
  const cases: [number, typeof repo, RegExp][] = [
    [401, repo, /rejected the token \(401\).*GITHUB_TOKEN or --token-file/],
    [403, repo, /may not manage the secrets of o\/r \(403\).*"Secrets" read\/write permission/],
    [403, env, /o\/r \(environment production\) \(403\).*"Secrets" and "Environments" read\/write/],
    [404, repo, /o\/r not found \(404\).*check OWNER\/REPO/],
    [404, env, /o\/r \(environment production\) not found \(404\).*create the environment/],
    [500, repo, /GitHub answered 500/],
  ]
  for (const [status, target, expected] of cases) {
    const msg = httpErrorMessage(status, target, 'store X', 'Line one\nline two')
    assert.match(msg, expected)
    assert.match(msg, /GitHub says: Line one\)$/)
    assert.ok(!msg.includes('\n'), 'one line')
  }
})

test('readToken: GITHUB_TOKEN, trimmed; a clear error without one', () => {
  assert.equal(readToken(undefined, { GITHUB_TOKEN: ' ghp_abc\n' }), 'ghp_abc')
  assert.throws(() => readToken(undefined, {}), /no GitHub token: set GITHUB_TOKEN or pass --token-file FILE/)
  assert.throws(() => readToken(undefined, { GITHUB_TOKEN: '  ' }), /no GitHub token/)
})

test('sealSecret: base64 of a sealed box that only the matching private key opens', async () => {
  await sodium.ready
  const kp = sodium.crypto_box_keypair()
  const other = sodium.crypto_box_keypair()
  const pub = sodium.to_base64(kp.publicKey, sodium.base64_variants.ORIGINAL)
  const sealed = await sealSecret('the vault key', pub)
  assert.match(sealed, /^[A-Za-z0-9+/]+=*$/)
  const box = sodium.from_base64(sealed, sodium.base64_variants.ORIGINAL)
  assert.equal(box.length, 'the vault key'.length + sodium.crypto_box_SEALBYTES)
  assert.equal(sodium.to_string(sodium.crypto_box_seal_open(box, kp.publicKey, kp.privateKey)), 'the vault key')
  assert.throws(() => sodium.crypto_box_seal_open(box, other.publicKey, other.privateKey))
  assert.notEqual(await sealSecret('the vault key', pub), sealed, 'each seal uses a fresh ephemeral key')
})

test('sealSecret rejects a public key that is not 32 bytes of base64', async () => {
  await assert.rejects(sealSecret('x', 'AAAA'), /has 3 bytes, not 32/)
  await assert.rejects(sealSecret('x', '***'), /not base64/)
})
