"""The default freshness policies (editable afterwards by the system admin)."""

from django.db import migrations

DEFAULTS = [
    ("rented", "", 30, "出租房人员流动快，每月核实"),
    ("owner", "", 180, "自住房每半年核实"),
    ("vacant", "", 90, "空置房每季度核实是否有人入住"),
    ("commercial", "", 180, "商用房每半年核实"),
    ("", "elderly_alone", 30, "独居老人家庭每月走访"),
]


def seed(apps, schema_editor):
    FreshnessPolicy = apps.get_model("quality", "FreshnessPolicy")
    for use, tag, days, note in DEFAULTS:
        FreshnessPolicy.objects.get_or_create(house_use=use, tag_code=tag,
                                              defaults={"interval_days": days, "note": note})


def unseed(apps, schema_editor):
    FreshnessPolicy = apps.get_model("quality", "FreshnessPolicy")
    for use, tag, _days, _note in DEFAULTS:
        FreshnessPolicy.objects.filter(house_use=use, tag_code=tag).delete()


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
