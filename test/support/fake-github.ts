// A stand-in for GitHub's REST API, the part the action writes to: a pull request's comments and a
// repository's issues (list with pagination, create, edit, close). In memory, on 127.0.0.1.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeComment { id: number; issue: number; body: string; user: { login: string } }
export interface FakeIssue { number: number; title: string; body: string; state: 'open' | 'closed'; state_reason?: string; pull_request?: object }

export class FakeGitHub {
  server!: Server
  url = ''
  comments: FakeComment[] = []
  issues: FakeIssue[] = []
  /** "METHOD path" of every request, in order. */
  requests: string[] = []
  private nextId = 1000

  constructor(readonly repo: string, readonly token: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req).then(([status, body]) => {
        res.writeHead(status, { 'Content-Type': 'application/json' })
        res.end(body === undefined ? '' : JSON.stringify(body))
      }, (e: Error) => {
        res.writeHead(500)
        res.end(JSON.stringify({ message: e.message }))
      })
    })
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()))
  }

  /** Comments of one issue or pull request. */
  commentsOn(issue: number): FakeComment[] {
    return this.comments.filter((c) => c.issue === issue)
  }

  private async handle(req: IncomingMessage): Promise<[number, unknown?]> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    this.requests.push(`${req.method} ${req.url}`)
    if (req.headers.authorization !== `Bearer ${this.token}`) return [401, { message: 'Bad credentials' }]
    const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string> : {}
    const url = new URL(req.url ?? '/', 'http://x')
    const base = `/repos/${this.repo}`
    if (!url.pathname.startsWith(`${base}/`)) return [404, { message: 'Not Found' }]
    const path = url.pathname.slice(base.length)
    const page = <T>(items: T[]): [number, T[]] => {
      const per = Number(url.searchParams.get('per_page') ?? 30)
      const p = Number(url.searchParams.get('page') ?? 1)
      return [200, items.slice((p - 1) * per, p * per)]
    }
    let m: RegExpExecArray | null
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(path))) {
      const issue = Number(m[1])
      if (req.method === 'GET') return page(this.commentsOn(issue))
      if (req.method === 'POST') {
        const c = { id: this.nextId++, issue, body: body.body!, user: { login: 'github-actions[bot]' } }
        this.comments.push(c)
        return [201, c]
      }
    }
    if ((m = /^\/issues\/comments\/(\d+)$/.exec(path)) && req.method === 'PATCH') {
      const c = this.comments.find((x) => x.id === Number(m![1]))
      if (!c) return [404, { message: 'Not Found' }]
      c.body = body.body!
      return [200, c]
    }
    if (path === '/issues') {
      if (req.method === 'GET') {
        const state = url.searchParams.get('state') ?? 'open'
        return page(this.issues.filter((i) => state === 'all' || i.state === state))
      }
      if (req.method === 'POST') {
        const i: FakeIssue = { number: this.issues.length + 1, title: body.title!, body: body.body!, state: 'open' }
        this.issues.push(i)
        return [201, { ...i, id: i.number }]
      }
    }
    if ((m = /^\/issues\/(\d+)$/.exec(path)) && req.method === 'PATCH') {
      const i = this.issues.find((x) => x.number === Number(m![1]))
      if (!i) return [404, { message: 'Not Found' }]
      Object.assign(i, body)
      return [200, { ...i, id: i.number }]
    }
    return [404, { message: 'Not Found' }]
  }
}
