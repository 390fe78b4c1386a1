"""Reading a printed ticket back: the text of each page, and the QR code on it as a reader decodes it."""

import io

from pypdf import PdfReader

from tests.qr import read_qr


def pdf_pages(pdf: bytes) -> list[tuple[str, str]]:
    """(text, QR text) of each page; a page must carry exactly one image, its QR code."""
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        (image,) = page.images
        png = io.BytesIO()
        image.image.save(png, format="PNG")  # type: ignore[union-attr]
        pages.append((page.extract_text(), read_qr(png.getvalue())))
    return pages
