"""A visit's photo goes through core.uploads: decoded, stored re-encoded without EXIF (no GPS of the home)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from fieldwork import services
from fieldwork.models import Visit
from fieldwork.tests.conftest import fresh, new_id
from tests import upload_samples

pytestmark = pytest.mark.django_db


def test_a_visit_photo_with_gps_tags_is_stored_without_exif(world):
    visit = services.submit_visit(fresh(world.users.worker_a1), world.houses["A1"][0], client_id=new_id(),
                                  items=[{"kind": "unchanged"}],
                                  photo=SimpleUploadedFile("门牌.jpg", upload_samples.gps_jpeg()))
    assert visit.photo.name.endswith(".jpg")
    with visit.photo.open("rb") as fh:
        stored = Image.open(io.BytesIO(fh.read()))
    assert stored.format == "JPEG" and len(stored.getexif()) == 0 and "exif" not in stored.info


def test_a_jpeg_header_followed_by_an_executable_is_refused_and_no_visit_is_saved(world):
    with pytest.raises(ValidationError) as exc:
        services.submit_visit(fresh(world.users.worker_a1), world.houses["A1"][0], client_id=new_id(),
                              items=[], note="看过", photo=SimpleUploadedFile("门牌.jpg", upload_samples.fake_jpeg()))
    assert "照片“门牌.jpg”无法解码为JPEG图片" in " ".join(exc.value.message_dict["photo"])
    assert not Visit.objects.exists()


def test_a_pdf_is_not_taken_as_a_visit_photo(world):
    with pytest.raises(ValidationError) as exc:
        services.submit_visit(fresh(world.users.worker_a1), world.houses["A1"][0], client_id=new_id(),
                              items=[], note="看过", photo=SimpleUploadedFile("x.jpg", upload_samples.pdf()))
    assert "只能是JPEG、PNG、WebP图片" in " ".join(exc.value.message_dict["photo"])
