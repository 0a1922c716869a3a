// Copies of the example app (app/) to deploy as new versions: the e2e tests' releases, the bench's.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Copies `appDir` to `outDir/app-<version>` with its VERSION file set, then lets `edit` change the
 * copy. Leaves out what a development run leaves behind: caches, the SQLite file, collected static
 * and media at the top, virtualenvs (an app's own static/ directories stay).
 */
export function appCopy(appDir: string, outDir: string, version: string, edit: (dir: string) => void = () => {}): string {
  if (!existsSync(join(appDir, 'manage.py'))) throw new Error(`${appDir}: no manage.py (is the example app there?)`)
  const dir = join(outDir, `app-${version}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  cpSync(appDir, dir, {
    recursive: true,
    filter: (src) => {
      const rel = src.slice(appDir.length)
      return !/\/__pycache__$/.test(rel) && !/^\/(db\.sqlite3|static|media|\.venv|venv)$/.test(rel)
    },
  })
  writeFileSync(join(dir, 'VERSION'), `${version}\n`)
  edit(dir)
  return dir
}
