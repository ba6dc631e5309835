"""Opening hours and the unit's address and contact (UU 25/2009 Pasal 21, 23).

Both are usually sitewide (header, footer, sidebar), so these rules read every region, including
the footer of news pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from checks.document import Document
from checks.rules.base import Hit, Rule, rule
from checks.rules.complaints import EMAIL, PHONE
from checks.text import DATE, EXCLUDED_TOPIC, Context, Line, lines, memo_re, norm

DAY = memo_re(r"\b(senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad|monday|tuesday|wednesday|thursday|friday|"
                 r"saturday|sunday|mon|tue|wed|thu|fri|sat|sen|sel|rab|kam|jum|sab|min|hari kerja)\b")
CLOCK = memo_re(r"\b([01]?\d|2[0-4])[.:][0-5]\d\b")
CLOCK_RANGE = memo_re(
    r"\b([01]?\d|2[0-4])[.:][0-5]\d\s*(?:wib|wita|wit)?\s*(?:-|s/?d|s\.d\.?|sampai(?: dengan)?|hingga|to|until)\s*"
    r"([01]?\d|2[0-4])[.:][0-5]\d\b"
)
ALWAYS_OPEN = memo_re(r"(24 jam|24 hours|24/7)")
ALWAYS_CONTEXT = memo_re(r"(ugd|igd|gawat darurat|buka|layanan|pelayanan|open|psc|rawat inap|persalinan|ambulans)")
EVENT = memo_re(r"(posyandu|posbindu|kelas ibu|vaksinasi massal|sesi \d|ujian|anbk|a(?<!\wa)cara\b|kegiatan|"
                   r"upacara|rapat|lomba|seminar|pelatihan|sosialisasi|jadwal dokter jaga)")
ADDRESS = memo_re(
    r"(\b(?:jl|jln|jalan)\b\.?\s*\w|\balamat\b|\baddress\b|\bkompleks\b|\bkomplek\b|\bgedung\b\s+\w|\bkm\.?\s*\d)"
)
ADDRESS_HINT = memo_re(r"\b(?:jl|jln|jalan|alamat|address|kompleks|komplek|gedung|km)\b", re.I)
OTHER_ORGS_HEADING = memo_re(
    r"(rujukan|instansi (?:lain|terkait)|mitra|tautan|link terkait|jejaring|fasilitas (?:kesehatan )?(?:lain|rujukan)|"
    r"daftar (?:puskesmas|rumah sakit|sekolah|faskes|apotek|klinik|kantor|desa))"
)
OTHER_ORG = memo_re(
    r"(\brsud\b|rumah sakit|\brs\b|\bbpjs\b|polres|polsek|kantor pos|\bbank\b|kejaksaan|pengadilan|klinik|apotek|"
    r"sekretariat (?:forum|panitia)|panitia)"
)
PLACE = memo_re(r"(kecamatan|kelurahan|desa|kabupaten|kab\.|kota|provinsi|\b\d{5}\b|\brt\.?\s*\d|\bno\.?\s*\d)")


@rule
class OpeningHoursPublished(Rule):
    """Jam pelayanan.

    Looks for: days and clock times when the unit or its counter is open ("Senin - Kamis 08.00 -
    14.00 WITA"), or "24 jam" for an emergency service.
    Why: UU 25/2009 Pasal 21; PermenPANRB 15/2014.
    Evidence: the line or table rows with days and times.
    Limits: days without times, times of single events (a dated day), posyandu and exam schedules.
    """

    id = "opening_hours"
    title = "Jam pelayanan"
    short = "Jam layanan"
    basis = "UU 25/2009 Pasal 21; PermenPANRB 15/2014"
    weight = 6
    regions = ("main", "header", "footer", "aside")

    def inspect(self, doc: Document, ctx: Context) -> Iterator[Hit]:
        regions = ("header", "footer", "aside") if ctx.news or ctx.excluded else self.regions
        seq = lines(doc, regions)
        for line in seq:
            t = line.norm
            clock, always = CLOCK_RANGE.search(t), ALWAYS_OPEN.search(t)
            if not clock and not always:
                continue  # neither a time range nor "24 jam": nothing below can hold
            heads = norm(" ".join(line.block.headings))
            if EVENT.search(t) or EVENT.search(heads) or DATE.search(t):
                continue
            if clock and (DAY.search(t) or self._day_nearby(seq, line)):
                yield self.hit(doc, line.block, self._with_heading(line), 0.9)
            elif always and ALWAYS_CONTEXT.search(t + " " + heads):
                yield self.hit(doc, line.block, self._with_heading(line), 0.75)

    @staticmethod
    def _day_nearby(seq: list[Line], line: Line) -> bool:
        # table rows "Senin s/d Kamis | 07.30 - 13.00" are one line; a heading "Senin - Jumat" above a time
        prev = seq[line.index - 1] if line.index else None
        return bool(prev and prev.block.region == line.block.region and DAY.search(prev.norm)
                    and not CLOCK.search(prev.norm) and len(prev.norm) < 40)

    @staticmethod
    def _with_heading(line: Line) -> str:
        return f"{line.block.heading}: {line.text}" if line.block.heading else line.text


@rule
class ContactPublished(Rule):
    """Alamat dan kontak unit.

    Looks for: the unit's physical address together with a phone number or e-mail address, in
    one block of text (a contact page, a footer widget).
    Why: UU 25/2009 Pasal 23 (sistem informasi pelayanan publik).
    Evidence: the address block.
    Limits: an address alone, a phone/e-mail alone, and another organisation's contact do not count.
    """

    id = "contact"
    title = "Alamat dan kontak unit"
    short = "Kontak"
    basis = "UU 25/2009 Pasal 23 (sistem informasi pelayanan publik)"
    weight = 6
    regions = ("main", "header", "footer", "aside")

    def inspect(self, doc: Document, ctx: Context) -> Iterator[Hit]:
        regions = ("header", "footer", "aside") if ctx.news or ctx.excluded else self.regions
        seen: set[int] = set()
        blocks = [b for b in doc.blocks if b.region in regions and b.tag != "img"]
        for i, block in enumerate(blocks):
            if id(block) in seen or not ADDRESS_HINT.search(block.text):
                continue  # a group starts at the block that holds the address
            heads = norm(" ".join(block.headings))
            if EXCLUDED_TOPIC.search(heads) or OTHER_ORGS_HEADING.search(heads):
                continue
            # an address and its numbers may sit in neighbouring blocks of one section (<dl>, <p> lines)
            top = block.headings[:1]
            group = [block] + [b for b in blocks[i + 1: i + 6] if b.region == block.region
                               and b.headings[:1] == top]
            text = "\n".join(b.text for b in group)
            t = norm(text)
            addr = ADDRESS.search(t)
            if not addr or not PLACE.search(t) or OTHER_ORG.search(t[max(0, addr.start() - 60): addr.start()]):
                continue
            if (PHONE.search(text) or EMAIL.search(text)) and not DATE.search(t[:200]):
                seen.update(id(b) for b in group)
                yield self.hit(doc, block, text, 0.9 if block.region == "main" else 0.85)
