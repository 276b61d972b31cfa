"""Never twice, refused by PostgreSQL itself: no two live claims of one resource overlap in time.

``EXCLUDE USING gist (resource_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE (active)``, built with
django.contrib.postgres' ExclusionConstraint (btree_gist gives the ``=`` on an integer inside a GiST index).
SQLite has no exclusion constraints: there the unique ``Slot`` rows refuse the second claim instead.
"""

from django.db import migrations, models

NAME = "claim_no_overlap"


def _constraint():
    from django.contrib.postgres.constraints import ExclusionConstraint
    from django.contrib.postgres.fields import RangeOperators
    from django.db.models import Func

    class TsTzRange(Func):
        function = "TSTZRANGE"
        output_field = models.Field()

    return ExclusionConstraint(
        name=NAME,
        expressions=[("resource", RangeOperators.EQUAL),
                     (TsTzRange("starts_at", "ends_at", models.Value("[)")), RangeOperators.OVERLAPS)],
        condition=models.Q(active=True),
        violation_error_message="该时段已被预约",
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.add_constraint(apps.get_model("resources", "Claim"), _constraint())


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_constraint(apps.get_model("resources", "Claim"), _constraint())


class Migration(migrations.Migration):
    dependencies = [("resources", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
