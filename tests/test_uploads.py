"""The one upload validator (core.uploads): files judged by decoding them; images stored re-encoded without EXIF."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.uploads import ALL_KINDS, IMAGES, check_upload, sniff
from tests import upload_samples

MB = 1024 * 1024


def check(data: bytes, name: str = "f.jpg", kinds=ALL_KINDS, max_bytes: int = 10 * MB):
    return check_upload(SimpleUploadedFile(name, data), field="photo", max_bytes=max_bytes, kinds=kinds)


def refusal(data: bytes, **kw) -> str:
    with pytest.raises(ValidationError) as exc:
        check(data, **kw)
    return " ".join(exc.value.message_dict["photo"])


def test_a_jpeg_header_followed_by_an_executable_is_refused_with_the_reason_in_chinese():
    reason = refusal(upload_samples.fake_jpeg(), name="门牌.jpg")
    assert "门牌.jpg" in reason and "无法解码为JPEG图片" in reason


def test_a_phone_photo_is_stored_re_encoded_without_exif_or_gps_and_upright():
    original = Image.open(io.BytesIO(upload_samples.gps_jpeg()))
    assert upload_samples.GPS_IFD in original.getexif()  # the sample does carry GPS tags
    checked = check(upload_samples.gps_jpeg())
    stored = Image.open(io.BytesIO(checked.data))
    assert stored.format == "JPEG" and checked.content_type == "image/jpeg" and checked.ext == "jpg"
    assert len(stored.getexif()) == 0 and "exif" not in stored.info
    assert stored.getexif().get_ifd(upload_samples.GPS_IFD) == {}
    assert b"Huawei" not in checked.data and b"Exif" not in checked.data
    assert stored.size == (original.size[1], original.size[0])  # turned by its orientation before EXIF went


def test_bytes_appended_after_a_real_picture_are_not_stored():
    payload = b"MZ\x90\x00" + b"evil program" * 100
    checked = check(upload_samples.jpeg() + payload)
    assert payload not in checked.data
    Image.open(io.BytesIO(checked.data)).load()


def test_a_truncated_jpeg_is_refused():
    whole = upload_samples.jpeg(size=(200, 150))
    assert "无法解码" in refusal(whole[: len(whole) // 2])


def test_a_truncated_pdf_is_refused():
    reason = refusal(upload_samples.truncated_pdf(), name="协议.pdf")
    assert "协议.pdf" in reason and "不是完整的PDF文件" in reason


def test_a_file_that_only_starts_like_a_pdf_is_refused():
    assert "不是完整的PDF文件" in refusal(b"%PDF-1.4\n" + b"0" * 200, name="x.pdf")


@pytest.mark.parametrize("make, kind, content_type", [
    (upload_samples.jpeg, "jpeg", "image/jpeg"), (upload_samples.png, "png", "image/png"),
    (upload_samples.webp, "webp", "image/webp"), (upload_samples.pdf, "pdf", "application/pdf")])
def test_real_jpeg_png_webp_and_pdf_files_are_accepted(make, kind, content_type):
    data = make()
    checked = check(data, name="whatever.bin")
    assert (checked.kind, checked.content_type, checked.name) == (kind, content_type, "whatever.bin")
    assert sniff(checked.data[:16]) == content_type
    if kind == "pdf":
        assert checked.data == data  # a PDF is stored as uploaded, once it parsed
    else:
        assert Image.open(io.BytesIO(checked.data)).size == Image.open(io.BytesIO(data)).size


def test_a_pdf_is_refused_where_only_photos_are_taken():
    reason = refusal(upload_samples.pdf(), kinds=IMAGES)
    assert "只能是JPEG、PNG、WebP图片" in reason


def test_a_file_of_another_kind_is_refused_whatever_its_name():
    assert "按文件内容判断" in refusal(b"<svg xmlns='http://www.w3.org/2000/svg'/>", name="x.png")


def test_an_empty_file_and_a_file_over_the_limit_are_refused_naming_the_limit():
    assert "空文件" in refusal(b"")
    assert "不能超过1MB" in refusal(upload_samples.jpeg() + b"\x00" * MB, max_bytes=MB)


def test_an_image_with_too_many_pixels_is_refused_before_it_is_decoded():
    buf = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(buf, "PNG")  # 60 megapixels in a few kilobytes
    assert "像素太多" in refusal(buf.getvalue())


def test_a_pdf_locked_with_a_password_is_refused():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(upload_samples.pdf())))
    writer.encrypt(user_password="secret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    assert "加密" in refusal(buf.getvalue())


def test_a_transparent_png_keeps_its_transparency():
    buf = io.BytesIO()
    Image.new("RGBA", (8, 8), (10, 20, 30, 0)).save(buf, "PNG")
    stored = Image.open(io.BytesIO(check(buf.getvalue()).data))
    assert stored.mode == "RGBA" and stored.getpixel((0, 0))[3] == 0
