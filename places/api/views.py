"""API endpoints of the place hierarchy: /api/places/{streets,communities,grids,compounds,buildings,houses}/."""

from __future__ import annotations

from core.api import RegistryViewSet, api_filterset
from places import filtersets, services
from places.api import serializers as s
from places.models import Building, Community, Compound, Grid, House, Street

__all__ = ["BuildingViewSet", "CommunityViewSet", "CompoundViewSet", "GridViewSet", "HouseViewSet",
           "StreetViewSet"]


class PlaceViewSet(RegistryViewSet):
    """Writes go through places.services (validation, scope, version, audit in one transaction)."""

    def write(self, data, instance, expected_version):
        return services.save_place(self.request.user, self.model, data, instance, expected_version=expected_version,
                                   source="api")

    def remove(self, instance) -> None:
        services.delete_place(self.request.user, instance, source="api")


class StreetViewSet(PlaceViewSet):
    queryset = Street.objects.all()
    serializer_class = s.StreetSerializer
    filterset_class = api_filterset(filtersets.StreetFilterSet)


class CommunityViewSet(PlaceViewSet):
    queryset = Community.objects.all()
    serializer_class = s.CommunitySerializer
    filterset_class = api_filterset(filtersets.CommunityFilterSet)


class GridViewSet(PlaceViewSet):
    queryset = Grid.objects.all()
    serializer_class = s.GridSerializer
    filterset_class = api_filterset(filtersets.GridFilterSet)


class CompoundViewSet(PlaceViewSet):
    queryset = Compound.objects.all()
    serializer_class = s.CompoundSerializer
    filterset_class = api_filterset(filtersets.CompoundFilterSet)

    def write(self, data, instance, expected_version):
        return services.save_compound(self.request.user, data, instance, expected_version=expected_version,
                                      source="api")


class BuildingViewSet(PlaceViewSet):
    queryset = Building.objects.select_related("compound")
    serializer_class = s.BuildingSerializer
    filterset_class = api_filterset(filtersets.BuildingFilterSet)


class HouseViewSet(PlaceViewSet):
    queryset = House.objects.select_related("building__compound")
    serializer_class = s.HouseSerializer
    filterset_class = api_filterset(filtersets.HouseFilterSet)
    audit_reads = True
