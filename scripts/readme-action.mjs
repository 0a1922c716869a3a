// Regenerates the README's table of the action's inputs and outputs from action.yml.
// Usage: node scripts/readme-action.mjs [--check]   (--check: fail when the README is stale)
/* global process, console */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { parse } from 'yaml'

const START = /<!-- action-inputs:start[^>]*-->\n/
const END = '<!-- action-inputs:end -->'

const cell = (text) => String(text ?? '').trim().split('\n\n')[0].replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|')
const code = (v) => (v === undefined || v === '' ? '' : `\`${v}\``)

export function render(action) {
  const rows = ['| Input | Default | Description |', '|---|---|---|']
  for (const [name, i] of Object.entries(action.inputs ?? {})) {
    const dflt = [code(i?.default), i?.required ? '(required)' : ''].filter(Boolean).join(' ')
    rows.push(`| \`${name}\` | ${dflt} | ${cell(i?.description)} |`)
  }
  rows.push('', '| Output | Description |', '|---|---|')
  for (const [name, o] of Object.entries(action.outputs ?? {})) rows.push(`| \`${name}\` | ${cell(o?.description)} |`)
  return rows.join('\n') + '\n'
}

if (!existsSync('action.yml')) {
  console.error('readme-action: no action.yml here (run from the repository root)')
  process.exit(2)
}
const readme = readFileSync('README.md', 'utf8')
const start = START.exec(readme)
const end = readme.indexOf(END)
if (!start || end < start.index) {
  console.error('readme-action: README.md lacks the action-inputs:start / action-inputs:end markers')
  process.exit(2)
}
const next = readme.slice(0, start.index + start[0].length) + render(parse(readFileSync('action.yml', 'utf8'))) + readme.slice(end)
if (process.argv.includes('--check')) {
  if (next !== readme) {
    console.error('README.md: the action table is stale: run node scripts/readme-action.mjs')
    process.exit(1)
  }
} else if (next !== readme) {
  writeFileSync('README.md', next)
  console.log('README.md: action table updated from action.yml')
}
