# A preview's pending migrations: the migration files of the code to deploy, read as source (never
# imported nor run: a pull request's code stays inert), minus those the server's database has applied,
# classified by the deploy's own rules (django-deploy-migrations.py, beside this file).
#   python3 django-deploy-migrations-source.py APP_DIR < applied
# applied: the server's output with a line APPLIED_MARKER + ["app_label.name", ...] (the live site's
# django_migrations table; a whole line, so that Ansible passes it on as text). Prints one line,
# the same MARKER + JSON as the deploy's classifier. Sees the project's own apps only (a migrations
# package under APP_DIR, its label the package's directory name): not those of installed packages.
import ast
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("django_deploy_migrations_rules",
                                               os.path.join(HERE, "django-deploy-migrations.py"))
rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rules)

APPLIED_MARKER = "DJANGO_DEPLOY_APPLIED "
SKIP_DIRS = {".git", "__pycache__", "node_modules", "venv", ".venv", "media", "static"}
# Positional parameters of Django's operations (django.db.migrations.operations), for calls that
# pass them without names.
PARAMS = {
    "CreateModel": ["name", "fields", "options", "bases", "managers"],
    "DeleteModel": ["name"],
    "RenameModel": ["old_name", "new_name"],
    "AlterModelTable": ["name", "table"],
    "AlterUniqueTogether": ["name", "unique_together"],
    "AlterIndexTogether": ["name", "index_together"],
    "AlterOrderWithRespectTo": ["name", "order_with_respect_to"],
    "AlterModelOptions": ["name", "options"],
    "AlterModelManagers": ["name", "managers"],
    "AddField": ["model_name", "name", "field", "preserve_default"],
    "RemoveField": ["model_name", "name"],
    "AlterField": ["model_name", "name", "field", "preserve_default"],
    "RenameField": ["model_name", "old_name", "new_name"],
    "AddIndex": ["model_name", "index"],
    "RemoveIndex": ["model_name", "name"],
    "AddConstraint": ["model_name", "constraint"],
    "RemoveConstraint": ["model_name", "name"],
    "RunSQL": ["sql", "reverse_sql", "state_operations", "hints", "elidable"],
    "RunPython": ["code", "reverse_code", "atomic", "hints", "elidable"],
    "SeparateDatabaseAndState": ["database_operations", "state_operations"],
}
# Django's own descriptions (Operation.describe()), so a preview reads like the deploy.
DESCRIBE = {
    "CreateModel": "Create model {name}",
    "DeleteModel": "Delete model {name}",
    "RenameModel": "Rename model {old_name} to {new_name}",
    "AlterModelTable": "Rename table for {name} to {table}",
    "AddField": "Add field {name} to {model_name}",
    "RemoveField": "Remove field {name} from {model_name}",
    "AlterField": "Alter field {name} on {model_name}",
    "RenameField": "Rename field {old_name} on {model_name} to {new_name}",
    "RunSQL": "Raw SQL operation",
    "RunPython": "Raw Python operation",
    "SeparateDatabaseAndState": "Custom state/database change combination",
}


def value(node):
    """A literal's value; anything else (a function, a name) as its syntax tree, comparable."""
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError):
        return ast.dump(node)


def dotted(node):
    if isinstance(node, ast.Attribute):
        return dotted(node.value) + "." + node.attr
    return node.id if isinstance(node, ast.Name) else ast.dump(node)


def call_args(call, params):
    args = dict(zip(params, call.args))
    args.update((k.arg, k.value) for k in call.keywords if k.arg)
    return args


def field_of(node):
    if not isinstance(node, ast.Call):
        return None
    path = dotted(node.func)
    kwargs = {k.arg: value(k.value) for k in node.keywords if k.arg}
    return {"path": path, "args": [value(a) for a in node.args], "kwargs": kwargs,
            "m2m": path.endswith("ManyToManyField")}


def text(args, key):
    v = value(args[key]) if key in args else ""
    return v.lower() if isinstance(v, str) else str(v)


class State:
    """Each model's fields as the migrations read so far leave them: {(app, model): {field: field}}."""

    def __init__(self):
        self.models = {}

    def fields(self, app, model):
        return self.models.setdefault((app, model), {})

    def forwards(self, app, name, args):
        if name == "CreateModel":
            fields = args.get("fields")
            pairs = fields.elts if isinstance(fields, (ast.List, ast.Tuple)) else []
            self.models[(app, text(args, "name"))] = {
                value(p.elts[0]): field_of(p.elts[1]) for p in pairs if isinstance(p, ast.Tuple) and len(p.elts) == 2}
        elif name == "DeleteModel":
            self.models.pop((app, text(args, "name")), None)
        elif name == "RenameModel":
            self.models[(app, text(args, "new_name"))] = self.models.pop((app, text(args, "old_name")), {})
        elif name in ("AddField", "AlterField"):
            self.fields(app, text(args, "model_name"))[value(args["name"])] = field_of(args.get("field"))
        elif name == "RemoveField":
            self.fields(app, text(args, "model_name")).pop(value(args["name"]), None)
        elif name == "RenameField":
            fields = self.fields(app, text(args, "model_name"))
            fields[value(args["new_name"])] = fields.pop(value(args["old_name"]), None)


def operation_calls(node):
    return [c for c in (node.elts if isinstance(node, (ast.List, ast.Tuple)) else []) if isinstance(c, ast.Call)]


def classify(app, call, state):
    name = call.func.attr if isinstance(call.func, ast.Attribute) else dotted(call.func)
    args = call_args(call, PARAMS.get(name, []))
    inner = [classify(app, c, state)[0] for c in operation_calls(args.get("database_operations"))]
    field = field_of(args.get("field"))
    old = state.fields(app, text(args, "model_name")).get(value(args["name"])) if name == "AlterField" else None
    hints = value(args["hints"]) if "hints" in args else None
    cls = rules.classify_operation(name, hints=hints if isinstance(hints, dict) else None, field=field,
                                   old_field=old, inner=inner)
    try:
        described = DESCRIBE[name].format(**{k: value(v) for k, v in args.items()})
    except (KeyError, IndexError):
        described = name
    return cls, described, name, args


def read_migration(path):
    """The Migration class's dependencies, replaces and operations (syntax trees), or None."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            found = {}
            for item in node.body:
                if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
                    found[item.targets[0].id] = item.value
            deps = value(found["dependencies"]) if "dependencies" in found else []
            replaces = value(found["replaces"]) if "replaces" in found else []
            return {"dependencies": deps if isinstance(deps, list) else [],
                    "replaces": replaces if isinstance(replaces, list) else [],
                    "operations": operation_calls(found.get("operations"))}
    return None


def project_migrations(root):
    """{app: {name: migration}} for each migrations package under root."""
    apps = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        if os.path.basename(folder) != "migrations" or "__init__.py" not in files:
            continue
        app = os.path.basename(os.path.dirname(folder))
        for f in sorted(files):
            if f.endswith(".py") and f != "__init__.py":
                m = read_migration(os.path.join(folder, f))
                if m is not None:
                    apps.setdefault(app, {})[f[:-3]] = m
    return apps


def in_order(app, migrations):
    """The app's migrations, each after those of the same app it depends on (then by name)."""
    done, out = set(), []

    def visit(name, seen=()):
        if name in done or name in seen or name not in migrations:
            return
        for dep in migrations[name]["dependencies"]:
            if isinstance(dep, (list, tuple)) and len(dep) == 2 and dep[0] == app:
                visit(dep[1], seen + (name,))
        done.add(name)
        out.append(name)

    for name in sorted(migrations):
        visit(name)
    return out


def pending(root, applied):
    state, out = State(), []
    for app, migrations in sorted(project_migrations(root).items()):
        for name in in_order(app, migrations):
            m = migrations[name]
            done = "%s.%s" % (app, name) in applied or (
                m["replaces"] and all("%s.%s" % tuple(r) in applied for r in m["replaces"]))
            ops = []
            for call in m["operations"]:
                (cls, reason), described, op_name, args = classify(app, call, state)
                if not done:
                    ops.append({"operation": described, "class": cls, "reason": reason})
                state.forwards(app, op_name, args)
            if not done:
                out.append({"migration": "%s.%s" % (app, name), "operations": ops})
    return out


def main():
    lines = [line for line in sys.stdin.read().splitlines() if line.startswith(APPLIED_MARKER)]
    if not lines:
        sys.exit("django-deploy-migrations-source: no %sline on stdin (the live site's applied migrations)" % APPLIED_MARKER)
    applied = set(json.loads(lines[-1][len(APPLIED_MARKER):]))
    out = pending(sys.argv[1], applied)
    print(rules.MARKER + json.dumps({"migrations": out, "class": rules.overall(out)}))


if __name__ == "__main__":
    main()
