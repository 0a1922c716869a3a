# Lists a release's pending migrations on the database and classifies each operation by whether the
# release still serving can live with the schema it leaves:
#   additive  the old code keeps working (a new table, a nullable or defaulted column, an index…);
#   breaking  the old code may fail (a column it reads dropped or renamed, a type or NOT NULL change,
#             a unique constraint on existing data, code the deploy cannot inspect: RunSQL/RunPython
#             unless marked with hints={"zero_downtime": True}).
# Run inside the release's Django by its ctl wrapper (BACKEND_RELEASE=DIR NAME-ctl shell -c ...); prints
# one line, MARKER + JSON: {"migrations": [{"migration", "operations": [{"operation", "class", "reason"}]}],
# "class": "none" | "additive" | "breaking"}. Reads the database only (the django_migrations table).
# Its rules need no Django: a preview imports them to classify a pull request's migration files.
import json

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


# The rules below read a field as {"path", "args", "kwargs", "m2m"}: Django's own deconstruct() here,
# the migration file's source in a preview (django-deploy-migrations-source.py, which imports them).
def has_default(field):
    return "default" in field["kwargs"] or "db_default" in field["kwargs"]


def added_field(field):
    if field["m2m"]:
        return "additive", "a new table"
    if field["kwargs"].get("null") or has_default(field):
        return "additive", "a nullable or defaulted column"
    return "breaking", "adds a NOT NULL column without a default"


def altered_field(old, new):
    if old is None:
        return "breaking", "alters a field the deploy cannot find"
    if old["path"] != new["path"] or old["args"] != new["args"]:
        return "breaking", "changes the column's type"
    old_kwargs, new_kwargs = old["kwargs"], new["kwargs"]
    keys = (set(old_kwargs) | set(new_kwargs)) - NO_SCHEMA
    changed = {k for k in keys if old_kwargs.get(k) != new_kwargs.get(k)}
    if "null" in changed:
        changed.discard("null")
        if not new_kwargs.get("null") and not has_default(new):
            return "breaking", "makes the column NOT NULL without a default"
    if "unique" in changed:
        changed.discard("unique")
        if new_kwargs.get("unique"):
            return "breaking", "a unique constraint existing data or the serving release may violate"
    if "max_length" in changed:
        changed.discard("max_length")
        if (new_kwargs.get("max_length") or 0) < (old_kwargs.get("max_length") or 0):
            return "breaking", "shortens the column"
    if changed:
        return "breaking", "changes the column (%s)" % ", ".join(sorted(changed))
    return "additive", "the column stays readable and writable by the serving release"


def classify_operation(name, hints=None, field=None, old_field=None, inner=()):
    """One operation's class and why: its class name, RunSQL/RunPython's hints, AddField/AlterField's
    field (and the field before), SeparateDatabaseAndState's database operations already classified."""
    if name in ("RunSQL", "RunPython"):
        if (hints or {}).get("zero_downtime"):
            return "additive", "marked hints={'zero_downtime': True}"
        return "breaking", ("runs code the deploy cannot inspect"
                            " (mark it hints={'zero_downtime': True} if the serving release copes)")
    if name == "SeparateDatabaseAndState":
        return next((c for c in inner if c[0] == "breaking"), ("additive", "state only"))
    if name == "AddField":
        return added_field(field)
    if name == "AlterField":
        return altered_field(old_field, field)
    if name in ADDITIVE:
        return "additive", ADDITIVE[name]
    if name in BREAKING:
        return "breaking", BREAKING[name]
    return "breaking", "an operation the deploy does not know (%s)" % name


def overall(migrations):
    classes = {o["class"] for m in migrations for o in m["operations"]}
    return "breaking" if "breaking" in classes else "additive" if migrations else "none"


def field_of(field):
    _, path, args, kwargs = field.deconstruct()
    return {"path": path, "args": args, "kwargs": kwargs, "m2m": field.many_to_many}


def classify(op, state, app_label):
    name = type(op).__name__
    if name == "SeparateDatabaseAndState":
        return classify_operation(name, inner=[classify(i, state, app_label) for i in op.database_operations])
    field = old = None
    if name in ("AddField", "AlterField"):
        field = field_of(op.field)
        model = state.models.get((app_label, op.model_name.lower()))
        found = dict(model.fields).get(op.name) if model else None
        old = field_of(found) if found is not None else None
    return classify_operation(name, hints=getattr(op, "hints", None), field=field, old_field=old)


def describe(op):
    try:
        return op.describe()
    except Exception:  # an operation of a third-party package without describe()
        return type(op).__name__


def main():
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

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
    print(MARKER + json.dumps({"migrations": out, "class": overall(out)}))


# Run by the ctl wrapper (exec with this name); imported for its rules otherwise.
if __name__ == "django_deploy_migrations":
    main()
