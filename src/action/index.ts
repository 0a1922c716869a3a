// Entry point of both steps: main (inputs → plan → Ansible → runs → summary) and post (cleanup).
import * as core from '@actions/core'
import { main } from './main.ts'
import { post } from './post.ts'
import { isPost } from './state.ts'

try {
  await (isPost() ? post() : main())
} catch (e) {
  core.setFailed((e as Error).message)
}
