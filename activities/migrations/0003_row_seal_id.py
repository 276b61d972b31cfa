"""Every row holding sealed values gets its own random ``seal_id`` (core.sealed.SealedRow), the row's identity in
the associated data of its v2 tokens (core.crypto). Existing rows get one each from the database default
(PostgreSQL ``gen_random_uuid()``, SQLite ``randomblob``); their v1 tokens keep opening until ``rotate_keys``."""

import uuid

from django.db import migrations, models

import core.sealed


def seal_id():
    return models.UUIDField(db_default=core.sealed.RandomUUID(), default=uuid.uuid4, editable=False,
                            help_text="本行密文绑定的随机标识；复制到别处的密文无法解密", verbose_name="密封标识")


class Migration(migrations.Migration):

    dependencies = [
        ("activities", "0002_host_and_won"),
    ]

    operations = [migrations.AddField(model_name=name, name="seal_id", field=seal_id())
                  for name in ("activity",)]
