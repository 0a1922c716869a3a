// What `deploy` without a range runs, and what `status` says it would: each server's deploy state
// against HEAD (or the working tree); without a readable state, every deploy playbook.
import { LayoutError } from '../core/layout.ts'
import { readLayout } from '../core/layout-read.ts'
import { makePlan, type Planned } from '../core/planning.ts'
import type { Playbook } from '../core/playbooks.ts'
import type { AnsibleRunSettings } from '../core/run.ts'
import { readDeployState } from '../core/state-read.ts'
import type { StateRead } from '../core/state.ts'
import { UsageError } from './command.ts'

export async function planFromServers(
  dir: string, run: AnsibleRunSettings, selection: 'auto' | Playbook[], event: string,
): Promise<Planned & { state: StateRead }> {
  let state: StateRead | undefined
  const planned = await makePlan({
    root: dir,
    inventory: run.inventory,
    selection,
    namedSource: `named on the command line: ${Array.isArray(selection) ? selection.join(', ') : ''}`,
    event,
    changes: async () => ({ kind: 'none', description: 'a deploy without --from' }),
    // A layout that cannot work is bad input: exit 2, like the other checks before anything runs.
    readLayout: () => readLayout(run).catch((e: unknown) => {
      throw e instanceof LayoutError ? new UsageError(e.message) : e
    }),
    readState: async () => (state = await readDeployState(run)),
    workingTree: true,
    limit: run.limit,
  })
  return { ...planned, state: state! }
}
