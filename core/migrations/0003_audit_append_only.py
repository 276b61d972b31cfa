"""The audit table is append-only in the database itself (core/db_guards.py)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from core import db_guards

    db_guards.install(schema_editor.connection)


def backwards(apps, schema_editor):
    from core import db_guards

    db_guards.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_idempotency_api")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
