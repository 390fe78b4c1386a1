"""Reading a printed ticket back: the text of each page, and the QR code on it as a reader decodes it."""

import io

from pypdf import PdfReader

from tests.qr import read_qr


def pdf_pages(pdf: bytes) -> list[tuple[str, str]]:
    """(text, QR text) of each page; a page carries its QR code last, after the venue's logo if any."""
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        png = io.BytesIO()
        page.images[-1].image.save(png, format="PNG")  # type: ignore[union-attr]
        pages.append((page.extract_text(), read_qr(png.getvalue())))
    return pages


def pdf_image_sizes(pdf: bytes) -> list[list[tuple[int, int]]]:
    """The pixel size of each image on each page, in the order they are drawn."""
    return [[i.image.size for i in page.images] for page in PdfReader(io.BytesIO(pdf)).pages]  # type: ignore[union-attr]
