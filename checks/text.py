"""Shared reading of a `Document`: lines with their place, labelled fields, page context.

Service standards are published in many shapes: a table row `Persyaratan | KTP, KK`, a heading
followed by a list, `Syarat: ...` inline, `<dt>/<dd>`, a PDF line followed by numbered lines.
`fields()` turns all of them into (label, value lines) pairs so that rules only decide what a
label means and whether its value says something. `context()` tells whether a page is news, an
announcement or about recruitment / procurement, where look-alike words do not count.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

from checks import prefilter
from checks.document import Block, Document

_FOLD = str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-", "“": '"', "”": '"', "\u00a0": " "})


class MemoPattern:
    """A compiled regex whose `search` and `match` results are remembered per text.

    Rules test every line of a page against many patterns, and a site's menus, sidebars and footers
    repeat on each of its pages: remembering the answer makes that boilerplate nearly free after the
    first page (regex search is a pure function of the pattern and the text). Memory is bounded: only
    texts up to `MEMO_MAX_CHARS` are remembered (boilerplate is short; long paragraphs rarely come
    back), and in two generations of `size` texts: a full generation becomes the old one, whose texts
    move back to the new one when they are asked for again (so the boilerplate of the sites being
    crawled stays). A text the pattern has not seen is first put to its RE2 superset
    (`checks.prefilter`), which proves most misses quickly. Every other method is the compiled
    pattern's own.
    """

    __slots__ = ("_memo", "_pre", "regex", "size")

    def __init__(self, regex: re.Pattern[str], size: int = 1_000) -> None:
        self.regex = regex
        self._pre = prefilter.superset(regex)
        # (search, match) -> [new generation, old generation]
        self._memo: tuple[list[dict[str, re.Match[str] | None]], ...] = ([{}, {}], [{}, {}])
        self.size = size

    def _remembered(self, which: int, text: str) -> re.Match[str] | None:
        gens = self._memo[which]
        new = gens[0]
        try:
            return new[text]
        except KeyError:
            pass
        old = gens[1]
        if text in old:
            found = old.pop(text)
        elif which == 0:
            found = self._search(text)
        else:
            found = self._match(text)
        if len(new) >= self.size:
            gens[1], gens[0] = new, {}
            new = gens[0]
        new[text] = found
        return found

    def _ruled_out(self, text: str) -> bool:
        """Whether the RE2 superset proves the regex matches nowhere in `text`."""
        return self._pre is not None and len(text) >= prefilter.MIN_CHARS and not prefilter.can_match(self._pre, text)

    def _search(self, text: str) -> re.Match[str] | None:
        return None if self._ruled_out(text) else self.regex.search(text)

    def _match(self, text: str) -> re.Match[str] | None:
        return None if self._ruled_out(text) else self.regex.match(text)

    def search(self, text: str) -> re.Match[str] | None:
        if len(text) > MEMO_MAX_CHARS:
            return self._search(text)
        try:  # the common case, without a second call
            return self._memo[0][0][text]
        except KeyError:
            return self._remembered(0, text)

    def match(self, text: str) -> re.Match[str] | None:
        if len(text) > MEMO_MAX_CHARS:
            return self._match(text)
        return self._remembered(1, text)

    def remembered(self) -> int:
        """How many texts are remembered (both generations, search and match)."""
        return sum(len(g) for gens in self._memo for g in gens)

    @property
    def pattern(self) -> str:
        return self.regex.pattern

    def __getattr__(self, name: str) -> Any:
        return getattr(self.regex, name)


MEMO_MAX_CHARS = 300


def memo_re(pattern: str, flags: int = 0) -> MemoPattern:
    """`re.compile` for the patterns rules test lines with (see `MemoPattern`).

    Misses still run the regex over long lines: an alternation whose every alternative starts with
    a plain letter lets the engine jump to candidate positions (twice as fast here), so a word
    boundary in front of an alternative is written after its first letter: `\\bskm\\b` as
    `s(?<!\\ws)km\\b` (the same matches)."""
    return MemoPattern(re.compile(pattern, flags))


def norm(text: str) -> str:
    """Lower-case, accents and curly quotes folded, whitespace collapsed."""
    if len(text) > MEMO_MAX_CHARS:  # a long paragraph rarely comes back: not worth its memory
        return _norm(text)
    return _norm_short(text)


# Headings, menus and footers repeat on every page of a site. With 16 sites crawled at once, 16,384
# texts here and 1,000 per memo generation hit as often as twice as many, and a worker grows 5 MB
# (not 14) from 1,500 to 15,000 pages (measured on the farm of benchmarks/).
@lru_cache(maxsize=16384)
def _norm_short(text: str) -> str:
    return _norm(text)


def _norm(text: str) -> str:
    text = text.translate(_FOLD)
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    # str.split() splits on exactly what \s matches, and a join is 4x faster than re.sub(r"\s+", " ") on a paragraph
    return " ".join(text.split()).lower()


# Every rule reads the same lines and fields of a document: `judge` opens a cache for one run so
# that each document is split and normalised once, not once per rule.
_CACHE: dict[tuple[int, str, tuple[str, ...]], Any] | None = None


@contextmanager
def reading_cache() -> Iterator[None]:
    global _CACHE
    outer = _CACHE
    _CACHE = {}
    try:
        yield
    finally:
        _CACHE = outer


def _cached(doc: Document, what: str, regions: tuple[str, ...], build: Callable[[], Any]) -> Any:
    if _CACHE is None:
        return build()
    key = (id(doc), what, regions)
    if key not in _CACHE:
        _CACHE[key] = build()
    return _CACHE[key]


@dataclass(slots=True)
class Line:
    text: str
    norm: str
    block: Block
    index: int  # position in the document's line sequence


@dataclass(slots=True)
class Field:
    kind: str  # component id, e.g. "requirements"
    label: str
    value: list[Line]
    line: Line  # the label line
    inline: str = ""  # value text written on the label line itself

    @property
    def value_text(self) -> str:
        parts = [self.inline] if self.inline else []
        parts += [v.text for v in self.value]
        return "\n".join(p for p in parts if p)

    @property
    def items(self) -> list[str]:
        """The value split into list items (lines, `;` separated parts)."""
        out: list[str] = []
        for chunk in self.value_text.split("\n"):
            out += [c.strip(" -•*·") for c in re.split(r";\s*|\s+\d+[.)]\s+", chunk) if c.strip(" -•*·")]
        return out


# --- labels of the service-standard components --------------------------------------------------
# A label line is short, may carry a number ("3.", "a)", "-") and ends the label with ":" or a cell
# border. Misspellings seen in the wild (persaratan, prosedure, tarip, standart) are part of the
# patterns, not special cases.
_NUM = r"^(?:[\divxlc]{1,4}[.)]|[a-h][.)]|[-•*·])?\s*(?:service |layanan |pelayanan )?"
LABELS: dict[str, MemoPattern] = {
    "requirements": memo_re(
        _NUM + r"(persyaratan|persaratan|persyaratn|prasyarat|syarat(?:-syarat)?|requirements?|"
        r"dokumen (?:yang )?(?:diperlukan|dibutuhkan|dibawa|persyaratan)|berkas (?:yang )?(?:diperlukan|dibawa)|"
        r"kelengkapan (?:berkas|dokumen)|required documents?)\b"
    ),
    "procedure": memo_re(
        _NUM + r"(sistem,? mekanisme|mekanisme|prosedur|prosedure|procedures?|"
        r"alur|tata cara|langkah(?:-langkah)?|tahapan(?: pelayanan| layanan)?|service flow|flow|"
        r"steps|how to apply)\b"
    ),
    "service_time": memo_re(
        _NUM + r"(jangka waktu|(?:lama )?(?:waktu|wkt\.?) (?:penyelesaian|pelayanan?|layanan|proses|tunggu)|lama waktu|"
        r"lama (?:proses|pelayanan|penyelesaian|layanan)|durasi(?: layanan| pelayanan)?|service time|processing time|"
        r"time (?:limit|frame)|completion time|waktu|jangka)\b"
    ),
    "fees": memo_re(_NUM + r"(biaya|tarif|tarip|retribusi|fees?|costs?|charges?|harga layanan)\b"),
    "service_product": memo_re(
        _NUM + r"(produk|product|products|output|keluaran|hasil(?! (?:ikm|skm|survei|survey|seleksi|akhir|"
        r"penilaian|kegiatan|rapat|evaluasi|pengukuran|indeks)))\b"
    ),
    "complaint_handling": memo_re(
        _NUM + r"((?:penanganan|pengelolaan|mekanisme|alur|prosedur|tata cara|tindak lanjut) (?:pengaduan|"
        r"keluhan|aduan)|complaints? handling|how complaints)"
    ),
}
# Labels that name a component only as part of something else ("Jangka waktu pelaksanaan pekerjaan").
LABEL_STOP = memo_re(
    r"(pekerjaan|kontrak|pendaftaran peserta|seleksi|lelang|tender|pengadaan|masa (?:sanggah|berlaku)|"
    r"pelaksanaan kegiatan|kegiatan|acara)"
)
MAX_LABEL_CHARS = 70
MAX_VALUE_LINES = 25

VAGUE = memo_re(
    r"^(?:-+|–|—|\.+|tersedia|ada|ya|tidak ada|sesuai (?:ketentuan|aturan|peraturan)(?: yang berlaku)?|"
    r"secepatnya|belum diisi|belum ada(?: data| konten)?|akan (?:dilaksanakan|diisi|diumumkan|dilengkapi)|"
    r"data belum tersedia|konten belum tersedia|menyesuaikan|n/?a|tba|tbd|segera hadir|coming soon|"
    r"dalam proses(?: pembaruan)?|lihat (?:di )?(?:sini|lampiran)|isi di sini|\?+|x+)$"
)


PLACEHOLDER = memo_re(
    r"(dalam (?:tahap )?(?:pengembangan|penyusunan|perbaikan|pembaruan|proses (?:pembaruan|penyusunan))|segera hadir|"
    r"coming soon|under construction|belum (?:tersedia|diisi|ada (?:data|konten|informasi))|sedang disiapkan|"
    r"akan (?:segera )?(?:diisi|diunggah|dilengkapi|ditampilkan|diperbarui|diumumkan)|maintenance|lorem ipsum)"
)


def is_vague(text: str) -> bool:
    """An empty, placeholder or non-committal value ("-", "Tersedia", "dalam pengembangan")."""
    t = norm(text).strip(" .:;,")
    if not t or len(t) < 3 or VAGUE.match(t):
        return True
    return len(t) < 200 and bool(PLACEHOLDER.search(t))


# --- page context --------------------------------------------------------------------------------
NEWS_PATH = re.compile(
    r"/(?:berita|news|artikel|articles?|blog|posts?|pengumuman|announcements?|agenda|kegiatan|events?|"
    r"galeri|gallery|foto|video|tag|tags|category|kategori|arsip|archives?|author|press|siaran-pers|"
    r"liputan|informasi-terkini)(?:[/_.-]|$)"
    r"|/20\d\d/(?:0?[1-9]|1[0-2])/",
    re.I,
)
SERVICE_TITLE = memo_re(
    r"(standar(?:t)? pelayanan|service standards?|maklumat|service charter|persyaratan|jam (?:pelayanan|layanan|"
    r"buka)|survei kepuasan|hasil (?:skm|ikm)|indeks kepuasan|pengaduan|complaints?|layanan|pelayanan|"
    r"kontak|contact|disabilitas|prioritas|sop\b|alur)"
)
EXCLUDED_TOPIC = memo_re(
    r"(penerimaan (?:calon|tenaga|pegawai|cpns|pppk|honorer|siswa baru|peserta didik)|rekrutmen|recruitment|"
    r"lowongan|vacanc|seleksi (?:calon|penerimaan|administrasi|terbuka|jabatan|kompetensi)|\bcpns\b|\bpppk\b|"
    r"pengadaan (?:barang|jasa|langsung|bahan|alat)|\btender\b|\blelang\b|penyedia barang|\blpse\b|procurement|"
    r"\blomba\b|perlombaan|sayembara|pakta integritas|\bhps\b)"
)
MONTHS = (
    r"(?:januari|februari|pebruari|maret|april|mei|juni|juli|agustus|september|oktober|november|nopember|"
    r"desember|jan|feb|mar|apr|jun|jul|agu|agt|aug|sep|okt|oct|nov|des|dec|january|february|march|may|june|"
    r"july|august|october|december)"
)
DATE = memo_re(r"\b\d{1,2}\s+" + MONTHS + r"\.?\s+(?:19|20)\d\d\b")
DATE_ONLY = memo_re(r"^.{0,40}\b\d{1,2}\s+" + MONTHS + r"\.?\s+(?:19|20)\d\d\b.{0,40}$")


# A title that names service information itself ("Maklumat Pelayanan Puskesmas X", "Hasil SKM 2024"),
# not news about it ("Kepala Dinas Tandatangani Maklumat"): such a post is published information
# even when the CMS files it under a news or date path.
STRONG_SERVICE_TITLE = memo_re(
    r"^(?:standar(?:t)? (?:pelayanan|layanan)|service standards?|maklumat|service charter|sop\b|"
    r"standar operasional|(?:alur|prosedur|mekanisme|tata cara|persyaratan|syarat) (?:pelayanan|layanan|"
    r"pengaduan|permohonan|pendaftaran|pembuatan|penerbitan)|persyaratan\b|jam (?:pelayanan|layanan|buka|"
    r"operasional)|jadwal (?:pelayanan|layanan)|(?:hasil|laporan(?: hasil)?|indeks|nilai) (?:survei|survey|skm|"
    r"ikm|kepuasan)|survei kepuasan|(?:layanan|pelayanan) (?:ramah|bagi|untuk|khusus|prioritas)|"
    r"(?:tarif|biaya) (?:pelayanan|layanan|retribusi)|kontak|hubungi kami|contact)"
)
NEWS_VERB = memo_re(
    r"\b(?:rapat|gelar|menggelar|tandatangani|menandatangani|penandatanganan|laksanakan|melaksanakan|sosialisasi|"
    r"kunjungan|serahkan|menyerahkan|ikuti|raih|meraih|terima|menerima|akan|rencana|evaluasi|launching|peluncuran|"
    r"resmikan|meresmikan)\b"
)


def _strong_service_title(*titles: str) -> bool:
    for title in titles:
        for part in re.split(r"\s+[-|–:»]\s+", title):
            part = part.strip()
            if STRONG_SERVICE_TITLE.match(part) and not NEWS_VERB.search(part):
                return True
    return False


@dataclass(slots=True)
class Context:
    news: bool  # the main content is a news item, announcement or listing of them
    excluded: bool  # the page as a whole is about recruitment, procurement, a contest, a pakta integritas
    path: str = ""
    title: str = ""
    h1: str = ""
    flags: dict[str, bool] = field(default_factory=dict)


def context(doc: Document) -> Context:
    """What kind of page this is, from its URL, title and first heading."""
    return _cached(doc, "context", (), lambda: _context(doc))


def _context(doc: Document) -> Context:
    path = urlparse(doc.url).path.lower()
    title = norm(doc.title)
    h1 = next((norm(b.text) for b in doc.blocks if b.region == "main" and b.tag in ("h1", "h2")), "")
    # date folders of uploaded files (/wp-content/uploads/2024/03/) are storage, not news posts
    news_path = bool(NEWS_PATH.search(path)) and not (doc.kind != "html" and "/uploads/" in path)
    main = doc.main_blocks()[:10]
    # a news item shows its date right under its title ("14 Maret 2024", "Berita | 3 Juni 2024")
    dated = any(len(b.text) < 90 and DATE_ONLY.match(norm(b.text)) and main[i - 1].tag in ("h1", "h2", "h3")
                for i, b in enumerate(main) if i)
    news = news_path or dated
    if news and not news_path and (SERVICE_TITLE.search(h1) or SERVICE_TITLE.search(title)):
        news = False  # a service page that shows its publication date
    if news and _strong_service_title(h1, title):
        news = False  # service information filed as a post
    excluded = bool(EXCLUDED_TOPIC.search(h1) or EXCLUDED_TOPIC.search(title.split(" – ")[0]))
    return Context(news=news, excluded=excluded, path=path, title=title, h1=h1)


def line_excluded(line: Line) -> bool:
    """A line under a heading about recruitment, procurement and the like."""
    return any(EXCLUDED_TOPIC.search(norm(h)) for h in line.block.headings)


# --- lines and fields ----------------------------------------------------------------------------
def lines(doc: Document, regions: tuple[str, ...] = ("main",)) -> list[Line]:
    return _cached(doc, "lines", regions, lambda: _lines(doc, regions))


def _lines(doc: Document, regions: tuple[str, ...]) -> list[Line]:
    out: list[Line] = []
    for block, parts in _split(doc):
        if block.region in regions:
            for text, normed in parts:
                out.append(Line(text=text, norm=normed, block=block, index=len(out)))
    return out


def _split(doc: Document) -> list[tuple[Block, list[tuple[str, str]]]]:
    """Every block's non-empty lines with their normalised text: rules ask for several sets of
    regions, and a long paragraph is normalised once, not once per set."""
    return _cached(doc, "split", (), lambda: [
        (block, [(part, norm(part)) for part in (p.strip() for p in block.text.split("\n")) if part])
        for block in doc.blocks
    ])


_INLINE_FULL = memo_re(rf"^(.{{2,{MAX_LABEL_CHARS}}}?)\s*[:：]\s*(.+)$")
_INLINE = memo_re(rf"^(.{{2,{MAX_LABEL_CHARS}}}?)\s*[:：]\s*(.*)$")


def _label_of(text: str) -> tuple[str, str, str] | None:
    """(kind, label, inline value) when the line starts with a component label."""
    candidates = _split_cells(text)
    # table rows come as "No | Label | Value"; skip a leading number cell
    if len(candidates) >= 2 and re.fullmatch(r"[\divxlc]{1,4}[.)]?|[a-h][.)]", candidates[0]):
        candidates = candidates[1:]
    head = candidates[0] if candidates else ""
    rest = " | ".join(candidates[1:])
    if not head or len(head) > MAX_LABEL_CHARS:
        # "Persyaratan: KTP, KK" written inline with a colon
        m = _INLINE_FULL.match(text)
        if not m:
            return None
        head, rest = m.group(1), m.group(2)
    nhead = norm(head).rstrip(" :.")
    if LABEL_STOP.search(nhead):
        return None
    for kind, pattern in _ordered_labels():
        if pattern.match(nhead):
            # the label must be most of the head cell: "Persyaratan" yes, "syarat dan ketentuan lomba ..." no
            if len(nhead) > 45 and not re.search(r"[:：|]", text):
                return None
            return kind, head.strip(" :"), rest.strip()
    return None


@lru_cache(maxsize=1)
def _ordered_labels() -> list[tuple[str, MemoPattern]]:
    # complaint handling before procedure ("alur pengaduan"), procedure before time ("sistem, mekanisme")
    order = ["complaint_handling", "procedure", "requirements", "service_time", "fees", "service_product"]
    return [(k, LABELS[k]) for k in order]


def _split_cells(text: str) -> list[str]:
    if " | " in text:
        return [c.strip() for c in text.split(" | ") if c.strip()]
    m = _INLINE.match(text)
    if m:
        return [m.group(1), m.group(2)] if m.group(2) else [m.group(1)]
    return [text]


TABLE_HEADER = memo_re(r"^(?:no\.? \| )?(?:komponen|uraian|jenis|unsur|component|description|item)\b")
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "h7", "dt", "summary", "th")


def _heading_label(line: Line) -> tuple[str, str, str] | None:
    """A heading that names a component after the service ("Pembuatan KK – Alur Permohonan")."""
    if line.block.tag not in HEADING_TAGS or len(line.norm) > MAX_LABEL_CHARS:
        return None
    parts = re.split(r"\s+[-:|/]\s+|\s*[:(]\s*", line.norm)
    for part in parts[1:]:
        found = _label_of(part)
        if found:
            return found[0], line.text.strip(" :"), ""
    return None


def _column_fields(doc: Document, regions: tuple[str, ...]) -> list[Field]:
    """Tables whose header row names a component: `Jenis Pemeriksaan | Waktu Layanan` over rows."""
    out: list[Field] = []
    for table in doc.tables:
        if table.region not in regions or len(table.rows) < 2:
            continue
        header = table.rows[0]
        for col, cell in enumerate(header):
            found = _label_of(cell) if len(cell) <= MAX_LABEL_CHARS else None
            if not found or found[2]:
                continue
            block = Block(text=" | ".join(header), tag="tr", headings=table.headings, region=table.region,
                          locator=table.locator)
            label_line = Line(text=cell, norm=norm(cell), block=block, index=-1)
            values = []
            for row in table.rows[1:MAX_VALUE_LINES + 1]:
                if col < len(row) and row[col]:
                    text = " | ".join(c for c in row if c)
                    values.append(Line(text=text, norm=norm(text), block=block, index=-1))
            out.append(Field(kind=found[0], label=cell, value=values, line=label_line))
    return out


def fields(doc: Document, regions: tuple[str, ...] = ("main",)) -> list[Field]:
    """Every labelled component on the page, with the lines that make up its value."""
    return _cached(doc, "fields", regions, lambda: _fields(doc, regions))


def _fields(doc: Document, regions: tuple[str, ...]) -> list[Field]:
    seq = lines(doc, regions)
    out: list[Field] = _column_fields(doc, regions)
    i = 0
    while i < len(seq):
        line = seq[i]
        found = _label_of(line.text) or _heading_label(line)
        if not found:
            i += 1
            continue
        kind, label, inline = found
        if line.block.tag == "li" and not inline and not line.text.rstrip().endswith(":"):
            i += 1  # a list item that names a document ("Persyaratan (PDF)") is no label of what follows
            continue
        value: list[Line] = []
        j = i + 1
        is_heading_label = line.block.tag in HEADING_TAGS
        if inline and not is_heading_label:
            # the rest of the same cell or paragraph continues an inline value ("Persyaratan | KTP\nKK")
            while j < len(seq) and seq[j].block is line.block and len(value) < MAX_VALUE_LINES \
                    and not _label_of(seq[j].text):
                value.append(seq[j])
                j += 1
        else:
            while j < len(seq) and len(value) < MAX_VALUE_LINES:
                nxt = seq[j]
                if _label_of(nxt.text) or nxt.block.region != line.block.region:
                    break
                if nxt.block.tag in ("h1", "h2", "h3", "h4", "h5", "h6") and nxt.block is not line.block and (
                        not is_heading_label or _heading_level(nxt.block.tag) <= _heading_level(line.block.tag)):
                    break
                if nxt.block.tag == "tr" and nxt.block is not line.block and (
                        line.block.tag == "tr" or TABLE_HEADER.match(nxt.norm)):
                    break  # the next row of a table is another component; a new table is not this value
                value.append(nxt)
                j += 1
        out.append(Field(kind=kind, label=label, value=value, line=line, inline=inline))
        i = max(i + 1, j)
    return out


def _heading_level(tag: str) -> int:
    return int(tag[1]) if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit() else 9


def snippet(text: str, limit: int = 300) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
