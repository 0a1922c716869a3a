// Copies of the example app (app/) to deploy as new versions: the e2e tests' releases, the bench's.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

/**
 * Adds a migration to an app copy that adds Note.extra (NOT NULL, no database default: code without
 * the field cannot insert), and the field to the model; `fail` makes the migration fail after it.
 */
export function addExtraField(app: string, fail = false): void {
  writeFileSync(join(app, 'pages/migrations/0002_extra.py'), [
    'from django.db import migrations, models',
    '',
    '',
    'def fail(apps, schema_editor):',
    '    raise RuntimeError("this migration fails on purpose")',
    '',
    '',
    'class Migration(migrations.Migration):',
    '    dependencies = [("pages", "0001_initial")]',
    '    operations = [',
    '        migrations.AddField("note", "extra", models.IntegerField(default=0)),',
    ...(fail ? ['        migrations.RunPython(fail),'] : []),
    '    ]',
    '',
  ].join('\n'))
  const models = join(app, 'pages/models.py')
  writeFileSync(models, readFileSync(models, 'utf8').replace(
    '    created = models.DateTimeField(auto_now_add=True)\n',
    '    created = models.DateTimeField(auto_now_add=True)\n    extra = models.IntegerField(default=0)\n'))
}
