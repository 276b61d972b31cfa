"""The generated API tests for mediation's scoped model (core/testing.py), and the meta-test over the app."""

from __future__ import annotations

from core.testing import APICRUDTest, assert_every_model_has_generated_test, generated_test_classes
from mediation import services
from mediation.models import Mediation
from mediation.tests.test_mediation import dispute


class TestMediationAPI(APICRUDTest):
    model = Mediation
    url = "/api/mediation/mediations/"
    allowed, denied, outsider = "officer_a", "auditor", "worker_b1"
    create_allowed = update_allowed = delete_allowed = False

    def in_scope(self, world):
        m = Mediation.objects.filter(grid=world.grids["A1"]).first()
        return m or services.open_mediation(None, dispute(world))

    def create_data(self, world):
        return {"title": "新纠纷"}

    def update_data(self, world, obj):
        return {"title": "改名"}


EXEMPT = {
    "mediation.party": "read and written through its mediation (pages and services), never on its own",
    "mediation.mediator": "read and written through its mediation",
    "mediation.session": "read and written through its mediation",
    "mediation.followup": "read and written through its mediation",
}


def test_every_model_of_mediation_has_a_generated_api_test():
    assert_every_model_has_generated_test(["mediation"], generated_test_classes(globals()), EXEMPT)
