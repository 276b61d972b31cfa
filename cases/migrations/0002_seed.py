"""Seed the case categories and the 2026 official calendar (cases/seed.py)."""

from django.db import migrations


def seed(apps, schema_editor):
    from cases.seed import seed as run

    run(apps.get_model("cases", "CaseCategory"), apps.get_model("cases", "Holiday"))


def unseed(apps, schema_editor):
    apps.get_model("cases", "Holiday").objects.filter(date__year=2026).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
