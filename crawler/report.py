"""Reports built from storage: the `patuh.report/1` JSON object, the checklist and tables.

Everything a person reads here is Indonesian; scraped text is passed through as data (JSON,
CSV) or printed with markup disabled, never interpreted.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from checks.judge import grade
from storage import repo
from storage.models import Sweep, Unit, Visit

SCHEMA = "patuh.report/1"
STATUS_ID = {"present": "ada", "absent": "tidak ada", "unknown": "tidak diketahui"}
STATUS_MARK = {"present": "[green]✔ ada[/]", "absent": "[red]✘ tidak ada[/]", "unknown": "[yellow]? tidak diketahui[/]"}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def unit_report(s: Any, sweep: Sweep, visit: Visit, unit: Unit) -> dict[str, Any]:
    """One unit's report object, exactly as CONTRACT.md describes it."""
    findings = []
    for finding, evidence in repo.findings_for_visit(s, visit.id):  # type: ignore[arg-type]
        findings.append({
            "id": finding.id,
            "indicator": finding.indicator,
            "title": _title(finding.indicator),
            "status": finding.status,
            "confidence": finding.confidence,
            "rule": {"id": finding.rule_id, "version": finding.rule_version},
            "summary": finding.summary,
            "evidence": [{
                "url": e.url, "kind": e.kind, "locator": e.locator, "snippet": e.snippet, "sha256": e.sha256,
                "captured_at": _iso(e.captured_at),
                **({"screenshot": e.screenshot, "screenshot_sha256": e.screenshot_sha256} if e.screenshot else {}),
            } for e in evidence],
        })
    g, label, zone = grade(visit.score)
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "unit": {"name": unit.name, "kind": unit.kind, "region": unit.region, "province": unit.province,
                 "url": unit.url},
        "sweep": {"id": sweep.id, "started_at": _iso(visit.started_at or sweep.started_at),
                  "finished_at": _iso(visit.finished_at), "pages_fetched": visit.pages_fetched,
                  "documents": json.loads(visit.documents or "{}"), "errors": visit.errors},
        "reachable": bool(visit.reachable),
        "https": bool(visit.https),
        "score": visit.score,
        "grade": g,
        "grade_label": label,
        "zone": zone,
        "findings": findings,
    }
    if not visit.reachable:
        report["error"] = visit.error or "tidak diketahui"
    return report


def _title(indicator: str) -> str:
    from checks.rules.base import RULES, enabled_rules

    enabled_rules()
    r = RULES.get(indicator)
    return r.title if r else indicator


def _short(indicator: str) -> str:
    from checks.rules.base import RULES, enabled_rules

    enabled_rules()
    r = RULES.get(indicator)
    return (r.short or r.title) if r else indicator


def sweep_reports(s: Any, sweep: Sweep, region: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    return [unit_report(s, sweep, v, u) for v, u in repo.visits_for_sweep(s, sweep.id, region, kind)]  # type: ignore[arg-type]


def print_checklist(console: Console, report: dict[str, Any]) -> None:
    unit = report["unit"]
    console.print()
    console.print(Text(f"{unit['name']} — {unit['url']}", style="bold"))
    if not report["reachable"]:
        console.print(Text(f"Situs tidak dapat dibaca: {report.get('error')}. Semua indikator: tidak diketahui.",
                           style="yellow"))
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("Indikator")
    table.add_column("Status")
    table.add_column("Bukti / keterangan", overflow="fold", max_width=70)
    for f in report["findings"]:
        if f["evidence"]:
            ev = f["evidence"][0]
            note = Text(f"{ev['url']} ({ev['locator']})\n“{ev['snippet'][:160]}”")
        else:
            note = Text(f["summary"], style="dim")
        table.add_row(Text(f["title"]), STATUS_MARK[f["status"]], note)
    console.print(table)
    sweep = report["sweep"]
    docs = ", ".join(f"{n} {k}" for k, n in sorted(sweep["documents"].items())) or "0"
    console.print(f"Halaman diambil: {sweep['pages_fetched']} (dokumen: {docs}); galat: {sweep['errors']}")
    if report["score"] is not None:
        zone = report["zone"]
        color = {"hijau": "green", "kuning": "yellow", "merah": "red"}.get(zone or "", "white")
        console.print(f"Nilai: [bold]{report['score']:.1f}[/] — {report['grade']} ({report['grade_label']}), "
                      f"zona [bold {color}]{zone}[/]")


def table_rows(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for r in reports:
        missing = [_short(f["indicator"]) for f in r["findings"] if f["status"] == "absent"]
        rows.append({
            "nama": r["unit"]["name"], "jenis": r["unit"]["kind"], "wilayah": r["unit"]["region"],
            "url": r["unit"]["url"], "terjangkau": "ya" if r["reachable"] else "tidak",
            "nilai": "" if r["score"] is None else f"{r['score']:.1f}", "predikat": r["grade"] or "",
            "zona": r["zone"] or "", "belum_ada": ", ".join(missing), "galat": r.get("error", ""),
        })
    return rows


def render_table(console: Console, reports: list[dict[str, Any]]) -> None:
    table = Table(show_header=True, header_style="bold")
    for col in ("Unit", "Wilayah", "Nilai", "Predikat", "Zona", "Belum ada"):
        table.add_column(col, overflow="fold")
    for row in table_rows(reports):
        table.add_row(Text(row["nama"]), Text(row["wilayah"]), row["nilai"] or "-", row["predikat"] or "-",
                      row["zona"] or ("tidak terjangkau: " + row["galat"] if row["galat"] else "-"),
                      Text(row["belum_ada"]))
    console.print(table)


def _cell(value: Any) -> Any:
    # a cell starting with = + - @ would run as a formula in a spreadsheet
    return "'" + value if isinstance(value, str) and value[:1] and value[0] in "=+-@" else value


def render_csv(reports: list[dict[str, Any]]) -> str:
    rows = table_rows(reports)
    out = io.StringIO()
    fields = ["nama", "jenis", "wilayah", "url", "terjangkau", "nilai", "predikat", "zona", "belum_ada", "galat"]
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def render_html(reports: list[dict[str, Any]]) -> str:
    """A self-contained HTML report that prints cleanly; every scraped string is escaped."""
    from html import escape

    parts = ["<!doctype html><html lang='id'><head><meta charset='utf-8'><title>Laporan Patuh</title>",
             "<style>body{font-family:sans-serif;max-width:60rem;margin:auto}table{border-collapse:collapse;"
             "width:100%}td,th{border:1px solid #ccc;padding:.3rem;vertical-align:top;text-align:left}"
             ".present{color:#16651f}.absent{color:#a11}.unknown{color:#8a6d00}"
             "@media print{body{max-width:none;font-size:10pt}h2{break-before:page}h2:first-of-type{break-before:auto}"
             "tr{break-inside:avoid}a{color:inherit;text-decoration:none}}</style></head><body>",
             "<h1>Laporan kepatuhan informasi pelayanan publik</h1>"]
    for r in reports:
        u = r["unit"]
        parts.append(f"<h2>{escape(u['name'])}</h2><p><a href='{escape(u['url'])}'>{escape(u['url'])}</a> · "
                     f"{escape(u['region'] or '')} · nilai {r['score'] if r['score'] is not None else '-'} · "
                     f"zona {escape(r['zone'] or '-')}</p>")
        if not r["reachable"]:
            parts.append(f"<p class='unknown'>Situs tidak dapat dibaca: {escape(r.get('error') or '')}</p>")
        if r.get("reviewed_score") is not None and r.get("reviewed_score") != r["score"]:
            parts.append(f"<p>Setelah telaah penilai: nilai {r['reviewed_score']} · zona "
                         f"{escape(str(r.get('reviewed_zone') or '-'))}</p>")
        parts.append("<table><tr><th>Indikator</th><th>Status</th><th>Bukti</th></tr>")
        for f in r["findings"]:
            ev = "".join(f"<div><a href='{escape(e['url'])}'>{escape(e['url'])}</a> ({escape(e['locator'])})"
                         f"<br><q>{escape(e['snippet'])}</q></div>" for e in f["evidence"][:2])
            review = f.get("review")
            note = (f"<br><small>telaah: {escape(str(review['decision']))} → {escape(str(review['status_after']))}"
                    f" — {escape(str(review.get('note') or ''))}</small>") if review and review.get("applies") else ""
            parts.append(f"<tr><td>{escape(f['title'])}</td><td class='{f['status']}'>"
                         f"{STATUS_ID[f['status']]}{note}</td><td>{ev or escape(f['summary'])}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def changes_since_previous(s: Any, sweep: Sweep, region: str | None = None,
                           kind: str | None = None) -> list[dict[str, Any]]:
    """Per unit, the indicators that appeared (present now, not before) or disappeared."""
    out = []
    for visit, unit in repo.visits_for_sweep(s, sweep.id, region, kind):  # type: ignore[arg-type]
        before = repo.previous_visit(s, unit.id, sweep.id)  # type: ignore[arg-type]
        now = {f.indicator: f.status for f, _ in repo.findings_for_visit(s, visit.id)}  # type: ignore[arg-type]
        then = ({f.indicator: f.status for f, _ in repo.findings_for_visit(s, before.id)}
                if before and before.id else {})
        appeared = [i for i, st in now.items() if st == "present" and then.get(i) == "absent"]
        disappeared = [i for i, st in now.items() if st == "absent" and then.get(i) == "present"]
        out.append({"unit": unit.name, "url": unit.url, "region": unit.region, "sweep": sweep.id,
                    "previous_sweep": before.sweep_id if before else None, "appeared": appeared,
                    "disappeared": disappeared, "score": visit.score,
                    "previous_score": before.score if before else None})
    return out


def render_changes(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["nama", "url", "wilayah", "sapuan_sebelumnya", "muncul", "hilang", "nilai",
                         "nilai_sebelumnya"])
        for r in rows:
            writer.writerow([_cell(r["unit"]), r["url"], _cell(r["region"]), r["previous_sweep"] or "",
                             " ".join(r["appeared"]), " ".join(r["disappeared"]), r["score"], r["previous_score"]])
        return buf.getvalue()
    lines = []
    for r in rows:
        if r["previous_sweep"] is None:
            lines.append(f"{r['unit']}: belum ada sapuan sebelumnya")
            continue
        parts = []
        if r["appeared"]:
            parts.append("muncul: " + ", ".join(_short(i) for i in r["appeared"]))
        if r["disappeared"]:
            parts.append("hilang: " + ", ".join(_short(i) for i in r["disappeared"]))
        change = "; ".join(parts) or "tidak berubah"
        lines.append(f"{r['unit']} (sapuan #{r['previous_sweep']} → #{r['sweep']}): {change}")
    return "\n".join(lines) + "\n"
