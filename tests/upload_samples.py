"""Files for upload tests: real images and PDFs (they decode), a phone photo with GPS tags, and forgeries."""

from __future__ import annotations

import io

from PIL import Image

__all__ = ["GPS_IFD", "fake_jpeg", "gps_jpeg", "jpeg", "pdf", "png", "truncated_pdf", "webp"]

GPS_IFD = 0x8825
EXIF_ORIENTATION = 0x0112


def _image(fmt: str, size=(32, 24), colour="green", **params) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, fmt, **params)
    return buf.getvalue()


def jpeg(size=(32, 24), colour="green") -> bytes:
    return _image("JPEG", size, colour)


def png(size=(32, 24), colour="red") -> bytes:
    return _image("PNG", size, colour)


def webp(size=(32, 24), colour="blue") -> bytes:
    return _image("WEBP", size, colour)


def gps_jpeg(size=(40, 30)) -> bytes:
    """A phone photo: camera make and model, the orientation (turned a quarter) and GPS tags of a home."""
    exif = Image.Exif()
    exif[0x010F] = "Huawei"
    exif[0x0110] = "P60"
    exif[EXIF_ORIENTATION] = 6
    exif[GPS_IFD] = {1: "N", 2: (31.0, 14.0, 5.25), 3: "E", 4: (121.0, 28.0, 1.5)}
    return _image("JPEG", size, "white", exif=exif.tobytes())


def fake_jpeg() -> bytes:
    """A JPEG header followed by a Windows executable: starts like a photo, is not one."""
    body = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode."
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + body * 40


def pdf(pages: int = 2) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for i in range(pages):
        c.drawString(72, 720, f"page {i + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def truncated_pdf() -> bytes:
    whole = pdf()
    return whole[: len(whole) * 2 // 3]
