"""The Survei Kepuasan Masyarakat: published results or a way to take it (PermenPANRB 14/2017).

A pointer indicator like complaint_channel: a link to a survey form counts wherever it leads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlparse

from checks.document import Document
from checks.rules.base import Hit, Rule, rule
from checks.text import DATE, Context, lines, memo_re, norm

SURVEY = memo_re(
    r"(survei kepuasan|survey kepuasan|kepuasan masyarakat|kepuasaan masyarakat|s(?<!\ws)km\b|i(?<!\wi)km\b|"
    r"indeks kepuasan|satisfaction survey|satisfaction index|public satisfaction|e-?skm|kuesioner|kuisioner)"
)
# an index value: a decimal score (82,35 / 3,41) anywhere in a survey line, or a whole number right
# after the word that names it ("IKM: 85", "nilai indeks 88")
INDEX_VALUE = memo_re(
    r"(?<![\d.,])(?:[1-9]\d|100|[1-4])[.,]\d{1,3}(?![\d.,])(?!\s*(?:orang|responden|juta|miliar))"
    r"|(?:ikm|skm|nilai|indeks|index|skor|score)\D{0,25}(?<![\d.,])(?:[1-9]\d|100)(?![\d.,])(?!\s*(?:orang|responden|%))"
)
RESULT_WORD = memo_re(
    r"(hasil|nilai|indeks|index|skor|score|mutu pelayanan|kinerja unit|kategori|predikat|laporan|report|results?|"
    r"rekapitulasi|semester|triwulan|periode|tahun \d{4}|\b20\d\d\b)"
)
PLAN = memo_re(
    r"(akan (?:melaksanakan|dilaksanakan|mengadakan|digelar)|berencana|rencana|persiapan|sedang disusun|\btarget\b|"
    r"sasaran|renja|renstra|proyeksi|indikator kinerja)"
)
TAKE = memo_re(
    r"(isi (?:survei|survey|kuesioner|kuisioner)|ikuti survei|mengisi survei|isi skm|isi ikm|take the survey|"
    r"fill (?:in|out) the survey|beri(?:kan)? penilaian|nilai pelayanan kami|survei online|e-?skm|"
    r"kirim (?:survei|penilaian|jawaban))"
)
FORM_HOSTS = ("forms.gle", "docs.google.com", "forms.office.com", "surveymonkey.com", "typeform.com", "s.id", "bit.ly")


@rule
class SatisfactionSurveyPublished(Rule):
    """Survei Kepuasan Masyarakat.

    Looks for: published SKM/IKM results (an index value or a report for a period), or a working
    link or form to take the survey.
    Why: PermenPANRB 14/2017.
    Evidence: the result line or table row, or the link/form.
    Limits: news that a survey will be held, and SKM mentioned in a plan, do not count.
    """

    id = "satisfaction_survey"
    title = "Survei Kepuasan Masyarakat"
    short = "SKM"
    basis = "PermenPANRB 14/2017"
    weight = 8

    def inspect(self, doc: Document, ctx: Context) -> Iterator[Hit]:
        survey_page = any(SURVEY.search(x) for x in (ctx.h1, ctx.title, ctx.path.replace("-", " ")))
        for link in doc.links:
            label = norm(link.text)
            if not (TAKE.search(label) or SURVEY.search(label)):
                continue  # the link's host matters only for a survey label
            host = (urlparse(link.url).hostname or "").lower()
            if (TAKE.search(label) or (SURVEY.search(label) and host in FORM_HOSTS)) and not ctx.excluded:
                if link.region == "nav" and not TAKE.search(label):
                    continue
                h = self.hit(doc, None, f"{link.text} → {link.url}", 0.85, kind="link" if host in FORM_HOSTS else "")
                h.locator = "tautan"
                yield h
        if ctx.news or ctx.excluded:
            return
        forms = doc.meta.get("forms") or []
        if survey_page and any(f.get("fields", 0) >= 3 for f in forms):
            yield self.hit(doc, None, f"Formulir survei: {ctx.h1 or ctx.title}", 0.85)
        for line in lines(doc):
            t = line.norm
            heads = norm(" ".join(line.block.headings))
            in_survey = survey_page or SURVEY.search(heads) or SURVEY.search(t)
            if not in_survey or PLAN.search(t) or PLAN.search(heads):
                continue
            is_value = INDEX_VALUE.search(t) and RESULT_WORD.search(t + " " + heads)
            if is_value and not re.search(r"\b(rp|jam|pukul)\b", t) and not DATE.search(t):
                yield self.hit(doc, line.block, line.text, 0.9 if SURVEY.search(t + heads) else 0.7)
