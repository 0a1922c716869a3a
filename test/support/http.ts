// HTTP from this machine with a given Host header (nginx answers only its server names; fetch does
// not let a Host header through), over TLS with a test CA where needed: the e2e tests', the test
// servers' and the bench's requests, one helper.
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface HttpAnswer {
  status: number
  body: string
  headers: Record<string, string | string[] | undefined>
}

export interface HttpOptions {
  method?: string
  /** The Host header (default: the URL's). */
  host?: string
  headers?: Record<string, string>
  body?: string
  /** The CA to trust, for https (a test CA). */
  ca?: string
  timeoutMs?: number
}

/** One request; resolves with whatever status comes back (the caller decides), rejects on no answer. */
export function send(url: string, o: HttpOptions = {}): Promise<HttpAnswer> {
  const timeoutMs = o.timeoutMs ?? 10_000
  const request = url.startsWith('https:') ? httpsRequest : httpRequest
  const what = `${o.method ?? 'GET'} ${url}${o.host ? ` (Host ${o.host})` : ''}`
  return new Promise((resolve, reject) => {
    // agent false: a connection of its own per request. Node 20's default agent keeps connections
    // alive, and a request sent on one just as an nginx reload closes it idle comes back "socket hang
    // up" or ECONNRESET, unanswered (160 of 326,626 requests over 40 reloads; 0 of 111,947 without
    // keep-alive). Browsers and hey's Go client send such a request again; Node does not.
    const req = request(url, { method: o.method ?? 'GET', agent: false, headers: { ...o.headers, ...(o.host ? { Host: o.host } : {}) }, timeout: timeoutMs, ...(o.ca ? { ca: o.ca } : {}) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (b: Buffer) => chunks.push(b))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`${what}: no answer in ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end(o.body)
  })
}

export function get(url: string, host: string, timeoutMs = 10_000): Promise<HttpAnswer> {
  return send(url, { host, timeoutMs })
}

/** Polls until `url` answers 200 with a body containing `expect` (or throws after `tries`). */
export async function waitFor(url: string, host: string, expect: string, tries = 60): Promise<HttpAnswer> {
  let last = ''
  for (let i = 0; i < tries; i++) {
    try {
      const a = await get(url, host)
      if (a.status === 200 && a.body.includes(expect)) return a
      last = `${a.status} ${a.body.slice(0, 120)}`
    } catch (e) {
      last = (e as Error).message
    }
    await new Promise((r) => setTimeout(r, 1000))
  }
  throw new Error(`GET ${url} (Host ${host}) never answered 200 with "${expect}": last ${last}`)
}
