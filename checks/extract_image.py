"""Image bytes to `Document`: the text an infographic, a photo of the maklumat or an alur chart
carries, read by offline OCR (`checks.ocr`), in reading order, located as "teks dalam gambar".

OCR is costly (2-5 CPU-seconds per image), so results are cached by the image's SHA-256 in a
folder (`PATUH_OCR_CACHE`, default `data/ocr-cache`), which unchanged images of later sweeps hit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from checks.document import Block, Document


def _cache_dir() -> Path:
    return Path(os.environ.get("PATUH_OCR_CACHE", "data/ocr-cache"))


def extract_image(url: str, body: bytes, sha256: str) -> Document:
    name = unquote(urlparse(url).path.rsplit("/", 1)[-1])
    doc = Document(url=url, kind="image", title=name[:200])
    try:
        from checks.ocr import OcrUnavailable, ocr_image, ocr_lines_to_blocks
    except ImportError:
        doc.meta["ocr"] = "tidak tersedia"
        return doc
    cached = _cache_dir() / f"{sha256}.json" if sha256 else None
    if cached is not None and cached.exists():
        try:
            doc.blocks = [Block(**{**b, "headings": tuple(b["headings"])}) for b in json.loads(cached.read_text())]
            doc.meta["ocr"] = "dari tembolok"
            return doc
        except (ValueError, TypeError, KeyError, OSError):
            pass
    try:
        lines = ocr_image(body)
    except OcrUnavailable:
        doc.meta["ocr"] = "tidak tersedia"
        return doc
    doc.blocks = ocr_lines_to_blocks(lines, locator=f"teks dalam gambar {name}"[:120])
    doc.meta["ocr"] = f"{len(lines)} baris"
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp")
            tmp.write_text(json.dumps([{"text": b.text, "tag": b.tag, "headings": list(b.headings), "region": b.region,
                                        "locator": b.locator} for b in doc.blocks], ensure_ascii=False))
            tmp.replace(cached)
        except OSError:
            pass
    return doc
