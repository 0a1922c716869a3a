// A stand-in for GitHub Actions' cache service, as @actions/cache's v2 client speaks to it (the
// runner sets ACTIONS_CACHE_SERVICE_V2, ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN): the twirp
// JSON API `github.actions.results.api.v1.CacheService` (GetCacheEntryDownloadURL, CreateCacheEntry,
// FinalizeCacheEntryUpload, with the runtime token as a bearer) and the blob store its signed URLs
// point at (the Azure SDK's single-request upload, a PUT of the whole archive; the download, a GET).
// Entries match on key and version, restore keys by prefix, newest first, as the service does. The
// archives are kept in a directory; on 127.0.0.1, for the action run on this machine.
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'

const SERVICE = '/twirp/github.actions.results.api.v1.CacheService/'

interface Entry {
  id: number
  key: string
  version: string
  /** The signature of its blob's URLs. */
  sig: string
  uploaded: boolean
  finalized: boolean
  createdAt: number
}

export interface CacheService {
  /** ACTIONS_RESULTS_URL. */
  url: string
  /** The environment a runner gives a step for it. */
  env: Record<string, string>
  /** What happened, in order: "restore miss KEY", "restore hit KEY", "create KEY", "upload KEY BYTES", "finalize KEY", "download KEY". */
  events: string[]
  stop(): Promise<void>
}

export async function startCacheService(): Promise<CacheService> {
  const token = randomBytes(16).toString('hex')
  const dir = mkdtempSync(join(tmpdir(), 'cache-service-'))
  const entries: Entry[] = []
  const events: string[] = []
  let url = ''
  const blobUrl = (e: Entry) => `${url}devstoreaccount1/actions-cache/${e.id}?sig=${e.sig}`
  const blobPath = (e: Entry) => join(dir, String(e.id))

  const twirp = async (method: string, body: Record<string, unknown>): Promise<[number, unknown]> => {
    const key = String(body.key ?? '')
    const version = String(body.version ?? '')
    if (method === 'GetCacheEntryDownloadURL') {
      const ready = entries.filter((e) => e.finalized && e.version === version).sort((a, b) => b.createdAt - a.createdAt)
      const restoreKeys = Array.isArray(body.restore_keys) ? body.restore_keys.map(String) : []
      const hit = ready.find((e) => e.key === key) ?? restoreKeys.map((k) => ready.find((e) => e.key.startsWith(k))).find(Boolean)
      events.push(`restore ${hit ? 'hit' : 'miss'} ${hit?.key ?? key}`)
      return [200, hit ? { ok: true, signed_download_url: blobUrl(hit), matched_key: hit.key } : { ok: false }]
    }
    if (method === 'CreateCacheEntry') {
      if (entries.some((e) => e.key === key && e.version === version)) {
        return [200, { ok: false, message: 'cache entry with the same key, version, and scope already exists' }]
      }
      const e: Entry = { id: entries.length + 1, key, version, sig: randomBytes(12).toString('hex'), uploaded: false, finalized: false, createdAt: Date.now() }
      entries.push(e)
      events.push(`create ${key}`)
      return [200, { ok: true, signed_upload_url: blobUrl(e) }]
    }
    if (method === 'FinalizeCacheEntryUpload') {
      const e = entries.find((x) => x.key === key && x.version === version && x.uploaded)
      if (!e) return [200, { ok: false, message: 'no upload for this key' }]
      e.finalized = true
      events.push(`finalize ${key}`)
      return [200, { ok: true, entry_id: String(e.id) }]
    }
    return [404, { code: 'bad_route', msg: `no handler for ${method}` }]
  }

  const blob = async (req: IncomingMessage, res: ServerResponse, e: Entry) => {
    if (req.method === 'PUT') {
      await pipeline(req, createWriteStream(blobPath(e)))
      e.uploaded = true
      events.push(`upload ${e.key} ${statSync(blobPath(e)).size}`)
      res.writeHead(201, { ETag: `"${e.sig}"`, 'Last-Modified': new Date().toUTCString(), 'x-ms-request-id': randomBytes(8).toString('hex'), 'x-ms-version': '2024-11-04' })
      res.end()
      return
    }
    if (req.method === 'GET' && e.finalized) {
      events.push(`download ${e.key}`)
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': statSync(blobPath(e)).size })
      await pipeline(createReadStream(blobPath(e)), res)
      return
    }
    res.writeHead(404)
    res.end()
  }

  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x')
    const handle = async () => {
      if (u.pathname.startsWith(SERVICE) && req.method === 'POST') {
        const chunks: Buffer[] = []
        for await (const c of req) chunks.push(c as Buffer)
        const [status, body] = req.headers.authorization === `Bearer ${token}`
          ? await twirp(u.pathname.slice(SERVICE.length), JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>)
          : [401, { code: 'unauthenticated', msg: 'invalid runtime token' }]
        res.writeHead(status, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify(body))
        return
      }
      const m = /^\/devstoreaccount1\/actions-cache\/(\d+)$/.exec(u.pathname)
      const e = m ? entries.find((x) => x.id === Number(m[1]) && x.sig === u.searchParams.get('sig')) : undefined
      if (e) return blob(req, res, e)
      res.writeHead(403)
      res.end()
    }
    handle().catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ code: 'internal', msg: err.message }))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  return {
    url,
    env: { ACTIONS_CACHE_SERVICE_V2: 'true', ACTIONS_RESULTS_URL: url, ACTIONS_RUNTIME_TOKEN: token },
    events,
    async stop() {
      await new Promise<void>((r) => server.close(() => r()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
