"""Hostile content stays inert: escaped in every page, archived copies never served as active HTML."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from tests.web.conftest import HOSTILE_NAME, Workspace, current_findings, evidence_ids, unit_id

RAW = ("<script>window.__pwned", "<img src=x onerror", '<img src="x" onerror', "onerror=\"window.__pwned")


def _assert_inert(html: str, where: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{where}: raw {raw!r} in the page"


def test_scraped_text_is_escaped_everywhere(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace)
    b.login("admin")
    uid = unit_id(workspace, "hostile")
    findings = current_findings(workspace, "hostile")
    hours_id = findings["opening_hours"][0]
    unit_page = b.client.get(f"/unit/{uid}").text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in unit_page  # the snippet is shown, as text
    assert "Dinas Uji &lt;img src=x onerror=" in unit_page  # the unit's name too
    pages = {
        "unit": unit_page,
        "dashboard": b.client.get("/").text,
        "queue": b.client.get("/antrian").text,
        "finding": b.client.get(f"/temuan/{hours_id}").text,
        "report": b.client.get("/laporan").text,
        "report.html": b.client.get("/laporan.html").text,
        "selfcheck": b.client.get("/periksa").text,
    }
    for where, html in pages.items():
        _assert_inert(html, where)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in pages["report.html"]


def test_templates_never_mark_text_safe() -> None:
    templates = Path(__file__).resolve().parents[2] / "crawler" / "web" / "templates"
    for path in templates.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe(?!_url)", text), path.name
        assert "autoescape false" not in text, path.name


def test_archived_copy_is_plain_text_in_a_sandbox(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace)
    b.login("admin")
    hours_id = current_findings(workspace, "hostile")["opening_hours"][0]
    eid = evidence_ids(workspace, hours_id)[0]
    r = b.client.get(f"/bukti/{eid}/arsip")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["content-security-policy"].startswith("sandbox")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script>window.__pwned = 4;</script>" in r.text  # the raw bytes, shown as text
    assert "SHA-256:" in r.text
    raw = b.client.get(f"/bukti/{eid}/arsip", params={"unduh": 1})
    assert raw.headers["content-type"] == "application/octet-stream"
    assert raw.headers["content-disposition"].startswith("attachment")
    import hashlib

    assert hashlib.sha256(raw.content).hexdigest() in r.text
    text = b.client.get(f"/bukti/{eid}/teks")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert "Jam pelayanan" in text.text


def test_xlsx_cells_are_strings_not_formulas(workspace: Workspace, make_client: Any) -> None:
    from openpyxl import load_workbook

    from crawler.report_xlsx import render_xlsx

    report = {
        "unit": {"name": "=HYPERLINK(\"http://evil\",\"klik\")", "kind": "opd", "region": "+1+1", "province": None,
                 "url": "javascript:alert(1)"},
        "sweep": {"id": 1, "finished_at": "2026-01-01T00:00:00Z"}, "reachable": True, "score": 50.0,
        "grade": "D", "zone": "merah",
        "findings": [{"indicator": "fees", "title": "Biaya/tarif pelayanan", "status": "present", "confidence": 0.9,
                      "summary": "", "evidence": [{"url": "http://127.0.0.1/x", "locator": "halaman",
                                                   "snippet": "=1+2\x01\x02", "sha256": "a" * 64,
                                                   "captured_at": "2026-01-01T00:00:00Z"}]}],
    }
    book = load_workbook(io.BytesIO(render_xlsx([report])))
    summary, details = book["Ringkasan"], book["Temuan"]
    assert summary["A2"].value == report["unit"]["name"] and summary["A2"].data_type == "s"
    assert summary["E2"].hyperlink is None  # only http(s) become links
    assert details["I2"].value == "=1+2" and details["I2"].data_type == "s"
    assert details["G2"].hyperlink is not None

    b = make_client(workspace)
    b.login("admin")
    r = b.client.get("/laporan.xlsx", params={"wilayah": "Kalimantan Barat"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    book = load_workbook(io.BytesIO(r.content))
    names = [row[0].value for row in book["Ringkasan"].iter_rows(min_row=2)]
    assert HOSTILE_NAME in names and "Dinas Dukcapil Kabupaten Melawi" in names and "UPTD Puskesmas Moru" not in names
    assert book["Ringkasan"]["A1"].value == "Nama" and "Status setelah telaah" in [c.value for c in book["Temuan"][1]]


def test_cli_report_xlsx(workspace: Workspace, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "laporan.xlsx"
    workspace.patuh("report", "--format", "xlsx", "--out", str(out))
    book = load_workbook(out)
    assert book.sheetnames == ["Ringkasan", "Temuan", "Keterangan"]
    assert book["Ringkasan"].max_row == 6  # header + 5 units
    assert book["Temuan"].max_row == 1 + 5 * 12
    assert "Status setelah telaah" in [c.value for c in book["Temuan"][1]]  # the decisions come along


def test_report_downloads(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace)
    b.login("admin")
    csv_text = b.client.get("/laporan.csv", params={"wilayah": "Kabupaten Alor"}).text
    assert csv_text.splitlines()[0].startswith("nama,") and "UPTD Puskesmas Moru" in csv_text
    assert len(csv_text.strip().splitlines()) == 2
    data = b.client.get("/laporan.json").json()
    assert all(r["schema"] == "patuh.report/1" and "reviewed_score" in r for r in data)
    html = b.client.get("/laporan.html")
    assert html.headers["content-disposition"].startswith("attachment")
    assert "@media print" in html.text and "<link" not in html.text  # self-contained, prints cleanly


def test_screenshots_are_served_only_from_their_folder(private_ws: Workspace, make_client: Any) -> None:
    import hashlib
    import sqlite3

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    sha = hashlib.sha256(png).hexdigest()
    shots = private_ws.root / "data" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    (shots / f"{sha}.png").write_bytes(png)
    (private_ws.root / "secret.png").write_bytes(b"not yours")
    hours_id = current_findings(private_ws, "hostile")["opening_hours"][0]
    good, bad = evidence_ids(private_ws, hours_id)[0], evidence_ids(private_ws, current_findings(
        private_ws, "hostile")["contact"][0])[0]
    con = sqlite3.connect(private_ws.root / "patuh.db")
    with con:
        con.execute("UPDATE evidence SET screenshot = ?, screenshot_sha256 = ? WHERE id = ?",
                    (f"data/screenshots/{sha}.png", sha, good))
        con.execute("UPDATE evidence SET screenshot = ? WHERE id = ?", ("../../secret.png", bad))
    con.close()
    b = make_client(private_ws)
    b.login("admin")
    r = b.client.get(f"/bukti/{good}/tangkapan")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content == png
    assert b.client.get(f"/bukti/{bad}/tangkapan").status_code == 404
    page = b.client.get(f"/unit/{unit_id(private_ws, 'hostile')}").text
    assert f'src="/bukti/{good}/tangkapan"' in page
