// `node --import ./record-loads.mjs …`: appends the URL of every module the program loads to the
// file named by RECORD_LOADS (one a line). Used to show which code a CLI command loads.
import { register } from 'node:module'

const hooks = `
import { appendFileSync } from 'node:fs'
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(process.env.RECORD_LOADS, url + '\\n')
  return next(url, context)
}
`
register('data:text/javascript,' + encodeURIComponent(hooks))
