import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GENERATED, envName, isSecretKey, parseInitArgs, planValues } from '../../src/cli/init.ts'
import { UsageError } from '../../src/cli/command.ts'

test('parseInitArgs: defaults', () => {
  assert.deepEqual(parseInitArgs([]), {
    root: '.', inventory: 'inventories/production', sets: new Map(), setFiles: new Map(), fromEnv: false, noInput: false, rotate: false,
    github: undefined, environment: undefined, deployKey: undefined, knownHosts: undefined, tokenFile: undefined, allowUnprotected: false,
  })
})

test('parseInitArgs: --github stores environment secrets (production) unless --repository-secrets', () => {
  assert.equal(parseInitArgs(['--github', 'o/r']).environment, 'production')
  assert.equal(parseInitArgs(['--github', 'o/r', '--environment', 'staging']).environment, 'staging')
  assert.equal(parseInitArgs(['--github', 'o/r', '--repository-secrets']).environment, undefined)
  assert.equal(parseInitArgs(['--github', 'o/r', '--environment', 'preview', '--allow-unprotected']).allowUnprotected, true)
})

test('parseInitArgs: every option', () => {
  const o = parseInitArgs([
    '--inventory', 'inventories/staging', '--set', 'vault_a=1=2', '--set', 'vault_b=', '--set-file', 'vault_c=key.pem', '--from-env', '--no-input',
    '--github', 'o/r', '--environment', 'staging', '--deploy-key', 'k', '--known-hosts', 'kh', '--token-file', 't', '--root', '/x',
  ])
  assert.equal(o.inventory, 'inventories/staging')
  assert.deepEqual([...o.sets], [['vault_a', '1=2'], ['vault_b', '']])
  assert.deepEqual([...o.setFiles], [['vault_c', 'key.pem']])
  assert.deepEqual([o.fromEnv, o.noInput, o.rotate], [true, true, false])
  assert.deepEqual([o.github, o.environment, o.deployKey, o.knownHosts, o.tokenFile, o.root], ['o/r', 'staging', 'k', 'kh', 't', '/x'])
})

test('parseInitArgs: bad input is one UsageError line', () => {
  const cases: [string[], RegExp][] = [
    [['--bogus'], /Unknown option '--bogus'/],
    [['extra'], /positional/i],
    [['--set', 'novalue'], /--set expects KEY=VALUE/],
    [['--set', 'bad-key=1'], /--set expects KEY=VALUE/],
    [['--set', 'a=1', '--set', 'a=2'], /a given twice/],
    [['--set', 'a=1', '--set-file', 'a=f'], /a given twice/],
    [['--set-file', 'a'], /--set-file expects KEY=FILE/],
    [['--set-file', 'a='], /--set-file a= needs a file name/],
    [['--rotate', '--set-file', 'a=f'], /--rotate changes the key/],
    [['--environment', 'production'], /--environment only makes sense with --github/],
    [['--repository-secrets'], /--repository-secrets only makes sense with --github/],
    [['--github', 'o/r', '--environment', 'e', '--repository-secrets'], /contradict/],
    [['--deploy-key', 'k'], /--deploy-key only makes sense with --github/],
    [['--allow-unprotected'], /--allow-unprotected only makes sense with --github/],
    [['--github', 'o/r', '--repository-secrets', '--allow-unprotected'], /repository secrets have none/],
    [['--token-file', 't'], /--token-file only makes sense with --github/],
    [['--github', 'nope'], /--github: "nope" is not a repository/],
    [['--github', 'o/r', '--environment', 'a/b'], /not an environment name/],
    [['--rotate', '--set', 'a=1'], /--rotate changes the key, not the values/],
    [['--rotate', '--from-env'], /--rotate changes the key/],
    [['--inventory', ''], /--inventory needs a value/],
    [['--inventory'], /argument missing/],
  ]
  for (const [argv, expected] of cases) {
    assert.throws(() => parseInitArgs(argv), (e: Error) => e instanceof UsageError && expected.test(e.message) && !e.message.includes('\n'), argv.join(' '))
  }
})

const example = {
  vault_django_secret_key: '', vault_database_password: '', vault_mailgun_api_key: '', vault_region: 'eu-west-3', vault_rollbar_token: '',
  vault_git_deploy_key: '',
}

test('planValues: --set, then the environment, then generators, then prompts, then the example, else empty', () => {
  const plan = planValues(example, new Map([['vault_database_password', 'given']]), {
    fromEnv: true, env: { VAULT_ROLLBAR_TOKEN: 'from-env', VAULT_DATABASE_PASSWORD: 'ignored' }, interactive: false,
  })
  const by = Object.fromEntries(plan.map((p) => [p.key, p]))
  assert.deepEqual(plan.map((p) => p.key), Object.keys(example))
  assert.equal(by.vault_database_password!.source, 'set')
  assert.equal(by.vault_database_password!.value, 'given')
  assert.equal(by.vault_rollbar_token!.source, 'env')
  assert.equal(by.vault_rollbar_token!.value, 'from-env')
  assert.equal(by.vault_django_secret_key!.source, 'generated')
  assert.equal(by.vault_django_secret_key!.value!.length, 50)
  assert.deepEqual(by.vault_region, { key: 'vault_region', source: 'example', value: 'eu-west-3' })
  assert.deepEqual(by.vault_mailgun_api_key, { key: 'vault_mailgun_api_key', source: 'empty', value: '' })
})

test('planValues: interactive runs ask for what is neither given nor generated', () => {
  const plan = planValues(example, new Map(), { fromEnv: false, env: { VAULT_ROLLBAR_TOKEN: 'not used' }, interactive: true })
  assert.deepEqual(plan.filter((p) => p.source === 'ask').map((p) => p.key), ['vault_mailgun_api_key', 'vault_region', 'vault_rollbar_token'])
  assert.deepEqual(plan.filter((p) => p.source === 'generated').map((p) => p.key), ['vault_django_secret_key', 'vault_database_password'])
  // A multi-line SSH key cannot be typed at a prompt: --set-file, or empty.
  assert.deepEqual(plan.find((p) => p.key === 'vault_git_deploy_key'), { key: 'vault_git_deploy_key', source: 'empty', value: '' })
})

test('GENERATED: Django secret key, database password, admins\' sudo password (8+ characters for bootstrap)', () => {
  assert.deepEqual(Object.keys(GENERATED), ['vault_django_secret_key', 'vault_database_password', 'vault_admin_sudo_password'])
  assert.match(GENERATED.vault_admin_sudo_password!(), /^[A-Za-z0-9]{20}$/)
})

test('planValues: --set of a key the example does not list is refused', () => {
  assert.throws(
    () => planValues(example, new Map([['vault_typo', 'x']]), { fromEnv: false, env: {}, interactive: false }),
    (e: Error) => e instanceof UsageError && /vault_typo: not in vault.example.yml/.test(e.message),
  )
})

test('envName and isSecretKey', () => {
  assert.equal(envName('vault_mailgun_api_key'), 'VAULT_MAILGUN_API_KEY')
  assert.deepEqual(
    ['vault_mailgun_api_key', 'vault_backup_s3_secret_key', 'vault_rollbar_token', 'vault_admin_sudo_password', 'vault_backup_age_identity', 'vault_mailgun_domain', 'vault_backup_s3_bucket'].map(isSecretKey),
    [true, true, true, true, true, false, false],
  )
})
