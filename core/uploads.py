"""One upload validator for every app: files are judged by decoding their content, never by name or first bytes.

``check_upload(upload, field=..., kinds=..., max_bytes=...)`` returns a ``CheckedUpload`` holding the bytes to
store, or raises ``ValidationError({field: [reason in Chinese]})``:

* an image (JPEG, PNG, WebP) is decoded in full with Pillow and stored as a **re-encoded copy**: turned upright
  by its EXIF orientation, then written again without EXIF (a phone photo's GPS tags locate a resident's home),
  XMP, comments or text chunks (the colour profile is kept). Anything after the picture data (an executable
  appended to a JPEG) is gone with the re-encoding; a file that only starts like an image does not decode and
  is refused;
* a PDF is parsed with pypdf (its cross-reference table, its page tree and every page's objects); a truncated or
  damaged file, or one locked with a password, is refused. It is stored as uploaded.

The kinds a field accepts, its size limit and the word for the file ("照片", "附件") are the caller's.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

__all__ = ["ALL_KINDS", "ATTACHMENT", "IMAGES", "MAX_PIXELS", "PHOTO", "CheckedUpload", "check_upload", "sniff"]

IMAGES = ("jpeg", "png", "webp")
ALL_KINDS = (*IMAGES, "pdf")
MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo fits; a "decompression bomb" does not
JPEG_QUALITY = 90
PHOTO = gettext_lazy("照片")
ATTACHMENT = gettext_lazy("附件")

# kind → (content type, file extension, Pillow format, name shown to the user)
_KINDS: dict[str, tuple[str, str, str, str]] = {
    "jpeg": ("image/jpeg", "jpg", "JPEG", "JPEG"),
    "png": ("image/png", "png", "PNG", "PNG"),
    "webp": ("image/webp", "webp", "WEBP", "WebP"),
    "pdf": ("application/pdf", "pdf", "", "PDF"),
}
_FORMAT_KIND = {fmt: kind for kind, (_ct, _ext, fmt, _name) in _KINDS.items() if fmt}


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed: what to store (``data``), under which type and extension, and its original name."""

    name: str
    kind: str
    content_type: str
    ext: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def content(self) -> ContentFile:
        """A file object for ``FieldFile.save(name, checked.content())``."""
        return ContentFile(self.data, name=f"upload.{self.ext}")


def sniff(head: bytes) -> str | None:
    """The content type told by a stored file's first bytes (files are checked when stored; this is only for
    serving them with the right header). None when unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _kinds_text(kinds: Iterable[str]) -> str:
    images = [_KINDS[k][3] for k in kinds if k in IMAGES]
    parts = []
    if images:
        parts.append(_("%(names)s图片") % {"names": "、".join(images)})
    if "pdf" in kinds:
        parts.append(_("PDF文件"))
    return _("或").join(parts)


def _read(upload) -> bytes:
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read()
    if hasattr(upload, "seek"):
        upload.seek(0)
    return data


def check_upload(upload, *, field: str, max_bytes: int, kinds: Iterable[str] = IMAGES,
                 label: str | None = None) -> CheckedUpload:
    """Check ``upload`` (a Django ``UploadedFile`` or any file object with ``name``) by decoding it; see the module
    docstring. Errors go under ``field``, naming the file and saying what is wrong in Chinese."""
    kinds = tuple(kinds)
    label = label if label is not None else PHOTO
    name = str(getattr(upload, "name", "") or "")
    who = {"label": label, "name": name}
    size = getattr(upload, "size", None)
    if size is None or size <= max_bytes:
        data = _read(upload)
        size = len(data)
    if size > max_bytes:
        raise ValidationError({field: [_("%(label)s“%(name)s”不能超过%(max)dMB，现在是%(mb).1fMB")
                                       % {**who, "max": max_bytes // 1048576, "mb": size / 1048576}]})
    if size == 0:
        raise ValidationError({field: [_("%(label)s“%(name)s”是空文件") % who]})
    kind = _kind_of(data)
    if kind is None or kind not in kinds:
        raise ValidationError({field: [_("%(label)s“%(name)s”只能是%(kinds)s（按文件内容判断，不看扩展名）")
                                       % {**who, "kinds": _kinds_text(kinds)}]})
    content_type, ext, _fmt, _shown = _KINDS[kind]
    stored = _check_pdf(data, field, who) if kind == "pdf" else _reencode(data, kind, field, who)
    return CheckedUpload(name=name, kind=kind, content_type=content_type, ext=ext, data=stored)


def _kind_of(data: bytes) -> str | None:
    ct = sniff(data[:16])
    return {"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}.get(ct or "")


def _reencode(data: bytes, kind: str, field: str, who: dict) -> bytes:
    from PIL import Image, ImageOps, UnidentifiedImageError

    def broken() -> ValidationError:
        reason = _("%(label)s“%(name)s”无法解码为%(kind)s图片：文件已损坏，或是伪装成图片的其他文件")
        return ValidationError({field: [reason % {**who, "kind": _KINDS[kind][3]}]})

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if _FORMAT_KIND.get(img.format or "") != kind:
                raise broken()
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise ValidationError({field: [_("%(label)s“%(name)s”像素太多（%(w)d×%(h)d），请缩小后再上传")
                                               % {**who, "w": width, "h": height}]})
            img.load()  # decodes every pixel: a truncated or forged body fails here
            icc = img.info.get("icc_profile")
            ImageOps.exif_transpose(img, in_place=True)  # upright before the orientation tag goes
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise broken() from exc
    return _encode(img, kind, icc=icc)


def _encode(img, kind: str, icc: bytes | None) -> bytes:
    """The pixels only (and the colour profile): a fresh image carries no EXIF, XMP or text from the upload."""
    from PIL import Image

    if kind == "jpeg" and img.mode not in ("RGB", "L", "CMYK"):
        img = img.convert("RGB")
    elif kind != "jpeg" and img.mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "I", "I;16"):
        img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    clean = Image.new(img.mode, img.size)
    clean.paste(img)
    if img.mode == "P" and img.palette is not None:
        clean.putpalette(img.getpalette())
        if "transparency" in img.info:
            clean.info["transparency"] = img.info["transparency"]
    params: dict = {"icc_profile": icc} if icc else {}
    if kind == "jpeg":
        params.update(quality=JPEG_QUALITY)
    elif kind == "webp":
        params.update(quality=JPEG_QUALITY)
    elif "transparency" in clean.info:
        params["transparency"] = clean.info["transparency"]
    out = io.BytesIO()
    clean.save(out, _KINDS[kind][2], **params)
    return out.getvalue()


def _check_pdf(data: bytes, field: str, who: dict) -> bytes:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.ERROR + 10)  # pypdf logs what it repairs; the answer here is the exception or none
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise ValidationError({field: [
                    _("%(label)s“%(name)s”是加密的PDF文件，无法检查其内容，请上传未加密的文件") % who]})
            pages = reader.pages
            if len(pages) == 0:
                raise ValueError("no pages")
            for page in pages:
                page.mediabox  # noqa: B018 - reading it resolves the page's inherited attributes
                contents = page.get_contents()
                if contents is not None:
                    contents.get_data()  # decompresses the page's drawing: a cut or damaged stream fails here
    except ValidationError:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError) as exc:
        raise ValidationError({field: [_("%(label)s“%(name)s”不是完整的PDF文件，无法解析（可能已损坏或不完整）")
                                       % who]}) from exc
    finally:
        quiet.setLevel(level)
    return data
