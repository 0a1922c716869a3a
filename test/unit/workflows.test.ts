// The workflows keep production's credentials away from any code but main's: deploy.yml refuses
// production from another ref before anything else, the preview runs in its own environment.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
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
