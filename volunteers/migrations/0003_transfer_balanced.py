from django.db import migrations


def install(apps, schema_editor):
    from volunteers import guards

    guards.install_balance(schema_editor.connection)


def remove(apps, schema_editor):
    from volunteers import guards

    guards.remove_balance(schema_editor.connection)


class Migration(migrations.Migration):
    """PostgreSQL: every transfer balances, checked at commit by a deferred constraint trigger."""

    dependencies = [("volunteers", "0002_shift_session")]

    operations = [migrations.RunPython(install, remove)]
