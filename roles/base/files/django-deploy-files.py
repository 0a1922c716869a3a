#!/usr/bin/python3
"""django-deploy-files [--check]: installs the files listed on stdin, one call for many.

stdin: a JSON list of {"dest", "content", "mode", "owner", "group", "validate"} ("validate": a
command the new file's path is appended to, e.g. "bash -n"; "" for none; owner and group default to
root). Each file whose content,
mode, owner or group differ is written beside its destination, validated, then renamed over it
(never half-written); one line per file installed ("installed DEST"), nothing when all were right.
--check says the same lines and changes nothing.

Run as root by the base and backend roles (base: tasks/hardening.yml; backend: tasks/system.yml,
whose files/ links to this file), in place of a copy or template task per file:
one round trip instead of two per file. Root writes only where every directory on the way is
root's and none is a link (a path the project user could swap); a link at DEST itself is replaced,
never followed.
"""
import grp
import json
import os
import pwd
import shlex
import stat
import subprocess
import sys


def die(msg):
    sys.stderr.write('django-deploy-files: %s\n' % msg)
    sys.exit(1)


def check_parents(dest):
    """Every directory from / to DEST's own is a real directory owned by root."""
    path = '/'
    for part in os.path.dirname(dest).strip('/').split('/'):
        path = os.path.join(path, part)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            die('%s: the directory %s does not exist' % (dest, path))
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0:
            die('%s: %s is not a directory of root\'s (a link, or another user\'s): '
                'root does not write below it' % (dest, path))


def current(dest):
    """(content, mode, uid, gid) of the regular file at DEST; None if missing or not a regular file."""
    try:
        fd = os.open(dest, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError:  # a link (ELOOP): replaced by the rename, never followed
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        return b''.join(chunks), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
    finally:
        os.close(fd)


def install(entry, check):
    dest = entry['dest']
    if not os.path.isabs(dest) or '/../' in dest + '/':
        die('%s: not an absolute path' % dest)
    content = entry['content'].encode('utf-8')
    mode = int(entry['mode'], 8)
    uid = pwd.getpwnam(entry.get('owner', 'root')).pw_uid
    gid = grp.getgrnam(entry.get('group', 'root')).gr_gid
    check_parents(dest)
    st = os.lstat(dest) if os.path.lexists(dest) else None
    if st is not None and stat.S_ISDIR(st.st_mode):
        die('%s is a directory: move it away, then run the role again' % dest)
    if current(dest) == (content, mode, uid, gid):
        return False
    print('installed %s' % dest)
    if check:
        return True
    directory, name = os.path.split(dest)
    tmp = os.path.join(directory, '.%s.django-deploy-files' % name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        try:
            os.write(fd, content)
            os.fchown(fd, uid, gid)
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        if entry.get('validate'):
            result = subprocess.run(shlex.split(entry['validate']) + [tmp], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, universal_newlines=True)
            if result.returncode != 0:
                die('%s does not pass %s: %s' % (dest, entry['validate'], result.stdout.strip()[-500:]))
        os.rename(tmp, dest)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return True


def main():
    check = sys.argv[1:] == ['--check']
    if sys.argv[1:] not in ([], ['--check']):
        die('usage: django-deploy-files [--check] < FILES.json')
    os.umask(0o022)
    for entry in json.load(sys.stdin):
        install(entry, check)


if __name__ == '__main__':
    main()
