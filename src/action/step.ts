// One invocation of the bundle: main or post, and the one place an error becomes the step's
// failure (one ::error:: line). index.ts runs it; tests call it in-process.
import * as core from '@actions/core'
import { main } from './main.ts'
import { post } from './post.ts'
import { isPost } from './post-state.ts'

export async function step(): Promise<void> {
  try {
    await (isPost() ? post() : main())
  } catch (e) {
    core.setFailed((e as Error).message.split('\n')[0] ?? '')
  }
}
