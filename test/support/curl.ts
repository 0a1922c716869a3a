// curl from this machine to a test server, the URL's name resolving to the server's address as
// public DNS would (--resolve), the answer split into status, headers and body.
import { run } from '../../src/core/exec.ts'

export interface CurlReply {
  exit: number
  status: number
  /** Header name (lowercased) → value, the last one when repeated. */
  headers: Record<string, string>
  /** Header lines as received, "name: value" with the name lowercased. */
  lines: string[]
  body: string
  stderr: string
}

export interface CurlOptions {
  /** The server's address the name resolves to. */
  address: string
  /** CA bundle to verify HTTPS with (the test ACME CA's root). */
  caFile?: string
  /** Resolve this name instead of the URL's (SNI and Host tests); '' resolves nothing. */
  name?: string
  args?: string[]
}

export async function curl(url: string, o: CurlOptions): Promise<CurlReply> {
  const u = new URL(url)
  const port = u.port || (u.protocol === 'https:' ? '443' : '80')
  const args = ['-sS', '-i', '--http1.1', '--max-time', '20', ...(o.caFile ? ['--cacert', o.caFile] : []), ...(o.args ?? [])]
  const name = o.name ?? u.hostname
  if (name) args.push('--resolve', `${name}:${port}:${o.address}`)
  const r = await run('curl', [...args, url], { timeoutMs: 60_000 })
  const split = r.stdout.indexOf('\r\n\r\n')
  const head = split >= 0 ? r.stdout.slice(0, split) : ''
  const [statusLine, ...rest] = head.split('\r\n')
  const headers: Record<string, string> = {}
  const lines: string[] = []
  for (const l of rest) {
    const i = l.indexOf(':')
    if (i <= 0) continue
    const [key, value] = [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()]
    headers[key] = value
    lines.push(`${key}: ${value}`)
  }
  return { exit: r.code, status: Number(statusLine?.split(' ')[1] ?? 0), headers, lines, body: split >= 0 ? r.stdout.slice(split + 4) : '', stderr: r.stderr }
}
