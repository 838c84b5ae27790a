"""A scheme's PDF is pages to show: scripts, attached files, media and actions that start programs are
refused, wherever the file puts them (V5.2.2)."""

from __future__ import annotations

import io
import zlib

import pypdfium2 as pdfium
import pytest
from sqlalchemy import func
from sqlalchemy import select

from consult.extensions import db
from consult.schemes import services
from consult.schemes.models import SchemeDocument
from consult.schemes.uploads import UploadRejected
from consult.schemes.uploads import check_pdf
from tests.schemes.factories import PDF
from tests.schemes.factories import during
from tests.schemes.factories import english


def pdf(catalog_extra: bytes = b"", page_extra: bytes = b"", *more: bytes) -> bytes:
    """A one-page PDF whose catalogue and page hold ``catalog_extra`` and ``page_extra``, and the
    objects ``more`` (numbered from 4)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + page_extra + b" >>",
        *more,
    ]
    out = bytearray(b"%PDF-1.5\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def stream(data: bytes, dictionary: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), dictionary) + data + b"\nendstream"


def with_attachment() -> bytes:
    document = pdfium.PdfDocument(PDF)
    attachment = document.new_attachment("清单.xlsx")
    attachment.set_data(b"PK\x03\x04 a workbook")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def in_object_stream(objects: bytes, first: int) -> bytes:
    """An object stream (PDF 1.5) holding ``objects`` (the first at offset ``first``), compressed."""
    return stream(zlib.compress(objects), b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode" % first)


SCRIPT = b"<< /S /JavaScript /JS (app.alert('hello')) >>"
ACTIVE = [
    # document scripts, in the names tree
    (pdf(b"/Names << /JavaScript 4 0 R >>", b"", b"<< /Names [(go) 5 0 R] >>", SCRIPT), "document script"),
    # a script run on opening, its names written with #xx escapes
    (pdf(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"), "script on opening"),
    # a page's action on being opened
    (pdf(b"", b"/AA << /O 4 0 R >>", SCRIPT), "page action"),
    # a link that starts a program
    (
        pdf(
            b"",
            b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 99 99] /A << /S /Launch /F (c.exe) >> >>]",
        ),
        "launch link",
    ),
    # an attached file
    (with_attachment(), "attachment"),
    # a file attachment annotation
    (
        pdf(b"", b"/Annots [<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS (a.exe) >>]"),
        "file annotation",
    ),
    # a script hidden in a compressed object stream
    (pdf(b"/OpenAction 5 0 R", b"", in_object_stream(b"5 0 " + SCRIPT, 4)), "compressed script"),
    # compressed object streams that unpack to more than is read
    (pdf(b"", b"", in_object_stream(b"5 0 " + b" " * (40 * 1024 * 1024), 4)), "object stream bomb"),
]


@pytest.mark.parametrize(("data", "_what"), ACTIVE, ids=[what for _data, what in ACTIVE])
def test_active_content_is_refused(app, data, _what):
    assert len(pdfium.PdfDocument(data)) == 1  # a PDF that opens, with its page
    with pytest.raises(UploadRejected) as rejected:
        check_pdf(data)
    assert "plain PDF" in english(rejected.value.message)


PLAIN = [
    (PDF, "pages alone"),
    (pdf(b"/OpenAction [3 0 R /Fit]"), "opening at a page"),
    (
        pdf(
            b"",
            b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 9 9]"
            b" /A << /S /URI /URI (https://x.test/) >> >>]",
        ),
        "a web link",
    ),
    # a picture whose bytes happen to hold a script's name: stream bytes are not names
    (
        pdf(b"", b"/Resources << /XObject << /Im1 4 0 R >> >>", stream(b"\x00/JS (x) /Launch\xff" * 50)),
        "bytes",
    ),
    (pdf(b"", b"", in_object_stream(b"5 0 << /Producer (CAD) >>", 4)), "a harmless object stream"),
]


@pytest.mark.parametrize(("data", "_what"), PLAIN, ids=[what for _data, what in PLAIN])
def test_pages_alone_are_accepted(app, data, _what):
    check_pdf(data)  # raises UploadRejected when refused


def test_a_reportlab_drawing_with_a_picture_is_accepted(app):
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    from tests.schemes.factories import plain_png

    out = io.BytesIO()
    drawing = canvas.Canvas(out, pageCompression=1)
    drawing.drawString(100, 700, "方案A 总平面图")
    drawing.drawImage(ImageReader(io.BytesIO(plain_png((200, 100)))), 100, 400)
    drawing.linkURL("https://example.test/plan", (100, 100, 200, 120))
    drawing.showPage()
    drawing.save()
    check_pdf(out.getvalue())


def test_a_refused_pdf_is_not_stored(round2, schemes, upload_folder):
    a, _b = schemes
    with pytest.raises(UploadRejected):
        services.add_document(a.first, ACTIVE[0][0], "方案.pdf", "user:1", during(round2))
    assert not upload_folder.exists() or not any(upload_folder.iterdir())
    assert db.session.scalar(select(func.count(SchemeDocument.id))) == 0
