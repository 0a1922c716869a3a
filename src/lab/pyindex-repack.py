"""Re-packs installed Debian Python packages as wheels (run inside a tree of the suite: src/lab/pyindex.ts).

Usage: python3 pyindex-repack.py OUT_DIR '{"DIST": {"debs": ["python3-x", ...], "requires": ["y>=1"]}, ...}'

Each distribution's wheel holds the files its Debian packages install under dist-packages (symbolic
links followed) and a .dist-info made from Debian's metadata (egg-info PKG-INFO and requires.txt,
or the dist-info's METADATA), entry points kept so pip writes the console scripts. A wheel with a
compiled module is tagged for this tree's Python and architecture only; the others are py3-none-any.
Debian drops some upstream requirements from its metadata (it declares them as package
dependencies instead): "requires" restores upstream's, used only when the metadata has none.
Prints one JSON line per distribution: name, version, wheel file, the Debian source package and version.
"""
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile

SITE = '/usr/lib/python3/dist-packages'


def deb_files(pkg):
    out = subprocess.run(['dpkg-query', '-L', pkg], check=True, capture_output=True, text=True).stdout
    return [f for f in out.splitlines() if f.startswith(SITE + '/') and os.path.isfile(f)]


def deb_python_files(pkg):
    """The package's files, or (a transitional package: trixie's python3-tz) those of the python3-* it depends on."""
    files = deb_files(pkg)
    if files:
        return files
    depends = subprocess.run(['dpkg-query', '-W', '-f', '${Depends}', pkg], check=True, capture_output=True, text=True).stdout
    targets = [d.strip().split(' ')[0] for d in depends.split(',') if d.strip().startswith('python3-')]
    return [f for t in targets for f in deb_files(t)]


def deb_source(pkg):
    fmt = '${source:Package} ${source:Version}'
    return subprocess.run(['dpkg-query', '-W', '-f', fmt, pkg], check=True, capture_output=True, text=True).stdout.split()


def info_dir(rel):
    """The metadata directory (or egg-info file) a dist-packages path belongs to, if any."""
    top = rel.split('/')[0]
    return top if top.endswith(('.egg-info', '.dist-info')) else None


def requires_dist(requires_txt):
    """setuptools' requires.txt (sections [extra:marker]) as Requires-Dist and Provides-Extra lines."""
    lines, extras, marker = [], [], ''
    for line in requires_txt.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('['):
            extra, _, cond = line[1:-1].partition(':')
            parts = [f'({cond})'] if cond else []
            if extra:
                extras.append(extra)
                parts.append(f'extra == "{extra}"')
            marker = '; ' + ' and '.join(parts) if parts else ''
            continue
        lines.append(f'Requires-Dist: {line}{marker}')
    return [f'Provides-Extra: {e}' for e in dict.fromkeys(extras)] + lines


def metadata(files, requires):
    """(METADATA text, entry_points.txt text or None) from the packages' egg-info or dist-info."""
    infos = {}
    for f in files:
        rel = os.path.relpath(f, SITE)
        d = info_dir(rel)
        if d:
            infos.setdefault(d, {})[rel[len(d) + 1:] or 'PKG-INFO'] = f
    if len(infos) > 1:
        # python3-cryptography ships its egg-info beside the dist-info: the dist-info is the wheel's own.
        infos = {d: parts for d, parts in infos.items() if d.endswith('.dist-info')}
    if len(infos) != 1:
        tops = ', '.join(sorted({f.split('/')[5] for f in files}))[:200]
        raise SystemExit(f'{tops}: expected one egg-info or dist-info, found {sorted(infos)}')
    [(name, parts)] = infos.items()
    read = lambda key: open(parts[key], encoding='utf-8').read() if key in parts else None  # noqa: E731
    if name.endswith('.dist-info'):
        text = read('METADATA')
    else:
        head, _, body = read('PKG-INFO').partition('\n\n')
        head = [h for h in head.splitlines() if not h.startswith('Requires-Dist:')]
        head = [re.sub(r'^Metadata-Version: .*', 'Metadata-Version: 2.1', h) for h in head]
        head += [r for r in requires_dist(read('requires.txt') or '') if r not in head]
        text = '\n'.join(head) + '\n\n' + body
    if requires and not re.search(r'^Requires-Dist: [^;]+$', text, re.M):
        head, _, body = text.partition('\n\n')
        text = head + ''.join(f'\nRequires-Dist: {r}' for r in requires) + '\n\n' + body
    return text, read('entry_points.txt'), name


def field(text, key):
    m = re.search(rf'^{key}: (.+)$', text, re.M)
    if not m:
        raise SystemExit(f'no {key} in the metadata')
    return m.group(1).strip()


def record_line(arc, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    return f'{arc},sha256={digest},{len(data)}'


def build(out_dir, dist, pkgs, requires):
    files = [f for p in pkgs for f in deb_python_files(p)]
    meta, entry_points, info = metadata(files, requires)
    name, version = field(meta, 'Name'), field(meta, 'Version')
    payload = []
    for f in sorted(set(files)):
        rel = os.path.relpath(f, SITE)
        if info_dir(rel) or '/__pycache__/' in f:
            continue
        real = os.path.realpath(f)
        if not os.path.isfile(real):
            print(f'{dist}: skipping {rel} (link to a missing {real})', file=sys.stderr)
            continue
        payload.append((rel, open(real, 'rb').read()))
    compiled = any(rel.endswith('.so') for rel, _ in payload)
    if compiled:
        py = f'cp{sys.version_info.major}{sys.version_info.minor}'
        tag = f'{py}-{py}-{sysconfig.get_platform().replace("-", "_").replace(".", "_")}'
    else:
        tag = 'py3-none-any'
    safe = re.sub(r'[-_.]+', '_', name)
    dist_info = f'{safe}-{version}.dist-info'
    purelib = 'false' if compiled else 'true'
    wheel_meta = f'Wheel-Version: 1.0\nGenerator: django-ansible-deploy lab repack\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n'
    payload.append((f'{dist_info}/METADATA', meta.encode()))
    payload.append((f'{dist_info}/WHEEL', wheel_meta.encode()))
    if entry_points:
        payload.append((f'{dist_info}/entry_points.txt', entry_points.encode()))
    record = [record_line(arc, data) for arc, data in payload] + [f'{dist_info}/RECORD,,']
    payload.append((f'{dist_info}/RECORD', ('\n'.join(record) + '\n').encode()))
    wheel = f'{safe}-{version}-{tag}.whl'
    # Fixed timestamps: the same packages give the same bytes (stable hashes in requirements files).
    with zipfile.ZipFile(os.path.join(out_dir, wheel), 'w', zipfile.ZIP_DEFLATED) as z:
        for arc, data in payload:
            zi = zipfile.ZipInfo(arc, date_time=(2000, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data, zipfile.ZIP_DEFLATED)
    source, source_version = deb_source(pkgs[0])
    print(json.dumps({'dist': dist, 'name': name, 'version': version, 'file': wheel,
                      'source': source, 'sourceVersion': source_version, 'from': info}))


def main():
    out_dir = sys.argv[1]
    for dist, spec in json.loads(sys.argv[2]).items():
        build(out_dir, dist, spec['debs'], spec.get('requires', []))


main()
