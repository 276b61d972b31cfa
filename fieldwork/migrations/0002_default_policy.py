"""The default change policy (fieldwork.models.DEFAULT_POLICY) as editable rows."""

from django.db import migrations

DEFAULTS = {
    "unchanged": (False, "确认无变化，走访时直接生效"),
    "phone_fix": (False, "电话更正，走访时直接生效"),
    "move_out": (False, "网格员确认迁出，直接生效"),
    "move_in": (True, "已登记人员入住，需社区审核"),
    "new_person": (True, "新增人员，需社区审核"),
    "householder_change": (True, "户主变更，需社区审核"),
    "change_use": (True, "房屋用途变更，需社区审核"),
    "correction": (True, "信息更正，需社区审核"),
}


def seed(apps, schema_editor):
    ChangePolicy = apps.get_model("fieldwork", "ChangePolicy")
    for kind, (needs, note) in DEFAULTS.items():
        ChangePolicy.objects.get_or_create(kind=kind, defaults={"needs_approval": needs, "note": note})


class Migration(migrations.Migration):
    dependencies = [("fieldwork", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
