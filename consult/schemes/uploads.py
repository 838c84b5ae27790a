"""Documents of a scheme: PDF drawings and JPEG/PNG pictures, checked by what they contain.

A file's name and its declared type count for nothing: the type is read from the first bytes. A PDF must
begin with ``%PDF-``, end with ``%%EOF`` and open in PDFium (Chromium's PDF reader) with a page or more,
without a password. A picture is opened with Pillow (restricted to its format),
its size is checked before a single pixel is decoded, it is verified and fully decoded, and then encoded
anew, which leaves every EXIF, XMP, ICC and text block behind (a phone photo's position and camera go
with them). Files are stored under random names, never under the name they came with.

Settings (``app.config``; these defaults when absent):

UPLOAD_FOLDER       where documents are stored (default ``instance/uploads``; a relative path is taken
                    from the project folder, the parent of ``instance/``); created when missing
UPLOAD_MAX_BYTES    largest document accepted, in bytes (default 10 MiB)
UPLOAD_MAX_PIXELS   largest picture accepted, in pixels (width × height; default 40 million)
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
import unicodedata
import warnings
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image
from PIL import ImageOps

from consult.errors import ConsultError
from consult.files import written_whole

DEFAULT_FOLDER = "instance/uploads"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000

PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
#: how far from the end a PDF's ``%%EOF`` may be (some writers add a few bytes after it)
PDF_TAIL = 1024
#: stored names: 32 hex digits and the extension of the type found
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(pdf|jpg|png)")


class DocumentKind(enum.StrEnum):
    PDF = "pdf"
    JPEG = "jpeg"
    PNG = "png"

    @property
    def mimetype(self) -> str:
        return {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}[self.value]

    @property
    def extension(self) -> str:
        return {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png"}[self.value]

    @property
    def is_image(self) -> bool:
        return self is not DocumentKind.PDF


class UploadRejected(ConsultError):
    """The file is not accepted; the message says why, to the person who sent it."""


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks, as it will be stored (pictures re-encoded)."""

    kind: DocumentKind
    data: bytes
    width: int | None = None
    height: int | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sniff(data: bytes) -> DocumentKind | None:
    """The type of a file by its first bytes, or None when it is none of ours."""
    if data.startswith(PDF_MAGIC):
        return DocumentKind.PDF
    if data.startswith(PNG_MAGIC):
        return DocumentKind.PNG
    if data.startswith(JPEG_MAGIC):
        return DocumentKind.JPEG
    return None


def check_upload(data: bytes, max_bytes: int, max_pixels: int) -> CheckedFile:
    """The file as it will be stored, or UploadRejected with the reason."""
    if not data:
        raise UploadRejected(_l("The file is empty."))
    if len(data) > max_bytes:
        raise UploadRejected(_l("The file is too large: at most %(size)s MB.", size=megabytes(max_bytes)))
    kind = sniff(data)
    if kind is None:
        raise UploadRejected(_l("Only PDF, JPEG and PNG files are accepted."))
    if kind is DocumentKind.PDF:
        check_pdf(data)
        return CheckedFile(kind, data)
    return clean_image(data, kind, max_pixels)


def check_pdf(data: bytes) -> None:
    """A whole PDF that opens, with a page or more and no password; else UploadRejected. It is read by
    PDFium, the PDF reader of Chromium, which is built to read PDFs from anywhere."""
    import pypdfium2 as pdfium

    damaged = UploadRejected(_l("The PDF file is damaged or incomplete."))
    if b"%%EOF" not in data[-PDF_TAIL:]:
        raise damaged  # cut short (PDFium may open what is left)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise UploadRejected(_l("The PDF is locked with a password: upload it without one.")) from error
        raise damaged from error
    try:
        if len(document) == 0:
            raise damaged
        active = active_content(document, data)
    finally:
        document.close()
    if active:
        raise UploadRejected(
            _l(
                "The PDF holds scripts, attached files, embedded media or actions that start programs: "
                "save or print it again as a plain PDF and upload that."
            )
        )


#: annotations that play or hold something besides the page: attached files, media, 3D models
ACTIVE_ANNOTATIONS = frozenset({"FILEATTACHMENT", "MOVIE", "RICHMEDIA", "SCREEN", "SOUND", "THREED"})
#: a name, written plainly or with #xx escapes, that starts a script or a program
_ACTIVE_NAME = re.compile(rb"/(?:JavaScript|JS|Launch)(?=[\s/<>\[\]()%]|$)")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
#: the objects a PDF may keep compressed together (PDF 1.5): where such names may hide
_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm\b[^>]*>>\s*stream\r?\n", re.S)
#: a stream's bytes, between its keywords
_STREAM_BODY = re.compile(rb"(?<!end)stream\r?\n.*?endstream", re.S)
#: how much of the compressed object streams is read (a zip bomb in a PDF is refused, not read)
OBJECT_STREAMS_MAX = 32 * 1024 * 1024


def active_content(document: Any, data: bytes) -> list[str]:
    """What a PDF holds besides pages to show (V5.2.2, G11), as PDFium reads it: document scripts,
    attached files, XFA forms, annotations that play media or hold files, and links that start programs
    or scripts; and, in the file's own objects (the compressed object streams included), any name that
    starts a script or a program (an action on opening the document or on a page, say). Empty for a
    PDF of pages alone, which is what a scheme's drawings and documents are."""
    import pypdfium2.raw as raw

    found = []
    if raw.FPDFDoc_GetJavaScriptActionCount(document.raw) > 0:
        found.append("scripts")
    if raw.FPDFDoc_GetAttachmentCount(document.raw) > 0:
        found.append("attached files")
    if raw.FPDF_GetFormType(document.raw) in (raw.FORMTYPE_XFA_FULL, raw.FORMTYPE_XFA_FOREGROUND):
        found.append("XFA form")
    active_annotations = {getattr(raw, f"FPDF_ANNOT_{name}") for name in ACTIVE_ANNOTATIONS}
    starts = {raw.PDFACTION_LAUNCH, raw.PDFACTION_UNSUPPORTED}  # scripts are among the "unsupported"
    for index in range(len(document)):
        page = document[index]
        try:
            for number in range(raw.FPDFPage_GetAnnotCount(page.raw)):
                annotation = raw.FPDFPage_GetAnnot(page.raw, number)
                try:
                    subtype = raw.FPDFAnnot_GetSubtype(annotation)
                    if subtype in active_annotations:
                        found.append(f"annotation on page {index + 1}")
                    elif subtype == raw.FPDF_ANNOT_LINK:
                        action = raw.FPDFLink_GetAction(raw.FPDFAnnot_GetLink(annotation))
                        if action and raw.FPDFAction_GetType(action) in starts:
                            found.append(f"link action on page {index + 1}")
                finally:
                    raw.FPDFPage_CloseAnnot(annotation)
        finally:
            page.close()
    hidden = _active_names(data)
    if hidden:
        found.append(hidden)
    return found


def _unescape(match: re.Match[bytes]) -> bytes:
    return bytes([int(match.group(1), 16)])


def _active_names(data: bytes) -> str | None:
    """Where the file's objects name a script or a program: outside its streams (whose bytes, pictures
    say, would match by chance), or in its compressed object streams, decompressed (up to
    OBJECT_STREAMS_MAX in all; beyond, that they hold more than is read); None when nowhere."""
    if _has_active_name(_STREAM_BODY.sub(b"", data)):
        return "script or launch action"
    budget = OBJECT_STREAMS_MAX
    for start in _OBJECT_STREAM.finditer(data):
        inflate = zlib.decompressobj()
        try:
            part = inflate.decompress(data[start.end() :], budget)
        except zlib.error:
            continue  # not Flate: PDFium read what it could, and its checks stand
        if _has_active_name(part):
            return "script or launch action in an object stream"
        budget -= len(part)
        if budget <= 0 and inflate.unconsumed_tail:
            return "object streams too large to read"
    return None


def _has_active_name(part: bytes) -> bool:
    return _ACTIVE_NAME.search(_NAME_ESCAPE.sub(_unescape, part)) is not None


#: the only Pillow plugin a picture may be read with (a phone's multi-picture JPEG opens as MPO through the
#: JPEG plugin; its first picture is kept)
PILLOW_FORMATS = {DocumentKind.JPEG: ("JPEG",), DocumentKind.PNG: ("PNG",)}


def clean_image(data: bytes, kind: DocumentKind, max_pixels: int) -> CheckedFile:
    """Open, verify, decode and encode the picture again: the same pixels, no metadata."""
    formats = PILLOW_FORMATS[kind]
    too_large = UploadRejected(
        _l("The picture is too large: at most %(count)s million pixels.", count=max_pixels // 1_000_000)
    )
    damaged = UploadRejected(_l("The picture cannot be read; it may be damaged."))
    with warnings.catch_warnings():
        # Pillow warns, then refuses, on pictures that decompress to enormous sizes (pixel bombs)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data), formats=formats) as probe:
                width, height = probe.size
                if width * height > max_pixels:
                    raise too_large
                probe.verify()
            with Image.open(BytesIO(data), formats=formats) as picture:
                picture.load()
                clean = _without_metadata(picture, kind)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_large from None
        except UploadRejected:
            raise
        except Exception:  # whatever a hostile file makes the decoder raise, it is not a picture we keep
            raise damaged from None
    out = BytesIO()
    if kind is DocumentKind.JPEG:
        clean.save(out, "JPEG", quality=90)
    else:
        clean.save(out, "PNG", optimize=True)
    return CheckedFile(kind, out.getvalue(), clean.width, clean.height)


def _without_metadata(picture: Image.Image, kind: DocumentKind) -> Image.Image:
    """The pixels in a new image that carries nothing else (its ``info`` is empty)."""
    if kind is DocumentKind.JPEG:
        # the EXIF orientation goes with the EXIF block: turn the pixels the way the camera meant
        picture = ImageOps.exif_transpose(picture)
        if picture.mode not in ("L", "RGB", "CMYK"):
            picture = picture.convert("RGB")
    elif picture.mode == "P" or (picture.mode not in ("LA", "RGBA") and "transparency" in picture.info):
        picture = picture.convert("RGBA" if "transparency" in picture.info else "RGB")
    elif picture.mode not in ("1", "L", "LA", "RGB", "RGBA", "I;16"):
        picture = picture.convert("RGBA")
    return Image.frombytes(picture.mode, picture.size, picture.tobytes())


def megabytes(size: int) -> str:
    """10485760 → "10"; 1572864 → "1.5"."""
    value = size / (1024 * 1024)
    return f"{value:.1f}".removesuffix(".0")


def display_name(filename: str, kind: DocumentKind) -> str:
    """The name a document is shown and downloaded under: no folders, no control characters, at most
    100 characters, and the extension of the type actually found ("屋面.PDF" → "屋面.pdf")."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    stem = name.rsplit(".", 1)[0].strip() if "." in name else name
    stem = stem[:100].strip() or "document"
    return stem + kind.extension


# --- the folder (needs the app)


def max_bytes() -> int:
    return int(current_app.config.get("UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_pixels() -> int:
    return int(current_app.config.get("UPLOAD_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def upload_folder() -> Path:
    """The folder of stored documents, created when missing."""
    configured = Path(current_app.config.get("UPLOAD_FOLDER") or DEFAULT_FOLDER)
    if not configured.is_absolute():
        configured = Path(current_app.instance_path).parent / configured
    configured.mkdir(parents=True, exist_ok=True)
    return configured


def store(checked: CheckedFile) -> str:
    """Write the file under a new random name (atomically) and return that name."""
    folder = upload_folder()
    name = secrets.token_hex(16) + checked.kind.extension
    with written_whole(folder / name, 0o640, replace=False) as out:
        out.write(checked.data)
    return name


def stored_path(stored_name: str) -> Path | None:
    """Where a stored document is, or None for a name that is not one of ours."""
    if not STORED_NAME.fullmatch(stored_name):
        return None
    path = upload_folder() / stored_name
    return path if path.is_file() else None


def discard(stored_name: str) -> None:
    path = stored_path(stored_name)
    if path is not None:
        path.unlink(missing_ok=True)
