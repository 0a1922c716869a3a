// The validation pass, as a user meets it: the action (src/action/index.ts) and the CLI's deploy
// run as processes on a scratch repository, with a stand-in ansible-playbook that records whether
// it started. Each bad input: one line, the exit code the README states, ansible-playbook never
// started, no file written, no secret (nor a 20-character piece of one) in stdout, summary, outputs.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkKnownHosts, checkPrivateKey, knownHostsLineProblem } from '../../src/core/ssh-check.ts'
import { normaliseExtraVars } from '../../src/core/extra-vars.ts'
import { secretPieces, scrub } from '../../src/core/secrets.ts'
import { openVault } from '../../src/core/vault-read.ts'
import { ValidationError } from '../../src/core/errors.ts'
import { parsePlanConfig } from '../../src/core/plan/config.ts'
import { preflight } from '../../src/core/preflight.ts'
import { step } from '../../src/action/step.ts'
import { dispatch } from '../../src/cli/dispatch.ts'
import { command as deploy } from '../../src/cli/deploy.ts'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

// Made with ansible-vault (ansible-core 2.14) and the key below: a whole-file vault and an inline value.
const VAULT_KEY = 'unit-test-vault-key'
const WHOLE_VAULT = `$ANSIBLE_VAULT;1.1;AES256
31316634643132323533323332383465363263653333346533326237663638333563643066323337
3633313337316562623732663030313038613739623163610a356362303139383630326331366330
62643966363266633634373837653537393963393336383662643830393330646565623037323361
6563616339626561360a366135656264326436346664396535336462333364383934633839343737
30636265393931333837656538396432313035313561633734323033633262383766336537646666
38373561393933343765373065333330396238643734333636656633623438336237366664353533
34616239616631356330643832303262396331633664636461616333636465306635313666656536
62353763666333663465396563646463303330613637366137623231363836393166353364626635
63346431356639663062626466653365326530636637643866316464313961306262626661623465
62303734346134393739393735646666326630643931343030356664376533313162373338393133
37306565663762623630386636663662613966623337633664383533383538363236643933336333
62343137326235336463646439653162633831373362343433303832646634316262323065623661
34303333356431366638336231353331666436386266333662646364343937663365623165303366
64656235623863663538313830363035366136376663633565346564633961323763343538343231
39383463366133373232383762613435336630396139323762376362363761663736636662373963
63323533333136663830343338343831663162663730323538623531663061653332343033316461
33623831633565393739626235313032353934303837396461353364633139306338663630636162
3238626164623637343539396161653235303062613931303934
`
const INLINE_VAULT = `vault_rollbar_token: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          61326462336432393965623266613437393639663134343062373961383166323538376563656639
          6466656439663663663763323035616137316436376464350a323830663764306630383135393866
          61663862613434313065386238386534643436383634383932656534613435323666666365306462
          3133393135363637310a386166613466323731373537366632396366636663393638666135333232
          38303039353337613634333666623631353734636465333332373733646137376639626537656164
          6331306564653364366462383066663462363935663632636334
`
/** What the two vaults hold. */
const VAULT_VALUES = [
  'django-secret-0123456789abcdefghijklmnopqrstuvwxyz',
  'dbpass-ABCDEFGHIJKLMNOPQRST',
  'line-one-of-a-multiline-secret-value',
  'line-two-of-a-multiline-secret-value',
  'inline-secret-ZYXWVUTSRQPONMLKJIHG',
]

let work: string
let keys: { ok: string; passphrase: string; ecPem: string; hostLine: string }

function sshKeygen(file: string, type: string, passphrase: string, pem = false): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(pem ? ['-m', 'PEM'] : []), '-N', passphrase, '-C', 'test', '-f', file])
  return readFileSync(file, 'utf8')
}

/** A scratch repository: playbooks, an inventory with a whole-file vault and an inline vault value, git. */
function makeRepo(dir: string, opts: { planFile?: string; inlineOnly?: boolean; hosts?: string; planFileUnreadable?: boolean } = {}): string {
  const repo = join(dir, 'repo')
  mkdirSync(join(repo, 'playbooks'), { recursive: true })
  for (const p of ['bootstrap', 'base', 'backend', 'frontend']) writeFileSync(join(repo, 'playbooks', `${p}.yml`), '- hosts: all\n  tasks: []\n')
  mkdirSync(join(repo, 'inventories/production/group_vars/all'), { recursive: true })
  writeFileSync(join(repo, 'inventories/production/hosts.yml'), opts.hosts ?? 'all:\n  hosts:\n    web1:\n')
  if (!opts.inlineOnly) writeFileSync(join(repo, 'inventories/production/group_vars/all/vault.yml'), WHOLE_VAULT)
  writeFileSync(join(repo, 'inventories/production/group_vars/all/vars.yml'), `project_slug: example\n${INLINE_VAULT}`)
  writeFileSync(join(repo, 'vars.yml'), 'release: from-a-file\n')
  if (opts.planFile !== undefined) {
    mkdirSync(join(repo, '.github'), { recursive: true })
    writeFileSync(join(repo, '.github/deploy-plan.yml'), opts.planFile)
  }
  // An injected failure, not bad input: a directory where the override file goes (reading it fails with EISDIR).
  if (opts.planFileUnreadable) mkdirSync(join(repo, '.github/deploy-plan.yml'), { recursive: true })
  const git = (...a: string[]) => execFileSync('git', a, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } })
  git('init', '-q', '-b', 'main')
  git('add', '-A')
  git('commit', '-qm', 'init')
  return repo
}

/** A stand-in ansible-playbook: answers --version, records each start (arguments, INPUT_* variables). */
function fakeAnsible(dir: string): string {
  const bin = join(dir, 'bin')
  mkdirSync(bin, { recursive: true })
  writeFileSync(join(bin, 'ansible-playbook'), `#!/bin/sh
[ "$1" = --version ] && { echo "ansible-playbook [core 2.14.0]"; exit 0; }
{ printf '%s\\n' "$@"; env | grep -c '^INPUT_' ; } > "$FAKE_MARKER"
if [ -n "$FAKE_RESULTS" ]; then printf '%s\\n' "$FAKE_RESULTS" > "$DJANGO_DEPLOY_RESULTS"; exit 2; fi
printf '{"event":"stats","hosts":{"web1":{"ok":1}}}\\n' > "$DJANGO_DEPLOY_RESULTS"
`)
  chmodSync(join(bin, 'ansible-playbook'), 0o755)
  // The real ansible-inventory beside it: the layout is read as with a real installation.
  symlinkSync(execFileSync('sh', ['-c', 'command -v ansible-inventory']).toString().trim(), join(bin, 'ansible-inventory'))
  return bin
}

interface Run { code: number; stdout: string; stderr: string; summary: string; outputs: string; started: string | undefined; written: string[] }

/**
 * Runs `fn` in this process with `env` as the whole environment, capturing what it writes to
 * stdout and stderr, and the exit code. Sequential by nature (one process.env); fast in-process.
 */
async function inProcess(env: Record<string, string>, fn: () => Promise<number | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  const savedEnv = { ...process.env }
  const out = process.stdout.write.bind(process.stdout)
  const err = process.stderr.write.bind(process.stderr)
  let stdout = ''
  let stderr = ''
  for (const k of Object.keys(process.env)) delete process.env[k]
  Object.assign(process.env, env)
  // Strings are ours (@actions/core, the CLI); the test runner's own messages are binary: let them through.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => (typeof chunk === 'string' ? (stdout += chunk, true) : out(chunk, ...rest))) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => (typeof chunk === 'string' ? (stderr += chunk, true) : err(chunk, ...rest))) as typeof process.stderr.write
  process.exitCode = 0
  let code: number
  try {
    const r = await fn()
    code = r ?? Number(process.exitCode ?? 0)
  } finally {
    process.stdout.write = out
    process.stderr.write = err
    for (const k of Object.keys(process.env)) delete process.env[k]
    Object.assign(process.env, savedEnv)
    process.exitCode = 0
  }
  return { code, stdout, stderr }
}

const baseEnv = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('INPUT_') && !k.startsWith('GITHUB_') && !k.startsWith('RUNNER_') && !k.startsWith('STATE_')) env[k] = v
  return env
}

const status = (repo: string) => execFileSync('git', ['status', '--porcelain', '--ignored'], { cwd: repo }).toString().trim().split('\n').filter(Boolean)

let caseNo = 0
async function runAction(inputs: Record<string, string>, opts: { env?: Record<string, string>; planFile?: string; inlineOnly?: boolean; hosts?: string; planFileUnreadable?: boolean } = {}): Promise<Run> {
  const dir = join(work, `action-${++caseNo}`)
  mkdirSync(dir)
  const repo = makeRepo(dir, opts)
  const bin = fakeAnsible(dir)
  const runner = join(dir, 'runner')
  mkdirSync(runner)
  // @actions/core keeps the summary's path once known: one file for every case, emptied first.
  const summary = join(work, 'summary')
  for (const f of [join(dir, 'output'), summary, join(dir, 'state')]) writeFileSync(f, '')
  const env: Record<string, string> = {
    ...baseEnv(), PATH: `${bin}:${process.env.PATH}`, GITHUB_WORKSPACE: repo, RUNNER_TEMP: runner,
    GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STEP_SUMMARY: summary, GITHUB_STATE: join(dir, 'state'),
    FAKE_MARKER: join(dir, 'started'), GITHUB_EVENT_NAME: 'workflow_dispatch',
    'INPUT_ANSIBLE-VERSION': 'system', INPUT_PLAYBOOKS: 'base', 'INPUT_VAULT-KEY': VAULT_KEY,
    ...opts.env,
  }
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v
  const r = await inProcess(env, async () => { await step(); return undefined })
  return {
    ...r, summary: readFileSync(summary, 'utf8'), outputs: readFileSync(join(dir, 'output'), 'utf8'),
    started: existsSync(join(dir, 'started')) ? readFileSync(join(dir, 'started'), 'utf8') : undefined,
    written: [...readdirSync(runner).map((f) => `RUNNER_TEMP/${f}`), ...status(repo)],
  }
}

async function runCli(args: string[], opts: { key?: string; planFile?: string; inlineOnly?: boolean; hosts?: string; adhoc?: string; planFileUnreadable?: boolean } = {}): Promise<Run> {
  const dir = join(work, `cli-${++caseNo}`)
  mkdirSync(dir)
  const repo = makeRepo(dir, opts)
  const bin = fakeAnsible(dir)
  // A stand-in for the state read's ad-hoc `ansible`, printing its --one-line answers.
  if (opts.adhoc !== undefined) {
    writeFileSync(join(bin, 'ansible'), `#!/bin/sh\ncat <<'EOF'\n${opts.adhoc}\nEOF\n`)
    chmodSync(join(bin, 'ansible'), 0o755)
  }
  const keyFile = join(dir, 'vault.key')
  writeFileSync(keyFile, `${opts.key ?? VAULT_KEY}\n`, { mode: 0o600 })
  const tmp = join(dir, 'tmp')
  mkdirSync(tmp)
  const env = { ...baseEnv(), FAKE_MARKER: join(dir, 'started'), TMPDIR: tmp }
  const argv = ['deploy', '--dir', repo, '--vault-key', keyFile, '--ansible-playbook', join(bin, 'ansible-playbook'), ...args]
  const r = await inProcess(env, () => dispatch(argv, [deploy], { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }))
  return {
    ...r, summary: '', outputs: '',
    started: existsSync(join(dir, 'started')) ? readFileSync(join(dir, 'started'), 'utf8') : undefined,
    written: [...readdirSync(tmp).map((f) => `TMPDIR/${f}`), ...status(repo)],
  }
}

/** 20-character pieces of each secret line (armour lines are not secret). */
function pieces(secrets: string[]): string[] {
  const out = new Set<string>()
  for (const s of secrets) {
    for (const line of s.split('\n').map((l) => l.trim()).filter((l) => l && !/^-----(BEGIN|END) /.test(l))) {
      if (line.length <= 20) out.add(line)
      else for (let i = 0; i + 20 <= line.length; i++) out.add(line.slice(i, i + 20))
    }
  }
  return [...out]
}

/** The log as a reader sees it: without the ::add-mask:: commands the runner consumes. */
const visible = (stdout: string) => stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')

function assertNoSecret(r: Run, secrets: string[]): void {
  const haystacks = { stdout: visible(r.stdout), stderr: r.stderr, summary: r.summary, outputs: r.outputs }
  for (const p of pieces(secrets)) {
    for (const [name, text] of Object.entries(haystacks)) assert.ok(!text.includes(p), `a piece of a secret in ${name}: …${p.slice(0, 4)}…`)
  }
}

/** The one error line: the action's only ::error::, or the CLI's stderr line. */
function errorLine(r: Run, kind: 'action' | 'cli'): string {
  if (kind === 'cli') {
    const lines = r.stderr.trim().split('\n').filter(Boolean)
    assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`)
    return lines[0]!
  }
  const errors = r.stdout.split('\n').filter((l) => l.startsWith('::error'))
  assert.equal(errors.length, 1, `one ::error::, got ${errors.length}: ${errors.join('\n')}`)
  assert.ok(!errors[0]!.includes('%0A'), 'the error is one line')
  return errors[0]!
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'preflight-test-'))
  const k = join(work, 'keys')
  mkdirSync(k)
  keys = {
    ok: sshKeygen(join(k, 'ok'), 'ed25519', ''),
    passphrase: sshKeygen(join(k, 'enc'), 'ed25519', 'a pass phrase'),
    ecPem: sshKeygen(join(k, 'ec'), 'ecdsa', '', true),
    hostLine: '',
  }
  sshKeygen(join(k, 'host'), 'ed25519', '')
  keys.hostLine = `[198.18.0.2]:2222 ${readFileSync(join(k, 'host.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ')}`
})
after(() => rmSync(work, { recursive: true, force: true }))

describe('validation helpers (pure)', () => {
  test('openVault: the right key opens, a wrong one is told apart from a broken vault', () => {
    const r = openVault(WHOLE_VAULT, VAULT_KEY)
    assert.ok(r.ok && r.plaintext.includes(VAULT_VALUES[1]!))
    assert.deepEqual(openVault(WHOLE_VAULT, 'wrong'), { ok: false, why: 'key' })
    assert.deepEqual(openVault('$ANSIBLE_VAULT;1.1;AES256\nzz\n', VAULT_KEY), { ok: false, why: 'format' })
  })

  test('secret pieces: whole values and each line, longest first; scrub replaces them', () => {
    const p = secretPieces(['one-secret', 'a\nline-two-secret\nx'])
    assert.deepEqual(p, ['a\nline-two-secret\nx', 'line-two-secret', 'one-secret'])
    assert.equal(scrub('got one-secret and line-two-secret', p), 'got *** and ***')
  })

  test('secret pieces of a PEM key: the whole key and each body line, not the armour lines; short values skipped', () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAABBBBCCCC\nDDDDEEEEFFFF\n-----END OPENSSH PRIVATE KEY-----'
    assert.deepEqual(secretPieces([key, 'abc']), [key, 'AAAABBBBCCCC', 'DDDDEEEEFFFF'])
  })

  const hostLines: [string, string | RegExp | undefined][] = [
    ['example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO+Wgua2rTujgQwru/2Dvcx9NWcp6DLGL+MWVgnzk7X3', undefined],
    ['[198.18.0.2]:2222,web1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO+Wgua2rTujgQwru/2Dvcx9NWcp6DLGL+MWVgnzk7X3 comment', undefined],
    ['@cert-authority *.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO+Wgua2rTujgQwru/2Dvcx9NWcp6DLGL+MWVgnzk7X3', undefined],
    ['foo bar baz', /no known key type/],
    ['example.com', /is not "host key-type base64-key"/],
    ['example.com ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIO+Wgua2rTujgQwru/2Dvcx9NWcp6DLGL+MWVgnzk7X3', /not a ssh-rsa key/],
    ['example.com ssh-ed25519 not*base64', /not base64/],
    ['http://example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO+Wgua2rTujgQwru/2Dvcx9NWcp6DLGL+MWVgnzk7X3', /host names or patterns/],
    ['-----BEGIN OPENSSH PRIVATE KEY-----', /private key/],
    ['b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW', /private key/],
  ]
  for (const [line, want] of hostLines) {
    test(`known_hosts line "${line.slice(0, 30)}": ${want ? 'refused' : 'accepted'}`, () => {
      const p = knownHostsLineProblem(line)
      if (!want) assert.equal(p, undefined)
      else assert.match(p ?? '', want as RegExp)
    })
  }

  test('private keys: usable ones pass; garbage, passphrase and truncation are told apart, never quoted', () => {
    checkPrivateKey(keys.ok, 'k', 'fix')
    checkPrivateKey(keys.ecPem, 'k', 'fix')
    const body = keys.ok.split('\n')
    const cases: [string, RegExp][] = [
      [keys.passphrase, /protected by a passphrase/],
      ['-----BEGIN OPENSSH PRIVATE KEY-----\nZ2FyYmFnZSBnYXJiYWdlIGdhcmJhZ2U=\n-----END OPENSSH PRIVATE KEY-----', /not a usable private key/],
      [[...body.slice(0, 3), ...body.slice(-2)].join('\n'), /not a usable private key/],
      [keys.ecPem.split('\n').map((l, i) => (i === 1 ? 'A'.repeat(l.length) : l)).join('\n'), /not a usable private key/],
      ['hunter2-secret-value', /not a private key/],
    ]
    for (const [text, re] of cases) {
      assert.throws(() => checkPrivateKey(text, 'input "ssh-private-key"', 'fix'), (e: Error) => re.test(e.message) && pieces([text]).every((p) => !e.message.includes(p)))
    }
  })

  test('known_hosts text: the bad line is named by number, never quoted', () => {
    assert.throws(() => checkKnownHosts(`# pinned\n${keys.hostLine}\n${keys.ecPem}`, 'input "known-hosts"', 'fix'),
      (e: Error) => /^input "known-hosts": line 3 looks like part of a private key/.test(e.message) && pieces([keys.ecPem]).every((p) => !e.message.includes(p)))
  })

  const extraVars: [string, string | RegExp | undefined][] = [
    ['{"release": "v1 2"}', '{"release":"v1 2"}'],
    ['{release: v1}', '{"release":"v1"}'],
    ['release: v1\nworkers: 3\n', '{"release":"v1","workers":3}'],
    ['release=v1 debug=true', 'release=v1 debug=true'],
    ['@vars.yml', '@vars.yml'],
    ['', undefined],
    ['{"a" "b"}', /^--extra-vars: not valid JSON or YAML at line 1, column \d+ \(/],
    ['{a: [}', /^--extra-vars: not valid JSON or YAML at line 1/],
    ['@missing.yml', /^--extra-vars: missing\.yml does not exist in /],
    ['@sub/../vars.yml', '@sub/../vars.yml'],
    ['@../outside.yml', /^--extra-vars: @\.\.\/outside\.yml is outside .*: name a file of the repository/],
    ['@link.yml', /^--extra-vars: @link\.yml is outside /],
    ['@/etc/passwd', /^--extra-vars: @\/etc\/passwd is outside /],
    ['[1, 2]', /not a mapping/],
    ['just words', /not a mapping/],
  ]
  for (const [raw, want] of extraVars) {
    test(`extra-vars ${JSON.stringify(raw).slice(0, 30)}: ${want instanceof RegExp ? 'refused' : 'passed as ' + String(want)}`, () => {
      const top = mkdtempSync(join(work, 'ev-'))
      const dir = join(top, 'repo')
      mkdirSync(join(dir, 'sub'), { recursive: true })
      writeFileSync(join(dir, 'vars.yml'), 'a: 1\n')
      // A file beside the repository, and a link in the repository pointing at it.
      writeFileSync(join(top, 'outside.yml'), 'a: 1\n')
      symlinkSync(join(top, 'outside.yml'), join(dir, 'link.yml'))
      if (want instanceof RegExp) {
        assert.throws(() => normaliseExtraVars(raw, '--extra-vars', dir), (e: Error) => want.test(e.message) && !e.message.includes('\n'))
      } else {
        assert.equal(normaliseExtraVars(raw, '--extra-vars', dir), want)
      }
    })
  }

  test('a malformed plan file: file:line:column and the message, no code frame', () => {
    assert.throws(() => parsePlanConfig('app:\n  - "app/**\nrules: [\n'), (e: Error) => /^\.github\/deploy-plan\.yml:\d+:\d+: /.test(e.message) && !e.message.includes('\n') && !e.message.includes('^'))
  })
})

interface Case {
  name: string
  inputs?: Record<string, string>
  env?: Record<string, string>
  planFile?: string
  inlineOnly?: boolean
  cli?: { args: string[]; key?: string }
  /** The error line, or undefined for a run that must succeed. */
  error: RegExp
  /** Secrets the case handles, besides the vault's. */
  secrets?: () => string[]
}

const wrongKey = 'not-the-vault-key-0123456789'
const cases: Case[] = [
  { name: 'a vault key that does not open the vault', inputs: { 'vault-key': wrongKey }, cli: { args: ['base'], key: wrongKey },
    error: /the vault key does not open inventories\/production\/group_vars\/all\/vault\.yml: .*secrets\.ANSIBLE_VAULT_KEY/, secrets: () => [wrongKey] },
  { name: 'an empty vault key with a vault file', inputs: { 'vault-key': '' },
    error: /the vault key is empty but inventories\/production\/group_vars\/all\/vault\.yml is encrypted: .*secrets\.ANSIBLE_VAULT_KEY/ },
  { name: 'an empty vault key with inline !vault values only', inputs: { 'vault-key': '' }, inlineOnly: true,
    error: /the vault key is empty but inventories\/production\/group_vars\/all\/vars\.yml:2 \(vault_rollbar_token\) is encrypted: .*secrets\.ANSIBLE_VAULT_KEY/ },
  { name: 'a vault key that does not open an inline !vault value', inputs: { 'vault-key': wrongKey }, inlineOnly: true, cli: { args: ['base'], key: wrongKey },
    error: /the vault key does not open inventories\/production\/group_vars\/all\/vars\.yml:2 \(vault_rollbar_token\)/, secrets: () => [wrongKey] },
  { name: 'a private key pasted into known-hosts', inputs: { 'known-hosts': '' }, error: /input "known-hosts": line 2 looks like part of a private key/,
    secrets: () => [keys.ecPem] },
  { name: 'a known-hosts line that is not one', inputs: { 'known-hosts': 'foo bar baz' }, error: /input "known-hosts": line 1 has no known key type/ },
  { name: 'an SSH key that is armour around garbage', inputs: { 'ssh-private-key': '-----BEGIN OPENSSH PRIVATE KEY-----\nZ2FyYmFnZSBnYXJiYWdlIGdhcmJhZ2UgZ2FyYmFnZQ==\n-----END OPENSSH PRIVATE KEY-----' },
    error: /input "ssh-private-key": the text between the BEGIN and END lines is not a usable private key/ },
  { name: 'an SSH key with a passphrase', inputs: { 'ssh-private-key': '' }, error: /input "ssh-private-key": the private key is protected by a passphrase/, secrets: () => [keys.passphrase] },
  { name: 'extra-vars that are neither JSON nor YAML', inputs: { 'extra-vars': '{release: [v1}' }, cli: { args: ['base', '--extra-vars', '{release: [v1}'] },
    error: /extra-vars"?: not valid JSON or YAML at line 1, column \d+/ },
  { name: 'extra-vars @file that does not exist', inputs: { 'extra-vars': '@nowhere.yml' }, cli: { args: ['base', '--extra-vars', '@nowhere.yml'] },
    error: /extra-vars"?: nowhere\.yml does not exist/ },
  { name: 'a push whose event file is missing', inputs: { playbooks: 'auto' }, env: { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: '/nonexistent/event.json' },
    error: /the push event's file \/nonexistent\/event\.json does not exist/ },
  { name: 'an event file that is not JSON', inputs: { playbooks: 'auto' }, env: { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: join(repoRoot, 'README.md') },
    error: /the event file .*README\.md \(GITHUB_EVENT_PATH\) is not JSON/ },
  { name: 'a malformed .github/deploy-plan.yml', inputs: { playbooks: 'auto' }, planFile: 'rules:\n  - paths: [app/**\n    playbooks: backend\n',
    cli: { args: ['--from', 'HEAD'] }, error: /\.github\/deploy-plan\.yml:\d+:\d+: [^\n]*\(fix the YAML/ },
  { name: 'a boolean input that is not one', inputs: { check: 'yes' }, error: /input "check": "yes" is not a boolean/ },
]

describe('the action refuses bad input in one line, before anything runs', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const inputs = { ...c.inputs }
      // Secrets generated in before(): filled in here.
      if (c.name.startsWith('a private key pasted')) inputs['known-hosts'] = `${keys.hostLine}\n${keys.ecPem}`
      if (c.name.startsWith('an SSH key with a passphrase')) inputs['ssh-private-key'] = keys.passphrase
      if (c.env?.GITHUB_EVENT_NAME === 'push') inputs.playbooks = 'auto'
      const r = await runAction(inputs, { env: c.env, planFile: c.planFile, inlineOnly: c.inlineOnly })
      assert.match(errorLine(r, 'action'), c.error)
      assert.equal(r.code, 1, 'the step fails (exit code 1)')
      assert.equal(r.started, undefined, 'ansible-playbook never started')
      assert.deepEqual(r.written, [], 'no file written')
      assertNoSecret(r, [...VAULT_VALUES, VAULT_KEY, ...(c.secrets?.() ?? [])])
    })
  }
})

describe('the CLI refuses the same bad input in one line, exit code 2', () => {
  for (const c of cases.filter((x) => x.cli)) {
    test(c.name, async () => {
      const r = await runCli(c.cli!.args, { key: c.cli!.key, planFile: c.planFile, inlineOnly: c.inlineOnly })
      assert.match(errorLine(r, 'cli'), c.error)
      assert.equal(r.code, 2)
      assert.equal(r.started, undefined, 'ansible-playbook never started')
      assert.deepEqual(r.written, [], 'no file written')
      assertNoSecret(r, [...VAULT_VALUES, VAULT_KEY, ...(c.secrets?.() ?? [])])
    })
  }
})

describe('an inventory layout that cannot work stops the run before the state read, in one line', () => {
  const hosts = 'all:\n  children:\n    webservers:\n      children:\n        appservers: {hosts: {web1: }}\n        dbservers: {hosts: {db1: , db2: }}\n'
  const line = /inventory layout: dbservers has db1, db2: the roles run one database server \(no replication\): keep one in dbservers$/
  test('action: one ::error::, the summary says why, ansible-playbook never started', async () => {
    const r = await runAction({}, { hosts })
    assert.match(errorLine(r, 'action'), line)
    assert.equal(r.code, 1)
    assert.equal(r.started, undefined, 'ansible-playbook never started')
    assert.match(r.summary, /Stopped while planning \(nothing ran\): inventory layout: dbservers has db1, db2/)
    assert.doesNotMatch(r.stdout, /Deploy state read/)
  })
  test('CLI: exit code 2, nothing left behind', async () => {
    const r = await runCli(['base'], { hosts })
    assert.match(errorLine(r, 'cli'), line)
    assert.equal(r.code, 2)
    assert.equal(r.started, undefined, 'ansible-playbook never started')
    assert.deepEqual(r.written, [], 'no file written')
  })
})

describe('an unreachable host fails the CLI\'s deploy', () => {
  test('its only server unreachable: nothing runs, one line naming it on stderr, exit code 1', async () => {
    const r = await runCli([], { adhoc: 'web1 | UNREACHABLE!: Failed to connect to the host via ssh: ssh: connect to host 192.0.2.1 port 22: Connection timed out' })
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.equal(r.started, undefined, 'ansible-playbook never started')
    assert.match(errorLine(r, 'cli'), /^web1 was not deployed: unreachable \(Failed to connect to the host via ssh: ssh: connect to host 192\.0\.2\.1 port 22: Connection timed out\): its deploy state is unknown, so it may lack [0-9a-f]{7}/)
    assert.doesNotMatch(r.stdout, /Nothing to deploy/)
  })
})

describe('good input runs, with the vault masked and the inputs kept from Ansible', () => {
  test('action: YAML extra-vars reach ansible-playbook as JSON; no INPUT_* in its environment; vault values masked', async () => {
    const r = await runAction({ 'extra-vars': 'release: v1\nworkers: 3', 'ssh-private-key': keys.ok, 'known-hosts': keys.hostLine })
    assert.equal(r.code, 0, r.stdout)
    assert.ok(r.started, 'ansible-playbook started')
    const lines = r.started!.trim().split('\n')
    assert.deepEqual(lines.slice(-3), ['--extra-vars', '{"release":"v1","workers":3}', '0'], 'JSON extra-vars, and 0 INPUT_* variables')
    const masked = r.stdout.split('\n').filter((l) => l.startsWith('::add-mask::')).map((l) => l.slice('::add-mask::'.length))
    for (const v of VAULT_VALUES) assert.ok(masked.includes(v), `vault value registered with setSecret: ${v.slice(0, 4)}…`)
    assertNoSecret(r, [...VAULT_VALUES, VAULT_KEY, keys.ok])
  })

  test('action: a failed task gives exactly one ::error:: with its own message, scrubbed of vault values', async () => {
    const msg = `failed to validate: nginx: [emerg] unknown directive "bogus" in /etc/nginx/x.conf:3 (${VAULT_VALUES[1]})`
    const results = [
      { event: 'task', play: 'p', task: 'The site is valid', host: 'web1', path: 'roles/x/tasks/main.yml:3', status: 'failed', msg },
      { event: 'stats', hosts: { web1: { failed: 1 } } },
    ].map((e) => JSON.stringify(e)).join('\n')
    const r = await runAction({}, { env: { FAKE_RESULTS: results } })
    assert.equal(r.code, 1, r.stdout)
    const line = errorLine(r, 'action')
    assert.match(line, /base failed: "The site is valid" failed on web1: failed to validate: nginx: \[emerg\] unknown directive "bogus"/)
    assert.match(r.summary, /unknown directive "bogus"/)
    assert.match(r.outputs, /unknown directive/)
    assertNoSecret(r, [...VAULT_VALUES, VAULT_KEY])
  })

  test('action: a push deleting a branch plans nothing and runs nothing', async () => {
    const event = join(work, 'deleted-event.json')
    writeFileSync(event, JSON.stringify({ ref: 'refs/heads/feature', before: 'a'.repeat(40), after: '0'.repeat(40), deleted: true }))
    const r = await runAction({ playbooks: 'auto' }, { env: { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: event } })
    assert.equal(r.code, 0, r.stdout)
    assert.equal(r.started, undefined)
    assert.match(r.outputs, /status<<[^\n]*\nskipped/)
  })

  test('CLI: YAML extra-vars reach ansible-playbook as JSON', async () => {
    const r = await runCli(['base', '--extra-vars', '{release: v1}'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.ok(r.started?.includes('{"release":"v1"}'))
  })
})

describe('a failure is not bad input: only validation errors exit 2', () => {
  const input = (root: string) => ({ root, inventory: 'inventories/production', vaultKey: VAULT_KEY, vaultKeyFix: 'fix', extraVars: '', extraVarsWhere: '--extra-vars' })

  test('preflight hands forward what it read: the override file and the event', () => {
    const dir = join(work, `direct-${++caseNo}`)
    mkdirSync(dir)
    const repo = makeRepo(dir, { planFile: 'app: [web/]\n' })
    const event = join(dir, 'event.json')
    writeFileSync(event, JSON.stringify({ ref: 'refs/heads/main' }))
    const r = preflight({ ...input(repo), eventEnv: { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: event } })
    assert.deepEqual(r.planConfig.app, ['web', 'web/**'])
    assert.equal(r.planConfig.inventory, 'inventories/production')
    assert.deepEqual(r.event, { name: 'push', payload: { ref: 'refs/heads/main' } })
    assert.deepEqual(r.vaultFiles.sort(), ['inventories/production/group_vars/all/vars.yml', 'inventories/production/group_vars/all/vault.yml'])
  })

  test('preflight: bad input is a ValidationError; an unreadable file passes through as the failure it is', () => {
    const dir = join(work, `direct-${++caseNo}`)
    mkdirSync(dir)
    mkdirSync(join(dir, 'a'))
    const bad = makeRepo(join(dir, 'a'), { planFile: 'apps: []\n' })
    assert.throws(() => preflight(input(bad)), (e: Error) => e instanceof ValidationError)
    mkdirSync(join(dir, 'b'))
    const broken = makeRepo(join(dir, 'b'), { planFileUnreadable: true })
    assert.throws(() => preflight(input(broken)), (e: Error) => !(e instanceof ValidationError) && /EISDIR/.test(e.message))
  })

  test('CLI: an injected failure exits 1 with one line, nothing run', async () => {
    const r = await runCli(['base'], { planFileUnreadable: true })
    assert.equal(r.code, 1)
    assert.match(errorLine(r, 'cli'), /^django-deploy deploy: EISDIR/)
    assert.equal(r.started, undefined)
  })

  test('action: an injected failure fails the step with one ::error:: line, nothing run', async () => {
    const r = await runAction({}, { planFileUnreadable: true })
    assert.equal(r.code, 1)
    assert.match(errorLine(r, 'action'), /EISDIR/)
    assert.equal(r.started, undefined)
  })
})
