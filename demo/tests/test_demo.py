"""The demo street: valid identifiers, determinism, constraints, denormalised keys, plausible shares."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Count, F, Q
from stdnum.cn import ric, uscc

from core.validators import validate_credit_code, validate_mobile, validate_passport
from demo.accounts import DEMO_PASSWORD, DEMO_USERNAMES, demo_passwords_remain, ensure_demo_accounts
from demo.generator import REFERENCE_DATE, DemoMismatch, generate, wipe
from demo.geo import point_in_polygon
from demo.models import DemoDataset
from people.models import Enterprise, Person, PersonTag, Residence, Tag
from places.models import Building, Community, Compound, Grid, House, Street

SCALE = 0.02


@pytest.fixture(scope="module")
def shared_demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """One demo street for the tests that only read it (committed, wiped at the end of the module)."""
    from django.conf import settings

    from core import crypto

    key_file = settings.RENFANG_KEY_FILE
    settings.RENFANG_KEY_FILE = str(tmp_path_factory.getbasetemp() / "keys.json")  # as conftest's _test_keys
    crypto.reset_keyring()
    with django_db_blocker.unblock():
        tags_before = set(Tag.objects.values_list("pk", flat=True))
        result = generate(SCALE, seed=7, progress=False, reset=True)
        yield result
        wipe()
        # What wipe() keeps on purpose (the shared tag vocabulary) and the cockpit's figures of the demo's places
        # (keyed by plain ids) must not leak into the modules that run after this one.
        Tag.objects.exclude(pk__in=tags_before).delete()
        for label in ("cockpit.Rollup", "cockpit.DirtyPlace"):
            apps.get_model(label).objects.all().delete()
    settings.RENFANG_KEY_FILE = key_file
    crypto.reset_keyring()


@pytest.fixture
def demo(shared_demo, db):
    return shared_demo


def test_the_street_has_eight_communities_thirty_grids_and_one_office_tower(demo):
    street = Street.objects.get(pk=demo["street_id"])
    assert Community.objects.filter(street=street).count() == 8
    assert Grid.objects.filter(street=street).count() == 30
    assert Compound.objects.filter(street=street, kind="office").count() == 1
    tower = Compound.objects.get(street=street, kind="office")
    assert tower.name == "活力大厦"
    assert Enterprise.objects.filter(compound=tower).count() >= 8
    assert House.objects.filter(street=street).count() == demo["counts"]["houses"] >= 0.9 * SCALE * 50_000


def test_every_resident_id_passes_stdnums_full_check_and_matches_birth_date_and_sex(demo):
    people = Person.objects.filter(id_type="resident_id")
    assert people.count() > 1000
    for p in people:
        number = p.reveal_id_number()
        assert ric.validate(number) == number  # check digit, birth date and region code in force that year
        assert ric.get_birth_date(number) == p.birth_date
        assert p.sex == ("M" if int(number[16]) % 2 else "F")
        assert p.birth_date <= REFERENCE_DATE
        assert p.id_number_masked == number[:6] + "********" + number[-4:]


def test_every_phone_is_a_valid_mobile_number_and_documents_follow_their_rules(demo):
    phones = [p.reveal_phone() for p in Person.objects.exclude(phone_enc="")]
    assert len(phones) > 1000
    for phone in phones:
        assert validate_mobile(phone).value == phone
    others = Person.objects.exclude(id_type="resident_id")
    assert others.exists()
    for p in others:
        number = p.reveal_id_number()
        if p.id_type == "passport":
            validate_passport(number)
        elif p.id_type == "hk_macau":
            assert number[0] in "HM" and number[1:].isdigit()
        else:
            assert p.id_type == "taiwan" and len(number) == 8 and number.isdigit()
        assert p.residency_type == "foreign"


def test_every_credit_code_passes_gb_32100(demo):
    codes = list(Enterprise.objects.values_list("credit_code", flat=True))
    assert len(codes) == len(set(codes)) >= 8
    for code in codes:
        assert uscc.validate(code) == code
        assert validate_credit_code(code).value == code
    with pytest.raises(ValidationError):
        validate_credit_code(codes[0][:-1] + ("0" if codes[0][-1] != "0" else "1"))


def _fingerprint():
    people = sorted(Person.objects.values_list("id", "name", "id_number_bidx", "phone_bidx", "birth_date"))
    houses = sorted(House.objects.values_list("id", "building_id", "unit", "room", "use", "resident_count"))
    residences = sorted(Residence.objects.values_list("id", "person_id", "house_id", "relation", "moved_in",
                                                      "moved_out"))
    return people, houses, residences


def test_the_same_seed_gives_the_same_people_houses_and_ids(demo):
    first = _fingerprint()
    enc_before = set(Person.objects.values_list("id_number_enc", flat=True))
    generate(SCALE, seed=7, progress=False, reset=True)
    assert _fingerprint() == first
    # The encryption nonces differ (the ciphertexts), the blind indexes do not.
    assert not enc_before & set(Person.objects.values_list("id_number_enc", flat=True))
    generate(SCALE, seed=8, progress=False, reset=True)
    assert _fingerprint()[0] != first[0]


def test_running_again_at_the_same_scale_does_nothing_and_another_scale_needs_reset(demo):
    out = StringIO()
    call_command("demo", scale=SCALE, seed=7, no_progress=True, stdout=out)
    assert "已存在" in out.getvalue()
    assert DemoDataset.objects.get().complete
    assert Person.objects.count() == demo["counts"]["people"]
    with pytest.raises(DemoMismatch):
        generate(SCALE * 2, seed=7, progress=False)


def test_households_respect_the_database_constraints(demo):
    open_res = Residence.objects.filter(moved_out__isnull=True)
    per_house = open_res.filter(relation="householder").values("house").annotate(n=Count("id"))
    assert max(r["n"] for r in per_house) == 1
    per_person = open_res.values("person").annotate(n=Count("id"))
    assert max(r["n"] for r in per_person) == 1  # nobody lives in two homes at once
    assert not Residence.objects.filter(moved_out__lt=F("moved_in")).exists()
    assert not Residence.objects.filter(Q(moved_in__gt=REFERENCE_DATE) | Q(moved_out__gt=REFERENCE_DATE)).exists()
    for moved_in, built_year in Residence.objects.values_list("moved_in", "house__compound__built_year"):
        assert moved_in >= dt.date(built_year, 1, 1)  # nobody moved in before their compound was built
    # Every occupied owner or rented house has a householder.
    lived_in = set(House.objects.filter(use__in=["owner", "rented"]).values_list("id", flat=True))
    headed = set(open_res.filter(relation="householder").values_list("house_id", flat=True))
    assert lived_in <= headed
    for h in House.objects.select_related("building")[:500]:
        assert 1 <= h.floor <= h.building.floors
    ids = Counter(Person.objects.values_list("id_type", "id_number_bidx"))
    assert ids.most_common(1)[0][1] == 1


def test_denormalised_keys_equal_the_parents_and_resident_counts_equal_a_direct_count(demo):
    for b in Building.objects.select_related("compound"):
        assert (b.grid_id, b.community_id, b.street_id) == (b.compound.grid_id, b.compound.community_id,
                                                            b.compound.street_id)
    for c in Compound.objects.select_related("grid"):
        assert (c.community_id, c.street_id) == (c.grid.community_id, c.grid.street_id)
    mismatched = House.objects.exclude(grid_id=F("building__grid_id")).exclude(
        compound_id=F("building__compound_id"))
    assert not mismatched.exists()
    assert not House.objects.exclude(community_id=F("building__community_id")).exists()
    counted = dict(Residence.objects.filter(moved_out__isnull=True).values_list("house").annotate(n=Count("id")))
    for house_id, resident_count in House.objects.values_list("id", "resident_count"):
        assert resident_count == counted.get(house_id, 0)
    current = dict(Residence.objects.filter(moved_out__isnull=True).values_list("person_id", "house__grid_id"))
    last = {}
    for person_id, grid_id in Residence.objects.filter(moved_out__isnull=False).order_by("moved_out") \
            .values_list("person_id", "house__grid_id"):
        last[person_id] = grid_id
    for p in Person.objects.only("id", "grid_id", "is_current", "community_id"):
        assert p.is_current == (p.pk in current)
        assert p.grid_id == (current[p.pk] if p.pk in current else last[p.pk])


def test_shares_of_floating_foreign_history_and_tags_are_plausible(demo):
    current = Person.objects.filter(is_current=True)
    n = current.count()
    floating = current.filter(residency_type="floating").count() / n
    assert 0.18 < floating < 0.42
    assert 0 < current.filter(residency_type="foreign").count() / n < 0.03
    with_past = Person.objects.filter(residences__moved_out__isnull=False).distinct().count()
    assert 0.02 < with_past / Person.objects.count() < 0.10
    assert Person.objects.filter(is_current=False).exists()
    tags = dict(PersonTag.objects.values_list("tag__code").annotate(n=Count("id")))
    assert {"elderly_alone", "disabled", "veteran"} <= set(tags)
    assert sum(tags.values()) / n < 0.2
    for tag in PersonTag.objects.filter(tag__code="elderly_alone").select_related("person")[:50]:
        assert tag.person.age(REFERENCE_DATE) >= 60
        open_res = Residence.objects.get(person=tag.person, moved_out__isnull=True)
        assert open_res.house.resident_count == 1
    ages = [p.age(REFERENCE_DATE) for p in current.only("birth_date")]
    assert min(ages) < 6 and max(ages) > 85
    assert 30 < sum(ages) / len(ages) < 48
    assert Person.objects.filter(name_initials="").count() == 0


def test_compounds_and_buildings_lie_inside_their_grid(demo):
    grids = {g.pk: g for g in Grid.objects.all()}
    for c in Compound.objects.all():
        assert point_in_polygon(c.lat, c.lng, grids[c.grid_id].boundary)
    for b in Building.objects.all():
        assert point_in_polygon(b.lat, b.lng, grids[b.grid_id].boundary)
    street = Street.objects.get(pk=demo["street_id"])
    for g in grids.values():
        ring = g.boundary["coordinates"][0]
        assert ring[0] == ring[-1]
        lng, lat = ring[0]
        assert 31.35 < lat < 31.45 and 120.55 < lng < 120.66
    assert 31.38 < street.lat < 31.42


def test_demo_accounts_log_in_with_grants_on_demo_places(demo):
    from django.contrib.auth import get_user_model

    street = Street.objects.get(pk=demo["street_id"])
    rows = ensure_demo_accounts(street)
    assert {r["username"] for r in rows} == DEMO_USERNAMES
    User = get_user_model()
    grid1 = User.objects.get(username="grid1")
    assert grid1.check_password(DEMO_PASSWORD)
    visible = House.objects.restrict(grid1, "view")
    assert visible.exists()
    assert visible.values("grid_id").distinct().count() == 1
    command = User.objects.get(username="command")
    assert House.objects.restrict(command, "view").count() == House.objects.count()
    assert demo_passwords_remain()
    for user in User.objects.filter(username__in=DEMO_USERNAMES):
        user.set_password("A-different-Secret-42")
        user.save()
    ensure_demo_accounts(street)  # running again keeps a changed password
    assert not demo_passwords_remain()


def test_demo_accounts_command_prints_the_logins(demo):
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    text = out.getvalue()
    assert DEMO_PASSWORD in text and "grid1" in text and "网格员" in text and "127.0.0.1" in text


def test_command_centre_demo_account_passes_the_second_factor_with_the_printed_code(demo, client):
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from demo.accounts import current_demo_otp

    ensure_demo_accounts(Street.objects.get(pk=demo["street_id"]))
    device = TOTPDevice.objects.get(user__username="command", confirmed=True)
    code = current_demo_otp("command")
    assert TOTP(device.bin_key, device.step, device.t0, device.digits).verify(int(code), tolerance=1)
    assert not TOTPDevice.objects.filter(user__username="grid1").exists()  # only roles that require it
    with pytest.raises(ValueError):
        current_demo_otp("not-a-demo-user")
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    assert "demo_otp command" in out.getvalue()
    # The whole login: password, then the printed code, then the command centre's pages.
    client.post("/access/login/", {"username": "command", "password": DEMO_PASSWORD})
    assert client.get("/places/houses/").status_code == 302  # sent to the second-factor step
    client.post("/access/otp/", {"token": current_demo_otp("command")})
    assert client.get("/places/houses/").status_code == 200


def test_the_load_leaves_planner_statistics_behind(demo):
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT reltuples FROM pg_class WHERE relname = 'people_person'")
            assert cur.fetchone()[0] > 0  # -1 (never analysed) before ANALYZE
        else:
            cur.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'people_person'")
            assert cur.fetchone()[0] > 0


def test_reset_leaves_no_rows_of_the_old_street(demo):
    people_before = Person.objects.count()
    generate(SCALE, seed=7, progress=False, reset=True)
    assert Person.objects.count() == people_before
    assert Street.objects.count() == 1
    assert dt.date.today() >= REFERENCE_DATE


def test_a_second_street_lies_beside_the_first_with_its_own_communities_and_never_a_shared_id(demo):
    """`manage.py demo --streets 2`: a district's second street on the same database, scoped apart."""
    from demo.generator import STREETS

    first = Street.objects.get(pk=demo["street_id"])
    first_people = Person.objects.filter(street_id=first.pk).count()
    out = StringIO()
    call_command("demo", "--scale", str(SCALE), "--seed", "7", "--streets", "2", "--no-progress", stdout=out)
    assert "已存在" in out.getvalue() and "已生成演示街道「越溪街道」" in out.getvalue()
    second = Street.objects.get(name=STREETS[1].name)
    assert second.code == "320506004" and second.pk != first.pk
    assert sorted(Community.objects.filter(street=second).values_list("name", flat=True)) == \
        sorted(STREETS[1].communities)
    assert Compound.objects.filter(street=second, kind="office", name="越溪科创大厦").exists()
    assert not Compound.objects.filter(street=second, name="活力大厦").exists()
    east = Compound.objects.filter(street=second).exclude(lng=None).values_list("lng", flat=True)
    west = Compound.objects.filter(street=first).exclude(lng=None).values_list("lng", flat=True)
    assert min(east) > max(west), "the second street lies to the east of the first"
    assert Person.objects.filter(street_id=second.pk).count() > 0
    assert Person.objects.filter(street_id=first.pk).count() == first_people, "the first street is untouched"
    ids = Person.objects.exclude(id_number_bidx="").values("id_type", "id_number_bidx")
    assert ids.count() == ids.distinct().count(), "no resident ID is drawn in both streets"
    assert wipe(using="default", street_name=STREETS[1].name)
    assert Person.objects.filter(street_id=first.pk).count() == first_people
