"""Generated CRUD tests through the API for every model of places and people (core/testing.py)."""

import datetime as dt

from stdnum.cn import uscc

from conftest import make_user
from core.testing import APICRUDTest, assert_every_model_has_generated_test, generated_test_classes
from people.models import Enterprise, Person, Residence, Tag
from people.services import save_enterprise, save_tag
from places.models import Building, Community, Compound, Grid, House, Street
from places.services import save_place


def credit_code(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17)


class TestStreetAPI(APICRUDTest):
    model = Street
    url = "/api/places/streets/"
    allowed, denied, outsider = "command", "worker_a1", "other_street"
    # A new street lies outside every grant of the user who creates it: streets are set up by the system.
    create_status = 403
    # The street still holds its communities.
    delete_status = 409

    def persona(self, world, name, *, writer=False):
        if name == "other_street" and not hasattr(world.users, name):
            other = Street.objects.create(name="别的街道")
            world.users.other_street = make_user("other_street", "command_centre", "street", street=other,
                                                 roles=world.roles)
        return super().persona(world, name, writer=writer)

    def in_scope(self, world):
        return world.street

    def create_data(self, world):
        return {"name": "新设街道", "code": "320507999"}

    def update_data(self, world, obj):
        return {"code": "320507002"}


class TestCommunityAPI(APICRUDTest):
    model = Community
    url = "/api/places/communities/"
    allowed, denied, outsider = "command", "command", "worker_b1"  # denied: the same persona, without the grant

    def in_scope(self, world):
        return world.communities["A"]

    def create_data(self, world):
        return {"street": world.street.pk, "name": "社区C"}

    def update_data(self, world, obj):
        return {"code": "A-01"}

    def deletable(self, world):
        return save_place(None, Community, {"street": world.street, "name": "待撤社区"})


class TestGridAPI(APICRUDTest):
    model = Grid
    url = "/api/places/grids/"
    allowed, denied, outsider = "officer_a", "command", "worker_b1"

    def in_scope(self, world):
        return world.grids["A1"]

    def create_data(self, world):
        return {"community": world.communities["A"].pk, "name": "A3网格", "code": "A3"}

    def update_data(self, world, obj):
        return {"code": "A1-X"}

    def deletable(self, world):
        return save_place(None, Grid, {"community": world.communities["A"], "name": "空网格"})


class TestCompoundAPI(APICRUDTest):
    model = Compound
    url = "/api/places/compounds/"
    allowed, denied, outsider = "officer_a", "worker_a1", "worker_b1"

    def in_scope(self, world):
        return world.compounds["A1"]

    def create_data(self, world):
        return {"grid": world.grids["A1"].pk, "name": "海棠苑", "kind": "residential"}

    def update_data(self, world, obj):
        return {"property_company": "元和物业"}

    def deletable(self, world):
        return save_place(None, Compound, {"grid": world.grids["A1"], "name": "待拆小区"})


class TestBuildingAPI(APICRUDTest):
    model = Building
    url = "/api/places/buildings/"
    allowed, denied, outsider = "officer_a", "worker_a1", "worker_b1"

    def in_scope(self, world):
        return world.buildings["A1"]

    def create_data(self, world):
        return {"compound": world.compounds["A1"].pk, "number": "9", "floors": 11, "units": 2}

    def update_data(self, world, obj):
        return {"floors": 7}

    def deletable(self, world):
        return save_place(None, Building, {"compound": world.compounds["A1"], "number": "99"})


class TestHouseAPI(APICRUDTest):
    model = House
    url = "/api/places/houses/"
    allowed, denied, outsider = "officer_a", "command", "worker_b1"

    def in_scope(self, world):
        return world.houses["A1"][0]

    def create_data(self, world):
        return {"building": world.buildings["A1"].pk, "unit": "1", "floor": 3, "room": "399", "use": "rented"}

    def update_data(self, world, obj):
        return {"note": "已走访", "use": "rented"}

    def deletable(self, world):
        return world.houses["A1"][-1]  # nobody has lived there


class TestPersonAPI(APICRUDTest):
    model = Person
    url = "/api/people/persons/"
    allowed, denied, outsider = "worker_a1", "command", "worker_b1"
    delete_allowed = False  # a person's record is never erased

    def in_scope(self, world):
        return world.people["张三"]

    def create_data(self, world):
        from conftest import resident_id

        return {"name": "新居民", "id_number": resident_id("32050719880808123"), "phone": "13900139000",
                "house": world.houses["A1"][6].pk, "relation": "householder", "role": "owner",
                "moved_in": "2024-05-01", "accept_warnings": True}

    def update_data(self, world, obj):
        return {"work_unit": "元和街道社区卫生服务中心"}


class TestResidenceAPI(APICRUDTest):
    model = Residence
    url = "/api/people/residences/"
    allowed, denied, outsider = "worker_a1", "command", "worker_b1"
    update_allowed = False  # a residence changes by moving out and in, never by an edit
    delete_allowed = False  # and is never deleted

    def in_scope(self, world):
        return Residence.objects.filter(person=world.people["张三"]).first()

    def create_data(self, world):
        return {"person": world.people["张三"].pk, "house": world.houses["A1"][7].pk, "role": "owner",
                "moved_in": str(dt.date(2023, 3, 1))}

    def update_data(self, world, obj):
        return {"role": "tenant"}


class TestEnterpriseAPI(APICRUDTest):
    model = Enterprise
    url = "/api/people/enterprises/"
    allowed, denied, outsider = "officer_a", "command", "worker_b1"

    def in_scope(self, world):
        ent = Enterprise.objects.filter(name="活力科技").first()
        return ent or save_enterprise(None, {"name": "活力科技", "credit_code": credit_code("91320507MA1WXY123"),
                                             "compound": world.compounds["A1"], "floor": 5, "room": "501"},
                                      contact_phone="13700137000")

    def create_data(self, world):
        return {"name": "海棠咨询", "credit_code": credit_code("91320507MA2ABC345"),
                "compound": world.compounds["A1"].pk, "floor": 6, "contact_phone": "13600136000"}

    def update_data(self, world, obj):
        return {"staff_count": 42}


class TestTagAPI(APICRUDTest):
    model = Tag
    url = "/api/people/tags/"
    # Tags are street-wide reference data: readable by whoever may view persons.
    allowed, denied, outsider = "officer_a", "worker_a1", "auditor"

    def in_scope(self, world):
        return Tag.objects.filter(code="elderly-alone").first() or save_tag(
            None, {"code": "elderly-alone", "name": "独居老人"})

    def create_data(self, world):
        return {"code": "veteran", "name": "退役军人", "color": "#336699"}

    def update_data(self, world, obj):
        return {"name_en": "Elderly living alone"}

    def test_update_out_of_scope_is_not_found(self, world):
        """An auditor granted tag permissions may edit tags: they have no place. Not found without them."""
        obj = self.in_scope(world)
        response = self.client_for(world, self.outsider).patch(self.detail_url(obj), {"name": "x"}, format="json")
        assert response.status_code == 404

    def test_delete_out_of_scope_is_not_found(self, world):
        obj = self.in_scope(world)
        assert self.client_for(world, self.outsider).delete(self.detail_url(obj)).status_code == 404
        assert Tag.objects.filter(pk=obj.pk).exists()

    def client_for(self, world, name):
        from core.testing import api_client

        return api_client(self.persona(world, name))


EXEMPT = {
    "people.persontag": "written and read as the `tags` field of a person (TestPersonAPI)",
    "people.importjob": "a record of one upload's preview and commit, owned by the import pages (people/importer/)",
    "people.exportrequest": "the approval workflow of a large export, owned by the export pages (people/exporter.py)",
}


def test_every_model_of_places_and_people_has_a_generated_api_test():
    assert_every_model_has_generated_test(["places", "people"], generated_test_classes(globals()), EXEMPT)
