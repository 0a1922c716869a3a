// Bundles the action (main + post share dist/index.js) and the CLI into dist/.
// Deterministic: no timestamps, no absolute paths, so CI can diff dist/ against a fresh build.
import { build } from 'esbuild'
import { cpSync, rmSync } from 'node:fs'

rmSync('dist', { recursive: true, force: true })

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
}

await build({ ...common, entryPoints: ['src/action/index.ts'], outfile: 'dist/index.js' })
await build({
  ...common,
  entryPoints: ['src/cli/index.ts'],
  outfile: 'dist/cli.js',
  banner: { js: '#!/usr/bin/env node\n' + common.banner.js },
})
// The Ansible callback plugin ships beside the bundle; the runner points ANSIBLE_CALLBACK_PLUGINS here.
cpSync('src/ansible', 'dist/ansible', { recursive: true })
