// An in-memory git for the changed-path tests: a commit graph on the "remote", the subset a
// (shallow) clone has, and the handful of commands src/core/plan/changes.ts runs.
import { createHash } from 'node:crypto'
import type { Git, GitResult } from '../../src/core/plan/changes.ts'

export const sha = (name: string) => createHash('sha1').update(name).digest('hex')

interface Commit { parents: string[]; files: Record<string, string> }

export class FakeGit implements Git {
  readonly commits = new Map<string, Commit>()
  readonly present = new Set<string>()
  readonly remoteRefs = new Map<string, string>()
  readonly localRefs = new Map<string, string>()
  readonly calls: string[][] = []

  /** Adds a commit `name` with parents, its tree = the first parent's with `changes` applied (null deletes). */
  commit(name: string, parents: string[], changes: Record<string, string | null>): string {
    const id = sha(name)
    const base = parents[0] ? { ...this.commits.get(sha(parents[0]))!.files } : {}
    for (const [p, c] of Object.entries(changes)) {
      if (c === null) delete base[p]
      else base[p] = c
    }
    this.commits.set(id, { parents: parents.map(sha), files: base })
    return id
  }

  /** A clone holding `names` and everything reachable from them within `depth` generations. */
  clone(names: string[], depth = Infinity): void {
    for (const n of names) this.addAncestors(sha(n), depth)
  }

  private addAncestors(id: string, depth: number): void {
    let frontier = [id]
    for (let d = 0; d < depth && frontier.length > 0; d++) {
      const next: string[] = []
      for (const c of frontier) {
        this.present.add(c)
        next.push(...this.commits.get(c)!.parents)
      }
      frontier = next
    }
  }

  private ancestors(id: string): Set<string> {
    const seen = new Set<string>()
    const stack = [id]
    while (stack.length) {
      const c = stack.pop()!
      if (seen.has(c) || !this.present.has(c)) continue
      seen.add(c)
      stack.push(...this.commits.get(c)!.parents)
    }
    return seen
  }

  private shallow(): boolean {
    return [...this.present].some((c) => this.commits.get(c)!.parents.some((p) => !this.present.has(p)))
  }

  private resolve(ref: string): string | undefined {
    const r = ref.replace(/\^\{commit\}$/, '')
    if (this.localRefs.has(r)) return this.localRefs.get(r)
    if (/^[0-9a-f]{40}$/.test(r) && this.present.has(r)) return r
    return undefined
  }

  async run(args: string[]): Promise<GitResult> {
    this.calls.push(args)
    const ok = (stdout = ''): GitResult => ({ code: 0, stdout, stderr: '' })
    const fail = (stderr = 'fatal'): GitResult => ({ code: 1, stdout: '', stderr })
    const [cmd, ...rest] = args
    switch (cmd) {
      case 'cat-file':
        return this.resolve(rest[1]!) ? ok() : fail()
      case 'rev-parse':
        if (rest[0] === '--is-shallow-repository') return ok(this.shallow() ? 'true\n' : 'false\n')
        if (rest[0] === '--show-prefix') return ok('\n')
        {
          const r = this.resolve(rest[rest.length - 1]!)
          return r ? ok(r + '\n') : fail()
        }
      case 'merge-base': {
        const a = this.ancestors(rest[0]!)
        const b = this.ancestors(rest[1]!)
        // The best common ancestor: a common one none of whose descendants is common too.
        const common = [...a].filter((c) => b.has(c))
        const best = common.find((c) => !common.some((o) => o !== c && this.ancestors(o).has(c)))
        return best ? ok(best + '\n') : fail('')
      }
      case 'diff': {
        const [a, b] = rest.filter((x) => /^[0-9a-f]{40}$/.test(x))
        if (!a || !b || !this.present.has(a) || !this.present.has(b)) return fail('bad revision')
        const fa = this.commits.get(a)!.files
        const fb = this.commits.get(b)!.files
        const paths = [...new Set([...Object.keys(fa), ...Object.keys(fb)])].filter((p) => fa[p] !== fb[p]).sort()
        return ok(paths.map((p) => p + '\0').join(''))
      }
      case 'fetch': {
        const targets = rest.filter((x) => !x.startsWith('-') && x !== 'origin')
        const deepen = rest.find((x) => x.startsWith('--deepen='))
        if (rest.includes('--unshallow')) {
          for (const c of this.commits.keys()) this.present.add(c)
          return ok()
        }
        for (const t of targets) {
          const m = /^\+refs\/heads\/(.+):(.+)$/.exec(t)
          if (m) {
            const tip = this.remoteRefs.get(m[1]!)
            if (!tip) return fail(`couldn't find remote ref ${m[1]}`)
            this.present.add(tip)
            this.localRefs.set(m[2]!, tip)
            continue
          }
          if (!this.commits.has(t)) return fail('not our ref')
          if (deepen) {
            // Deepen from the shallow boundary of what is already there.
            const n = Number(deepen.split('=')[1])
            for (const c of this.ancestors(t)) for (const p of this.commits.get(c)!.parents) if (!this.present.has(p)) this.addAncestors(p, n)
          }
          this.present.add(t)
        }
        return ok()
      }
      default:
        return fail(`fake git: ${args.join(' ')}`)
    }
  }
}
