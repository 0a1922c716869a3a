// Copies of the example app for the benchmark's deploys: each a new version (VERSION file), plus
// the two views a benchmark needs and the app may lack: a CPU-bound view and a static file served
// through Django. They live only in the copies (the backend role deploys them through
// backend_archive_src, as it deploys a CI checkout), never in app/.
import { existsSync, readdirSync, readFileSync, writeFileSync, type Dirent } from 'node:fs'
import { join } from 'node:path'
import { appCopy as copyApp } from '../../test/support/app.ts'

export const CPU_PATH = '/bench/cpu/'
export const DJANGO_STATIC_PREFIX = '/bench/static/'

const BENCH_URLS = `# Added by bench/ to its copies of the app only.
import hashlib

from django.conf import settings
from django.http import HttpResponse
from django.urls import re_path
from django.views.static import serve


def cpu(request):
    """About 10 ms of pure CPU per request on one core: 20,000 rounds of SHA-256."""
    digest = b"bench"
    for _ in range(20000):
        digest = hashlib.sha256(digest).digest()
    return HttpResponse(digest.hex() + "\\n", content_type="text/plain")


urlpatterns = [
    re_path(r"^bench/cpu/$", cpu),
    # The collected static files, through Django and gunicorn instead of nginx.
    re_path(r"^bench/static/(?P<path>.*)$", serve, {"document_root": settings.STATIC_ROOT}),
]
`

export interface AppCopy {
  dir: string
  version: string
  /** What the copy adds to the app, for the report. */
  added: string[]
}

/** Copies `appDir` to `outDir/app-<version>` with VERSION set and the bench views added. */
export function appCopy(appDir: string, outDir: string, version: string, djangoProject: string): AppCopy {
  const dir = copyApp(appDir, outDir, version, (copy) => {
    const urls = join(copy, djangoProject, 'urls.py')
    if (!existsSync(urls)) throw new Error(`${urls} not found: which Django project does backend_django_project name?`)
    const text = readFileSync(urls, 'utf8')
    if (!/\burlpatterns\b/.test(text)) throw new Error(`${urls} defines no urlpatterns`)
    writeFileSync(join(copy, djangoProject, 'bench_urls.py'), BENCH_URLS)
    writeFileSync(urls, text.trimEnd() + `\n\n# Added by bench/ to its copies only.\nfrom ${djangoProject}.bench_urls import urlpatterns as _bench_urlpatterns  # noqa: E402\n\nurlpatterns = _bench_urlpatterns + urlpatterns\n`)
    stampStylesheets(copy, '', version)
  })
  return { dir, version, added: [`VERSION ${version}`, 'the version in a comment of each stylesheet (new hashed static names per release)', `${CPU_PATH} (CPU-bound view)`, `${DJANGO_STATIC_PREFIX}<path> (static files through Django)`] }
}

/** A static file of the app to request (first file found under a `static/` directory of an app). */
export function staticFile(appDir: string): string | undefined {
  const walk = (rel: string): string | undefined => {
    const abs = join(appDir, rel)
    for (const entry of readdirSafe(abs)) {
      const r = rel ? `${rel}/${entry.name}` : entry.name
      if (entry.isDirectory()) {
        const found = walk(r)
        if (found) return found
      } else {
        const m = /(?:^|\/)static\/(.+)$/.exec(r)
        if (m) return m[1]
      }
    }
    return undefined
  }
  return walk('')
}

/** Each release's stylesheets differ (a comment with the version), so each has its own hashed
 *  static names: the redeploy figure then proves the new release's files are served too. */
function stampStylesheets(root: string, rel: string, version: string): void {
  for (const entry of readdirSafe(join(root, rel))) {
    const r = rel ? `${rel}/${entry.name}` : entry.name
    if (entry.isDirectory()) stampStylesheets(root, r, version)
    else if (/(?:^|\/)static\/.+\.css$/.test(r)) writeFileSync(join(root, r), readFileSync(join(root, r), 'utf8') + `/* ${version} */\n`)
  }
}

function readdirSafe(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))
  } catch {
    return []
  }
}
