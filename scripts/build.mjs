// Bundles the action (main + post share dist/index.js) and the CLI (dist/cli.js and its chunks).
// Deterministic: no timestamps, no absolute paths, so CI can diff dist/ against a fresh build.
import { build } from 'esbuild'
import { cpSync, rmSync } from 'node:fs'
import { action, cli } from './build-options.mjs'

rmSync('dist', { recursive: true, force: true })
await build(action)
await build(cli)
// The Ansible callback plugin ships beside the bundle; the runner points ANSIBLE_CALLBACK_PLUGINS here.
cpSync('src/ansible', 'dist/ansible', { recursive: true })
