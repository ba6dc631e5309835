"""The service-delivery components of a standar pelayanan (UU 25/2009 Pasal 21, PermenPANRB 15/2014).

Each component is found as a labelled field (`checks.text.fields`) whose value says something
concrete, outside news, announcements, recruitment and procurement. Fees and durations are also
accepted as a plain sentence that ties an amount or a time to a service.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from checks.document import Document
from checks.rules.base import Hit, Rule, rule
from checks.text import Context, Field, fields, is_vague, line_excluded, lines, memo_re, norm

DURATION = memo_re(
    r"(\b\d+(?:[.,]\d+)?\s*(?:\([a-z ]+\)\s*)?(?:menit|jam|hari|minggu|pekan|bulan|mnt|min|hr|hk|mgg|bln|minutes?|"
    r"hours?|days?|"
    r"weeks?|working days?)\b"
    r"|\b(?:satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|setengah|one|two|three|five|seven|ten)"
    r"\s+(?:menit|jam|hari|minggu|bulan|minutes?|hours?|days?)\b"
    r"|selesai (?:di ?tempat|pada hari (?:yang sama|itu)|saat itu|langsung)|hari yang sama|same day|on the spot"
    r"|langsung jadi|saat itu juga)"
)
RUPIAH = memo_re(r"\b(?:rp|idr)\.?\s*\d|\b\d{1,3}(?:\.\d{3})+(?:,-)?\s*(?:rupiah|,-)|\brupiah\b")
ZERO_FEE = memo_re(
    r"(gratis|tidak dipungut (?:biaya|bayaran|retribusi)|tanpa (?:biaya|dipungut)|bebas biaya|tidak (?:ada )?biaya|"
    r"tidak berbayar|free of charge|\bfree\b|no (?:fee|charge|cost)|\brp\.?\s*0\b|\bnihil\b|tidak dikenakan biaya|"
    r"ditanggung (?:bpjs|pemerintah|jkn))"
)
FEE_REFERENCE = memo_re(
    r"(perda|peraturan daerah|peraturan bupati|perbup|peraturan wali ?kota|perwal|retribusi|regional regulation|"
    r"tarif (?:sesuai|berdasarkan|mengacu))"
)
BUDGET = memo_re(
    r"(anggaran|apbd|apbn|realisasi|\bdak\b|\bdau\b|pagu|\bhps\b|miliar|milyar|triliun|dana (?:desa|bos|bok|"
    r"alokasi)|nilai (?:kontrak|pekerjaan|pengadaan)|belanja|harga (?:masker|obat|bbm|beras|pasar|bahan)|"
    r"naik menjadi|dijual|budget)"
)
STEP_WORDS = memo_re(
    r"(menyerahkan|mengajukan|mengisi|mendaftar|datang|mengambil|menerima|memeriksa|diperiksa|verifikasi|"
    r"diverifikasi|diproses|ditandatangani|diserahkan|pendaftaran|pemeriksaan|penyerahan|pemohon|petugas|"
    r"loket|antre|antrean|submit|apply|receive|verify|collect|register)"
)
COMPLAINT_WORD = memo_re(r"(pengaduan|aduan|keluhan|complaint|saran dan masukan|dijawab|jawaban|tanggapan)")


def _usable(f: Field, ctx: Context) -> bool:
    return not ctx.excluded and not line_excluded(f.line) and not is_vague(f.value_text)


class StandardComponent(Rule):
    """A labelled component of the standard whose value passes `valid`."""

    component: str = ""
    field_confidence = 0.9
    sentence_confidence = 0.0  # > 0: a plain sentence may also state the component (see `sentence`)

    def valid(self, f: Field) -> bool:
        return len(norm(f.value_text)) >= 8

    def sentence(self, text: str) -> bool:
        """Whether one normalised line states the component without a label."""
        return False

    def inspect(self, doc: Document, ctx: Context) -> Iterator[Hit]:
        if ctx.news:
            return
        for f in fields(doc):
            if f.kind == self.component and _usable(f, ctx) and self.valid(f):
                yield self.hit(doc, f.line.block, f"{f.label}: {f.value_text}", self.field_confidence)
        if self.sentence_confidence and not ctx.excluded:
            for line in lines(doc):
                if self.sentence(line.norm) and not line_excluded(line):
                    yield self.hit(doc, line.block, line.text, self.sentence_confidence)


@rule
class RequirementsPublished(StandardComponent):
    """Persyaratan pelayanan.

    Looks for: a Persyaratan / Syarat / Requirements field with the documents or conditions a
    citizen must bring, under a named service (table row, heading with a list, inline label).
    Why: UU 25/2009 Pasal 21 huruf b; PermenPANRB 15/2014.
    Evidence: the label and its list, with the heading or table it sits in.
    Limits: recruitment, tender and contest requirements are not a service's and are ignored;
    a list published only on another organisation's site does not count.
    """

    id = "requirements"
    title = "Persyaratan pelayanan"
    short = "Persyaratan"
    basis = "UU 25/2009 Pasal 21 huruf b; PermenPANRB 15/2014"
    weight = 10
    component = "requirements"

    BRING = re.compile(r"\b(membawa|melampirkan|menunjukkan|menyerahkan|melengkapi|wajib membawa|bring)\b")
    DOCUMENTS = re.compile(
        r"\b(ktp(?:-el)?|kk|kartu keluarga|akta|ijazah|fotokopi|foto ?copy|pas ?foto|npwp|buku kia|surat (?:pengantar|"
        r"keterangan|rujukan|permohonan|kuasa)|kartu (?:bpjs|jkn|kis|berobat|identitas)|jkn-kis|paspor|passport|"
        r"id card|identity card)\b"
    )

    def valid(self, f: Field) -> bool:
        value = norm(f.value_text)
        return len(value) >= 6 and not re.fullmatch(r"(lihat|cek|baca)\b.*", value)

    sentence_confidence = 0.65

    def sentence(self, text: str) -> bool:
        # "Pendaftaran di loket dengan membawa KTP/KK dan kartu JKN-KIS": the documents, named in a step
        return bool(self.BRING.search(text)) and len(set(self.DOCUMENTS.findall(text))) >= 2


@rule
class ProcedurePublished(StandardComponent):
    """Sistem, mekanisme dan prosedur (alur pelayanan).

    Looks for: ordered steps (at least two) of how a named service is delivered, under a
    Prosedur / Alur / Mekanisme / Tata cara label.
    Why: UU 25/2009 Pasal 21 huruf c.
    Evidence: the label and its steps.
    Limits: complaint-handling steps belong to complaint_handling; tender and recruitment steps
    are ignored; a flowchart image is read only when its text is available (OCR).
    """

    id = "procedure"
    title = "Sistem, mekanisme dan prosedur (alur pelayanan)"
    short = "Prosedur"
    basis = "UU 25/2009 Pasal 21 huruf c"
    weight = 10
    component = "procedure"

    def valid(self, f: Field) -> bool:
        if COMPLAINT_WORD.search(norm(f.label)):
            return False
        items = [i for i in f.items if len(i) >= 4]
        if len(items) >= 2:
            return True
        text = norm(f.value_text)
        return len(STEP_WORDS.findall(text)) >= 2 and len(text) >= 40


@rule
class ServiceTimePublished(StandardComponent):
    """Jangka waktu penyelesaian.

    Looks for: a duration for completing a service ("3 hari kerja", "15 menit", "selesai di
    tempat") under a Jangka waktu / Waktu penyelesaian label, or a sentence stating it.
    Why: UU 25/2009 Pasal 21 huruf d.
    Evidence: the label and its value, or the sentence.
    Limits: opening hours, complaint-response deadlines, event and contract durations do not count.
    """

    id = "service_time"
    title = "Jangka waktu penyelesaian"
    short = "Waktu"
    basis = "UU 25/2009 Pasal 21 huruf d"
    weight = 10
    component = "service_time"
    SENTENCE = re.compile(
        r"(selesai dalam|diselesaikan (?:dalam|paling)|diproses (?:dalam|selama|paling)|penyelesaian(?: layanan)? "
        r"(?:dalam|paling)|waktu penyelesaian|jangka waktu penyelesaian|dapat diambil (?:dalam|setelah)|"
        r"completed within|processed within)"
    )

    def valid(self, f: Field) -> bool:
        value = norm(f.value_text)
        if COMPLAINT_WORD.search(norm(f.label)) or re.search(r"\b(senin|jam buka|jam kerja)\b", value[:30]):
            return False
        return bool(DURATION.search(value))

    sentence_confidence = 0.7

    def sentence(self, text: str) -> bool:
        return bool(self.SENTENCE.search(text) and DURATION.search(text)) and not COMPLAINT_WORD.search(text)


@rule
class FeesPublished(StandardComponent):
    """Biaya/tarif pelayanan.

    Looks for: a cost stated for a service — a rupiah amount, a tariff/retribusi table or its
    Perda, or an explicit "gratis" / "tidak dipungut biaya" / "Rp 0" — under a Biaya / Tarif label
    or in a sentence that names the fee.
    Why: UU 25/2009 Pasal 21 huruf e.
    Evidence: the matched cell or sentence and its heading.
    Limits: budget figures (APBD, anggaran, realisasi), prices in news, and "free" recruitment or
    contests are not fees.
    """

    id = "fees"
    title = "Biaya/tarif pelayanan"
    short = "Biaya"
    basis = "UU 25/2009 Pasal 21 huruf e"
    weight = 10
    component = "fees"
    SENTENCE = re.compile(r"\b(biaya|tarif|tarip|retribusi)\b")

    def valid(self, f: Field) -> bool:
        value = norm(f.value_text)
        if BUDGET.search(value) or BUDGET.search(norm(f.label)):
            return False
        return bool(RUPIAH.search(value) or ZERO_FEE.search(value) or FEE_REFERENCE.search(value))

    sentence_confidence = 0.6

    def sentence(self, text: str) -> bool:
        return (bool(self.SENTENCE.search(text) and (RUPIAH.search(text) or ZERO_FEE.search(text)))
                and not BUDGET.search(text) and len(text) < 400)


@rule
class ServiceProductPublished(StandardComponent):
    """Produk pelayanan.

    Looks for: what the citizen receives from a service, under a Produk / Hasil / Output label
    ("Produk layanan: Akta Kelahiran", "Hasil: Surat Keterangan Sehat").
    Why: UU 25/2009 Pasal 21 huruf f.
    Evidence: the label and its value.
    Limits: lists of programmes or activities and products for sale are not service products;
    "Hasil IKM" or "hasil seleksi" are not products.
    """

    id = "service_product"
    title = "Produk pelayanan"
    short = "Produk"
    basis = "UU 25/2009 Pasal 21 huruf f"
    weight = 10
    component = "service_product"

    FOR_SALE = re.compile(r"(dijual|dipesan|pemesanan|\bharga\b|\bbeli\b|order|katalog|toko|umkm|kube)")

    def valid(self, f: Field) -> bool:
        value = norm(f.value_text)
        if BUDGET.search(value) or RUPIAH.search(value) or self.FOR_SALE.search(value + " " + norm(f.label)):
            return False
        return len(value) >= 5 and not re.match(r"^(program|kegiatan)\b", value)
