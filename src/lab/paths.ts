// Where the lab keeps its state. /var/cache survives reboots (the image); /run is per boot
// (slots, locks); lab directories go to /var/tmp because overlay upper layers can grow to
// hundreds of MB once roles install packages (too much for a tmpfs /run).
export const CACHE_DIR = process.env.LAB_CACHE_DIR ?? '/var/cache/django-ansible-deploy'
// One registry per machine (not overridable): network names are machine-wide too.
export const RUN_DIR = '/run/django-ansible-deploy'
export const LABS_DIR = process.env.LAB_WORK_DIR ?? '/var/tmp/django-ansible-deploy'
export const SLOTS_DIR = `${RUN_DIR}/slots`
export const GLOBAL_LOCK = `${RUN_DIR}/lock`
/** Debian's archive through apt-cacher-ng on this machine (it caches for every later run). */
export const APT_PROXY_PORT = 3142
export const MIRROR = `http://127.0.0.1:${APT_PROXY_PORT}/deb.debian.org/debian`
