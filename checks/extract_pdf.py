"""PDF bytes to `Document`: one block per text line group, located by page ("halaman 2").

pypdf is the fast extractor (17-20 ms for five pages, STACK.md). Hostile PDFs are bounded: at most
`MAX_PAGES` pages are read, and any parser error leaves a document with what was read so far.
A PDF without a text layer (a scan) yields an empty document; OCR is a later capability.
"""

from __future__ import annotations

import io
import logging
import re

from checks.document import Block, Document
from checks.extract_html import clean

MAX_PAGES = 60
MAX_CHARS = 500_000
# a heading is a short line in capitals that is not a number or a list item
_HEADING = re.compile(r"^(?![\dIVX]+[.)]\s)(?=.*[A-Z]{3})[A-Z][A-Z0-9 ,/&()'-]{3,80}$")

logging.getLogger("pypdf").setLevel(logging.ERROR)


def extract_pdf(url: str, body: bytes) -> Document:
    """Text of a PDF as blocks; headings are guessed from short all-capital lines."""
    from pypdf import PdfReader

    doc = Document(url=url, kind="pdf")
    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        pages = reader.pages
        total = len(pages)
    except Exception as exc:
        doc.meta["error"] = f"PDF tidak dapat dibaca: {type(exc).__name__}"
        return doc
    chars = 0
    headings: list[str] = []
    for number in range(min(total, MAX_PAGES)):
        try:
            text = pages[number].extract_text() or ""
        except Exception:
            continue
        locator = f"halaman {number + 1}"
        for raw in text.splitlines():
            line = clean(raw)
            if not line:
                continue
            chars += len(line)
            if _HEADING.match(line) and len(line) < 90 and not line.endswith(":"):
                headings = [line]
                doc.blocks.append(Block(text=line, tag="h3", headings=(line,), region="main", locator=locator))
                continue
            doc.blocks.append(Block(text=line, tag="pdf", headings=tuple(headings), region="main", locator=locator))
        if chars > MAX_CHARS:
            break
    doc.meta["pages"] = total
    if not doc.blocks and total:
        _ocr_scanned(doc, body)
    if total:
        try:
            title = reader.metadata.get("/Title") if reader.metadata else None
            doc.title = clean(str(title))[:300] if title else ""
        except Exception:
            pass
    if not doc.title and doc.blocks:
        doc.title = doc.blocks[0].text[:200]
    return doc


def _ocr_scanned(doc: Document, body: bytes) -> None:
    """A PDF without a text layer (a scan): read its first pages with OCR, when the engine is here."""
    try:
        from checks.ocr import ocr_available, ocr_lines_to_blocks, ocr_pdf_pages
    except ImportError:
        return
    if not ocr_available():
        doc.meta["ocr"] = "tidak tersedia"
        return
    for number, page_lines in enumerate(ocr_pdf_pages(body), start=1):
        doc.blocks.extend(ocr_lines_to_blocks(page_lines, locator=f"halaman {number} (OCR)"))
    doc.meta["ocr"] = "pindaian dibaca dengan OCR"
