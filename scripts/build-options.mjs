// esbuild options of dist/ (scripts/build.mjs), shared with the test that checks what each CLI
// command loads (test/unit/cli-load.test.ts).
export const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
}

export const action = { ...common, entryPoints: ['src/action/index.ts'], outfile: 'dist/index.js' }

// The CLI is split: what `demo` alone needs (the test server harness, src/lab) sits in a chunk that
// only its dynamic import loads, so init, plan and deploy run wherever Node runs.
export const cli = {
  ...common,
  entryPoints: { cli: 'src/cli/index.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'cli-chunks/[name]-[hash]',
  banner: { js: '#!/usr/bin/env node\n' + common.banner.js },
}
