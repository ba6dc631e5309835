"""Text in images and scanned PDFs, read offline by RapidOCR (PP-OCRv6 models bundled in the wheel).

The engine is `rapidocr` 3.10 on `onnxruntime`. Its wheel ships the text detector, the
orientation classifier and the multilingual (Latin + Chinese) recogniser as ONNX files under
``rapidocr/models/``; the recogniser's character set is embedded in the ONNX file. This module
hands the engine those three paths explicitly, so rapidocr's own download code is never reached,
and it always passes decoded pixels (never a path or URL, which rapidocr would fetch). If a
bundled model is missing the engine is *unavailable* (`OcrUnavailable`), never downloaded.

Everything here is a function of the bytes given: no network, no files written, no clock read
for results. Hostile input is bounded before it is decoded:

- at most `MAX_IMAGE_BYTES` of input; formats PNG, JPEG, GIF, WebP and BMP only;
- the header is read first and an image over `MAX_PIXELS` is refused without decoding;
- JPEGs are decoded at a reduced scale (`draft`) when large, and every image is scaled so that
  its longer side is at most `MAX_SIDE` and its area at most `MAX_OCR_PIXELS`;
- animated images give their first frame; palette, CMYK, 16-bit, greyscale and alpha images are
  converted to RGB (transparent areas on white, or on black when the visible pixels are light);
- images smaller than `MIN_SIDE` on both sides (icons, spacers), or thinner than
  `MIN_THIN_SIDE`, are skipped; corrupt or truncated bytes give ``[]``.

Results are kept in a small in-process LRU keyed by the SHA-256 of the bytes (`cache_key`), so
the same logo or poster on a hundred pages is read once per process; a persistent cache keyed by
the same hash belongs to storage.

Public API: `OcrLine`, `ocr_image`, `ocr_pdf_pages`, `group_lines`, `ocr_lines_to_blocks`,
`ocr_text`, `ocr_available`, `get_engine`, `engine_info`, `cache_key`, `clear_cache`,
`OcrUnavailable`.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
import math
import os
import re
import statistics
import sys
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks.document import Block

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

log = logging.getLogger(__name__)

# onnxruntime >= 1.29 reads this once, at import: set it before anything imports onnxruntime
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

MAX_IMAGE_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 40_000_000  # header check: refuse larger images without decoding them
MAX_SIDE = 2500  # longer side after scaling, in pixels
MAX_OCR_PIXELS = 4_000_000  # area after scaling; bounds the detector's work (~2000x2000)
MIN_SIDE = 50  # an image smaller than this on both sides is an icon or spacer
MIN_THIN_SIDE = 12  # an image thinner than this on one side has no readable text line
UPSCALE_BELOW = 960  # an image whose longer side is shorter is enlarged (at most 2x) for the detector
MAX_LINES = 2000  # OCR lines kept per image
MAX_LINE_CHARS = 1000
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
TEXT_SCORE = 0.5  # lines recognised with less confidence are dropped
RENDER_DPI = 150  # scanned PDF pages are rendered at this resolution
MAX_PDF_PAGES = 10
MAX_PAGE_PIXELS = 6_000_000  # a rendered PDF page (A4 at 150 dpi is 2.2 MP)
CACHE_SIZE = 256

# rapidocr 3.10 bundles exactly these files in rapidocr/models/
BUNDLED_MODELS = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
}


class OcrUnavailable(RuntimeError):
    """The OCR engine (rapidocr + onnxruntime, or pypdfium2 for PDFs) is not installed or incomplete.

    Callers should record "could not tell" (unknown), never "absent", when they catch this.
    """


@dataclass(frozen=True, slots=True)
class OcrLine:
    """One recognised piece of text with its confidence (0..1) and axis-aligned box.

    ``box`` is ``(x0, y0, x1, y1)`` in pixels of the original image (for PDF pages: of the page
    rendered at `RENDER_DPI`), origin top-left.
    """

    text: str
    confidence: float
    box: tuple[int, int, int, int]

    @property
    def height(self) -> int:
        """Height of the box in pixels (at least 1)."""
        return max(1, self.box[3] - self.box[1])

    @property
    def cy(self) -> float:
        """Vertical centre of the box."""
        return (self.box[1] + self.box[3]) / 2


# ---------------------------------------------------------------------------------------------
# engine


_ENGINE: Any = None
_ENGINE_LOCK = threading.Lock()  # creation, and calls: rapidocr mutates its state per call
_ENGINE_INFO: dict[str, Any] = {}


def ocr_available() -> bool:
    """Whether rapidocr and onnxruntime are importable (cheap: does not load the models)."""
    return find_spec("rapidocr") is not None and find_spec("onnxruntime") is not None


def _version(dist: str) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return "?"


_LIBC: Any = None


def _release_memory() -> None:
    """Give freed heap back to the OS (glibc keeps a detector run's ~0.5-1 GB otherwise)."""
    global _LIBC
    try:
        if _LIBC is None:
            import ctypes
            import ctypes.util

            try:
                _LIBC = ctypes.CDLL("libc.so.6")
            except OSError:
                _LIBC = ctypes.CDLL(ctypes.util.find_library("c"))
        _LIBC.malloc_trim(0)
    except Exception:
        _LIBC = False  # not glibc: nothing to do


def _threads() -> int:
    try:
        return max(1, int(os.environ.get("PATUH_OCR_THREADS", "1")))
    except ValueError:
        return 1


def _disable_onnxruntime_telemetry() -> None:
    """Keep onnxruntime's telemetry off (it must be decided before onnxruntime is imported).

    onnxruntime 1.29 and later ship a OneDS client on Linux: a background thread of the first
    inference session resolves and posts to mobile.events.data.microsoft.com. Only the
    environment variable ``ORT_DISABLE_TELEMETRY``, set before ``import onnxruntime``, stops it
    (measured with strace; ``disable_telemetry_events()`` alone does not). The pinned 1.28.0 has
    no such client; this guard is for an upgrade. It is also set when this module is imported.
    """
    if "onnxruntime" in sys.modules and os.environ.get("ORT_DISABLE_TELEMETRY") != "1":
        log.warning("onnxruntime was imported before ORT_DISABLE_TELEMETRY=1 was set; "
                    "onnxruntime >= 1.29 may then send telemetry")
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    try:
        import onnxruntime
    except ImportError:  # pragma: no cover - depends on the environment
        return
    disable = getattr(onnxruntime, "disable_telemetry_events", None)
    if callable(disable):
        disable()


def get_engine() -> Any:
    """The process-wide RapidOCR engine, created (and its three models loaded) on first use.

    Creation takes about 1 s of CPU (3-5 s wall on a busy 2-core machine, mostly the import of
    onnxruntime/OpenCV and the detector's session); see `engine_info`. ``PATUH_OCR_THREADS`` sets
    onnxruntime's intra-op threads (default 1: on a shared 2-core machine one thread costs about
    half the CPU seconds of two for the same wall time).

    Raises:
        OcrUnavailable: rapidocr or onnxruntime is not installed, or a bundled model is missing.
    """
    global _ENGINE
    if _ENGINE is not None:
        return _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is not None:
            return _ENGINE
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        _disable_onnxruntime_telemetry()
        try:
            import rapidocr
            from rapidocr import RapidOCR
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise OcrUnavailable(f"rapidocr/onnxruntime not installed: {exc}") from exc
        models = Path(rapidocr.__file__).resolve().parent / "models"
        paths = {task: models / name for task, name in BUNDLED_MODELS.items()}
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise OcrUnavailable("bundled OCR model(s) missing (never downloaded): " + ", ".join(missing))
        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.text_score": TEXT_SCORE,
            # we bound the image ourselves; rapidocr must not shrink it a second time
            "Global.max_side_len": MAX_SIDE + 64,
            "EngineConfig.onnxruntime.intra_op_num_threads": _threads(),
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            # never upscale inside the detector (its default scales the *shorter* side up to 736 px,
            # which makes a 20x2500 banner a 736x92000 tensor); small images are upscaled by us
            "Det.limit_type": "max",
            "Det.limit_side_len": MAX_SIDE + 64,
            "Det.max_candidates": 1000,
            "Det.model_path": str(paths["Det"]),
            "Cls.model_path": str(paths["Cls"]),
            "Rec.model_path": str(paths["Rec"]),
        }
        try:
            engine = RapidOCR(params=params)
            # rapidocr 3.x loads each model at its first call; load them now so that creation
            # cost is paid (and measured) once, here
            for loader in ("_load_det_model", "_load_cls_model", "_load_rec_model"):
                fn = getattr(engine, loader, None)
                if callable(fn):
                    fn()
        except Exception as exc:
            raise OcrUnavailable(f"OCR engine could not start: {type(exc).__name__}: {exc}") from exc
        _ENGINE_INFO.update(
            engine=f"rapidocr {_version('rapidocr')} / onnxruntime {_version('onnxruntime')}",
            models=[p.name for p in paths.values()],
            created_wall_s=round(time.perf_counter() - start_wall, 3),
            created_cpu_s=round(time.process_time() - start_cpu, 3),
            threads=_threads(),
        )
        _ENGINE = engine
        return _ENGINE


def engine_info() -> dict[str, Any]:
    """Engine name, model files and creation cost (``created_wall_s``, ``created_cpu_s``); {} before use."""
    return dict(_ENGINE_INFO)


# ---------------------------------------------------------------------------------------------
# cache


_CACHE: OrderedDict[str, tuple[Any, ...]] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def cache_key(body: bytes) -> str:
    """SHA-256 (hex) of the bytes: the key under which OCR results are cached."""
    return hashlib.sha256(body).hexdigest()


def clear_cache() -> None:
    """Forget every cached OCR result."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _cache_get(key: str) -> tuple[Any, ...] | None:
    with _CACHE_LOCK:
        value = _CACHE.get(key)
        if value is not None:
            _CACHE.move_to_end(key)
        return value


def _cache_put(key: str, value: tuple[Any, ...]) -> None:
    with _CACHE_LOCK:
        _CACHE[key] = value
        _CACHE.move_to_end(key)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)


# ---------------------------------------------------------------------------------------------
# images


def _scale_for(width: int, height: int) -> float:
    """Factor that brings an image within `MAX_SIDE` and `MAX_OCR_PIXELS`, enlarging small ones.

    Small images (longer side under `UPSCALE_BELOW`) are enlarged up to 2x so that small print
    is big enough for the detector; the bounds still hold.
    """
    longest = max(width, height)
    grow = min(2.0, UPSCALE_BELOW / longest) if longest < UPSCALE_BELOW else 1.0
    return min(grow, MAX_SIDE / longest, math.sqrt(MAX_OCR_PIXELS / (width * height)))


def _too_small(width: int, height: int) -> bool:
    return (width < MIN_SIDE and height < MIN_SIDE) or min(width, height) < MIN_THIN_SIDE


def _to_rgb(im: PILImage) -> PILImage:
    """RGB copy of any Pillow mode; transparency is flattened onto a contrasting background."""
    from PIL import Image

    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        extrema: Any = im.getextrema()
        lo, hi = float(extrema[0]), float(extrema[1])
        span = (hi - lo) or 1.0
        im = im.convert("F").point(lambda v: (v - lo) * 255.0 / span).convert("L")
        mode = "L"
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info
    if not has_alpha:
        return im if mode == "RGB" else im.convert("RGB")
    rgba = im.convert("RGBA")
    alpha = rgba.getchannel("A")
    # light text on a transparent background would vanish on white: use black behind it then
    visible = rgba.convert("L")
    mask = alpha.point(lambda a: 255 if a > 127 else 0)
    hist = visible.histogram(mask=mask)
    count = sum(hist)
    mean = sum(i * n for i, n in enumerate(hist)) / count if count else 0.0
    background = (0, 0, 0) if count and mean > 200 else (255, 255, 255)
    canvas = Image.new("RGB", rgba.size, background)
    canvas.paste(rgba.convert("RGB"), mask=alpha)
    return canvas


def _decode(body: bytes) -> tuple[PILImage, float] | None:
    """The first frame as RGB within bounds, and the factor it was scaled by; None to skip."""
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            src = Image.open(io.BytesIO(body), formats=ALLOWED_FORMATS)  # reads the header only
            width, height = src.size
            if width <= 0 or height <= 0 or width * height > MAX_PIXELS or _too_small(width, height):
                return None
            scale = _scale_for(width, height)
            if src.format == "JPEG" and scale < 0.5:
                # decode at 1/2, 1/4 or 1/8 scale straight from the DCT: much less memory and time
                src.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
            src.seek(0)
            src.load()
            before = src.size
            im: PILImage = ImageOps.exif_transpose(src) or src
            swapped = im.size == before[::-1] and before[0] != before[1]
            im = _to_rgb(im)
            w, h = im.size
            s = _scale_for(w, h)
            if s != 1.0:
                im = im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.LANCZOS)
            # factor from the upright image at its full (header) size to the pixels we OCR
            return im, im.size[0] / (height if swapped else width)
    except Exception as exc:  # corrupt, truncated, unsupported, bomb: nothing to read
        log.debug("image not decoded: %s: %s", type(exc).__name__, exc)
        return None


_LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9]")


def _clean_text(text: str) -> str:
    """Printable, whitespace-collapsed text; "" for a line with no Latin letter or digit.

    The multilingual recogniser reads an arrow or a bullet in a flow chart as a CJK character
    ("マ"); Indonesian service text always has Latin letters or digits.
    """
    text = "".join(c if c.isprintable() else " " for c in str(text))
    text = re.sub(r"\s+", " ", text).strip()[:MAX_LINE_CHARS]
    return text if _LATIN_OR_DIGIT.search(text) else ""


def _run_engine(im: PILImage, factor: float) -> list[OcrLine]:
    """OCR an RGB image; boxes are divided by ``factor`` to land in original pixels."""
    import numpy as np

    engine = get_engine()
    bgr = np.ascontiguousarray(np.asarray(im, dtype=np.uint8)[:, :, ::-1])
    try:
        with _ENGINE_LOCK:
            try:
                result = engine(bgr)
            finally:
                del bgr
                if _LIBC is not False:
                    _release_memory()
    except Exception as exc:
        log.warning("OCR failed on a %dx%d image: %s: %s", im.size[0], im.size[1], type(exc).__name__, exc)
        return []
    boxes = getattr(result, "boxes", None)
    txts = getattr(result, "txts", None)
    scores = getattr(result, "scores", None)
    if boxes is None or txts is None or scores is None:
        return []
    out: list[OcrLine] = []
    inv = 1.0 / factor if factor > 0 else 1.0
    for quad, txt, score in zip(boxes, txts, scores, strict=False):
        text = _clean_text(txt)
        if not text:
            continue
        pts = np.asarray(quad, dtype=float).reshape(-1, 2)
        x0, y0 = pts.min(axis=0) * inv
        x1, y1 = pts.max(axis=0) * inv
        out.append(OcrLine(text=text, confidence=round(float(score), 4),
                           box=(int(x0), int(y0), math.ceil(x1), math.ceil(y1))))
        if len(out) >= MAX_LINES:
            break
    return out


def ocr_image(body: bytes) -> list[OcrLine]:
    """OCR lines of an image (PNG, JPEG, GIF, WebP, BMP), in the engine's order.

    Corrupt, oversized (`MAX_IMAGE_BYTES`, `MAX_PIXELS`), tiny or unsupported images give ``[]``
    quickly and never raise. Pass the result to `group_lines` or `ocr_lines_to_blocks` for text in
    reading order.

    Raises:
        OcrUnavailable: the OCR engine is not installed (so "no text" is never claimed for it).
    """
    if not body or len(body) > MAX_IMAGE_BYTES:
        return []
    key = "img:" + cache_key(body)
    cached = _cache_get(key)
    if cached is not None:
        return list(cached)
    decoded = _decode(body)
    lines = _run_engine(*decoded) if decoded is not None else []
    _cache_put(key, tuple(lines))
    return lines


# ---------------------------------------------------------------------------------------------
# scanned PDFs


def ocr_pdf_pages(body: bytes, max_pages: int = MAX_PDF_PAGES, *, dpi: int = RENDER_DPI,
                  skip_text_pages: bool = False) -> list[list[OcrLine]]:
    """OCR lines of each of the first ``max_pages`` pages of a PDF, rendered at ``dpi`` by PDFium.

    One list per page read (a page that fails to render gives ``[]``); an unreadable or encrypted
    PDF gives ``[]``. Each page is rendered within `MAX_PAGE_PIXELS` and `MAX_SIDE`, whatever its
    declared size. With ``skip_text_pages`` a page that already has a text layer (more than 40
    characters) is not OCRed and gives ``[]``. Boxes are in pixels of the rendered page.

    Raises:
        OcrUnavailable: pypdfium2 or the OCR engine is not installed.
    """
    if not body or len(body) > 4 * MAX_IMAGE_BYTES or max_pages <= 0:
        return []
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OcrUnavailable(f"pypdfium2 not installed: {exc}") from exc
    get_engine()
    key = f"pdf:{max_pages}:{dpi}:{int(skip_text_pages)}:" + cache_key(body)
    cached = _cache_get(key)
    if cached is not None:
        return [list(page) for page in cached]
    pages: list[list[OcrLine]] = []
    try:
        pdf = pdfium.PdfDocument(body)
    except Exception as exc:
        log.debug("PDF not opened: %s: %s", type(exc).__name__, exc)
        _cache_put(key, ())
        return []
    try:
        for index in range(min(len(pdf), max_pages)):
            pages.append(_ocr_pdf_page(pdf, index, dpi, skip_text_pages))
    except Exception as exc:
        log.debug("PDF page loop stopped: %s: %s", type(exc).__name__, exc)
    finally:
        pdf.close()
    _cache_put(key, tuple(tuple(p) for p in pages))
    return pages


def _ocr_pdf_page(pdf: Any, index: int, dpi: int, skip_text_pages: bool) -> list[OcrLine]:
    page = None
    try:
        page = pdf[index]
        if skip_text_pages:
            textpage = page.get_textpage()
            try:
                if textpage.count_chars() > 40:
                    return []
            finally:
                textpage.close()
        width_pt, height_pt = page.get_size()
        if width_pt <= 0 or height_pt <= 0:
            return []
        scale = dpi / 72.0
        scale = min(scale, MAX_SIDE / (max(width_pt, height_pt)))
        scale = min(scale, math.sqrt(MAX_PAGE_PIXELS / (width_pt * height_pt)))
        if min(width_pt, height_pt) * scale < MIN_THIN_SIDE:
            return []
        bitmap = page.render(scale=scale)
        try:
            im = _to_rgb(bitmap.to_pil()).copy()  # own the pixels before the bitmap is freed
        finally:
            bitmap.close()
        s = min(1.0, _scale_for(*im.size))
        if s < 1.0:
            from PIL import Image

            im = im.resize((max(1, round(im.size[0] * s)), max(1, round(im.size[1] * s))),
                           Image.Resampling.LANCZOS)
        return _run_engine(im, s)
    except OcrUnavailable:
        raise
    except Exception as exc:
        log.debug("PDF page %d not read: %s: %s", index + 1, type(exc).__name__, exc)
        return []
    finally:
        if page is not None:
            page.close()


# ---------------------------------------------------------------------------------------------
# reading order


_LIST_MARK = re.compile(r"^(?:\(?(?:\d{1,2}|[a-hA-H]|[ivxIVX]{1,4})[.)]\s|[•●▪■◦·\-–*>]\s?)")
_PUNCT_ONLY = re.compile(r"^[:;.,\-–|/]+$")
# "Persyaratan : KTP", "Biaya:" -- a line that starts with a label starts a new block
_LABEL_START = re.compile(r"^[^\W\d_][^\d:|]{1,40}?\s*[:：](?:\s|$)")


def group_lines(lines: Iterable[OcrLine]) -> list[OcrLine]:
    """Merge boxes that sit on the same baseline into one line, in reading order (top to bottom).

    Boxes are sorted by vertical centre; a box joins the current line when its centre lies
    within half a line height of the line's centre. Within a line, pieces are joined left to
    right with a space, or with ``" | "`` when the gap is wider than two line heights (table
    cells and label/value columns, the way `checks.text` reads table rows). Confidence is the
    length-weighted mean; the box is the union.
    """
    items = sorted((ln for ln in lines if ln.text.strip()), key=lambda ln: (ln.cy, ln.box[0]))
    rows: list[list[OcrLine]] = []
    for ln in items:
        if rows:
            row = rows[-1]
            row_cy = statistics.median(r.cy for r in row)
            row_h = statistics.median(r.height for r in row)
            tolerance = 0.5 * min(row_h, ln.height)
            overlaps_x = any(not (ln.box[2] <= r.box[0] or ln.box[0] >= r.box[2]) for r in row)
            if abs(ln.cy - row_cy) <= tolerance and not overlaps_x:
                row.append(ln)
                continue
        rows.append([ln])
    return [_merge_row(row) for row in rows]


def _merge_row(row: list[OcrLine]) -> OcrLine:
    row = sorted(row, key=lambda r: r.box[0])
    if len(row) == 1:
        return row[0]
    height = statistics.median(r.height for r in row)
    text = row[0].text
    for prev, cur in itertools.pairwise(row):
        gap = cur.box[0] - prev.box[2]
        wide = gap > 2.0 * height and not _PUNCT_ONLY.match(cur.text) and not _PUNCT_ONLY.match(prev.text)
        text += (" | " if wide else " ") + cur.text
    chars = sum(len(r.text) for r in row) or 1
    confidence = sum(r.confidence * len(r.text) for r in row) / chars
    box = (min(r.box[0] for r in row), min(r.box[1] for r in row),
           max(r.box[2] for r in row), max(r.box[3] for r in row))
    return OcrLine(text=text, confidence=round(confidence, 4), box=box)


def _char_width(line: OcrLine) -> float:
    """Width per character: a proxy for the font size of a line of text."""
    return max(1.0, (line.box[2] - line.box[0]) / max(1, len(line.text)))


def _is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and not any(c.islower() for c in letters)


def _is_heading(text: str, rows: int) -> bool:
    """A short all-capital paragraph of one or two lines that is mostly letters ("PERSYARATAN")."""
    if rows > 2 or len(text) > 90 or _LIST_MARK.match(text) or " | " in text:
        return False
    letters = sum(c.isalpha() for c in text)
    others = sum(not c.isspace() for c in text)
    return _is_caps(text) and letters >= 4 and letters >= 0.6 * others


def _join(a: str, b: str) -> str:
    # "PERUNDANG-" + "UNDANGAN": a word broken at a hyphen stays whole
    if a.endswith("-") and len(a) > 1 and a[-2].isalpha() and b[:1].isalpha():
        return a + b
    return a + " " + b


def _paragraphs(rows: Sequence[OcrLine]) -> list[list[OcrLine]]:
    """Group reading-order lines into paragraphs.

    A line continues the paragraph above when it is close below it (gap under 0.8 line
    heights), of about the same size, overlapping it horizontally, and of the same case (all
    capitals or not). It starts a new one when it is a list item or starts with a label
    ("Biaya : ..."), when the line above ends with ":" or is a table row, or when both are
    left-aligned and the line above is clearly shorter (it ended before the margin: a list of
    short lines, not wrapped text). Centred text (a maklumat, a flow-chart box) is joined.
    """
    paras: list[list[OcrLine]] = []
    for row in rows:
        if paras:
            last = paras[-1][-1]
            h = max(last.height, row.height)
            gap = row.box[1] - last.box[3]
            # box heights vary with the detector's padding; the advance per character is steadier
            same_size = (0.6 <= row.height / last.height <= 1.6
                         and 0.7 <= _char_width(row) / _char_width(last) <= 1.4)
            overlaps = not (row.box[2] < last.box[0] or row.box[0] > last.box[2])
            caps_change = _is_caps(last.text) != _is_caps(row.text)
            width_last, width_row = last.box[2] - last.box[0], row.box[2] - row.box[0]
            ended_early = abs(row.box[0] - last.box[0]) <= 0.6 * h and width_last < 0.8 * width_row
            starts_new = bool(_LIST_MARK.match(row.text) or _LABEL_START.match(row.text))
            table = " | " in row.text or " | " in last.text
            if (gap <= 0.8 * h and same_size and overlaps and not caps_change and not starts_new
                    and not table and not ended_early and not last.text.endswith((":", "："))):
                paras[-1].append(row)
                continue
        paras.append([row])
    return paras


def ocr_lines_to_blocks(lines: Iterable[OcrLine], locator: str = "gambar") -> list[Block]:
    """Document blocks from OCR lines: reading order, paragraphs joined, headings guessed.

    Lines on one baseline are merged (`group_lines`); consecutive lines of one paragraph (see
    `_paragraphs`) are joined into one block so that a sentence broken across lines ("DENGAN
    INI KAMI MENYATAKAN SANGGUP / MENYELENGGARAKAN ...") reads as one, while "Label : value"
    lines and list items stay one block each. A short
    all-capital paragraph becomes an ``h3`` heading (``h2`` when its letters are clearly wider
    than those of the median all-capital line) that governs the blocks after it; a numbered or bulleted line is ``li``;
    everything else is ``p``. Every block gets ``locator`` (e.g. "gambar: alur.png", "halaman 2").
    """
    rows = group_lines(lines)
    if not rows:
        return []
    # capitals are wider than lower case: size a heading against the other capital lines
    caps_rows = [r for r in rows if _is_caps(r.text)] or rows
    caps_size = statistics.median(_char_width(r) for r in caps_rows)
    blocks: list[Block] = []
    headings: list[tuple[str, str]] = []  # (tag, text)
    for para in _paragraphs(rows):
        text = para[0].text
        for row in para[1:]:
            text = _join(text, row.text)
        size = statistics.median(_char_width(r) for r in para)
        if _is_heading(text, len(para)):
            tag = "h2" if size >= 1.3 * caps_size else "h3"
            headings = [h for h in headings if h[0] < tag] + [(tag, text)]
            blocks.append(Block(text=text, tag=tag, headings=tuple(h[1] for h in headings),
                                region="main", locator=locator))
            continue
        tag = "li" if _LIST_MARK.match(text) else "p"
        blocks.append(Block(text=text, tag=tag, headings=tuple(h[1] for h in headings),
                            region="main", locator=locator))
    return blocks


def ocr_text(lines: Iterable[OcrLine]) -> str:
    """The reconstructed lines of an image as plain text, one per line."""
    return "\n".join(r.text for r in group_lines(lines))
