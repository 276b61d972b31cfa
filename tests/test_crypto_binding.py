"""Sealed values bound to their place (core.crypto v2): a token copied to another row, column or table does not
open there; old (v1) tokens still open; ``rotate_keys`` leaves no v1 token and everything readable."""

from __future__ import annotations

import io
import json
import logging
import shutil
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from conftest import resident_id, verified_login
from core import crypto
from core.bulk import BulkLoader
from core.management.commands.rotate_keys import census
from core.sealed import UNREADABLE
from people.models import Enterprise, Person

pytestmark = pytest.mark.django_db

NEW_ID = resident_id("11010119900615123")


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def copy_column(src_table, src_col, src_id, dst_table, dst_col, dst_id) -> None:
    """What someone with write access to the database does: move one ciphertext, raw SQL, nothing else."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT {q(src_col)} FROM {q(src_table)} WHERE id = %s", [src_id])  # noqa: S608
        token = cur.fetchone()[0]
        assert token
        cur.execute(f"UPDATE {q(dst_table)} SET {q(dst_col)} = %s WHERE id = %s", [token, dst_id])  # noqa: S608


def test_values_are_written_as_v2_tokens_bound_to_their_row(world):
    zhang = Person.objects.get(pk=world.people["张三"].pk)
    assert crypto.token_version(zhang.id_number_enc) == 2 and zhang.id_number_enc.startswith("v2:")
    assert zhang.seal_id and Person.objects.values("seal_id").distinct().count() == Person.objects.count()
    assert zhang.reveal_id_number() and zhang.reveal_phone()


def test_an_id_number_copied_to_another_persons_row_fails_to_open_and_the_page_says_so(world, caplog):
    zhang, li = world.people["张三"], world.people["李四"]
    secret = Person.objects.get(pk=zhang.pk).reveal_id_number()
    copy_column("people_person", "id_number_enc", zhang.pk, "people_person", "id_number_enc", li.pk)
    li = Person.objects.get(pk=li.pk)
    with pytest.raises(crypto.Unreadable):
        li.reveal_id_number()
    # The reveal page of the person the value was copied to: the marker, never 张三's number, never a 500.
    client = Client()
    verified_login(client, world.users.officer_a)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="renfang.crypto"):
        response = client.post(reverse("people:person_reveal", args=[li.pk]),
                               {"field": "id_number", "purpose": "核对身份信息"})
    assert response.status_code == 200
    body = response.content.decode()
    assert str(UNREADABLE) in body and secret not in body
    assert any("people_person.id_number_enc" in r.getMessage() for r in caplog.records)
    assert secret not in caplog.text
    from core.models import AuditEvent

    assert AuditEvent.objects.filter(action="reveal", object_id=str(li.pk), result="unreadable").exists()
    # The API answers the same way.
    api = client.post(reverse("people-api:person-reveal", args=[li.pk]),
                      {"field": "id_number", "purpose": "核对身份信息"}, content_type="application/json")
    assert api.status_code == 200 and api.json()["value"] == str(UNREADABLE) and secret not in api.content.decode()
    # The row it came from still opens.
    assert Person.objects.get(pk=zhang.pk).reveal_id_number() == secret


def test_a_value_copied_to_another_column_or_table_fails_to_open(world):
    zhang = world.people["张三"]
    copy_column("people_person", "id_number_enc", zhang.pk, "people_person", "phone_enc", zhang.pk)
    with pytest.raises(crypto.Unreadable):
        Person.objects.get(pk=zhang.pk).reveal_phone()
    ent = Enterprise(name="活力科技", credit_code="91320507MA1XYZ1234", compound=world.compounds["B1"])
    ent.set_contact_phone("13912340000")
    ent.save()
    copy_column("people_person", "id_number_enc", zhang.pk, "people_enterprise", "contact_phone_enc", ent.pk)
    with pytest.raises(crypto.Unreadable):
        Enterprise.objects.get(pk=ent.pk).open_field("contact_phone_enc")
    # The same seal_id in another table does not help either: the table is part of the binding.
    Enterprise.objects.filter(pk=ent.pk).update(seal_id=Person.objects.get(pk=zhang.pk).seal_id)
    with pytest.raises(crypto.Unreadable):
        Enterprise.objects.get(pk=ent.pk).open_field("contact_phone_enc")


def test_a_payload_number_copied_into_another_change_request_does_not_open_and_refuses_the_approval(world):
    from django.core.exceptions import ValidationError

    from fieldwork import services
    from fieldwork.models import ChangeRequest

    house = world.houses["A1"][3]
    a = services.create_change_request(house=house, kind="new_person", source="feedback",
                                       payload={"name": "林黛玉", "id_number": NEW_ID, "phone": "13912345678"})
    b = services.create_change_request(house=house, kind="new_person", source="feedback",
                                       payload={"name": "薛宝钗", "id_number": resident_id("11010119920301234"),
                                                "phone": "13700001111"})
    assert services.unseal(a, "id_number") == NEW_ID
    ChangeRequest.objects.filter(pk=b.pk).update(payload={**b.payload, "id_number_enc": a.payload["id_number_enc"]})
    b = ChangeRequest.objects.get(pk=b.pk)
    with pytest.raises(ValidationError):
        services.unseal(b, "id_number")
    assert services.unseal(b, "phone") == "13700001111"  # its own value still opens
    # Another key of the same payload: the key is bound too.
    ChangeRequest.objects.filter(pk=a.pk).update(payload={**a.payload, "phone_enc": a.payload["id_number_enc"]})
    with pytest.raises(ValidationError):
        services.unseal(ChangeRequest.objects.get(pk=a.pk), "phone")


def test_a_free_text_entry_copied_to_another_record_stays_masked_and_marked(world):
    from cases.models import Case
    from cases.services import report
    from cases.tests.conftest import build_cases

    cw = build_cases(world)
    one = report(world.users.worker_a1, channel="worker", category=cw.category, title="业主13812345678反映漏水",
                 place=world.houses["A1"][0])
    two = report(world.users.worker_a1, channel="worker", category=cw.category, title="业主13900001111反映噪声",
                 place=world.houses["A1"][0])
    assert Case.objects.get(pk=one.pk).unsealed("title") == "业主13812345678反映漏水"
    # two's title made to show one's masked number, with one's sealed entry.
    Case._base_manager.filter(pk=two.pk).update(title=one.title, sealed_numbers=one.sealed_numbers)
    shown = Case._base_manager.get(pk=two.pk).unsealed("title")
    assert "13812345678" not in shown and shown == f"业主138****5678[{UNREADABLE}]反映漏水"


def test_a_v1_token_still_opens_and_rotate_keys_turns_every_value_into_v2(world, settings, tmp_path):
    """Data sealed before this version (v1: fixed associated data) in every kind of place: registry columns,
    a change request's payload, free-text entries; rotate_keys re-seals them all, bound, and a re-run does
    nothing."""
    from cases.models import Case
    from cases.services import report
    from cases.tests.conftest import build_cases
    from fieldwork import services
    from fieldwork.models import ChangeRequest

    key_file = tmp_path / "keys.json"
    shutil.copy(settings.RENFANG_KEY_FILE, key_file)
    settings.RENFANG_KEY_FILE = str(key_file)
    crypto.reset_keyring()
    ring = crypto.get_keyring()
    v1 = ring.encrypt
    clear = {p.pk: (p.reveal_id_number(), p.reveal_phone()) for p in Person.objects.all()}
    for pk, (number, phone) in clear.items():
        Person.objects.filter(pk=pk).update(id_number_enc=v1(number), phone_enc=v1(phone) if phone else "")
    zhang = Person.objects.get(pk=world.people["张三"].pk)
    assert crypto.token_version(zhang.id_number_enc) == 1
    assert zhang.reveal_id_number() == clear[zhang.pk][0]  # a v1 token opens wherever it is
    house = world.houses["A1"][3]
    cr = services.create_change_request(house=house, kind="new_person", source="feedback",
                                        payload={"name": "林黛玉", "id_number": NEW_ID, "phone": "13912345678",
                                                 "note": "另一部电话13700002222"},
                                        contact={"name": "林黛玉", "phone": "13912345678"})
    ChangeRequest.objects.filter(pk=cr.pk).update(
        payload={**cr.payload, "id_number_enc": v1(NEW_ID), "phone_enc": v1("13912345678")},
        contact_phone_enc=v1("13912345678"),
        sealed_numbers={path: [[k, mask, v1("13700002222")] for k, mask, _t in entries]
                        for path, entries in cr.sealed_numbers.items()})
    cw = build_cases(world)
    case = report(world.users.worker_a1, channel="worker", category=cw.category, title="业主13812345678反映漏水",
                  place=world.houses["A1"][0])
    Case._base_manager.filter(pk=case.pk).update(
        sealed_numbers={"title": [[0, "138****5678", v1("13812345678")]]})
    assert Case._base_manager.get(pk=case.pk).unsealed("title") == "业主13812345678反映漏水"
    before = census()
    assert before["v1"] >= 2 * len(clear) + 5 and before["unreadable"] == 0

    out = io.StringIO()
    call_command("rotate_keys", batch=3, no_progress=True, stdout=out, stderr=io.StringIO())
    after = census()
    assert after["v1"] == 0 and after["v2_old_key"] == 0 and after["unreadable"] == 0
    assert after["current"] == before["v1"] + before["v2_old_key"] + before["current"]
    new_kid = json.loads(key_file.read_text())["current"]
    for p in Person.objects.all():
        assert p.id_number_enc.startswith(f"v2:{new_kid}:")
        assert (p.reveal_id_number(), p.reveal_phone()) == clear[p.pk]
    cr = ChangeRequest.objects.get(pk=cr.pk)
    assert crypto.token_version(cr.payload["id_number_enc"]) == 2
    assert services.unseal(cr, "id_number") == NEW_ID and services.unseal(cr, "phone") == "13912345678"
    assert cr.open_field("contact_phone_enc") == "13912345678"
    assert "13700002222" in cr.unsealed("payload.note")
    assert Case._base_manager.get(pk=case.pk).unsealed("title") == "业主13812345678反映漏水"
    from core.models import AuditEvent

    ev = AuditEvent.objects.filter(action="rotate_keys").latest("id")
    assert ev.changes["resealed"]["people.person"] == len(clear) and ev.changes["resealed"]["fieldwork.changerequest"]
    assert sum(ev.changes["values"].values()) == after["current"]  # a new key: every value re-sealed once
    # A re-run re-seals nothing and changes nothing.
    call_command("rotate_keys", reseal_only=True, no_progress=True, stdout=io.StringIO(), stderr=io.StringIO())
    again = AuditEvent.objects.filter(action="rotate_keys").latest("id")
    assert sum(again.changes["values"].values()) == 0 and census() == after


def test_rotate_keys_leaves_a_value_that_does_not_open_as_it_is_and_counts_it(world, settings, tmp_path):
    key_file = tmp_path / "keys.json"
    shutil.copy(settings.RENFANG_KEY_FILE, key_file)
    settings.RENFANG_KEY_FILE = str(key_file)
    crypto.reset_keyring()
    zhang, li = world.people["张三"], world.people["李四"]
    copy_column("people_person", "id_number_enc", zhang.pk, "people_person", "id_number_enc", li.pk)
    token = Person.objects.get(pk=li.pk).id_number_enc
    call_command("rotate_keys", no_progress=True, stdout=io.StringIO(), stderr=io.StringIO())
    from core.models import AuditEvent

    ev = AuditEvent.objects.filter(action="rotate_keys").latest("id")
    assert ev.changes["unreadable"] == {"people.person": 1}
    assert Person.objects.get(pk=li.pk).id_number_enc == token  # not re-sealed into something that opens
    assert census()["unreadable"] == 1


def test_the_bulk_loader_gives_each_row_its_own_seal_id(world):
    loader = BulkLoader()
    table = loader.table(PhoneChallengeModel())
    from django.utils import timezone

    now = timezone.now()
    ids = loader.allocate_ids(PhoneChallengeModel(), 3)  # the loader writes the primary keys it is given
    rows = [{"id": ids[i], "public_id": f"bulk-{i}", "purpose": "t", "phone_enc": "", "phone_bidx": "",
             "phone_masked": "", "code_hash": "", "created_at": now, "expires_at": now} for i in range(3)]
    data = table.tuples(rows)
    loader.insert_tuples(PhoneChallengeModel(), data)
    seals = list(PhoneChallengeModel().objects.filter(public_id__startswith="bulk-").values_list("seal_id", flat=True))
    assert len(seals) == 3 and len(set(seals)) == 3 and all(isinstance(i, uuid.UUID) for i in seals)
    with pytest.raises(ValueError, match="seal_id needs a value per row"):
        table.maker(["public_id"], {"purpose": "t", "phone_enc": "", "phone_bidx": "", "phone_masked": "",
                                    "code_hash": "", "created_at": now, "expires_at": now})


def test_a_row_inserted_in_sql_gets_its_own_seal_id_from_the_database(world):
    from django.utils import timezone

    model = PhoneChallengeModel()
    now = timezone.now()
    with connection.cursor() as cur:
        for i in range(2):
            cur.execute(f"INSERT INTO {q(model._meta.db_table)} (public_id, purpose, phone_enc, phone_bidx, "  # noqa: S608
                        "phone_masked, code_hash, created_at, expires_at, attempts) "
                        "VALUES (%s, 't', '', '', '', '', %s, %s, 0)", [f"sql-{i}", now, now])
    ids = list(model.objects.filter(public_id__startswith="sql-").values_list("seal_id", flat=True))
    assert len(ids) == 2 and all(isinstance(i, uuid.UUID) for i in ids) and ids[0] != ids[1]


def test_every_encrypted_column_belongs_to_a_model_with_a_seal_id():
    """A new ``*_enc`` column on a model that is not a SealedRow would have no row to bind to (and rotate_keys
    would not find it)."""
    from django.apps import apps
    from django.db import models

    from core.sealed import SealedRow

    missing = [f"{m._meta.label}.{f.name}" for m in apps.get_models() for f in m._meta.concrete_fields
               if f.name.endswith("_enc") and isinstance(f, models.TextField) and not issubclass(m, SealedRow)]
    assert missing == []


def PhoneChallengeModel():  # noqa: N802 (the model class, imported late)
    from notify.models import PhoneChallenge

    return PhoneChallenge
