"""The region's table as an Excel workbook (`patuh report --format xlsx`, and `/laporan.xlsx` of the web UI).

Three sheets: *Ringkasan* (one row per unit: score, grade, zone, missing items), *Temuan* (one
row per unit and indicator, with the first evidence link, snippet and hash, and the reviewer's
decision when the report carries one) and *Keterangan* (the bands and what the columns mean).

Scraped text is data, never a formula: every string cell is written as a string (an ``=`` at the
start does not make a formula), characters that XML cannot carry are dropped, and only
http(s) URLs become hyperlinks.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

STATUS_ID = {"present": "ada", "absent": "tidak ada", "unknown": "tidak diketahui"}
DECISION_ID = {"confirm": "dikonfirmasi", "overrule": "dikoreksi"}
ZONE_FILL = {"hijau": "E3F4E8", "kuning": "FFF3CF", "merah": "FDE6E6"}
MAX_CELL = 32_000  # Excel's limit is 32,767 characters per cell


def _text(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_CELL]
    return value


def _put(ws: Worksheet, row: int, col: int, value: Any, link: str | None = None) -> None:
    cell = ws.cell(row=row, column=col)
    value = _text(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    if link and link.lower().startswith(("http://", "https://")) and len(link) < 2000:
        cell.hyperlink = link
        cell.font = Font(color="0B5D8F", underline="single")


def _sheet(ws: Worksheet, header: list[str], rows: list[list[Any]], widths: list[int],
           links: dict[int, int] | None = None) -> None:
    """Fill a sheet: bold frozen header, autofilter; ``links`` maps a column to the column holding its URL."""
    for c, name in enumerate(header, 1):
        _put(ws, 1, c, name)
        ws.cell(row=1, column=c).font = Font(bold=True)
    for r, values in enumerate(rows, 2):
        for c, value in enumerate(values, 1):
            url_col = (links or {}).get(c)
            _put(ws, r, c, value, link=values[url_col - 1] if url_col else None)
    for c, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"


def render_xlsx(reports: list[dict[str, Any]], db: str | None = None) -> bytes:
    """The workbook of ``reports`` (``patuh.report/1`` objects, optionally annotated with reviews).

    With ``db`` (a database URL), the assessors' decisions stored there are added first
    (``crawler.web.workbench.annotate_stored_reports``), as the web UI's download has them.
    """
    if db is not None:
        from crawler.web.workbench import annotate_stored_reports
        from storage.db import get_engine, session

        with session(get_engine(db)) as s:
            reports = annotate_stored_reports(s, [dict(r) for r in reports])
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "Ringkasan"
    reviewed = any("reviewed_score" in r for r in reports)
    head = ["Nama", "Jenis", "Kabupaten/kota", "Provinsi", "URL", "Terjangkau", "Nilai", "Predikat", "Zona",
            "Belum ada", "Galat", "Sapuan", "Selesai"]
    if reviewed:
        head[7:7] = ["Nilai setelah telaah", "Predikat setelah telaah", "Zona setelah telaah"]
    rows: list[list[Any]] = []
    details: list[list[Any]] = []
    for r in reports:
        unit = r["unit"]
        missing_status = "reviewed_status" if reviewed else "status"
        missing = [f["title"] for f in r["findings"] if f.get(missing_status, f["status"]) == "absent"]
        row: list[Any] = [unit["name"], unit["kind"], unit["region"], unit.get("province") or "", unit["url"],
                          "ya" if r["reachable"] else "tidak", r["score"], r.get("grade") or "", r.get("zone") or "",
                          "; ".join(missing), r.get("error", ""), r["sweep"]["id"], r["sweep"].get("finished_at") or ""]
        if reviewed:
            row[7:7] = [r.get("reviewed_score"), r.get("reviewed_grade") or "", r.get("reviewed_zone") or ""]
        rows.append(row)
        for f in r["findings"]:
            ev = f["evidence"][0] if f["evidence"] else {}
            review = f.get("review") or {}
            line: list[Any] = [unit["name"], unit["region"], f["indicator"], f["title"], STATUS_ID.get(f["status"], ""),
                               f["confidence"], ev.get("url", ""), ev.get("locator", ""),
                               ev.get("snippet", "") or f.get("summary", ""), ev.get("sha256", ""),
                               ev.get("captured_at", "")]
            if reviewed:
                line += [STATUS_ID.get(f.get("reviewed_status", ""), ""),
                         DECISION_ID.get(review.get("decision", ""), "") +
                         ("" if not review or review.get("applies") else " (bukti berubah)"),
                         review.get("reviewer", ""), review.get("note", "")]
            details.append(line)
    widths = [42, 16, 24, 22, 34, 10, 8, 9, 9, 60, 24, 8, 20]
    if reviewed:
        widths[7:7] = [10, 10, 10]
    _sheet(summary, head, rows, widths, links={5: 5})
    zone_col = head.index("Zona") + 1
    for r_i in range(2, len(rows) + 2):
        zone = summary.cell(row=r_i, column=zone_col).value
        if isinstance(zone, str) and zone in ZONE_FILL:
            summary.cell(row=r_i, column=zone_col).fill = PatternFill("solid", fgColor=ZONE_FILL[zone])

    sheet = wb.create_sheet("Temuan")
    dhead = ["Unit", "Kabupaten/kota", "Id indikator", "Indikator", "Status", "Keyakinan", "URL bukti", "Letak",
             "Cuplikan / keterangan", "SHA-256", "Diambil"]
    dwidths = [36, 22, 18, 34, 12, 9, 40, 22, 70, 20, 20]
    if reviewed:
        dhead += ["Status setelah telaah", "Keputusan", "Penilai", "Catatan"]
        dwidths += [12, 16, 14, 40]
    _sheet(sheet, dhead, details, dwidths, links={7: 7})
    for row_cells in sheet.iter_rows(min_row=2, min_col=9, max_col=9):
        for cell in row_cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    notes = wb.create_sheet("Keterangan")
    legend = [
        ["Nilai", "Bagian berbobot dari indikator yang ada (0–100); indikator 'tidak diketahui' tidak dihitung."],
        ["Predikat A", "≥ 88 — Kualitas Tertinggi (zona hijau)"],
        ["Predikat B", "≥ 78 — Kualitas Tinggi (zona hijau)"],
        ["Predikat C", "≥ 54 — Kualitas Sedang (zona kuning)"],
        ["Predikat D", "≥ 32 — Kualitas Rendah (zona merah)"],
        ["Predikat E", "< 32 — Kualitas Terendah (zona merah)"],
        ["Tidak diketahui",
         "Situs tidak dapat dibaca (DNS, ditolak, waktu habis, HTTP 5xx, robots): bukan 'tidak ada'."],
        ["SHA-256", "Sidik isi halaman yang diambil; salinannya tersimpan di arsip WARC."],
    ]
    if reviewed:
        legend.append(["Setelah telaah", "Memakai keputusan penilai yang masih berlaku (bukti tidak berubah)."])
    _sheet(notes, ["Istilah", "Arti"], legend, [20, 100])

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["render_xlsx"]
