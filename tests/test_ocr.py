"""OCR of images and scanned PDFs (`checks.ocr`): recognition, reading order, hostile input, no network.

Test images are drawn here with Pillow and a DejaVu TrueType font (Debian `fonts-dejavu-core`);
nothing is shipped. Tests that need the engine skip with a reason when rapidocr/onnxruntime are
not installed, and those that draw text skip when no font is found. Every test in this module
runs with outbound network calls made to fail, so the engine is proven to be offline.
"""

from __future__ import annotations

import difflib
import io
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PIL", reason="Pillow not installed (it comes with rapidocr)")

from PIL import Image, ImageDraw, ImageFont

from checks import ocr
from checks.document import Block, Document
from checks.ocr import OcrLine, group_lines, ocr_image, ocr_lines_to_blocks, ocr_pdf_pages

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/usr/share/fonts/TTF")]


def _font_path(bold: bool = False) -> Path | None:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return next((d / name for d in FONT_DIRS if (d / name).is_file()), None)


FONT = _font_path()
FONT_BOLD = _font_path(bold=True) or FONT

needs_engine = pytest.mark.skipif(
    not ocr.ocr_available(), reason="OCR engine not installed: pip install rapidocr==3.10.0 onnxruntime==1.28.0")
needs_font = pytest.mark.skipif(
    FONT is None, reason="no DejaVu TrueType font: apt-get install fonts-dejavu-core")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any outbound connection or name lookup during these tests fails loudly."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network used during OCR: {args[:2]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket.socket, "sendto", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


# ------------------------------------------------------------------------------------------------
# drawing helpers


def draw(lines: list[tuple[str, int, int]], size: tuple[int, int] = (900, 420), *, mode: str = "RGB",
         background: object = "white", ink: object = "black", bold_first: bool = False) -> Image.Image:
    """An image with each (text, x, y) drawn at 26 px (the first at 34 px, bold, if asked)."""
    assert FONT is not None
    im = Image.new(mode, size, background)  # type: ignore[arg-type]
    pen = ImageDraw.Draw(im)
    for i, (text, x, y) in enumerate(lines):
        big = bold_first and i == 0
        font = ImageFont.truetype(str(FONT_BOLD if big else FONT), 34 if big else 26)
        pen.text((x, y), text, fill=ink, font=font)  # type: ignore[arg-type]
    return im


def encode(im: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def words(text: str) -> list[str]:
    return [w.strip(".,:;()") for w in text.lower().split()]


def has_word(text: str, word: str, ratio: float = 0.8) -> bool:
    """`word` appears in `text`, allowing a small OCR error (one letter in five)."""
    word = word.lower()
    return any(w == word or difflib.SequenceMatcher(None, w, word).ratio() >= ratio for w in words(text))


def all_text(lines: list[OcrLine]) -> str:
    return "\n".join(r.text for r in group_lines(lines))


STANDARD = [
    ("STANDAR PELAYANAN KTP-EL", 40, 20),
    ("Persyaratan : Fotokopi Kartu Keluarga", 40, 90),
    ("Prosedur : 1. Ambil nomor antrean", 40, 140),
    ("Waktu penyelesaian : 30 menit", 40, 190),
    ("Biaya : Gratis, Rp 0", 40, 240),
    ("Produk : KTP elektronik", 40, 290),
    ("Pengaduan : WhatsApp 0812-3456-7890", 40, 340),
]

PLEDGE = [
    ("MAKLUMAT PELAYANAN", 250, 20),
    ("DENGAN INI KAMI MENYATAKAN SANGGUP", 60, 100),
    ("MENYELENGGARAKAN PELAYANAN SESUAI", 60, 136),
    ("STANDAR PELAYANAN YANG TELAH DITETAPKAN", 60, 172),
    ("DAN SIAP MENERIMA SANKSI", 60, 208),
]


# ------------------------------------------------------------------------------------------------
# reading order (no engine needed)


def L(text: str, x0: int, y0: int, x1: int, y1: int, conf: float = 0.99) -> OcrLine:
    return OcrLine(text=text, confidence=conf, box=(x0, y0, x1, y1))


def test_group_lines_merges_one_baseline_left_to_right() -> None:
    raw = [L("KTP, KK", 300, 102, 420, 128), L("Persyaratan", 40, 100, 200, 130), L(":", 240, 101, 250, 129),
           L("Biaya", 40, 150, 120, 180), L("Gratis", 700, 152, 800, 178)]
    rows = group_lines(raw)
    assert [r.text for r in rows] == ["Persyaratan : KTP, KK", "Biaya | Gratis"]  # a wide gap is a cell break
    assert rows[0].box == (40, 100, 420, 130)
    assert 0.98 <= rows[0].confidence <= 0.99


def test_group_lines_keeps_stacked_lines_apart() -> None:
    raw = [L("kerja", 400, 140, 470, 170), L("Jawaban disampaikan paling lama 3 hari", 100, 100, 800, 130)]
    assert [r.text for r in group_lines(raw)] == ["Jawaban disampaikan paling lama 3 hari", "kerja"]


def test_blocks_join_paragraphs_and_find_headings() -> None:
    raw = [
        L("MAKLUMAT PELAYANAN", 100, 10, 800, 60),  # wider letters than the body: h2
        L("DENGAN INI KAMI MENYATAKAN SANGGUP", 60, 100, 840, 130),
        L("MENYELENGGARAKAN PELAYANAN SESUAI PERUNDANG-", 60, 138, 840, 168),
        L("UNDANGAN YANG BERLAKU", 200, 176, 700, 206),
        L("PERSYARATAN", 40, 300, 250, 330),
        L("1. Fotokopi KTP", 60, 340, 400, 370),
        L("2. Kartu Keluarga", 60, 378, 420, 408),
    ]
    blocks = ocr_lines_to_blocks(raw, locator="gambar: maklumat.jpg")
    assert [(b.tag, b.text) for b in blocks] == [
        ("h2", "MAKLUMAT PELAYANAN"),
        ("p", "DENGAN INI KAMI MENYATAKAN SANGGUP MENYELENGGARAKAN PELAYANAN SESUAI PERUNDANG-UNDANGAN "
              "YANG BERLAKU"),
        ("h3", "PERSYARATAN"),
        ("li", "1. Fotokopi KTP"),
        ("li", "2. Kartu Keluarga"),
    ]
    assert blocks[1].headings == ("MAKLUMAT PELAYANAN",)
    assert blocks[3].headings == ("MAKLUMAT PELAYANAN", "PERSYARATAN")
    assert {b.locator for b in blocks} == {"gambar: maklumat.jpg"}
    assert ocr_lines_to_blocks([]) == []


# ------------------------------------------------------------------------------------------------
# hostile input: quick, never raises, no engine needed (these are refused before decoding)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but carries a few bytes of pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def png_bomb(side: int) -> bytes:
    """A real decompression bomb: a side x side greyscale PNG of zeros, ~side²/1000 bytes on the wire."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    comp = zlib.compressobj(9)
    row = b"\0" * (side + 1)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


HOSTILE = {
    "empty": b"",
    "garbage": b"\x00\xff" * 5000,
    "truncated-png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    "truncated-jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 100,
    "html-not-image": b"<!doctype html><html><body>Persyaratan</body></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="400"><text>Biaya</text></svg>',
    "20000x20000-header": png_header_only(20000, 20000),
    "zero-size": png_header_only(0, 0),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bytes_give_nothing_quickly(name: str) -> None:
    start = time.perf_counter()
    assert ocr_image(HOSTILE[name]) == []
    assert time.perf_counter() - start < 1.0


def test_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = png_bomb(10_000)  # 100 megapixels of zeros in ~100 KB
    assert len(bomb) < 1_000_000
    start = time.perf_counter()
    assert ocr_image(bomb) == []
    assert time.perf_counter() - start < 1.0


def test_tiny_images_and_other_formats_are_skipped() -> None:
    one_pixel_gif = encode(Image.new("P", (1, 1)), "GIF")
    icon = encode(Image.new("RGB", (40, 40), "white"), "PNG")
    thin = encode(Image.new("RGB", (2000, 8), "white"), "PNG")
    tiff = encode(Image.new("RGB", (400, 200), "white"), "TIFF")  # not an allowed format
    for body in (one_pixel_gif, icon, thin, tiff):
        start = time.perf_counter()
        assert ocr_image(body) == []
        assert time.perf_counter() - start < 0.5


def test_cache_key_is_sha256() -> None:
    assert ocr.cache_key(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_corrupt_pdf_gives_nothing() -> None:
    pytest.importorskip("pypdfium2", reason="pypdfium2 not installed")
    if not ocr.ocr_available():
        pytest.skip("OCR engine not installed")
    assert ocr_pdf_pages(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF") == []
    assert ocr_pdf_pages(b"") == []
    assert ocr_pdf_pages(b"not a pdf at all") == []


# ------------------------------------------------------------------------------------------------
# recognition (engine + font)


def test_onnxruntime_telemetry_is_switched_off_before_import() -> None:
    # onnxruntime >= 1.29 posts OneDS telemetry from a native thread unless this is set before import
    assert os.environ.get("ORT_DISABLE_TELEMETRY") == "1"


@needs_engine
def test_engine_is_created_once_offline_and_measured() -> None:
    engine = ocr.get_engine()
    assert ocr.get_engine() is engine
    info = ocr.engine_info()
    assert info["engine"].startswith("rapidocr ")
    assert info["created_wall_s"] > 0
    assert set(info["models"]) == set(ocr.BUNDLED_MODELS.values())


@needs_engine
@needs_font
def test_service_standard_image_is_read_in_reading_order() -> None:
    body = encode(draw(STANDARD, bold_first=True), "PNG")
    lines = ocr_image(body)
    text = all_text(lines)
    for word in ("standar", "pelayanan", "persyaratan", "fotokopi", "keluarga", "prosedur", "antrean", "waktu",
                 "menit", "biaya", "gratis", "produk", "elektronik", "pengaduan", "whatsapp"):
        assert has_word(text, word), (word, text)
    assert "0812-3456-7890" in text.replace(" ", "")
    rows = [r.text.lower() for r in group_lines(lines)]
    assert len(rows) == len(STANDARD), rows
    assert "persyaratan" in rows[1] and "keluarga" in rows[1]  # label and value on one line
    assert "30" in rows[3] and has_word(rows[3], "menit")
    assert "rp" in words(rows[4])
    assert all(0.5 <= ln.confidence <= 1.0 for ln in lines)
    # boxes are in the pixels of the image and in reading order
    assert all(0 <= ln.box[0] < ln.box[2] <= 900 and 0 <= ln.box[1] < ln.box[3] <= 420 for ln in lines)
    tops = [r.box[1] for r in group_lines(lines)]
    assert tops == sorted(tops)
    # the same bytes again come from the cache
    start = time.perf_counter()
    assert ocr_image(body) == lines
    assert time.perf_counter() - start < 0.05


@needs_engine
@needs_font
def test_image_blocks_feed_the_rules() -> None:
    from checks.judge import judge
    from checks.text import fields

    pledge = draw(PLEDGE, size=(900, 260), bold_first=True)
    blocks = ocr_lines_to_blocks(ocr_image(encode(pledge, "JPEG", quality=90)), locator="gambar: maklumat.jpg")
    joined = [b for b in blocks if has_word(b.text, "sanggup")]
    assert joined and has_word(joined[0].text, "sanksi"), [b.text for b in blocks]  # one sentence, one block
    doc = Document(url="http://unit.example/maklumat.jpg", kind="image", blocks=blocks,
                   sha256="0" * 64, captured_at="2026-01-01T00:00:00Z")
    verdict = next(v for v in judge([doc]) if v.indicator == "service_charter")
    assert verdict.status == "present", [b.text for b in blocks]

    standard = Document(url="http://unit.example/sp.png", kind="image",
                        blocks=ocr_lines_to_blocks(ocr_image(encode(draw(STANDARD, bold_first=True), "PNG"))))
    kinds = {f.kind for f in fields(standard)}
    assert {"requirements", "fees"} <= kinds, kinds


@needs_engine
@needs_font
def test_animated_gif_gives_its_first_frame() -> None:
    first = draw([("Pengaduan melalui WhatsApp", 40, 60)], size=(700, 160)).convert("P")
    second = draw([("Selamat datang di website", 40, 60)], size=(700, 160)).convert("P")
    body = encode(first, "GIF", save_all=True, append_images=[second], duration=500, loop=0)
    assert Image.open(io.BytesIO(body)).n_frames == 2
    text = all_text(ocr_image(body))
    assert has_word(text, "pengaduan") and has_word(text, "whatsapp"), text
    assert not has_word(text, "selamat"), text


@needs_engine
@needs_font
def test_cmyk_jpeg_is_read() -> None:
    im = draw([("Biaya : Tidak dipungut biaya", 40, 60)], size=(700, 160)).convert("CMYK")
    body = encode(im, "JPEG", quality=92)
    assert Image.open(io.BytesIO(body)).mode == "CMYK"
    text = all_text(ocr_image(body))
    assert has_word(text, "biaya") and has_word(text, "dipungut"), text


@needs_engine
@needs_font
def test_transparent_webp_and_palette_png_are_read_on_white() -> None:
    im = draw([("Prosedur pelayanan", 40, 60)], size=(600, 160), mode="RGBA", background=(0, 0, 0, 0),
              ink=(0, 0, 0, 255))
    text = all_text(ocr_image(encode(im, "WEBP", lossless=True)))
    assert has_word(text, "prosedur") and has_word(text, "pelayanan"), text
    pal = draw([("Persyaratan", 40, 60)], size=(600, 160), mode="RGBA", background=(255, 255, 255, 0),
               ink=(20, 20, 120, 255)).convert("P")
    assert has_word(all_text(ocr_image(encode(pal, "PNG"))), "persyaratan")


@needs_engine
@needs_font
def test_huge_jpeg_is_decoded_small_and_boxes_stay_in_original_pixels() -> None:
    im = Image.new("RGB", (7000, 1400), "white")  # 9.8 MP: drafted to 1/2, then scaled to 2500 px
    assert FONT is not None
    ImageDraw.Draw(im).text((1000, 500), "Waktu pelayanan", fill="black", font=ImageFont.truetype(str(FONT), 160))
    body = encode(im, "JPEG", quality=80)
    lines = ocr_image(body)
    text = all_text(lines)
    assert has_word(text, "waktu") and has_word(text, "pelayanan"), text
    x0, y0, x1, y1 = group_lines(lines)[0].box  # the text spans about (1000, 530)-(2400, 690)
    assert 850 <= x0 <= 1150 and 400 <= y0 <= 600 and 2100 <= x1 <= 2700 and 600 <= y1 <= 800, (x0, y0, x1, y1)


@needs_engine
@needs_font
def test_scanned_pdf_pages_are_read() -> None:
    pytest.importorskip("pypdfium2", reason="pypdfium2 not installed")
    page1 = draw(STANDARD[:3], size=(1240, 700), bold_first=True)  # an image-only page, 150 dpi
    page2 = draw([("Halaman kedua", 40, 40)], size=(1240, 700))
    body = encode(page1, "PDF", resolution=150.0, save_all=True, append_images=[page2])
    from checks.extract_pdf import extract_pdf

    doc = extract_pdf("http://unit.example/sp.pdf", body)  # no text layer: the extractor falls back to OCR
    assert doc.meta.get("ocr") == "pindaian dibaca dengan OCR"
    assert doc.blocks and all("(OCR)" in b.locator for b in doc.blocks)
    assert any("persyaratan" in b.text.lower() for b in doc.blocks)
    pages = ocr_pdf_pages(body, max_pages=1)
    assert len(pages) == 1
    text = all_text(pages[0])
    for word in ("standar", "persyaratan", "prosedur", "antrean"):
        assert has_word(text, word), (word, text)
    blocks = ocr_lines_to_blocks(pages[0], locator="halaman 1")
    assert isinstance(blocks[0], Block) and blocks[0].locator == "halaman 1"


@needs_engine
@needs_font
@pytest.mark.skipif(os.environ.get("PATUH_TEST_STRACE") != "1" or shutil.which("strace") is None,
                    reason="opt-in (PATUH_TEST_STRACE=1, needs strace): ~10 s, traces a fresh process")
def test_no_network_syscall_from_a_fresh_process(tmp_path: Path) -> None:
    """Native threads (onnxruntime's telemetry) bypass Python's socket module: trace the syscalls."""
    image = tmp_path / "sp.png"
    draw(STANDARD, bold_first=True).save(image)
    script = tmp_path / "run.py"
    script.write_text(
        "import sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
        "from checks import ocr\n"
        f"assert ocr.ocr_image(open({str(image)!r}, 'rb').read())\n"
        "time.sleep(3)  # onnxruntime's telemetry thread posts a little after the first run\n",
        encoding="utf-8")
    trace = tmp_path / "strace.txt"
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    done = subprocess.run(["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace),
                           sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=180)
    if done.returncode != 0 and "ptrace" in done.stderr:
        pytest.skip("strace cannot trace here: " + done.stderr.strip()[:200])
    assert done.returncode == 0, done.stderr[-2000:]
    inet = [line for line in trace.read_text().splitlines() if "AF_INET" in line]
    assert not inet, inet[:5]
