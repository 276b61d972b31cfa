"""The offline base map: the imported OSM extract's streets, joined into whole streets, served by the app without
a login (streets only), rebuilt by ``manage.py basemap`` and after every import."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from circle.basemap import _chains, basemap_path, build_streets
from circle.tests.conftest import write_street_network

pytestmark = pytest.mark.django_db


def test_a_lattice_of_segments_becomes_whole_streets_going_straight_through_the_crossings():
    # a 3×3 lattice of nodes: 12 segments, three east-west and three north-south streets
    ii, jj = np.divmod(np.arange(9), 3)
    idx = np.arange(9).reshape(3, 3)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    lines = _chains(u, v, jj.astype(float), ii.astype(float))
    assert sum(len(line) - 1 for line in lines) == 12  # every segment drawn once
    # the two middle streets go straight through the centre crossing; the outer ring bends at its corners,
    # where only two segments meet (as an OSM way bends at its nodes)
    assert sorted(tuple(line) for line in lines if 4 in line) == [(1, 4, 7), (3, 4, 5)]
    assert len(lines) == 3


def test_an_imported_extract_gives_the_streets_of_the_base_map_and_the_view_serves_them(tmp_path):
    osm = tmp_path / "street.osm"
    write_street_network(osm)
    call_command("circle_import_osm", str(osm), name="测试街")
    assert basemap_path().exists()  # written by the import itself
    data = json.loads(basemap_path().read_text(encoding="utf-8"))
    assert data["source"] == "测试街"
    assert len(data["features"]) == 1  # one straight street, not 23 segments
    assert len(data["features"][0]["geometry"]["coordinates"]) == 24
    resp = Client().get(reverse("circle:basemap"))  # public: streets only, no login
    assert resp.status_code == 200
    assert resp["Content-Type"] == "application/geo+json"
    assert json.loads(b"".join(resp.streaming_content))["features"] == data["features"]


def test_without_a_network_the_base_map_is_an_empty_collection_and_the_command_says_so(capsys):
    assert build_streets(None)["features"] == []
    resp = Client().get(reverse("circle:basemap"))
    assert resp.status_code == 200 and resp.json()["features"] == []
    call_command("basemap")
    assert "0 streets" in capsys.readouterr().out
