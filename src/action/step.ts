// One invocation of the bundle: main or post, and the one place an error becomes the step's
// failure (one ::error:: line). index.ts runs it; tests call it in-process.
import * as core from '@actions/core'
import { main } from './main.ts'
import { post } from './post.ts'
import { isPost } from './post-state.ts'

/** Runs `which` step; without it, the runner's state decides (post when main saved its flag). */
export async function step(which?: 'main' | 'post'): Promise<void> {
  try {
    await ((which ?? (isPost() ? 'post' : 'main')) === 'post' ? post() : main())
  } catch (e) {
    core.setFailed((e as Error).message.split('\n')[0] ?? '')
  }
}
