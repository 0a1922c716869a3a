// The inputs a shipped workflow gives the action's step: its `with:` map with the ${{ }} expressions
// evaluated as GitHub does (the subset the workflows use: contexts, string literals, == != && || !).
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

export interface Contexts {
  github: { event_name: string; token?: string }
  inputs: Record<string, string | boolean | undefined>
  secrets: Record<string, string>
}

type Value = string | boolean | undefined | null

const truthy = (v: Value) => v !== undefined && v !== null && v !== false && v !== ''

/** Evaluates one expression (the text between ${{ and }}). */
export function evaluate(expr: string, ctx: Contexts): Value {
  const tokens = expr.match(/'(?:[^']|'')*'|&&|\|\||==|!=|!|\(|\)|[\w.-]+/g) ?? []
  let i = 0
  const peek = () => tokens[i]
  const primary = (): Value => {
    const t = tokens[i++]
    if (t === undefined) throw new Error(`unexpected end of "${expr}"`)
    if (t === '(') {
      const v = or()
      i++
      return v
    }
    if (t === '!') return !truthy(primary())
    if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'")
    if (t === 'true' || t === 'false') return t === 'true'
    if (t === 'null') return null
    let v: unknown = ctx
    for (const part of t.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined
    return v as Value
  }
  const eq = (): Value => {
    let v = primary()
    while (peek() === '==' || peek() === '!=') {
      const op = tokens[i++]
      const w = primary()
      v = op === '==' ? v === w : v !== w
    }
    return v
  }
  const and = (): Value => {
    let v = eq()
    while (peek() === '&&') {
      i++
      const w = eq()
      v = truthy(v) ? w : v
    }
    return v
  }
  const or = (): Value => {
    let v = and()
    while (peek() === '||') {
      i++
      const w = and()
      v = truthy(v) ? v : w
    }
    return v
  }
  return or()
}

/** A `with:` value: literal text with ${{ }} expressions, as the runner turns it into a string. */
export function interpolate(text: string, ctx: Contexts): string {
  return text.replace(/\$\{\{(.*?)\}\}/g, (_, e: string) => {
    const v = evaluate(e.trim(), ctx)
    return v === undefined || v === null ? '' : String(v)
  })
}

/** The inputs of the workflow's step that `uses: ./`, for the given contexts. */
export function actionInputs(workflowFile: string, ctx: Contexts): Record<string, string> {
  const wf = parse(readFileSync(workflowFile, 'utf8')) as { jobs: Record<string, { steps: { uses?: string; with?: Record<string, unknown> }[] }> }
  const steps = Object.values(wf.jobs).flatMap((j) => j.steps).filter((s) => s.uses === './')
  if (steps.length !== 1) throw new Error(`${workflowFile}: expected one step using ./, found ${steps.length}`)
  return Object.fromEntries(Object.entries(steps[0]!.with ?? {}).map(([k, v]) => [k, interpolate(String(v), ctx)]))
}
