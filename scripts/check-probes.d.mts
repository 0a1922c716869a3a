export interface TaskAt {
  file: string
  line: number
  task: Record<string, unknown>
  inheritedWhen: unknown[]
}

export declare function fileTasks(path: string, root: string): TaskAt[]
export declare function checkProbes(tasks: TaskAt[], entryPoints?: Set<string>): string[]
