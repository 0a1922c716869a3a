// Migration safety on one server (backend + frontend, PostgreSQL), under load: a release with an
// additive migration deploys with no failed request; a release dropping a column the serving release
// reads is refused before anything changes with backend_breaking_migrations: refuse, and by default
// deploys behind the maintenance page (503 + Retry-After, static files still served): no 500.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PLAIN_SITE_VARS, startLab, type Lab, type PlaybookResult } from '../../src/lab/index.ts'
import { appCopy } from '../support/app.ts'
import { get as httpGet } from '../support/http.ts'
import { PAGE_LOAD, startHey } from '../support/load.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const LONG = { timeout: 40 * 60_000 }
const HOST = 'web1.test'
const ROOT = '/srv/example-org/example'
const FLAG = '/var/lib/django-deploy/example-org-example.maintenance'

/** A migration file of the pages app. */
function migration(app: string, name: string, after: string, operations: string[]): void {
  writeFileSync(join(app, `pages/migrations/${name}.py`), [
    'from django.db import migrations, models',
    '',
    '',
    'class Migration(migrations.Migration):',
    `    dependencies = [("pages", "${after}")]`,
    '    operations = [',
    ...operations.map((o) => `        ${o},`),
    '    ]',
    '',
  ].join('\n'))
}

/** Edits the Note model's fields: `edit` gets models.py's text. */
function editModels(app: string, edit: (text: string) => string): void {
  const models = join(app, 'pages/models.py')
  writeFileSync(models, edit(readFileSync(models, 'utf8')))
}

const CREATED = '    created = models.DateTimeField(auto_now_add=True)\n'
const EXTRA = '    extra = models.IntegerField(null=True)\n'

describe('migrations: additive ones keep the zero-downtime switch, breaking ones the maintenance page or a refusal', () => {
  let lab: Lab
  let inventory: string
  let address: string
  let work: string
  /** 1.1.0's release adds a nullable column; 2.0.0's drops it again (1.1.0 reads it in every query). */
  let additive: string
  let dropping: string

  const get = (path: string) => httpGet(`http://${address}${path}`, HOST, 30_000)
  const version = async () => (await get('/')).body.match(/id="version">([^<]*)</)?.[1]
  const sql = async (query: string) => (await lab.ssh('web1', `runuser -u postgres -- psql -tA -d example -c "${query}"`)).stdout.trim()
  const noteColumns = () => sql("SELECT column_name FROM information_schema.columns WHERE table_name = 'pages_note' ORDER BY 1")
  const releases = async () => (await lab.ssh('web1', `ls -1 ${ROOT}/releases`)).stdout.trim().split('\n').filter(Boolean)
  const dumps = async () => (await lab.ssh('web1', `find ${ROOT}/releases -maxdepth 2 -name .pre-migrate.dump | wc -l`)).stdout.trim()

  async function run(playbook: string, extraVars: Record<string, unknown> = {}): Promise<PlaybookResult & { seconds: number }> {
    const t0 = Date.now()
    const r = await lab.runPlaybook(playbook, { inventory, extraVars })
    return { ...r, seconds: Math.round((Date.now() - t0) / 1000) }
  }

  async function deployUnderLoad(app: string, extraVars: Record<string, unknown> = {}) {
    const load = startHey({ url: `http://${address}/`, host: HOST, ...PAGE_LOAD })
    await new Promise((r) => setTimeout(r, 2000))
    const result = await run('backend', { backend_archive_src: app, ...extraVars })
    await new Promise((r) => setTimeout(r, 2000))
    const seen = await load.stop()
    const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0]
    console.log(`deploy ${app.split('/').pop()}: exit ${result.code} in ${result.seconds} s; ${seen.requests} requests, statuses ${JSON.stringify(seen.statuses)}, errors ${JSON.stringify(seen.errors)}; load ${load1}`)
    return { result, seen }
  }

  before(async () => {
    lab = await startLab({ hosts: ['web1'] })
    address = lab.hosts[0]!.address
    work = join(lab.dir, 'apps')
    additive = appCopy(join(repoRoot, 'app'), work, '1.1.0', (app) => {
      migration(app, '0002_note_extra', '0001_initial', ['migrations.AddField("note", "extra", models.IntegerField(null=True))'])
      editModels(app, (t) => t.replace(CREATED, CREATED + EXTRA))
    })
    dropping = appCopy(join(repoRoot, 'app'), work, '2.0.0', (app) => {
      migration(app, '0002_note_extra', '0001_initial', ['migrations.AddField("note", "extra", models.IntegerField(null=True))'])
      migration(app, '0003_remove_note_extra', '0002_note_extra', ['migrations.RemoveField("note", "extra")'])
    })
    inventory = await lab.writeInventory({
      vars: {
        ...lab.rootLogin,
        ...PLAIN_SITE_VARS,
        backend_gunicorn_workers: 2,
        public_hostnames: [HOST],
        backend_archive_src: appCopy(join(repoRoot, 'app'), work, '1.0.0'),
      },
    })
    for (const playbook of ['backend', 'frontend']) {
      const r = await run(playbook)
      console.log(`first ${playbook}: ${r.seconds} s`)
      assert.equal(r.code, 0, r.output.slice(-4000))
    }
    assert.equal(await version(), '1.0.0')
  }, LONG)

  after(async () => {
    await lab?.destroy()
  })

  test('a preview (check mode) of the release dropping a column lists its pending migrations with their class, changing nothing', LONG, async () => {
    const before = await releases()
    const r = await lab.runPlaybook('backend', { inventory, extraVars: { backend_archive_src: dropping }, check: true })
    assert.equal(r.code, 0, r.output.slice(-4000))
    assert.match(r.output, /Pending migrations \(preview\): breaking \(the migrate and switch run behind the maintenance page\) \| pages\.0002_note_extra: additive: Add field extra to note \(a nullable or defaulted column\) \| pages\.0003_remove_note_extra: breaking: Remove field extra from note/)
    assert.equal(r.result.migrations?.web1?.class, 'breaking', 'passed on to the summary and the pull request\'s comment')
    assert.deepEqual(r.result.migrations?.web1?.migrations.map((m) => m.migration), ['pages.0002_note_extra', 'pages.0003_remove_note_extra'])
    assert.equal(await version(), '1.0.0')
    assert.deepEqual(await releases(), before)
    assert.doesNotMatch(await noteColumns(), /extra/)
  })

  test('an additive migration (a nullable column) deploys under load with no failed request', LONG, async () => {
    const { result, seen } = await deployUnderLoad(additive)
    assert.equal(result.code, 0, result.output.slice(-4000))
    assert.match(result.output, /Pending migrations: additive \| pages\.0002_note_extra: additive: Add field extra to note/)
    assert.doesNotMatch(result.output, /Maintenance page: /)
    assert.ok(seen.requests > 0)
    assert.equal(seen.failed, 0, seen.report)
    assert.equal(await version(), '1.1.0')
    assert.match(await noteColumns(), /extra/)
  })

  test('with refuse, a release dropping a column the live release reads stops before the dump: nothing changes', LONG, async () => {
    const before = await releases()
    const dumpsBefore = await dumps()
    const r = await run('backend', { backend_archive_src: dropping, backend_breaking_migrations: 'refuse' })
    assert.notEqual(r.code, 0)
    assert.match(r.output, /breaking migrations \(Remove field extra from note\) and\s+backend_breaking_migrations is refuse: nothing was changed/)
    assert.doesNotMatch(r.output, /The database is dumped into the release before it migrates.*\n.*(changed|ok):/)
    assert.equal(await version(), '1.1.0')
    assert.match(await noteColumns(), /extra/)
    assert.deepEqual(await releases(), before)
    assert.equal(await dumps(), dumpsBefore, 'no new dump (the earlier releases keep theirs)')
    assert.equal((await lab.ssh('web1', `test -e ${FLAG}`)).code, 1, 'no maintenance flag')
  })

  test('by default, the same release deploys behind the maintenance page: only 503s while it migrates and switches, no 500', LONG, async () => {
    const { result, seen } = await deployUnderLoad(dropping)
    assert.equal(result.code, 0, result.output.slice(-4000))
    assert.match(result.output, /Pending migrations: breaking \(the migrate and switch run behind the maintenance page\) \| pages\.0003_remove_note_extra: breaking: Remove field extra from note/)
    const seconds = Number(/Maintenance page: ([\d.]+) s/.exec(result.output)?.[1])
    assert.ok(seconds > 0, 'the seconds in maintenance are reported')
    assert.equal(result.result.maintenanceSeconds?.web1, seconds, 'and passed on to the summary')
    const other = Object.keys(seen.statuses).filter((s) => s !== '200' && s !== '503')
    assert.deepEqual(other, [], seen.report)
    assert.deepEqual(seen.errors, {}, seen.report)
    console.log(`maintenance: ${seconds} s, ${seen.statuses['503'] ?? 0} answers 503 of ${seen.requests}`)
    assert.equal(await version(), '2.0.0')
    assert.doesNotMatch(await noteColumns(), /extra/)
    assert.equal((await lab.ssh('web1', `test -e ${FLAG}`)).code, 1, 'the maintenance flag is gone')
  })

  test('the maintenance page: 503 with Retry-After for the app, static files still served', LONG, async () => {
    const css = (await get('/')).body.match(/href="(\/static\/[^"]+\.css)"/)?.[1]
    assert.ok(css, 'the home page names its stylesheet')
    assert.equal((await lab.ssh('web1', `date +%s.%N > ${FLAG}`)).code, 0)
    try {
      const page = await get('/')
      assert.equal(page.status, 503)
      assert.ok(page.headers['retry-after'], 'Retry-After')
      assert.match(page.body, /maintenance/i)
      assert.equal((await get(css)).status, 200)
    } finally {
      await lab.ssh('web1', `rm -f ${FLAG}`)
    }
    assert.equal((await get('/')).status, 200)
  })
})
