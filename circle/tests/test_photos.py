"""Facility photos: checked by content and size, stored outside the web root, served only within scope."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from circle.models import Facility
from circle.tests.conftest import at
from circle.tests.test_views import client_for
from core.models import AuditEvent
from tests import upload_samples

pytestmark = pytest.mark.django_db

PNG = upload_samples.png()
JPEG = upload_samples.jpeg()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path / "media"}}}
    return tmp_path / "media"


def post_facility(user, categories, grid, photo, name="A1食堂"):
    lat, lng = at(50, 50)
    return client_for(user).post(reverse("circle:facility_new"), {
        "name": name, "category": categories.kindergarten.pk, "grid": grid.pk, "lat": lat, "lng": lng,
        "status": "open", "photo": photo})


def test_an_officer_adds_a_photo_that_is_served_only_within_scope(circle_world, categories, media):
    w = circle_world
    r = post_facility(w.users.officer_a, categories, w.grids["A1"], SimpleUploadedFile("门口.png", PNG))
    assert r.status_code == 302
    fac = Facility.objects.get(name="A1食堂")
    assert fac.photo and fac.photo.name.endswith(".png") and "门口" not in fac.photo.name  # a random name
    stored = (media / fac.photo.name).read_bytes()  # the re-encoded copy (core.uploads)
    assert Image.open(io.BytesIO(stored)).size == Image.open(io.BytesIO(PNG)).size
    url = reverse("circle:facility_photo", args=[fac.pk])
    got = client_for(w.users.worker_a1).get(url)
    assert got.status_code == 200 and got["Content-Type"] == "image/png"
    assert b"".join(got.streaming_content) == stored
    assert client_for(w.users.worker_b1).get(url).status_code == 404  # another community's grid
    assert AuditEvent.objects.filter(action="create", object_id=str(fac.pk), changes__photo__isnull=False).exists()


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name(circle_world, categories, media):
    w = circle_world
    r = post_facility(w.users.officer_a, categories, w.grids["A1"],
                      SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 an executable", content_type="image/jpeg"))
    assert r.status_code == 400 and "JPEG" in r.content.decode()
    assert not Facility.objects.filter(name="A1食堂").exists()  # nothing half-saved


def test_a_photo_over_five_megabytes_is_refused(circle_world, categories, media):
    w = circle_world
    big = SimpleUploadedFile("big.jpg", JPEG + b"\x00" * (5 * 1024 * 1024))
    r = post_facility(w.users.officer_a, categories, w.grids["A1"], big)
    assert r.status_code == 400 and "5MB" in r.content.decode()
    assert not Facility.objects.filter(name="A1食堂").exists()


def test_a_facility_without_a_photo_has_no_photo_page(circle_world, categories, media):
    w = circle_world
    post_facility(w.users.officer_a, categories, w.grids["A1"], b"")
    fac = Facility.objects.get(name="A1食堂")
    assert client_for(w.users.officer_a).get(reverse("circle:facility_photo", args=[fac.pk])).status_code == 404


def test_a_facility_photo_with_gps_tags_is_stored_re_encoded_without_exif(circle_world, categories, media):
    w = circle_world
    r = post_facility(w.users.officer_a, categories, w.grids["A1"],
                      SimpleUploadedFile("门口.jpg", upload_samples.gps_jpeg()))
    assert r.status_code == 302
    fac = Facility.objects.get(name="A1食堂")
    stored = Image.open(io.BytesIO((media / fac.photo.name).read_bytes()))
    assert stored.format == "JPEG" and len(stored.getexif()) == 0 and "exif" not in stored.info


def test_a_jpeg_header_followed_by_an_executable_is_refused_as_a_facility_photo(circle_world, categories, media):
    w = circle_world
    r = post_facility(w.users.officer_a, categories, w.grids["A1"],
                      SimpleUploadedFile("门口.jpg", upload_samples.fake_jpeg(), content_type="image/jpeg"))
    assert r.status_code == 400 and "无法解码为JPEG图片" in r.content.decode()
    assert not Facility.objects.filter(name="A1食堂").exists()
