"""The maklumat pelayanan: the unit's published pledge to serve by its standard (UU 25/2009 Pasal 22)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from checks.document import Document
from checks.rules.base import Hit, Rule, rule
from checks.text import Context, lines, memo_re, norm

# only ever tested for a match: "dengan ini kami ..." is found by its "kami ...", and every
# alternative starts with a letter, so that the regex engine can skip to candidate positions
PLEDGE = memo_re(
    r"(kami(?: [a-z]+){0,6} (?:menyatakan|berjanji|bertekad|berkomitmen)[ ,]*(?:sang+up|siap|bersedia|"
    r"akan)|sang+up (?:menyelenggara|memberikan|melaksanakan) ?kan pelayanan|we (?:hereby )?(?:declare|pledge|"
    r"commit|promise)|siap menerima sanksi|sang+up menerima sanksi|bersedia menerima sanksi|"
    r"apabila (?:tidak|kami tidak) (?:menepati|"
    r"melaksanakan)|sesuai (?:dengan )?standar pelayanan yang telah ditetapkan)"
)
CHARTER_WORD = memo_re(r"(maklumat|service charter|janji (?:layanan|pelayanan)|charter)")
SIGNING_NEWS = memo_re(r"(menandatangani|penandatanganan|tandatangani|dipasang|signed|signing)")


@rule
class ServiceCharterPublished(Rule):
    """Maklumat pelayanan.

    Looks for: the text (or, with OCR, the image) of the unit's maklumat: the pledge "dengan ini
    kami menyatakan sanggup menyelenggarakan pelayanan sesuai standar pelayanan ...".
    Why: UU 25/2009 Pasal 22.
    Evidence: the pledge sentence.
    Limits: news about signing a maklumat, and a pakta integritas, are not the maklumat.
    """

    id = "service_charter"
    title = "Maklumat pelayanan"
    short = "Maklumat"
    basis = "UU 25/2009 Pasal 22"
    weight = 8

    def inspect(self, doc: Document, ctx: Context) -> Iterator[Hit]:
        if ctx.news or ctx.excluded:
            return
        charter_page = bool(CHARTER_WORD.search(ctx.h1) or CHARTER_WORD.search(ctx.title))
        seq = lines(doc)
        for line in seq:
            t = line.norm
            if not PLEDGE.search(t) or (SIGNING_NEWS.search(t) and not re.search(r"(sang+up|siap|bersedia)", t)):
                continue
            near = charter_page or any(CHARTER_WORD.search(norm(h)) for h in line.block.headings)
            near = near or any(CHARTER_WORD.search(o.norm) for o in seq[max(0, line.index - 4): line.index + 1])
            if re.search(r"pakta integritas", norm(" ".join(line.block.headings)) + ctx.h1):
                continue
            yield self.hit(doc, line.block, line.text, 0.9 if near else 0.6)
