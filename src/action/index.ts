// The action's entry point, dist/index.js: action.yml runs it as main and again as post (a state
// flag tells them apart, post-state.ts). Started by the runner, it runs at once; imported (by
// @github/local-action, or a test), it runs when run() is called: once for main, again for post.
import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { step } from './step.ts'

/** Main already ran in this process: a runner of both steps in one process calls run() again for post. */
let mainRan = false

/** One step: main, or post when main already ran (in this process, or by the runner's state). */
export async function run(): Promise<void> {
  const post = mainRan
  mainRan = true
  await step(post ? 'post' : undefined)
}

const started = process.argv[1] ? pathToFileURL(realpathSync(process.argv[1])).href : ''
if (import.meta.url === started) await run()
