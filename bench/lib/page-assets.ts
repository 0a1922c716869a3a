// A client that loads the page as a browser would during a deploy: the HTML, then every static
// file it links (/static/…, hashed names from ManifestStaticFilesStorage), again and again. A
// release's HTML must never name a file nginx cannot serve, before, during or after the switch.
import { get } from '../../test/support/http.ts'

export interface PageLoads {
  pages: number
  assets: number
  /** "GET /static/… → 404" and the like, one per failure. */
  failures: string[]
  /** Every static path the pages linked, in order of first sight. */
  assetPaths: string[]
}

export interface RunningPageLoads {
  stop(): Promise<PageLoads>
}

/** Static paths an HTML page links (href/src attributes under `prefix`). Pure. */
export function linkedAssets(html: string, prefix = '/static/'): string[] {
  const out = new Set<string>()
  for (const m of html.matchAll(/\b(?:href|src)="([^"]+)"/g)) if (m[1]!.startsWith(prefix)) out.add(m[1]!)
  return [...out]
}

export function startPageLoads(origin: string, host: string, page = '/'): RunningPageLoads {
  const r: PageLoads = { pages: 0, assets: 0, failures: [], assetPaths: [] }
  let running = true
  const fetchOk = async (path: string): Promise<string | null> => {
    try {
      const a = await get(origin + path, host)
      if (a.status === 200) return a.body
      r.failures.push(`GET ${path} → ${a.status}`)
    } catch (e) {
      r.failures.push(`GET ${path} → ${(e as Error).message}`)
    }
    return null
  }
  const loop = (async () => {
    while (running) {
      const html = await fetchOk(page)
      r.pages++
      for (const asset of html === null ? [] : linkedAssets(html)) {
        if (!r.assetPaths.includes(asset)) r.assetPaths.push(asset)
        await fetchOk(asset)
        r.assets++
      }
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return r
    },
  }
}
