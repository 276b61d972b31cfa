from django.db import migrations


def seed(apps, schema_editor):
    from circle.seed import seed_categories

    seed_categories(apps.get_model("circle", "Category"))


class Migration(migrations.Migration):
    dependencies = [("circle", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
