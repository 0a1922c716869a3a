// Each role's README documents the variables its meta/argument_specs.yml declares, no more, no
// fewer: the rows of the README's tables whose header starts with "Variable" are compared, by
// name, with the options of every entry point. Run by `npm run lint`; one line per difference.
/* global process, console */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

/**
 * Variable names in the README's tables that start with a "Variable" column. A cell may shorten
 * siblings: `base_fail2ban_enabled`, `_maxretry` is base_fail2ban_enabled and base_fail2ban_maxretry.
 */
function readmeVariables(markdown) {
  const names = []
  let inTable = false
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) {
      inTable = false
      continue
    }
    const first = line.split('|')[1].trim()
    if (/^Variable\b/i.test(first)) inTable = true
    else if (inTable) {
      let prefix = ''
      for (const [, name] of first.matchAll(/`([a-z_][a-z0-9_]*)`/g)) {
        if (name.startsWith('_') && prefix) names.push(prefix + name)
        else {
          names.push(name)
          prefix = name.replace(/_[a-z0-9]+$/, '')
        }
      }
    }
  }
  return names
}

/** Options of every entry point of an argument_specs.yml. */
function specVariables(yamlText) {
  const specs = parse(yamlText)?.argument_specs ?? {}
  return Object.values(specs).flatMap((entry) => Object.keys(entry?.options ?? {}))
}

function compare(role, readme, spec) {
  const documented = new Set(readme)
  const declared = new Set(spec)
  return [
    ...[...declared].filter((v) => !documented.has(v)).map((v) => `roles/${role}/README.md: ${v} (meta/argument_specs.yml) is missing from the variable table`),
    ...[...documented].filter((v) => !declared.has(v)).map((v) => `roles/${role}/README.md: ${v} is in the variable table but not in meta/argument_specs.yml`),
  ]
}

const problems = []
for (const role of readdirSync('roles').sort()) {
  const specFile = join('roles', role, 'meta/argument_specs.yml')
  const readmeFile = join('roles', role, 'README.md')
  if (!existsSync(specFile)) continue
  if (!existsSync(readmeFile)) {
    problems.push(`roles/${role}: meta/argument_specs.yml but no README.md to document it`)
    continue
  }
  problems.push(...compare(role, readmeVariables(readFileSync(readmeFile, 'utf8')), specVariables(readFileSync(specFile, 'utf8'))))
}
for (const p of problems) console.error(p)
if (problems.length > 0) process.exit(1)
console.log('role READMEs document their argument_specs')
