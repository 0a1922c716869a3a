// A reset in the middle of a blue/green switch, as the backend and cluster tests cause it.

/**
 * A shell script for a project's server, run as root: it waits for the deploy's switch to be half
 * written (nginx's upstream in `root` names the `idle` colour while run/live still names `live`),
 * then resets the host (no service stopped, as on a power loss or a crash). It prints "switching:
 * reset" before the reset, and gives up (exit 1) when the deploy releases its lock or the live
 * colour changes first.
 */
export function resetMidSwitch(root: string, live: string, idle: string): string {
  return [
    `cd ${root}`,
    'held=""',
    'while :; do',
    '  if [ -s run/deploy.lock.pid ]; then held=1; elif [ -n "$held" ]; then echo "the deploy ended before its switch"; exit 1; fi',
    `  [ "$(cat run/live)" = ${live} ] || { echo "the switch ended before the reset"; exit 1; }`,
    `  grep -q 'unix:.*/${idle}[.]sock' nginx-upstream.conf && break`,
    '  sleep 0.1',
    'done',
    'echo "switching: reset"',
    'systemctl reboot --force --force',
  ].join('\n')
}
