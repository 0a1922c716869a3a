// The workflows keep production's credentials away from any code but main's: deploy.yml refuses
// production from another ref before anything else, the preview runs in its own environment.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { run } from '../../src/core/exec.ts'

interface Step { name?: string; if?: string; run?: string; uses?: string }
interface Job { environment?: string; steps: Step[] }
const jobs = (file: string) => (parse(readFileSync(`.github/workflows/${file}`, 'utf8')) as { jobs: Record<string, Job> }).jobs

test('deploy.yml: the first step refuses production from a ref other than main, with one line', async () => {
  const job = jobs('deploy.yml').deploy!
  assert.equal(job.environment, "${{ inputs.environment || 'production' }}")
  const [first] = job.steps
  assert.equal(first!.if, "(inputs.environment || 'production') == 'production' && github.ref != 'refs/heads/main'")
  const r = await run('bash', ['-eo', 'pipefail', '-c', first!.run!], { env: { PATH: process.env.PATH, GITHUB_REF: 'refs/heads/feature' } })
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '::error::production deploys from main only, not from refs/heads/feature: merge the change to main, or pick another environment\n')
  assert.ok(job.steps.findIndex((s) => s.uses === './') > 0, 'the deploy comes after the refusal')
})

test('preview.yml runs in the preview environment, apart from production', () => {
  const job = jobs('preview.yml').preview!
  assert.equal(job.environment, 'preview')
  assert.ok(job.steps.some((s) => s.uses === './'))
})

test('every third-party action is pinned by a full commit SHA, its tag in a comment', () => {
  const dir = '.github/workflows'
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))
  assert.ok(files.length > 0)
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8')
    // Every `uses:` of the parsed workflow, so that none hides from the line scan below.
    const parsed = (parse(text) as { jobs: Record<string, { uses?: string; steps?: Step[] }> }).jobs
    const all = Object.values(parsed).flatMap((j) => [j.uses, ...(j.steps ?? []).map((s) => s.uses)]).filter((u): u is string => u !== undefined)
    const lines = [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)].map((m) => ({ ref: m[1]!, rest: m[2]! }))
    assert.deepEqual(lines.map((l) => l.ref), all, `${file}: every uses: on a line of its own`)
    for (const { ref, rest } of lines.filter((l) => !l.ref.startsWith('./'))) {
      assert.match(ref, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${file}: ${ref} is not pinned by a full commit SHA`)
      assert.match(rest, /^\s+#\s*v\d+(\.\d+)*\b/, `${file}: ${ref} has no "# vX.Y.Z" comment naming its tag`)
    }
  }
})
