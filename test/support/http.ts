// HTTP from this machine with a given Host header (nginx answers only its server names; fetch does
// not let a Host header through): the e2e tests' and the bench's requests.
import { request } from 'node:http'

export interface HttpAnswer {
  status: number
  body: string
  headers: Record<string, string | string[] | undefined>
}

export function get(url: string, host: string, timeoutMs = 10_000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Host: host }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (b: Buffer) => chunks.push(b))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url} (Host ${host}): no answer in ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
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
