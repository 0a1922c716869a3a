# Lists a release's pending migrations on the database and classifies each operation by whether the
# release still serving can live with the schema it leaves:
#   additive  the old code keeps working (a new table, a nullable or defaulted column, an index…);
#   breaking  the old code may fail (a column it reads dropped or renamed, a type or NOT NULL change,
#             a unique constraint on existing data, code the deploy cannot inspect: RunSQL/RunPython
#             unless marked with hints={"zero_downtime": True}).
# Run inside the release's Django by its ctl wrapper (BACKEND_RELEASE=DIR NAME-ctl shell -c ...); prints
# one line, MARKER + JSON: {"migrations": [{"migration", "operations": [{"operation", "class", "reason"}]}],
# "class": "none" | "additive" | "breaking"}. Reads the database only (the django_migrations table).
import json

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

MARKER = "DJANGO_DEPLOY_MIGRATIONS "

ADDITIVE = {
    "CreateModel": "a new table",
    "AddIndex": "an index",
    "AddIndexConcurrently": "an index",
    "RemoveIndex": "an index less",
    "RemoveIndexConcurrently": "an index less",
    "RenameIndex": "an index renamed",
    "AlterIndexTogether": "indexes",
    "RemoveConstraint": "a constraint less",
    "AlterModelOptions": "no schema change",
    "AlterModelManagers": "no schema change",
}
BREAKING = {
    "RemoveField": "drops a column the serving release reads",
    "DeleteModel": "drops a table the serving release reads",
    "RenameField": "renames a column the serving release reads",
    "RenameModel": "renames a table the serving release reads",
    "AlterModelTable": "renames a table the serving release reads",
    "AlterOrderWithRespectTo": "adds a NOT NULL column the serving release does not write",
    "AddConstraint": "a constraint existing data or the serving release may violate",
    "AlterUniqueTogether": "a unique constraint existing data or the serving release may violate",
}
# Field arguments that change no column.
NO_SCHEMA = {"verbose_name", "help_text", "choices", "validators", "blank", "editable", "error_messages",
             "default", "related_name", "related_query_name", "limit_choices_to", "on_delete", "db_index",
             "auto_now", "auto_now_add", "upload_to", "storage"}


def has_default(field):
    from django.db.models.fields import NOT_PROVIDED
    return field.has_default() or getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED


def model_fields(state, app_label, model_name):
    model = state.models.get((app_label, model_name.lower()))
    return dict(model.fields) if model else {}


def alter_field(op, state, app_label):
    old = model_fields(state, app_label, op.model_name).get(op.name)
    new = op.field
    if old is None:
        return "breaking", "alters a field the deploy cannot find"
    _, old_path, old_args, old_kwargs = old.deconstruct()
    _, new_path, new_args, new_kwargs = new.deconstruct()
    if old_path != new_path or old_args != new_args:
        return "breaking", "changes the column's type"
    keys = (set(old_kwargs) | set(new_kwargs)) - NO_SCHEMA
    changed = {k for k in keys if old_kwargs.get(k) != new_kwargs.get(k)}
    if "null" in changed:
        changed.discard("null")
        if not new.null and not has_default(new):
            return "breaking", "makes the column NOT NULL without a default"
    if "unique" in changed:
        changed.discard("unique")
        if new.unique:
            return "breaking", "a unique constraint existing data or the serving release may violate"
    if "max_length" in changed:
        changed.discard("max_length")
        if (new.max_length or 0) < (old.max_length or 0):
            return "breaking", "shortens the column"
    if changed:
        return "breaking", "changes the column (%s)" % ", ".join(sorted(changed))
    return "additive", "the column stays readable and writable by the serving release"


def classify(op, state, app_label):
    name = type(op).__name__
    if name in ("RunSQL", "RunPython"):
        if (getattr(op, "hints", None) or {}).get("zero_downtime"):
            return "additive", "marked hints={'zero_downtime': True}"
        return "breaking", ("runs code the deploy cannot inspect"
                            " (mark it hints={'zero_downtime': True} if the serving release copes)")
    if name == "SeparateDatabaseAndState":
        worst = ("additive", "state only")
        for inner in op.database_operations:
            c = classify(inner, state, app_label)
            if c[0] == "breaking":
                return c
        return worst
    if name == "AddField":
        f = op.field
        if f.many_to_many:
            return "additive", "a new table"
        if f.null or has_default(f):
            return "additive", "a nullable or defaulted column"
        return "breaking", "adds a NOT NULL column without a default"
    if name == "AlterField":
        return alter_field(op, state, app_label)
    if name in ADDITIVE:
        return "additive", ADDITIVE[name]
    if name in BREAKING:
        return "breaking", BREAKING[name]
    return "breaking", "an operation the deploy does not know (%s)" % name


def describe(op):
    try:
        return op.describe()
    except Exception:  # an operation of a third-party package without describe()
        return type(op).__name__


def main():
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    state = executor._create_project_state(with_applied_migrations=True)
    out = []
    for migration, backwards in plan:
        ops = []
        for op in migration.operations:
            cls, reason = classify(op, state, migration.app_label)
            ops.append({"operation": describe(op), "class": cls, "reason": reason})
            op.state_forwards(migration.app_label, state)
        out.append({"migration": "%s.%s" % (migration.app_label, migration.name), "operations": ops})
    classes = {o["class"] for m in out for o in m["operations"]}
    overall = "breaking" if "breaking" in classes else "additive" if out else "none"
    print(MARKER + json.dumps({"migrations": out, "class": overall}))


main()
