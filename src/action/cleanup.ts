// post: removes what main wrote (secrets directory), even after a failure or a cancellation.
import { existsSync, rmSync } from 'node:fs'
import { basename } from 'node:path'

/** Removes the secrets directory; returns what happened, for the log. Only our own directories. */
export function removeSecretsDir(dir: string): 'removed' | 'nothing to clean' | 'refused' {
  if (!dir) return 'nothing to clean'
  if (!basename(dir).startsWith('django-deploy-')) return 'refused'
  if (!existsSync(dir)) return 'nothing to clean'
  rmSync(dir, { recursive: true, force: true })
  return 'removed'
}
