"""Services and facilities for persons with disabilities and other special needs (UU 25/2009 Pasal 29)."""

from __future__ import annotations

from collections.abc import Iterator

from checks.document import Document
from checks.rules.base import Hit, Rule, rule
from checks.text import Context, lines, memo_re, norm

FACILITY = memo_re(
    r"(r(?<!\wr)amp\b|jalur landai|bidang miring|kursi roda|wheelchair|guiding block|ubin pemandu|jalur pemandu|"
    r"bahasa isyarat|juru bahasa|sign language|toilet (?:khusus |ramah )?(?:disabilitas|difabel|aksesibel|"
    r"accessible)|toilet aksesibel|loket (?:khusus|prioritas)|antrean prioritas|antrian prioritas|"
    r"layanan prioritas|pelayanan prioritas|priority (?:counter|queue|service)|jemput bola|home ?visit|"
    r"kunjungan rumah|layanan (?:di|ke) rumah|pendampingan (?:khusus|petugas)|huruf braille|braille|"
    r"kursi (?:tunggu )?prioritas|parkir (?:khusus )?disabilitas|pegangan rambat|handrail|lift|"
    r"didahulukan|diprioritaskan|tanpa antre|tidak perlu antre)"
)
BENEFICIARY = memo_re(
    r"(disabilitas|difabel|penyandang|berkebutuhan khusus|kebutuhan khusus|lansia|lanjut usia|ibu hamil|"
    r"disabilit|disabled|elderly|pregnant|special needs|sakit keras|tuna ?(?:netra|rungu|daksa|wicara))"
)
SPECIFIC = memo_re(
    r"(r(?<!\wr)amp\b|jalur landai|kursi roda|wheelchair|guiding block|ubin pemandu|bahasa isyarat|sign language|"
    r"toilet (?:khusus |ramah )?(?:disabilitas|difabel|aksesibel|accessible)|toilet aksesibel|braille|"
    r"parkir (?:khusus )?disabilitas)"
)
AID_EVENT = memo_re(r"(menyalurkan|penyaluran|menyerahkan|penyerahan|bantuan|peringatan|hari disabilitas|donasi)")


@rule
class DisabilityAccessPublished(Rule):
    """Pelayanan bagi penyandang disabilitas / berkebutuhan khusus.

    Looks for: the unit's own provision for persons with disabilities, the elderly, pregnant women
    or others with special needs: ramps, wheelchairs, priority counters, accessible toilets, sign
    language, guiding blocks, home visits, a stated priority procedure.
    Why: UU 25/2009 Pasal 29; UU 8/2016; PP 42/2020.
    Evidence: the sentence naming the provision.
    Limits: news about a disability event or aid distribution is not a provision.
    """

    id = "disability_access"
    title = "Pelayanan bagi penyandang disabilitas / berkebutuhan khusus"
    short = "Disabilitas"
    basis = "UU 25/2009 Pasal 29; UU 8/2016; PP 42/2020"
    weight = 8

    def inspect(self, doc: Document, ctx: Context) -> Iterator[Hit]:
        if ctx.news or ctx.excluded:
            return
        page_topic = BENEFICIARY.search(ctx.h1) or BENEFICIARY.search(ctx.title)
        for line in lines(doc):
            t = line.norm
            fac = FACILITY.search(t)
            if not fac or (AID_EVENT.search(t) and not SPECIFIC.search(t.replace(fac.group(0), "", 1))):
                continue
            heads = norm(" ".join(line.block.headings))
            if SPECIFIC.search(t) or BENEFICIARY.search(t) or BENEFICIARY.search(heads) or page_topic:
                yield self.hit(doc, line.block, line.text, 0.85)
