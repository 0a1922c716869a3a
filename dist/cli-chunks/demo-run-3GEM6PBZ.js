#!/usr/bin/env node
import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import {
  PLAYBOOKS,
  __toESM,
  childEnv,
  formatDuration,
  lastLine,
  require_dist,
  run,
  runOk,
  runPlaybook,
  runSync
} from "./chunk-GPFGPIFF.js";

// src/cli/demo-run.ts
var import_yaml2 = __toESM(require_dist(), 1);
import { existsSync as existsSync5, mkdirSync as mkdirSync7, readFileSync as readFileSync6, writeFileSync as writeFileSync6 } from "node:fs";
import { join as join6 } from "node:path";

// src/lab/index.ts
import { randomBytes as randomBytes4 } from "node:crypto";
import { createWriteStream, existsSync as existsSync4, mkdirSync as mkdirSync6, rmSync as rmSync5, writeFileSync as writeFileSync5 } from "node:fs";
import { dirname as dirname2, isAbsolute, join as join5 } from "node:path";
import { fileURLToPath } from "node:url";

// src/lab/image.ts
import { createHash } from "node:crypto";
import { existsSync, mkdirSync as mkdirSync2, readdirSync, renameSync, rmSync as rmSync2, writeFileSync } from "node:fs";
import { join } from "node:path";

// src/lab/lock.ts
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
async function withLock(file, fn) {
  mkdirSync(dirname(file), { recursive: true });
  const child = spawn("flock", ["--exclusive", file, "sh", "-c", "echo locked; exec cat >/dev/null"], {
    stdio: ["pipe", "pipe", "inherit"]
  });
  try {
    await new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`flock ${file} exited ${code} before locking`)));
      child.stdout.once("data", () => resolve());
    });
    return await fn();
  } finally {
    child.stdin.end();
    child.removeAllListeners("exit");
    if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
  }
}

// src/lab/mounts.ts
import { readFileSync, rmSync } from "node:fs";

// src/lab/wait.ts
function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
var sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// src/lab/mounts.ts
function mountsUnder(dir) {
  const root = dir.replace(/\/+$/, "");
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((line) => line.split(" ")[4]).filter((m) => !!m).map((m) => m.replace(/\\(\d{3})/g, (_, oct) => String.fromCharCode(parseInt(oct, 8)))).filter((m) => m === root || m.startsWith(root + "/")).sort((a, b) => b.length - a.length);
}
function umountUnder(dir) {
  for (const m of mountsUnder(dir)) {
    let ok = false;
    for (let i = 0; i < 5 && !ok; i++) {
      ok = runSync("umount", [m]).code === 0 || !mountsUnder(m).includes(m);
      if (!ok) sleepSync(100);
    }
    if (!ok) runSync("umount", ["--lazy", m]);
  }
}
function removeTree(dir) {
  umountUnder(dir);
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`refusing to delete ${dir}: still mounted: ${left.join(", ")}`);
  rmSync(dir, { recursive: true, force: true });
}

// src/lab/paths.ts
var CACHE_DIR = process.env.LAB_CACHE_DIR ?? "/var/cache/django-ansible-deploy";
var RUN_DIR = "/run/django-ansible-deploy";
var LABS_DIR = process.env.LAB_WORK_DIR ?? "/var/tmp/django-ansible-deploy";
var SLOTS_DIR = `${RUN_DIR}/slots`;
var GLOBAL_LOCK = `${RUN_DIR}/lock`;
var APT_PROXY_PORT = 3142;
var MIRROR = `http://127.0.0.1:${APT_PROXY_PORT}/deb.debian.org/debian`;

// src/lab/image.ts
var IMAGE_PACKAGES = [
  "systemd",
  "systemd-sysv",
  "dbus",
  "openssh-server",
  "python3",
  "sudo",
  "iproute2",
  "ca-certificates"
];
var RECIPE = 2;
function imageKey(suite, packages = IMAGE_PACKAGES) {
  const id = JSON.stringify({ suite, variant: "minbase", packages: [...packages].sort(), recipe: RECIPE });
  return `${suite}-${createHash("sha256").update(id).digest("hex").slice(0, 12)}`;
}
async function ensureImage(suite = "bookworm") {
  const dir = join(CACHE_DIR, "images");
  const key = imageKey(suite);
  const final = join(dir, key);
  if (existsSync(final)) return final;
  mkdirSync2(dir, { recursive: true });
  return withLock(join(dir, `${key}.lock`), async () => {
    if (existsSync(final)) return final;
    for (const f of readdirSync(dir)) if (f.startsWith(`${key}.tmp-`)) removeTree(join(dir, f));
    const tmp = join(dir, `${key}.tmp-${process.pid}`);
    const include = IMAGE_PACKAGES.join(",");
    process.stderr.write(`lab: building the ${suite} image in ${final} (once; about a minute)
`);
    try {
      await runOk("setpriv", [
        "--pdeathsig",
        "KILL",
        "--",
        "debootstrap",
        "--variant=minbase",
        `--include=${include}`,
        suite,
        tmp,
        MIRROR
      ], { timeoutMs: 15 * 6e4 });
      finalize(tmp, suite);
    } catch (e) {
      removeTree(tmp);
      throw e;
    }
    renameSync(tmp, final);
    return final;
  });
}
function finalize(root, suite) {
  writeFileSync(
    join(root, "etc/apt/sources.list"),
    [
      `deb http://deb.debian.org/debian ${suite} main`,
      `deb http://deb.debian.org/debian ${suite}-updates main`,
      `deb http://deb.debian.org/debian-security ${suite}-security main`,
      ""
    ].join("\n")
  );
  for (const f of readdirSync(join(root, "etc/ssh"))) {
    if (f.startsWith("ssh_host_")) rmSync2(join(root, "etc/ssh", f));
  }
  writeFileSync(join(root, "etc/machine-id"), "");
  writeFileSync(join(root, "etc/dpkg/dpkg.cfg.d/lab-unsafe-io"), "force-unsafe-io\n");
  for (const f of readdirSync(join(root, "var/cache/apt/archives"))) {
    if (f.endsWith(".deb")) rmSync2(join(root, "var/cache/apt/archives", f));
  }
}

// src/lab/host.ts
import { spawn as spawn2 } from "node:child_process";
import { chmodSync, closeSync, existsSync as existsSync3, mkdirSync as mkdirSync4, openSync, readFileSync as readFileSync4, rmSync as rmSync4, writeFileSync as writeFileSync3 } from "node:fs";
import { randomBytes as randomBytes2 } from "node:crypto";
import { connect } from "node:net";
import { join as join3 } from "node:path";

// src/lab/proc.ts
import { readFileSync as readFileSync2 } from "node:fs";
var bootId = readFileSync2("/proc/sys/kernel/random/boot_id", "utf8").trim();
function startTime(pid) {
  try {
    const stat = readFileSync2(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" || fields[0] === "X" ? void 0 : fields[19];
  } catch {
    return void 0;
  }
}
function procId(pid) {
  const start = startTime(pid);
  return start === void 0 ? void 0 : { pid, start, boot: bootId };
}
function isAlive(id) {
  return !!id && id.boot === bootId && startTime(id.pid) === id.start;
}
function signal(id, sig) {
  if (!id || !isAlive(id)) return;
  try {
    process.kill(id.pid, sig);
  } catch {
  }
}

// src/lab/resources.ts
import { mkdirSync as mkdirSync3, readdirSync as readdirSync2, readFileSync as readFileSync3, renameSync as renameSync2, writeFileSync as writeFileSync2, existsSync as existsSync2, rmSync as rmSync3 } from "node:fs";
import { join as join2 } from "node:path";
import { randomBytes } from "node:crypto";
var MAX_SLOT = 511;
function slotDir(slot) {
  return join2(SLOTS_DIR, String(slot));
}
function saveState(state) {
  const file = join2(slotDir(state.slot), "state.json");
  writeFileSync2(`${file}.tmp`, JSON.stringify(state, null, 2));
  renameSync2(`${file}.tmp`, file);
}
function loadState(slot) {
  try {
    return JSON.parse(readFileSync3(join2(slotDir(slot), "state.json"), "utf8"));
  } catch {
    return void 0;
  }
}
function usedSlots() {
  if (!existsSync2(SLOTS_DIR)) return [];
  return readdirSync2(SLOTS_DIR).filter((n) => /^\d+$/.test(n)).map(Number);
}
function allocateSlot(owner, dirFor) {
  mkdirSync3(SLOTS_DIR, { recursive: true });
  const used = new Set(usedSlots());
  for (let slot = 1; slot <= MAX_SLOT; slot++) {
    if (used.has(slot)) continue;
    mkdirSync3(slotDir(slot));
    const third = slot % 256;
    const second = 18 + Math.floor(slot / 256);
    const state = {
      slot,
      owner,
      dir: dirFor(slot),
      bridge: `dadbr${slot}`,
      gateway: `198.${second}.${third}.1`,
      hosts: []
    };
    saveState(state);
    return state;
  }
  throw new Error(`no free lab slot: ${MAX_SLOT} labs are running (see ${SLOTS_DIR})`);
}
function ownerAlive(state) {
  return isAlive(state.owner);
}
function netnsPids(netns) {
  const r = runSync("ip", ["netns", "pids", netns]);
  return r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}
function killNetns(netns) {
  for (const pid of netnsPids(netns)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
    }
  }
}
function waitUntil(done, ms) {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) return false;
    sleepSync(50);
  }
  return true;
}
function teardown(state, graceMs = 5e3) {
  state.destroyed = true;
  for (const h of state.hosts) signal(h.nspawn, "SIGTERM");
  waitUntil(() => state.hosts.every((h) => !isAlive(h.nspawn)), graceMs);
  for (const h of state.hosts) {
    if (isAlive(h.nspawn)) signal(h.nspawn, "SIGKILL");
    killNetns(h.netns);
  }
  waitUntil(() => state.hosts.every((h) => !isAlive(h.nspawn) && netnsPids(h.netns).length === 0), 5e3);
  closeControlMasters(join2(state.dir, "cp"));
  for (const h of state.hosts) {
    umountUnder(h.merged);
    runSync("ip", ["netns", "delete", h.netns]);
    runSync("ip", ["link", "delete", h.veth]);
  }
  runSync("ip", ["link", "delete", state.bridge]);
  if (!/\/\d+-[0-9a-f]{6}$/.test(state.dir)) throw new Error(`lab: refusing to delete ${state.dir}: not a lab directory`);
  removeTree(state.dir);
  releaseSlot(state.slot);
}
function closeControlMasters(cpDir) {
  if (!existsSync2(cpDir)) return;
  for (const sock of readdirSync2(cpDir)) {
    runSync("ssh", ["-o", `ControlPath=${join2(cpDir, sock)}`, "-O", "exit", "lab"]);
  }
}
function releaseSlot(slot) {
  const gone = join2(SLOTS_DIR, `.released-${slot}-${randomBytes(4).toString("hex")}`);
  try {
    renameSync2(slotDir(slot), gone);
  } catch {
    return;
  }
  rmSync3(gone, { recursive: true, force: true });
}
function sweepOrphans() {
  const used = new Set(usedSlots());
  const states = [...used].map(loadState);
  const orphan = (slot) => slot !== void 0 && !used.has(Number(slot));
  for (const line of runSync("ip", ["netns", "list"]).stdout.split("\n")) {
    const m = /^(dad(\d+)-\d+)\b/.exec(line);
    if (!m || !orphan(m[2])) continue;
    killNetns(m[1]);
    runSync("ip", ["netns", "delete", m[1]]);
  }
  for (const line of runSync("ip", ["-o", "link", "show", "type", "bridge"]).stdout.split("\n")) {
    const m = /^\d+: (dadbr(\d+)):/.exec(line);
    if (m && orphan(m[2])) runSync("ip", ["link", "delete", m[1]]);
  }
  if (!existsSync2(LABS_DIR)) return;
  for (const name of readdirSync2(LABS_DIR)) {
    const dir = join2(LABS_DIR, name);
    if (/^\d+-[0-9a-f]{6}$/.test(name) && !states.some((s) => s?.dir === dir)) removeTree(dir);
  }
}

// src/lab/host.ts
var FORWARD_GUARD = `table inet django_ansible_deploy_lab
delete table inet django_ansible_deploy_lab
table inet django_ansible_deploy_lab {
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname "dadbr*" oifname != "dadbr*" drop
    iifname != "dadbr*" oifname "dadbr*" drop
  }
}
`;
var guarded;
function ensureForwardGuard() {
  guarded ??= (async () => {
    const forwarding = readFileSync4("/proc/sys/net/ipv4/ip_forward", "utf8").trim() !== "0";
    try {
      await runOk("nft", ["-f", "-"], { input: FORWARD_GUARD });
    } catch (e) {
      if (forwarding) {
        throw new Error(`lab: this machine forwards IPv4 and the guard rule failed (install nftables): ${e.message}`, { cause: e });
      }
    }
  })();
  return guarded;
}
async function createBridge(state) {
  await ensureForwardGuard();
  await runOk("ip", ["link", "add", state.bridge, "type", "bridge"]);
  await runOk("ip", ["addr", "add", `${state.gateway}/24`, "dev", state.bridge]);
  await runOk("ip", ["link", "set", state.bridge, "up"]);
}
async function createNetns(state, h) {
  await runOk("ip", ["netns", "add", h.netns]);
  await runOk("ip", ["link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns", h.netns]);
  await runOk("ip", ["link", "set", h.veth, "master", state.bridge, "up"]);
  await runOk("ip", ["-n", h.netns, "addr", "add", `${h.address}/24`, "dev", "eth0"]);
  await runOk("ip", ["-n", h.netns, "link", "set", "lo", "up"]);
  await runOk("ip", ["-n", h.netns, "link", "set", "eth0", "up"]);
  await runOk("ip", ["-n", h.netns, "route", "add", "default", "via", state.gateway]);
}
async function prepareRootfs(image, state, h, authorizedKey) {
  const base = join3(state.dir, "hosts", h.name);
  for (const d of ["upper", "work", "merged"]) mkdirSync4(join3(base, d), { recursive: true });
  await runOk("mount", [
    "-t",
    "overlay",
    "overlay",
    "-o",
    `lowerdir=${image},upperdir=${join3(base, "upper")},workdir=${join3(base, "work")}`,
    h.merged
  ]);
  const root = h.merged;
  const peers = state.hosts.map((p) => `${p.address}	${p.name}`).join("\n");
  writeFileSync3(join3(root, "etc/hostname"), `${h.name}
`);
  writeFileSync3(join3(root, "etc/hosts"), `127.0.0.1	localhost
::1	localhost ip6-localhost
${peers}
`);
  writeFileSync3(join3(root, "etc/machine-id"), `${randomBytes2(16).toString("hex")}
`);
  rmSync4(join3(root, "etc/resolv.conf"), { force: true });
  writeFileSync3(join3(root, "etc/resolv.conf"), "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
  writeFileSync3(
    join3(root, "etc/apt/apt.conf.d/01proxy"),
    `Acquire::http::Proxy "http://${state.gateway}:${APT_PROXY_PORT}";
`
  );
  mkdirSync4(join3(root, "root/.ssh"), { recursive: true, mode: 448 });
  chmodSync(join3(root, "root/.ssh"), 448);
  writeFileSync3(join3(root, "root/.ssh/authorized_keys"), authorizedKey, { mode: 384 });
  await runOk("ssh-keygen", ["-A", "-f", root]);
}
function knownHostsLines(h) {
  const lines = [];
  for (const type of ["ed25519", "ecdsa", "rsa"]) {
    const [alg, key] = readFileSync4(join3(h.merged, `etc/ssh/ssh_host_${type}_key.pub`), "utf8").split(" ");
    for (const name of [h.address, `[${h.address}]:22`, `[${h.address}]:2222`]) lines.push(`${name} ${alg} ${key}`);
  }
  return lines;
}
function boot(state, h) {
  const log = openSync(join3(state.dir, "hosts", h.name, "console.log"), "a");
  const child = spawn2("systemd-nspawn", [
    "--quiet",
    "--directory",
    h.merged,
    "--boot",
    // No registration with machined (often absent). Without systemd as this machine's init there
    // is nobody to ask for a scope unit either; with it, a scope gives the host a delegated cgroup.
    "--register=no",
    ...existsSync3("/run/systemd/system") ? [] : ["--keep-unit"],
    `--machine=lab${state.slot}-${h.name}`,
    `--hostname=${h.name}`,
    `--network-namespace-path=/run/netns/${h.netns}`,
    // The host's own files stay in charge (roles manage them): no bind mounts over them.
    "--resolv-conf=off",
    "--timezone=off",
    "--link-journal=no",
    // The namespace is the host's own: its firewall (nftables, fail2ban) and net.* sysctls touch
    // nothing else. Other sysctls (kernel.*, fs.*) are the machine's and stay read-only.
    "--capability=CAP_NET_ADMIN",
    "--console=read-only"
  ], {
    detached: true,
    stdio: ["ignore", log, log],
    env: childEnv({ SYSTEMD_NSPAWN_API_VFS_WRITABLE: "network" })
  });
  closeSync(log);
  child.on("error", () => {
  });
  child.on("exit", (code) => {
    if (code === 133 && !state.destroyed) {
      boot(state, h);
      saveState(state);
    }
  });
  child.unref();
  h.nspawn = child.pid === void 0 ? void 0 : procId(child.pid);
}
function tcpOpen(address, port, timeoutMs = 1e3) {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port, timeout: timeoutMs });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.once("connect", () => done(true));
    sock.once("timeout", () => done(false));
    sock.once("error", () => done(false));
  });
}
async function waitReady(state, h, ssh, timeoutMs = 12e4) {
  const end = Date.now() + timeoutMs;
  const consoleTail = () => {
    try {
      return lastLine(readFileSync4(join3(state.dir, "hosts", h.name, "console.log"), "utf8"));
    } catch {
      return "";
    }
  };
  let last = "";
  while (Date.now() < end) {
    if (!isAlive(h.nspawn)) throw new Error(`${h.name}: systemd-nspawn exited during boot: ${consoleTail()}`);
    if (await tcpOpen(h.address, 22, 500)) {
      const r = await ssh("systemctl is-system-running --wait; test ! -e /run/nologin || echo nologin");
      last = (r.stdout.trim() || r.stderr.trim()).replace(/\s+/g, " ");
      if (last === "running" || last === "degraded") return last;
      if (last.endsWith("nologin")) {
        await sleep(500);
        continue;
      }
      if (r.code !== 255 && !["starting", "initializing"].includes(last)) {
        throw new Error(`${h.name}: systemd reports "${last}" after boot`);
      }
    }
    await sleep(200);
  }
  throw new Error(`${h.name}: not ready after ${timeoutMs / 1e3} s (last: ${last || "no sshd"}; console: ${consoleTail()})`);
}

// src/lab/inventory.ts
var import_yaml = __toESM(require_dist(), 1);
import { randomBytes as randomBytes3 } from "node:crypto";
import { mkdirSync as mkdirSync5, readFileSync as readFileSync5, writeFileSync as writeFileSync4 } from "node:fs";
import { join as join4 } from "node:path";
var LAB_SKIPS_HARDENING = ["aide-common", "rkhunter"];
function readYaml(file) {
  return (0, import_yaml.parse)(readFileSync5(file, "utf8")) ?? {};
}
var pub = (key) => readFileSync5(`${key}.pub`, "utf8").trim();
function sshCommonArgs(knownHosts, extraKeys, controlPathDir) {
  return [
    `-o UserKnownHostsFile=${knownHosts}`,
    "-o GlobalKnownHostsFile=/dev/null",
    "-o StrictHostKeyChecking=yes",
    "-o IdentitiesOnly=yes",
    // Persistent connections stay per lab: a later lab on the same slot reuses the addresses.
    `-o ControlPath=${controlPathDir}/%C`,
    ...extraKeys.map((k) => `-o IdentityFile=${k}`)
  ].join(" ");
}
async function writeInventory(input) {
  const { dir, repoRoot, keys } = input;
  const production = join4(repoRoot, "inventories/production");
  mkdirSync5(join4(dir, "group_vars/all"), { recursive: true });
  const hosts = Object.fromEntries(input.hosts.map((h) => [h.name, { ansible_host: h.address }]));
  const children = Object.fromEntries(Object.entries(input.groups ?? {}).map(([g, names]) => [g, { hosts: Object.fromEntries(names.map((n) => [n, {}])) }]));
  const webservers = Object.keys(children).length > 0 ? { hosts, children } : { hosts };
  writeFileSync4(join4(dir, "hosts.yml"), (0, import_yaml.stringify)({ all: { children: { webservers } } }));
  const labDefaults = {
    public_hostnames: input.hosts.map((h) => `${h.name}.test`),
    bootstrap_admins: [{ name: "alice", keys: [pub(keys.admin)] }],
    bootstrap_deploy_keys: [pub(keys.deploy)],
    bootstrap_initial_user: "root",
    bootstrap_initial_port: 22,
    // Key for the first connection as root; also offered on every connection (below), so
    // playbooks work whether or not they switch keys for the initial login.
    bootstrap_initial_private_key_file: keys.root,
    ansible_ssh_private_key_file: keys.deploy,
    ansible_ssh_common_args: sshCommonArgs(input.knownHosts, [keys.root], input.controlPathDir),
    // Every test's SSH connections (Ansible, probes, assertions) come from the one gateway address:
    // base's per-source SSH rate limit is raised above what a test opens.
    base_firewall_ssh_rate: "600/minute",
    base_firewall_ssh_burst: 200
  };
  if (input.hardening === "lab") {
    const role = readYaml(join4(repoRoot, "roles/base/defaults/main.yml")).base_hardening_packages;
    labDefaults.base_hardening_packages = role.filter((p) => !LAB_SKIPS_HARDENING.includes(p));
  }
  const vars = { ...readYaml(join4(production, "group_vars/all/vars.yml")), ...labDefaults, ...input.vars };
  writeFileSync4(join4(dir, "group_vars/all/vars.yml"), "---\n" + (0, import_yaml.stringify)(vars));
  const vaultDefaults = Object.fromEntries(
    Object.keys(readYaml(join4(repoRoot, "inventories/vault.example.yml"))).map((k) => [k, `lab-${k}-${randomBytes3(12).toString("hex")}`])
  );
  const vaultKey = join4(dir, "vault.key");
  writeFileSync4(vaultKey, randomBytes3(32).toString("hex") + "\n", { mode: 384 });
  await runOk("ansible-vault", [
    "encrypt",
    "--vault-password-file",
    vaultKey,
    "--output",
    join4(dir, "group_vars/all/vault.yml"),
    "-"
  ], { input: "---\n" + (0, import_yaml.stringify)({ ...vaultDefaults, ...input.vault }) });
  return dir;
}

// src/lab/index.ts
var DEBIAN_PYTHON_VARS = {
  backend_venv_system_site_packages: true,
  backend_packages_extra: ["python3-django", "python3-gunicorn", "python3-psycopg2"]
};
var PLAIN_SITE_VARS = { ...DEBIAN_PYTHON_VARS, backend_https: false, frontend_tls_enabled: false };
var HOST_NAME = /^[a-z][a-z0-9-]{0,30}$/;
function findRepoRoot() {
  let dir = dirname2(fileURLToPath(import.meta.url));
  while (!existsSync4(join5(dir, "ansible.cfg"))) {
    const up = dirname2(dir);
    if (up === dir) throw new Error("lab: no ansible.cfg above src/lab: pass repoRoot");
    dir = up;
  }
  return dir;
}
var Lab = class {
  constructor(state, repoRoot) {
    this.state = state;
    this.repoRoot = repoRoot;
    this.dir = state.dir;
    this.slot = state.slot;
    this.hosts = state.hosts.map((h) => ({ name: h.name, address: h.address, gateway: state.gateway, rootfs: h.merged }));
    this.rootKey = join5(state.dir, "keys/root");
    this.keys = { admin: join5(state.dir, "keys/admin"), deploy: join5(state.dir, "keys/deploy") };
    this.knownHosts = join5(state.dir, "known_hosts");
  }
  state;
  hosts;
  dir;
  slot;
  rootKey;
  keys;
  knownHosts;
  repoRoot;
  playbookRuns = 0;
  inventories = 0;
  /** Inventory variables that log in as root on port 22, as on a fresh server before bootstrap. */
  get rootLogin() {
    return { ansible_user: "root", ansible_port: 22, ansible_ssh_private_key_file: this.rootKey };
  }
  host(name) {
    if (typeof name !== "string") return name;
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`lab has no host "${name}" (hosts: ${this.hosts.map((x) => x.name).join(", ")})`);
    return h;
  }
  /** Runs `cmd` on the host over SSH, host key strictly checked against the lab's known_hosts. */
  ssh(host, cmd, opts = {}) {
    const h = this.host(host);
    return run("ssh", [
      "-F",
      "/dev/null",
      "-i",
      opts.key ?? this.rootKey,
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      `UserKnownHostsFile=${this.knownHosts}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "ConnectTimeout=5",
      "-o",
      "LogLevel=ERROR",
      "-p",
      String(opts.port ?? 22),
      "-l",
      opts.user ?? "root",
      h.address,
      "--",
      cmd
    ], { input: opts.input, timeoutMs: opts.timeoutMs ?? 3e5 });
  }
  /**
   * Takes the host's link on the lab bridge down (the server unreachable: connections time out, as
   * when a cloud server's network is cut) or back up. The host keeps running.
   */
  async setLink(host, up) {
    const name = this.host(host).name;
    const veth = this.state.hosts.find((h) => h.name === name).veth;
    const r = await run("ip", ["link", "set", veth, up ? "up" : "down"]);
    if (r.code !== 0) throw new Error(`ip link set ${veth} ${up ? "up" : "down"}: ${r.stderr.trim()}`);
  }
  tcpOpen(host, port) {
    return tcpOpen(this.host(host).address, port);
  }
  /** Writes an inventory (production vars + lab defaults + `vars`; vault encrypted) and returns its dir. */
  writeInventory(opts = {}) {
    const name = opts.name ?? `inventory${++this.inventories}`;
    if (!/^[\w.-]+$/.test(name)) throw new Error(`inventory name "${name}": use letters, digits, . _ -`);
    return writeInventory({
      repoRoot: this.repoRoot,
      dir: join5(this.dir, "inventories", name),
      hosts: this.hosts,
      keys: { root: this.rootKey, ...this.keys },
      knownHosts: this.knownHosts,
      controlPathDir: join5(this.dir, "cp"),
      vars: opts.vars ?? {},
      vault: opts.vault ?? {},
      ...opts.groups ? { groups: opts.groups } : {},
      ...opts.hardening ? { hardening: opts.hardening } : {}
    });
  }
  /** Runs playbooks/<playbook>.yml (or a path) from the repository root against an inventory. */
  async runPlaybook(playbook, opts) {
    const vaultKey = join5(opts.inventory, "vault.key");
    const env = {
      ANSIBLE_CONFIG: join5(this.repoRoot, "ansible.cfg"),
      // The lab's inventory brings its own key; the variable also overrides any key file an ansible.cfg names.
      ANSIBLE_VAULT_PASSWORD_FILE: vaultKey,
      ANSIBLE_FORCE_COLOR: "0",
      ANSIBLE_NOCOLOR: "1",
      ANSIBLE_SSH_CONTROL_PATH_DIR: join5(this.dir, "cp"),
      ANSIBLE_LOCAL_TEMP: join5(this.dir, "ansible-tmp"),
      ...opts.env
    };
    mkdirSync6(join5(this.dir, "cp"), { recursive: true, mode: 448 });
    mkdirSync6(join5(this.dir, "logs"), { recursive: true });
    const log = createWriteStream(join5(this.dir, "logs", `${++this.playbookRuns}-${playbook.replace(/\W+/g, "_")}.log`));
    const chunks = [];
    const result = await runPlaybook(playbook, {
      cwd: this.repoRoot,
      ansiblePlaybook: "ansible-playbook",
      inventory: opts.inventory,
      check: opts.check,
      diff: opts.diff,
      tags: opts.tags,
      limit: opts.limit,
      extraVars: opts.extraVars ? JSON.stringify(opts.extraVars) : void 0,
      env,
      resultsDir: this.dir,
      factCacheDir: opts.factCache ?? join5(this.dir, "facts"),
      wrap: opts.controller ? (cmd, args) => opts.controller.command(cmd, args, { paths: [this.repoRoot, this.dir], scratch: join5(this.dir, "controller") }) : void 0
    }, (b) => {
      chunks.push(b);
      log.write(b);
    });
    await new Promise((done) => log.end(done));
    return { code: result.exitCode, output: Buffer.concat(chunks).toString("utf8"), recap: result.hosts, result };
  }
  /** Powers the hosts off and removes every trace (processes, mounts, netns, links, files, slot). */
  async destroy() {
    if (!live.has(this.state)) return;
    teardown(this.state);
    live.delete(this.state);
  }
};
var live = /* @__PURE__ */ new Set();
var handlersInstalled = false;
function teardownAll() {
  for (const s of live) {
    try {
      teardown(s);
    } catch (e) {
      process.stderr.write(`lab: teardown of slot ${s.slot} failed: ${e.message}
`);
    }
    live.delete(s);
  }
}
function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", teardownAll);
  process.on("uncaughtExceptionMonitor", () => {
    if (process.listenerCount("uncaughtException") === 0) teardownAll();
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    const handler = () => {
      teardownAll();
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}
function cleanupStaleLocked() {
  let n = 0;
  for (const slot of usedSlots()) {
    const state = loadState(slot);
    if (!state) {
      rmSync5(slotDir(slot), { recursive: true, force: true });
      continue;
    }
    if (ownerAlive(state)) continue;
    teardown(state);
    n++;
  }
  sweepOrphans();
  return n;
}
function hostNames(hosts) {
  const names = typeof hosts === "number" ? Array.from({ length: hosts }, (_, i) => `web${i + 1}`) : hosts;
  if (names.length < 1 || names.length > 250) throw new Error(`lab: between 1 and 250 hosts, got ${names.length}`);
  for (const n of names) if (!HOST_NAME.test(n)) throw new Error(`lab: bad host name "${n}" (expected ${HOST_NAME})`);
  if (new Set(names).size !== names.length) throw new Error(`lab: duplicate host names in ${names.join(", ")}`);
  return names;
}
async function genKey(file, comment) {
  await runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
}
async function startLab(opts) {
  const names = hostNames(opts.hosts);
  const repoRoot = opts.repoRoot ?? findRepoRoot();
  if (!isAbsolute(repoRoot)) throw new Error(`lab: repoRoot must be absolute: ${repoRoot}`);
  if (process.getuid?.() !== 0) throw new Error("lab: test servers need root (network namespaces, mounts, systemd-nspawn)");
  if (!await tcpOpen("127.0.0.1", APT_PROXY_PORT)) {
    throw new Error(`lab: apt-cacher-ng does not answer on 127.0.0.1:${APT_PROXY_PORT}: run scripts/setup.sh`);
  }
  installHandlers();
  const image = await ensureImage(opts.suite ?? "bookworm");
  const owner = procId(process.pid);
  const state = await withLock(GLOBAL_LOCK, async () => {
    cleanupStaleLocked();
    return allocateSlot(owner, (slot) => join5(LABS_DIR, `${slot}-${randomBytes4(3).toString("hex")}`));
  });
  live.add(state);
  try {
    state.hosts = names.map((name, i) => ({
      name,
      index: i,
      address: state.gateway.replace(/\.1$/, `.${i + 2}`),
      netns: `dad${state.slot}-${i}`,
      veth: `dad${state.slot}h${i}`,
      merged: join5(state.dir, "hosts", name, "merged")
    }));
    saveState(state);
    mkdirSync6(join5(state.dir, "keys"), { recursive: true, mode: 448 });
    mkdirSync6(join5(state.dir, "cp"), { recursive: true, mode: 448 });
    const lab = new Lab(state, repoRoot);
    await Promise.all([
      genKey(lab.rootKey, `lab${state.slot}-root`),
      genKey(lab.keys.admin, `lab${state.slot}-admin`),
      genKey(lab.keys.deploy, `lab${state.slot}-deploy`)
    ]);
    await createBridge(state);
    if (!await tcpOpen(state.gateway, APT_PROXY_PORT)) {
      throw new Error(`lab: apt-cacher-ng does not listen on ${state.gateway}:${APT_PROXY_PORT} (check BindAddress in /etc/apt-cacher-ng/acng.conf)`);
    }
    const rootPub = (await runOk("ssh-keygen", ["-y", "-f", lab.rootKey])).stdout;
    await Promise.all(state.hosts.map(async (h) => {
      await createNetns(state, h);
      await prepareRootfs(image, state, h, rootPub);
    }));
    writeFileSync5(lab.knownHosts, state.hosts.flatMap(knownHostsLines).join("\n") + "\n");
    for (const h of state.hosts) boot(state, h);
    saveState(state);
    await Promise.all(state.hosts.map((h) => waitReady(state, h, (cmd) => lab.ssh(h.name, cmd, { timeoutMs: 6e4 }))));
    return lab;
  } catch (e) {
    teardown(state);
    live.delete(state);
    throw e;
  }
}

// src/cli/demo-output.ts
function progressLine(index, total, playbook, ok, ms, recap) {
  const counts = recap ? `  ok=${recap.ok} changed=${recap.changed}` + (recap.failed ? ` failed=${recap.failed}` : "") + (recap.unreachable ? ` unreachable=${recap.unreachable}` : "") : "";
  return `[${index}/${total}] ${playbook.padEnd(10)} ${(ok ? "ok" : "FAILED").padEnd(7)}${formatDuration(ms).padStart(10)}${counts}`;
}
function tail(text, n) {
  const lines = text.replace(/\s+$/, "").split("\n");
  return lines.slice(-n).join("\n");
}

// src/cli/demo-run.ts
function demoVars(address, hostName) {
  return {
    public_hostnames: [address, `${hostName}.test`],
    frontend_tls_enabled: false,
    backend_https: false,
    ...DEBIAN_PYTHON_VARS
  };
}
async function waitForPage(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (; ; ) {
    try {
      const res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(1e4) });
      last = { status: res.status, body: await res.text() };
      if (res.status === 200) return last;
    } catch (e) {
      last = { status: 0, body: e.cause?.code ?? e.message };
    }
    if (Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, 2e3));
  }
}
function sshPort(inventory) {
  try {
    const vars = (0, import_yaml2.parse)(readFileSync6(join6(inventory, "group_vars/all/vars.yml"), "utf8"));
    const port = Number(vars.server_ssh_port);
    return Number.isInteger(port) && port > 0 ? port : 22;
  } catch {
    return 22;
  }
}
function untilSignal() {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {
    }, 1 << 30);
    const done = () => {
      clearInterval(keepAlive);
      process.removeListener("SIGINT", done);
      process.removeListener("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}
async function runDemo(o, repoRoot) {
  const missing = PLAYBOOKS.filter((p) => !existsSync5(join6(repoRoot, "playbooks", `${p}.yml`)));
  if (missing.length > 0) throw new Error(`missing ${missing.map((p) => `playbooks/${p}.yml`).join(", ")} in ${repoRoot}`);
  const t0 = Date.now();
  console.log("demo: booting a throwaway Debian server\u2026");
  const lab = await startLab({ hosts: ["web1"], suite: o.suite, repoRoot });
  try {
    const host = lab.hosts[0];
    console.log(`demo: server web1 up at ${host.address} (${formatDuration(Date.now() - t0)})`);
    const inventory = await lab.writeInventory({ name: "demo", vars: demoVars(host.address, host.name) });
    for (const [i, playbook] of PLAYBOOKS.entries()) {
      const started = Date.now();
      console.log(`[${i + 1}/${PLAYBOOKS.length}] ${playbook}\u2026`);
      const r = await lab.runPlaybook(playbook, { inventory });
      const recap = r.recap[host.name];
      const ok = r.code === 0 && recap !== void 0 && recap.failed === 0 && recap.unreachable === 0;
      console.log(progressLine(i + 1, PLAYBOOKS.length, playbook, ok, Date.now() - started, recap));
      if (!ok) {
        const logDir = join6(repoRoot, ".lab");
        mkdirSync7(logDir, { recursive: true });
        const log = join6(logDir, `demo-${playbook}.log`);
        writeFileSync6(log, r.output);
        console.error(`
--- last lines of ansible-playbook ${playbook} (full log: ${log}) ---
${tail(r.output, 40)}
---`);
        console.error(`django-deploy demo: playbook ${playbook} failed (exit ${r.code})`);
        if (o.keepOnFailure) {
          console.log(`demo: server kept up for a look: ssh -i ${lab.rootKey} -o UserKnownHostsFile=${lab.knownHosts} root@${host.address}  (Ctrl-C tears it down)`);
          await untilSignal();
        }
        return 1;
      }
    }
    const url = `http://${host.address}/`;
    const page = await waitForPage(url, 6e4);
    if (page.status !== 200) {
      console.error(`django-deploy demo: ${url} answered ${page.status || page.body} instead of 200`);
      return 1;
    }
    console.log(`
demo: deployed in ${formatDuration(Date.now() - t0)}; ${url} answers 200.`);
    console.log(`  open:  ${url}   (from this machine)`);
    console.log(`  curl:  curl -i ${url}`);
    console.log(`  ssh:   ssh -i ${lab.keys.admin} -o UserKnownHostsFile=${lab.knownHosts} -p ${sshPort(inventory)} alice@${host.address}`);
    if (o.exit) {
      console.log("demo: --exit: tearing the server down");
      return 0;
    }
    console.log("demo: the server stays up until Ctrl-C");
    await untilSignal();
    console.log("\ndemo: tearing the server down");
    return 0;
  } finally {
    await lab.destroy();
  }
}
export {
  demoVars,
  runDemo
};
