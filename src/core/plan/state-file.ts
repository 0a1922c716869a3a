// The deploy state each server keeps (roles/deploy_state writes it after each playbook): where it
// lives, what a run sends the role to record, and how the file parses. Pure.
import { isPlaybook } from '../playbooks.ts'
import type { Records } from './types.ts'

/** roles/deploy_state's default directory (deploy_state_dir), and the backup record's (backend_backup_record_dir). */
export const STATE_DIR = '/var/lib/django-deploy'
/**
 * The state file as Ansible templates it for each host: the inventory's deploy_state_file when it
 * sets one (the role's override), else the role's default. The ad-hoc read loads no role
 * defaults, so the default is spelled here, once.
 */
export const STATE_FILE = `{{ deploy_state_file | default((deploy_state_dir | default('${STATE_DIR}')) ~ '/' ~ organization_slug ~ '-' ~ project_slug ~ '.json') }}`
/** The backup record the backend role writes (backend_backup_record_dir honoured likewise). */
export const BACKUP_FILE = `{{ backend_backup_record_dir | default('${STATE_DIR}') }}/{{ organization_slug }}-{{ project_slug }}.backup.json`

/** The extra variables a real run passes so the hosts record it (never in check mode). */
export interface RunIdentity { commit: string; dirty: boolean; run: string }

/** With `tags`: the run is the part of the playbook the plan chose, recorded as complete (only with exactly these tags). */
export function stateVars(id: RunIdentity, tags?: string[]): Record<string, string | boolean | string[]> {
  return { deploy_state_commit: id.commit, deploy_state_dirty: id.dirty, deploy_state_run: id.run, ...(tags?.length ? { deploy_state_tags: tags } : {}) }
}

/** Who runs this: the GitHub run's URL when there is one, otherwise user@machine. */
export function runName(env: NodeJS.ProcessEnv, userAtHost: string): string {
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID) {
    return `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
  }
  return userAtHost
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Parses a state file; throws on anything that is not the role's format. */
export function parseStateFile(text: string): Records {
  const doc: unknown = JSON.parse(text)
  if (!isObj(doc) || !isObj(doc.playbooks)) throw new Error('not a deploy state (expected {"version": 1, "playbooks": {…}})')
  const out: Records = {}
  for (const [name, r] of Object.entries(doc.playbooks)) {
    if (!isPlaybook(name) || !isObj(r) || typeof r.commit !== 'string' || !r.commit) continue
    out[name] = {
      commit: r.commit,
      finished: typeof r.finished === 'string' ? r.finished : '',
      run: typeof r.run === 'string' ? r.run : '',
      ...(r.dirty === true ? { dirty: true } : {}),
    }
  }
  return out
}
