#!/usr/bin/env python3
# Renders every shell template of the roles (roles/*/templates/*.sh.j2) with Ansible's own
# templating, the role's defaults and the production inventory's vars, into OUT_DIR, so shellcheck
# reads the script a server runs. Variables only known at run time (facts, set_fact, vault values)
# get a placeholder word. Usage: render-shell-templates.py OUT_DIR
import glob
import os
import re
import sys

from ansible.errors import AnsibleUndefinedVariable
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

PLACEHOLDER = 'placeholder'
# Loop variables the templates read fields of (a placeholder word has no fields).
SAMPLES = {'_backend_worker': {'name': 'tasks', 'command': 'python -m jobs.worker'}}


def load_vars(loader, files):
    values = {}
    for f in files:
        if os.path.exists(f):
            values.update(loader.load_from_file(f) or {})
    return values


def render(loader, source, values):
    text = open(source).read()
    for _ in range(50):
        try:
            return Templar(loader=loader, variables=values).template(text, escape_backslashes=False)
        except AnsibleUndefinedVariable as e:
            m = re.search(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined", str(e))
            if not m or m.group(1) in values:
                raise
            values[m.group(1)] = PLACEHOLDER
    raise RuntimeError('%s: too many undefined variables' % source)


def main(out_dir):
    loader = DataLoader()
    inventory = sorted(glob.glob('inventories/production/group_vars/all/vars.yml'))
    for source in sorted(glob.glob('roles/*/templates/**/*.sh.j2', recursive=True)):
        role = source.split('/')[1]
        values = load_vars(loader, sorted(glob.glob('roles/%s/defaults/*.yml' % role)) + inventory)
        values['ansible_managed'] = 'Ansible managed'
        values['inventory_hostname'] = 'web1'
        values.update(SAMPLES)
        target = os.path.join(out_dir, source[:-len('.j2')])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, 'w') as f:
            f.write(render(loader, source, values))
        print(target)


if __name__ == '__main__':
    main(sys.argv[1])
