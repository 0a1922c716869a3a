// The plan's path through the code, followed statically from the action's entry to the runs: each
// call resolved by TypeScript's checker to the function it reaches in src/, in source order.
import { strict as assert } from 'node:assert'
import { relative, resolve } from 'node:path'
import { describe, it } from 'node:test'
import ts from 'typescript'

const root = resolve(import.meta.dirname, '../..')
const ENTRY = resolve(root, 'src/action/main.ts')

/** A call on the path: from which module into which, the function, the modules it went through to get there. */
interface Entry { from: string; to: string; fn: string; stack: string[] }

/** The function a call reaches, when it is declared with a body. */
function calleeOf(checker: ts.TypeChecker, call: ts.CallExpression): ts.FunctionLikeDeclaration | undefined {
  let sym = checker.getSymbolAtLocation(call.expression)
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym)
  const d = sym?.declarations?.[0]
  if (!d) return undefined
  if ((ts.isFunctionDeclaration(d) || ts.isMethodDeclaration(d)) && d.body) return d
  const init = ts.isVariableDeclaration(d) || ts.isPropertyAssignment(d) ? d.initializer : undefined
  return init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) ? init : undefined
}

const nameOf = (fn: ts.FunctionLikeDeclaration): string =>
  fn.name?.getText() ?? (ts.isVariableDeclaration(fn.parent) ? fn.parent.name.getText() : '(anonymous)')

/** Every call on the way from `main` to a function of src/, depth first, each function followed once. */
function trace(): Entry[] {
  const program = ts.createProgram([ENTRY], {
    allowImportingTsExtensions: true, noEmit: true, strict: true,
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
  })
  const checker = program.getTypeChecker()
  const src = resolve(root, 'src') + '/'
  const entries: Entry[] = []
  const followed = new Set<ts.Node>()
  const walk = (fn: ts.FunctionLikeDeclaration, stack: string[]): void => {
    const here = stack.at(-1)!
    const visit = (n: ts.Node): void => {
      ts.forEachChild(n, visit)
      if (!ts.isCallExpression(n)) return
      const callee = calleeOf(checker, n)
      if (!callee || !callee.getSourceFile().fileName.startsWith(src)) return
      const file = relative(root, callee.getSourceFile().fileName)
      entries.push({ from: here, to: file, fn: nameOf(callee), stack })
      if (followed.has(callee)) return
      followed.add(callee)
      walk(callee, file === here ? stack : [...stack, file])
    }
    if (fn.body) visit(fn.body)
  }
  const main = program.getSourceFile(ENTRY)!.statements.find((s) => ts.isFunctionDeclaration(s) && s.name?.text === 'main')
  assert.ok(main && ts.isFunctionDeclaration(main), 'src/action/main.ts exports main()')
  walk(main, [relative(root, ENTRY)])
  return entries
}

describe('the plan, from the action\'s entry to the runs', () => {
  const calls = trace()
  // Entering a module: a call from another one.
  const entries = calls.filter((e) => e.from !== e.to)

  it('reaches the planner, the runner and the summary', () => {
    const reached = new Set(entries.map((e) => `${e.to} ${e.fn}`))
    for (const f of ['src/action/inputs.ts readSettings', 'src/core/preflight.ts preflight', 'src/core/plan/make.ts makePlan',
      'src/core/plan/from-state.ts planFromState', 'src/core/plan/from-changes.ts planAuto', 'src/core/run.ts runPlaybooks',
      'src/core/summary.ts summaryMarkdown']) assert.ok(reached.has(f), `${f} is on the path (${entries.length} calls traced)`)
  })

  it('never enters a module it is still inside (no round trip A → B → A)', () => {
    const back = entries.filter((e) => e.stack.slice(0, -1).includes(e.to))
    assert.deepEqual(back.map((e) => `${e.stack.join(' → ')} → ${e.to} (${e.fn})`), [])
  })

  it('goes one way between modules: where A calls B, B never calls A', () => {
    const edges = new Set(entries.map((e) => `${e.from} ${e.to}`))
    const twoWay = [...edges].filter((edge) => edges.has(edge.split(' ').reverse().join(' ')))
    assert.deepEqual(twoWay, [])
  })

  it('reads the inputs, the plan config and the event once', () => {
    for (const fn of ['readSettings', 'preflight', 'readPlanConfig', 'readEventPayload', 'makePlan', 'runPlaybooks']) {
      assert.equal(calls.filter((e) => e.fn === fn).length, 1, `${fn} called once on the path`)
    }
    // The action enters planning at one door (and names the run with the state file's format).
    const doors = new Set(entries.filter((e) => e.to.startsWith('src/core/plan/') && e.from.startsWith('src/action/')).map((e) => `${e.to} ${e.fn}`))
    assert.deepEqual([...doors].sort(), ['src/core/plan/make.ts makePlan', 'src/core/plan/state-file.ts runName'])
  })
})
