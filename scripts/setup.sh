#!/usr/bin/env bash
# Installs everything the demo, the tests and the benchmarks need on a Debian/Ubuntu machine.
# Idempotent: a second run installs nothing. Needs root (apt, network namespaces, systemd-nspawn).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (sudo bash $0): test servers need network namespaces and systemd-nspawn" >&2
  exit 1
fi

packages=(
  ansible-core python3-passlib                       # controller (passlib: password_hash without Python's crypt, gone in 3.13)
  ansible-lint yamllint shellcheck flake8 pre-commit # linters (pre-commit runs them as local hooks: .pre-commit-config.yaml)
  bats                                               # unit tests of the roles' shell scripts (test/server)
  debootstrap systemd-container iproute2 apt-cacher-ng # throwaway test servers (src/lab)
  debian-archive-keyring                             # debootstrap verifies Debian's archive (Ubuntu lacks it)
  nftables                                           # keeps lab hosts off other networks where IPv4 is forwarded
  openssh-client git curl openssl ca-certificates procps # procps: pgrep (here and in tests)
  wrk hey pebble                                     # load generators, local ACME CA
  age                                                # backup tests: keys and decryption on the controller
  lynis ssh-audit python3-aiosmtpd                   # hardening measured from outside; a real SMTP server for server mail
)
command -v node >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Test servers fetch their packages through apt-cacher-ng on this machine; pin it to Debian's
# mirror (without this line it tries other backends and answers 503).
backend='http://deb.debian.org/debian/'
if [ "$(cat /etc/apt-cacher-ng/backends_debian 2>/dev/null)" != "$backend" ]; then
  echo "$backend" > /etc/apt-cacher-ng/backends_debian
  service apt-cacher-ng restart >/dev/null
fi
pgrep -x apt-cacher-ng >/dev/null || service apt-cacher-ng start >/dev/null
# Test servers reach it on their gateway address: it must listen on every address (its default).
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/3142) 2>/dev/null && break
  sleep 0.2
done
(exec 3<>/dev/tcp/127.0.0.1/3142) 2>/dev/null || { echo "setup: apt-cacher-ng does not answer on port 3142" >&2; exit 1; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
