// Test servers by hand or from scripts:
//   node --import tsx src/lab/cli.ts up web1 [web2 ...] [--suite bookworm]
//       boots the hosts, prints their details as JSON, runs until SIGINT/SIGTERM, then tears down.
//   node --import tsx src/lab/cli.ts clean
//       tears down every lab whose owning process is gone.
//   node --import tsx src/lab/cli.ts index [SUITE] [--ansible]
//       builds (once) the suite's local Python package index (the apps', or Ansible's) and prints its files as JSON.
import { cleanupStale, startLab } from './index.ts'
import { ANSIBLE_INDEX, APP_INDEX, ensurePackageIndex } from './pyindex.ts'

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  if (command === 'clean') {
    console.log(JSON.stringify({ removed: await cleanupStale() }))
    return
  }
  if (command === 'index') {
    const contents = rest.includes('--ansible') ? ANSIBLE_INDEX : APP_INDEX
    const suite = rest.find((a) => !a.startsWith('--')) ?? 'bookworm'
    console.log(JSON.stringify(await ensurePackageIndex(suite, contents), null, 2))
    return
  }
  if (command !== 'up') throw new Error('usage: cli.ts up NAME... [--suite SUITE] | cli.ts clean | cli.ts index [SUITE] [--ansible]')
  const suiteAt = rest.indexOf('--suite')
  const suite = suiteAt >= 0 ? rest.splice(suiteAt, 2)[1] : undefined
  const lab = await startLab({ hosts: rest.length > 0 ? rest : 1, suite })
  const stop = async () => {
    await lab.destroy()
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const inventory = await lab.writeInventory({ name: 'cli' })
  const { hosts, dir, slot, rootKey, keys, knownHosts } = lab
  console.log(JSON.stringify({ slot, dir, hosts, rootKey, keys, knownHosts, inventory }, null, 2))
  setInterval(() => {}, 1 << 30) // until a signal
}

main(process.argv.slice(2)).catch((e: Error) => {
  console.error(`lab: ${e.message}`)
  process.exit(1)
})
