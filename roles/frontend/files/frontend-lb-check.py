#!/usr/bin/python3
"""The load balancer's view of the app servers, written as nginx upstream lines.

Usage: frontend-lb-check SITE [check | drain NAME [SECONDS] | undrain NAME | status]

nginx (without the commercial edition) only checks an upstream passively, when a request fails.
This adds the active check: each app server's health URL is probed (`check`, run by a systemd
timer); a server that fails FAILS probes in a row, or that a deploy drained, is marked `down`.
The upstream file changes only when a mark changes; the whole configuration is tested with the
candidate in place (frontend-nginx-check) before it lands, then nginx reloads (gracefully: the
requests in flight finish on the old workers). `drain` returns once those old workers have exited
(at most SECONDS, default 60): the drained server then has no request from this load balancer left.

A server the checker has not probed yet (a new app server) counts as failing until a probe passes:
it joins the upstream once healthy. When no server would be left up by the probes, none is marked
down by them (nginx's passive checks still apply): an outage of the probes must not become an
outage of the site. A drain that would leave no server up is refused (exit 3).

Settings: /etc/django-deploy-lb/SITE.json (written by the frontend role); state (drained servers,
failed probes in a row): /var/lib/django-deploy-lb/SITE/, root's only.
"""
import fcntl
import http.client
import json
import os
import subprocess
import sys
import time

CONFIG_DIR = '/etc/django-deploy-lb'
STATE_DIR = '/var/lib/django-deploy-lb'
# A drain refused because no other app server is up.
REFUSED = 3


def probe(cfg, server):
    """True when the server's health URL answers 200 within the timeout."""
    try:
        conn = http.client.HTTPConnection(server['address'], server['port'], timeout=cfg['timeout'])
        conn.request('GET', cfg['health_path'], headers={'Host': cfg['host'], 'X-Forwarded-Proto': cfg['proto']})
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except (OSError, http.client.HTTPException):
        return False


def upstream_text(cfg, down):
    lines = ['# Written by frontend-lb-check: the app servers, `down` when drained or failing their health check.']
    for s in cfg['servers']:
        mark = ' down' if s['name'] in down else ''
        limits = f"max_fails={cfg['max_fails']} fail_timeout={cfg['fail_timeout']}s"
        lines.append(f"server {s['address']}:{s['port']} {limits}{mark};  # {s['name']}")
    return '\n'.join(lines) + '\n'


def nginx_workers():
    """The pids of nginx's worker processes (none when nginx does not run)."""
    try:
        with open('/run/nginx.pid') as f:
            master = f.read().strip()
    except FileNotFoundError:
        return set()
    found = subprocess.run(['pgrep', '-P', master], capture_output=True, text=True)
    return {int(p) for p in found.stdout.split()}


def wait_gone(pids, seconds):
    """Waits until none of `pids` runs (the workers from before a reload finished their requests).
    True when they are gone within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids = {p for p in pids if os.path.exists(f'/proc/{p}')}
        if not pids:
            return True
        time.sleep(0.2)
    return False


def install(cfg, text):
    """Writes the upstream file if it changed (tested first), then reloads nginx. True when changed."""
    path = cfg['upstream_file']
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    tmp = path + '.new'
    with open(tmp, 'w') as f:
        f.write(text)
    test = subprocess.run(['/usr/local/sbin/frontend-nginx-check', path, tmp], capture_output=True, text=True)
    if test.returncode != 0:
        os.unlink(tmp)
        sys.exit(f'frontend-lb-check: the upstream file was not changed: nginx -t failed: {test.stderr.strip()}')
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    # A reload only when nginx runs (the first write happens before the site exists).
    if subprocess.run(['systemctl', 'is-active', '--quiet', 'nginx']).returncode == 0:
        subprocess.run(['systemctl', 'reload', 'nginx'], check=True)
    return True


def main(argv):
    if len(argv) < 2 or len(argv) > 5:
        sys.exit(__doc__.split('\n\n')[1])
    site, action = argv[1], argv[2] if len(argv) > 2 else 'check'
    with open(os.path.join(CONFIG_DIR, site + '.json')) as f:
        cfg = json.load(f)
    state = os.path.join(STATE_DIR, site)
    drained_dir = os.path.join(state, 'drained')
    os.makedirs(drained_dir, mode=0o700, exist_ok=True)
    names = [s['name'] for s in cfg['servers']]
    # One writer at a time (the timer and a deploy's drain).
    lock = open(os.path.join(state, 'lock'), 'w')
    fcntl.flock(lock, fcntl.LOCK_EX)

    fails_path = os.path.join(state, 'fails.json')
    try:
        with open(fails_path) as f:
            fails = json.load(f)
    except (FileNotFoundError, ValueError):
        fails = {}
    # A server no longer configured (removed from the inventory, drained first) leaves no mark behind.
    for n in os.listdir(drained_dir):
        if n not in names:
            os.unlink(os.path.join(drained_dir, n))
    drained = set(os.listdir(drained_dir))
    # Not probed yet: failing until a probe passes.
    unknown = cfg['fails']

    if action in ('drain', 'undrain'):
        extra = argv[4:]
        if len(argv) < 4 or argv[3] not in names or (extra and (action == 'undrain' or not extra[0].isdigit())):
            sys.exit(f"frontend-lb-check: {action} takes one of the app servers ({', '.join(names)}), drain then seconds to wait")
        name = argv[3]
        seconds = int(extra[0]) if extra else 60
        flag = os.path.join(drained_dir, name)
        if action == 'drain':
            others_up = [n for n in names if n != name and n not in drained and fails.get(n, unknown) < cfg['fails']]
            if not others_up:
                # Exit 3: refused, nothing changed (a deploy then switches the server in place).
                print(f'frontend-lb-check: {name} was not taken out: no other app server is up (it would take the site down)',
                      file=sys.stderr)
                sys.exit(REFUSED)
            open(flag, 'w').close()
            drained.add(name)
        else:
            if os.path.exists(flag):
                os.unlink(flag)
            drained.discard(name)
            # Back in only once healthy: probed now rather than at the next tick.
            fails[name] = 0 if probe(cfg, next(s for s in cfg['servers'] if s['name'] == name)) else cfg['fails']
    elif action == 'check':
        for s in cfg['servers']:
            if s['name'] not in drained:
                fails[s['name']] = 0 if probe(cfg, s) else fails.get(s['name'], unknown) + 1
    elif action == 'status':
        for n in names:
            print(f"{n} {'drained' if n in drained else 'failing' if fails.get(n, unknown) >= cfg['fails'] else 'up'}")
        return
    else:
        sys.exit(f'frontend-lb-check: unknown action {action}: check, drain NAME, undrain NAME or status')

    fails = {n: fails.get(n, unknown) for n in names}
    with open(fails_path + '.new', 'w') as f:
        json.dump(fails, f)
    os.replace(fails_path + '.new', fails_path)
    failing = {n for n in names if fails[n] >= cfg['fails'] and n not in drained}
    if not set(names) - drained - failing:
        failing = set()
    workers = nginx_workers()
    changed = install(cfg, upstream_text(cfg, drained | failing))
    marks = (f'{n}={"drained" if n in drained else "down" if n in failing else "up"}' for n in names)
    print('changed' if changed else 'unchanged', ' '.join(marks))
    # The reload's old workers may still be proxying requests to the drained server: wait for them.
    if action == 'drain' and changed and not wait_gone(workers, seconds):
        print(f'frontend-lb-check: requests to {argv[3]} still in flight after {seconds}s', file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv)
