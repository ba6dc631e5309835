"""Complaints: how they are handled (UU 25/2009 Pasal 21 j, 36-37) and where to lodge them (SP4N-LAPOR!).

complaint_channel is a pointer indicator: the published item is the on-site link, number or form,
so its target may be on any domain (indicators.yaml, general.other_domains).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlparse

from checks.document import Document
from checks.rules.base import Hit, Rule, rule
from checks.text import Context, fields, is_vague, line_excluded, lines, memo_re, norm

COMPLAINT = memo_re(r"(pengaduan|aduan|mengadu|keluhan|kotak saran|saran dan masukan|complaints?|l(?<!\wl)apor\b|sp4n)")
PHONE = memo_re(r"(?<!\d)(?:\+?62[\s.-]?|\(?0)\d{2,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{2,5}(?!\d)|\b1708\b")
EMAIL = memo_re(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CHANNEL_WORD = memo_re(
    r"(whatsapp|\bwa\b|\bsms\b|telepon|telp|tlp|hotline|e-?mail|surel|kotak saran|kotak pengaduan|lapor\.go\.id|"
    r"sp4n|formulir|form|aplikasi|hubungi|call center|datang langsung|meja pengaduan|loket pengaduan)"
)
HANDLING = memo_re(
    r"(diterima (?:oleh|dan)|dicatat|diverifikasi|verifikasi|ditindaklanjuti|tindak lanjut|diteruskan|dijawab|"
    r"jawaban|ditanggapi|tanggapan|direspons?|diproses|ditelaah|dibahas|diselesaikan|penyelesaian pengaduan|"
    r"penanggung ?jawab|petugas pengelola|pengelola pengaduan|tim (?:pengaduan|mutu|pengelola)|klarifikasi|"
    r"paling (?:lama|lambat) \d+|maksimal \d+ (?:hari|jam)|dalam waktu \d+|handled|verified|forwarded|"
    r"responded|response|reply|replied|within \d+)"
)
LAPOR_HOSTS = ("lapor.go.id",)
WA_HOSTS = ("wa.me", "api.whatsapp.com", "chat.whatsapp.com", "wa.link")
SHARE = memo_re(r"(share|sharer|bagikan|intent/tweet|send\?text=)", re.I)


@rule
class ComplaintHandlingPublished(Rule):
    """Penanganan pengaduan, saran dan masukan.

    Looks for: how complaints are handled — who receives them, the steps, the officer or unit in
    charge, or the response time — on a complaint page or in the standard's complaint row.
    Why: UU 25/2009 Pasal 21 huruf j, Pasal 36-37; Perpres 76/2013.
    Evidence: the handling steps or the standard's row.
    Limits: a bare channel (a number, a link, a list of channels) is not handling; news about
    complaints received is not handling.
    """

    id = "complaint_handling"
    title = "Penanganan pengaduan, saran dan masukan"
    short = "Penanganan pengaduan"
    basis = "UU 25/2009 Pasal 21 huruf j; Pasal 36-37; Perpres 76/2013"
    weight = 8

    def inspect(self, doc: Document, ctx: Context) -> Iterator[Hit]:
        if ctx.news or ctx.excluded:
            return
        for f in fields(doc):
            if f.kind == "complaint_handling" and not is_vague(f.value_text) and self._handles(f.value_text):
                yield self.hit(doc, f.line.block, f"{f.label}: {f.value_text}", 0.9)
        # a complaint section whose text says how complaints are processed
        page_is_complaint = bool(COMPLAINT.search(ctx.h1) or COMPLAINT.search(ctx.title.split(" - ")[0]))
        for line in lines(doc):
            if not HANDLING.search(line.norm) or line_excluded(line):
                continue  # the cheap test first: most lines say nothing about handling
            heads = norm(" ".join(line.block.headings[-2:]))
            in_complaint = page_is_complaint or COMPLAINT.search(heads) or COMPLAINT.search(line.norm)
            if in_complaint and self._handles(line.norm):
                yield self.hit(doc, line.block, line.text, 0.8)

    @staticmethod
    def _handles(text: str) -> bool:
        t = norm(text)
        found = {m.group(0) for m in HANDLING.finditer(t)}
        return len(found) >= 2 or bool(re.search(r"(paling (?:lama|lambat)|maksimal|within) \d+", t) and found)


@rule
class ComplaintChannelPublished(Rule):
    """Sarana pengaduan.

    Looks for: a channel a citizen can use: a link to lapor.go.id (SP4N-LAPOR!), a WhatsApp
    number or wa.me link, a phone or e-mail labelled for complaints, an online complaint form, a
    stated kotak saran/pengaduan.
    Why: UU 25/2009 Pasal 36; Perpres 76/2013 (SP4N-LAPOR!).
    Evidence: the link (kind link) or the labelled line.
    Limits: a general contact number not labelled for complaints, share buttons and an empty
    "Pengaduan" menu page are not channels.
    """

    id = "complaint_channel"
    title = "Sarana pengaduan"
    short = "Sarana pengaduan"
    basis = "UU 25/2009 Pasal 36; Perpres 76/2013 (SP4N-LAPOR!)"
    weight = 10
    regions = ("main", "header", "footer", "aside", "nav")

    def inspect(self, doc: Document, ctx: Context) -> Iterator[Hit]:
        page_is_complaint = bool(COMPLAINT.search(ctx.h1) or COMPLAINT.search(ctx.title.split(" - ")[0]))
        for link in doc.links:
            lowered = link.url.lower()
            # only mailto: and the hosts of LAPOR_HOSTS and WA_HOSTS are channels by themselves (compared
            # exactly below); `in` written out: a generator over the hosts cost twice as much per link
            if not (lowered.startswith("mailto:") or "lapor.go.id" in lowered or "wa.me" in lowered
                    or "whatsapp.com" in lowered or "wa.link" in lowered):
                continue
            host = (urlparse(link.url).hostname or "").lower()
            label = norm(link.text)
            if SHARE.search(link.url):
                continue
            if any(host == h or host.endswith("." + h) for h in LAPOR_HOSTS):
                yield self._link_hit(doc, link.text or "SP4N-LAPOR!", link.url, link.region, 0.95)
            elif any(host == h for h in WA_HOSTS) and (COMPLAINT.search(label) or page_is_complaint):
                yield self._link_hit(doc, link.text or "WhatsApp", link.url, link.region, 0.9)
            elif link.url.startswith("mailto:") and COMPLAINT.search(label + " " + link.url.lower()):
                yield self._link_hit(doc, link.text, link.url, link.region, 0.85)
        if ctx.news and not page_is_complaint:
            regions: tuple[str, ...] = ("header", "footer", "aside")
        else:
            regions = self.regions
        for line in lines(doc, regions):
            t = line.norm
            if not COMPLAINT.search(t) or line_excluded(line):
                continue
            if "lapor.go.id" in t or (re.search(r"\bsms\s*1708\b|sp4n-?lapor", t) and PHONE.search(t)):
                yield self.hit(doc, line.block, line.text, 0.9)
            elif (PHONE.search(t) or EMAIL.search(t)) and len(t) < 400:
                yield self.hit(doc, line.block, line.text, 0.85)
            elif re.search(r"kotak (?:saran|pengaduan)", t) and not ctx.news:
                yield self.hit(doc, line.block, line.text, 0.75)
        forms = doc.meta.get("forms") or []
        if page_is_complaint and not ctx.news and any(f.get("fields", 0) >= 2 and f.get("text") for f in forms):
            yield self.hit(doc, None, f"Formulir pengaduan daring: {ctx.h1 or ctx.title}", 0.8)

    def _link_hit(self, doc: Document, text: str, url: str, region: str, conf: float) -> Hit:
        h = self.hit(doc, None, f"{text} → {url}", conf, kind="link")
        h.locator = f"tautan ({region})" if region != "main" else "tautan"
        return h
