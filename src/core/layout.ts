// The servers' layout, from the inventory's groups: one server (every host of `webservers` runs
// everything, as before the role groups existed), or app servers + one database server + an
// optional load balancer. Checked before anything connects; a layout that cannot work is one line
// naming the groups and the fix. The same rules as roles/layout/tasks/validate.yml. Pure.
import { ValidationError } from './errors.ts'

/** The group every server of the project belongs to (bootstrap and base run on each). */
export const SERVERS_GROUP = 'webservers'
/** The role groups, children of `webservers`. */
export const ROLE_GROUPS = { app: 'appservers', db: 'dbservers', lb: 'loadbalancers' } as const

export class LayoutError extends ValidationError {
  override name = 'LayoutError'
}

export type Layout =
  /** Every host runs every role (today's default). */
  | { kind: 'single'; servers: string[] }
  | { kind: 'split'; app: string[]; db: string; lb?: string }

/** Group → every host in it (its children's included). */
export type Groups = Record<string, string[]>

const list = (hosts: string[]) => hosts.join(', ')

/** The layout the groups describe; throws a LayoutError (one line) when it cannot work. */
export function checkLayout(groups: Groups): Layout {
  const servers = groups[SERVERS_GROUP] ?? []
  const app = groups[ROLE_GROUPS.app] ?? []
  const db = groups[ROLE_GROUPS.db] ?? []
  const lb = groups[ROLE_GROUPS.lb] ?? []
  const fail = (line: string): never => {
    throw new LayoutError(`inventory layout: ${line}`)
  }
  // No role group: today's layout (an empty webservers is Ansible's to report: "no hosts matched").
  if (app.length + db.length + lb.length === 0) return { kind: 'single', servers }
  const outside = [[ROLE_GROUPS.app, app], [ROLE_GROUPS.db, db], [ROLE_GROUPS.lb, lb]].flatMap(([g, hosts]) => (hosts as string[]).filter((h) => !servers.includes(h)).map((h) => `${h} in ${g as string}`))
  if (outside.length > 0) fail(`${outside[0]} is not in ${SERVERS_GROUP}: make ${ROLE_GROUPS.app}, ${ROLE_GROUPS.db} and ${ROLE_GROUPS.lb} child groups of ${SERVERS_GROUP} (${SERVERS_GROUP}: children:)`)
  const roleless = servers.filter((h) => !app.includes(h) && !db.includes(h) && !lb.includes(h))
  if (roleless.length > 0) fail(`${list(roleless)} ${roleless.length === 1 ? 'is' : 'are'} in ${SERVERS_GROUP} but in none of ${ROLE_GROUPS.app}, ${ROLE_GROUPS.db}, ${ROLE_GROUPS.lb}: once one role group is filled, put every server in one`)
  const both = lb.filter((h) => app.includes(h) || db.includes(h))
  if (both.length > 0) {
    const other = app.includes(both[0]!) ? ROLE_GROUPS.app : ROLE_GROUPS.db
    fail(`${both[0]} is in ${ROLE_GROUPS.lb} and ${other}, which exclude each other (the load balancer alone faces the internet): give the load balancer a host of its own`)
  }
  if (app.length === 0) {
    const by = lb.length > 0 ? `${ROLE_GROUPS.lb} has ${list(lb)}` : `${ROLE_GROUPS.db} has ${list(db)}`
    fail(`${by} but ${ROLE_GROUPS.app} is empty: list the app servers under ${ROLE_GROUPS.app}`)
  }
  if (db.length === 0) fail(`${ROLE_GROUPS.app} has ${list(app)} but ${ROLE_GROUPS.db} is empty: list the database server under ${ROLE_GROUPS.db} (an app server itself when it runs PostgreSQL)`)
  if (db.length > 1) fail(`${ROLE_GROUPS.db} has ${list(db)}: the roles run one database server (no replication): keep one in ${ROLE_GROUPS.db}`)
  if (lb.length > 1) fail(`${ROLE_GROUPS.lb} has ${list(lb)}: the roles run one load balancer: keep one in ${ROLE_GROUPS.lb}`)
  if (app.length > 1 && lb.length === 0) fail(`${ROLE_GROUPS.app} has ${list(app)} but ${ROLE_GROUPS.lb} is empty: several app servers need a load balancer in front (a host under ${ROLE_GROUPS.lb}), or keep one app server`)
  return { kind: 'split', app, db: db[0]!, ...(lb.length > 0 ? { lb: lb[0] } : {}) }
}

/** A note for several servers and no role group: each is a site of its own. */
export function layoutNote(l: Layout): string | undefined {
  if (l.kind !== 'single' || l.servers.length < 2) return undefined
  return `${SERVERS_GROUP} has ${list(l.servers)} and no role group: each server runs the whole site with its own database and media (separate sites, not one site on several servers).`
}

/**
 * Every group's hosts from `ansible-inventory --graph` (which reads no variables, so no vault):
 * `@group:` lines nest by their `|--` depth; a group holds its own hosts and its children's.
 */
export function parseInventoryGraph(text: string): Groups {
  const groups: Record<string, Set<string>> = {}
  /** The groups enclosing the current line, by depth (each `|` is one level). */
  const stack: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd()
    if (!line.trim()) continue
    const branch = line.indexOf('|--')
    const entry = branch < 0 ? line.trim() : line.slice(branch + 3)
    const depth = branch < 0 ? 0 : (line.slice(0, branch).match(/\|/g) ?? []).length + 1
    stack.length = depth
    if (entry.startsWith('@') && entry.endsWith(':')) {
      const name = entry.slice(1, -1)
      groups[name] ??= new Set()
      stack[depth] = name
    } else {
      // A host (an IPv6 address keeps its colons).
      for (const g of stack) if (g) groups[g]!.add(entry)
    }
  }
  return Object.fromEntries(Object.entries(groups).map(([g, hosts]) => [g, [...hosts].sort()]))
}

/**
 * What a host is in a split layout ("load balancer", "app server", "database server", "app and
 * database server"); undefined in the single-server layout, where every host runs every role.
 */
export function hostRole(l: Layout | undefined, host: string): string | undefined {
  if (!l || l.kind === 'single') return undefined
  if (l.lb === host) return 'load balancer'
  const app = l.app.includes(host)
  if (app && l.db === host) return 'app and database server'
  return app ? 'app server' : l.db === host ? 'database server' : undefined
}

/** "load balancer lb1 → app servers web1, web2 → database db1", "one server: web1". */
export function layoutText(l: Layout): string {
  if (l.kind === 'single') {
    if (l.servers.length === 0) return `no host in ${SERVERS_GROUP}`
    return `${l.servers.length === 1 ? 'one server' : 'each server runs every role'}: ${list(l.servers)}`
  }
  return [l.lb ? `load balancer ${l.lb}` : '', `app server${l.app.length === 1 ? '' : 's'} ${list(l.app)}`, `database ${l.db}`].filter(Boolean).join(' → ')
}
