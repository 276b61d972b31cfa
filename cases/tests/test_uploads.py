"""Case attachments go through core.uploads: decoded, images stored without EXIF, PDFs parsed, forgeries refused."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases import services
from cases.models import Case, CaseAttachment, Status
from cases.tests.test_services import new_case, to_status
from tests import upload_samples

pytestmark = pytest.mark.django_db


def test_a_jpeg_header_followed_by_an_executable_is_refused_as_an_attachment_and_nothing_is_saved(world, cw):
    with pytest.raises(ValidationError) as exc:
        new_case(world, cw, attachments=[SimpleUploadedFile("现场.jpg", upload_samples.fake_jpeg())])
    assert "附件“现场.jpg”无法解码为JPEG图片" in " ".join(exc.value.message_dict["attachments"])
    assert not Case.objects.exists() and not CaseAttachment.objects.exists()


def test_a_phone_photo_attached_to_a_case_is_stored_without_its_gps_tags(world, cw):
    case = new_case(world, cw, attachments=[SimpleUploadedFile("楼道.jpg", upload_samples.gps_jpeg())])
    att = case.attachments.get()
    with att.file.open("rb") as fh:
        data = fh.read()
    stored = Image.open(io.BytesIO(data))
    assert stored.format == "JPEG" and len(stored.getexif()) == 0 and "exif" not in stored.info
    assert (att.name, att.content_type, att.size) == ("楼道.jpg", "image/jpeg", len(data))


def test_a_truncated_pdf_attachment_is_refused(world, cw):
    with pytest.raises(ValidationError) as exc:
        new_case(world, cw, attachments=[SimpleUploadedFile("说明.pdf", upload_samples.truncated_pdf())])
    assert "不是完整的PDF文件" in " ".join(exc.value.message_dict["attachments"])
    assert not Case.objects.exists()


def test_a_forged_photo_on_the_handled_step_leaves_the_case_where_it_was(world, cw):
    case = to_status(world, cw, "in_progress")
    with pytest.raises(ValidationError):
        services.transition(cw.users.unit_prop, case, "handle", note="已修好",
                            attachments=[SimpleUploadedFile("after.jpg", upload_samples.fake_jpeg())])
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and not case.attachments.exists()
    done = services.transition(cw.users.unit_prop, case, "handle", note="已修好",
                               attachments=[SimpleUploadedFile("after.pdf", upload_samples.pdf())])
    assert done.status == Status.HANDLED and done.attachments.get().content_type == "application/pdf"
