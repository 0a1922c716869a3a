// Reads the inventory's groups with `ansible-inventory --graph` (beside the runs' ansible-playbook,
// same inventory and environment; it reads no host variables, so it opens no vault and connects
// nowhere) and checks the layout they describe before the state read connects to any host.
import { basename, dirname, join } from 'node:path'
import { run } from './exec.ts'
import { checkLayout, parseInventoryGraph, type Layout } from './layout.ts'
import type { AnsibleRunSettings } from './run.ts'

/** `ansible-inventory` beside the ansible-playbook the runs use. */
export function inventoryBinary(ansiblePlaybook: string): string {
  if (basename(ansiblePlaybook) !== 'ansible-playbook' || !ansiblePlaybook.includes('/')) return 'ansible-inventory'
  return join(dirname(ansiblePlaybook), 'ansible-inventory')
}

export type LayoutRead = { ok: true; layout: Layout } | { ok: false; reason: string }

/**
 * The checked layout; throws a LayoutError (one line) when it cannot work. When the inventory
 * cannot be listed here, says why and leaves the check to the playbooks (roles/layout).
 */
export async function readLayout(s: Pick<AnsibleRunSettings, 'cwd' | 'ansiblePlaybook' | 'inventory' | 'env' | 'wrap'>): Promise<LayoutRead> {
  const base = { cmd: inventoryBinary(s.ansiblePlaybook), args: ['-i', s.inventory, '--graph'] }
  const { cmd, args } = s.wrap ? s.wrap(base.cmd, base.args) : base
  let r
  try {
    r = await run(cmd, args, { cwd: s.cwd, env: { ...process.env, ...s.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' }, timeoutMs: 60_000 })
  } catch (e) {
    return { ok: false, reason: `${cmd}: ${(e as Error).message}` }
  }
  if (r.code !== 0) {
    const why = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('[WARNING]')).pop() ?? `exit code ${r.code}`
    return { ok: false, reason: `${cmd} failed: ${why.replace(/^ERROR!\s*/, '')}` }
  }
  return { ok: true, layout: checkLayout(parseInventoryGraph(r.stdout)) }
}
