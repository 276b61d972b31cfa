"""The backup drill, on both databases: back up, restore into a new database, and prove it — the manifest's row
counts, the audit chain, sealed numbers opened with the key file, pages served from the restore (in a process of
its own pointed at the restored database); a restore that differs, or keys that do not open it, fail the drill."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from conftest import build_world
from core.backup import manifest_path
from people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def backed_up(tmp_path):
    world = build_world()
    assert Person.objects.exclude(id_number_enc="").exists()
    path = tmp_path / "renfang-drill.bak"
    out = io.StringIO()
    call_command("backup", str(path), stdout=out, verbosity=0)
    return world, path, json.loads(manifest_path(path).read_text(encoding="utf-8")), out.getvalue()


def test_a_backup_restores_into_a_new_database_that_holds_every_row_and_serves(backed_up):
    world, path, manifest, out = backed_up
    assert "密钥文件不在备份中" in out
    assert manifest["counts"]["people_person"] == Person.objects.count() > 0
    assert manifest["counts"]["core_auditevent"] > 0 and manifest["audit_last_id"]
    assert "keys" not in json.dumps(manifest) or manifest["key_ids"], "key ids only, never a key"
    report_out = io.StringIO()
    call_command("restore_check", str(path), stdout=report_out, verbosity=0)
    text = report_out.getvalue()
    report = json.loads(text.splitlines()[0])
    assert report["ok"], report["problems"]
    assert report["rows"] == manifest["rows"] and report["audit_rows"] > 0
    assert report["sealed_opened"] >= Person.objects.exclude(id_number_enc="").count()
    assert report["pages"]["/access/login/"] == 200 and report["pages"]["/people/"] == 200
    assert "恢复演练通过" in text


def test_the_drill_fails_when_the_restore_differs_from_the_manifest_and_when_the_keys_do_not_open_it(
        backed_up, settings, tmp_path):
    """One restore, two faults: a table whose rows differ from the manifest, and a key file that is not the one
    the values were sealed with; the drill names both and fails. A backup never overwrites another."""
    from core import crypto

    _world, path, manifest, _ = backed_up
    with pytest.raises(FileExistsError):
        call_command("backup", str(path), stdout=io.StringIO(), verbosity=0)
    tampered = {**manifest, "counts": {**manifest["counts"], "people_person": manifest["counts"]["people_person"] + 1}}
    manifest_path(path).write_text(json.dumps(tampered), encoding="utf-8")
    other = tmp_path / "other-keys.json"
    other.write_text(crypto.new_key_json(), encoding="utf-8")
    settings.RENFANG_KEY_FILE = str(other)
    with pytest.raises(CommandError) as failed:
        call_command("restore_check", str(path), stdout=io.StringIO(), verbosity=0)
    assert "people_person" in str(failed.value) and "sealed value does not open" in str(failed.value)
