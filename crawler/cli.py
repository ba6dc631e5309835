"""The `patuh` command line (CONTRACT.md): check, units, sweep, recheck, report, rules.

Exit codes: 0 when the work ran, 2 for bad arguments, 3 when `check` could not reach the site.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from storage import repo
from storage.db import get_engine, resolve_url, session

console = Console(stderr=False, highlight=False)
err = Console(stderr=True, highlight=False)

DB_OPTION = click.option("--db", "db", default=None, metavar="URL",
                         help="Basis data (bawaan: PATUH_DATABASE_URL, atau sqlite:///./data/patuh.db).")


def _parse_overrides(pairs: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"harus NAMA=NILAI, bukan {pair!r}", param_hint="-s")
        key, value = pair.split("=", 1)
        out[key.strip()] = value
    return out


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=err, transient=True)


def _crawl(units: list[dict[str, str]], visits: dict[str, int], db: str, overrides: dict[str, Any],
           label: str, total_pages: int | None, sweep_id: int | None = None) -> None:
    import logging

    from rich.logging import RichHandler

    from crawler.runner import run_crawl

    level = str(overrides.get("LOG_LEVEL", "WARNING")).upper()
    handler = RichHandler(console=err, show_path=False, markup=False)
    handler.setLevel(level)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    with _progress() as bar:
        if total_pages:  # one site: the bar counts pages against the budget
            task = bar.add_task(label, total=total_pages, info="")
        else:
            task = bar.add_task(label, total=len(units), info="")

        started = time.monotonic()

        def update(p: Any) -> None:
            rate = p.pages / max(time.monotonic() - started, 0.001)
            info = f"{p.pages} halaman, {p.errors} galat, {rate:.1f} halaman/detik"
            if total_pages:
                bar.update(task, completed=min(p.pages, total_pages), info=info)
            else:
                bar.update(task, completed=p.units_done, info=info)

        run_crawl(units, visits, db, overrides, update, sweep_id=sweep_id)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Patuh: memeriksa apakah situs unit pelayanan publik memuat informasi yang diwajibkan UU 25/2009."""


@main.command()
@click.argument("url")
@click.option("--kind", default=None, help="Jenis unit (puskesmas, dinas_kesehatan, dukcapil, ...).")
@click.option("--name", default=None, help="Nama unit.")
@click.option("--region", default=None, help="Kabupaten/kota.")
@click.option("--json", "json_out", default=None, metavar="PATH|-", help="Tulis laporan JSON (patuh.report/1).")
@click.option("--html", "html_out", default=None, metavar="PATH", help="Tulis laporan HTML.")
@click.option("--max-pages", type=click.IntRange(1, 100_000), default=None, help="Batas halaman (bawaan 150).")
@click.option("--render", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Render JavaScript di Chromium: auto = hanya halaman yang memerlukannya.")
@click.option("-s", "overrides", multiple=True, metavar="NAME=VALUE", help="Ubah satu setelan Scrapy/Patuh.")
@DB_OPTION
def check(url: str, kind: str | None, name: str | None, region: str | None, json_out: str | None,
          html_out: str | None, max_pages: int | None, render: str, overrides: tuple[str, ...], db: str | None) -> None:
    """Periksa satu situs sekarang dan cetak daftar periksanya."""
    from crawler.report import print_checklist, unit_report
    from crawler.units_io import KINDS, validate_url

    if problem := validate_url(url):
        raise click.BadParameter(problem, param_hint="URL")
    if kind and kind not in KINDS:
        raise click.BadParameter(f"pilihan: {', '.join(sorted(KINDS))}", param_hint="--kind")
    settings = _parse_overrides(overrides)
    settings.setdefault("PATUH_RENDER", render)
    if max_pages:
        settings["PATUH_MAX_PAGES_PER_SITE"] = max_pages
    db_url = resolve_url(db)
    engine = get_engine(db_url)
    with session(engine) as s:
        existing = repo.get_unit_by_url(s, url)
        host = urlparse(url).hostname or url
        unit, _ = repo.upsert_unit(
            s, name=name or (existing.name if existing else host), kind=kind or (existing.kind if existing else "opd"),
            region=region or (existing.region if existing else "-"), url=url,
            province=existing.province if existing else None)
        sweep = repo.create_sweep(s, "check", {"url": url, **settings})
        assert unit.id is not None and sweep.id is not None
        visit = repo.start_visit(s, sweep.id, unit.id)
        assert visit.id is not None
        unit_id, visit_id, sweep_id = unit.id, visit.id, sweep.id
    budget = int(settings.get("PATUH_MAX_PAGES_PER_SITE", 150))
    _crawl([{"key": str(unit_id), "url": url}], {str(unit_id): visit_id}, db_url, settings,
           f"Memeriksa {urlparse(url).netloc}", budget)
    with session(engine) as s:
        if not repo.findings_for_visit(s, visit_id):  # the crawl died before judging: say so, per indicator
            from crawler.items import UnitDone
            from crawler.pipelines import judge_visit

            failed = UnitDone(unit=str(unit_id), reachable=False, error="perayapan gagal (galat internal)",
                              https=False, pages_fetched=0, errors=1)
            judge_visit(s, visit_id, failed)
        sweep = repo.finish_sweep(s, sweep_id)
        stored_visit = repo.get_visit(s, visit_id)
        stored_unit = repo.get_unit(s, unit_id)
        assert stored_visit is not None and stored_unit is not None
        report = unit_report(s, sweep, stored_visit, stored_unit)
    if json_out == "-":
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    else:
        print_checklist(console, report)
        if json_out:
            Path(json_out).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    if html_out:
        from crawler.report import render_html

        Path(html_out).write_text(render_html([report]), encoding="utf-8")
    if not report["reachable"]:
        sys.exit(3)


@main.group()
def units() -> None:
    """Daftar unit pelayanan yang diperiksa."""


@units.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DB_OPTION
def units_import(file: Path, db: str | None) -> None:
    """Tambah atau perbarui unit dari CSV (kolom: name,kind,region,url[,province])."""
    from crawler.units_io import import_csv

    with session(get_engine(db)) as s:
        result = import_csv(s, file)
    for line, problem in result.errors or []:
        err.print(f"baris {line}: {problem} — dilewati")
    console.print(f"{result.added} unit ditambahkan, {result.updated} diperbarui, "
                  f"{len(result.errors or [])} baris dilewati.")


@units.command("list")
@click.option("--region", default=None)
@click.option("--kind", default=None)
@DB_OPTION
def units_list(region: str | None, kind: str | None, db: str | None) -> None:
    """Tampilkan unit terdaftar."""
    from rich.table import Table
    from rich.text import Text

    with session(get_engine(db)) as s:
        rows = repo.list_units(s, region=region, kind=kind)
    table = Table("ID", "Nama", "Jenis", "Wilayah", "URL")
    for u in rows:
        table.add_row(str(u.id), Text(u.name), u.kind, Text(u.region), Text(u.url))
    console.print(table)
    console.print(f"{len(rows)} unit.")


@main.command()
@click.option("--region", default=None)
@click.option("--kind", default=None)
@click.option("--limit", type=click.IntRange(1), default=None)
@click.option("--resume", is_flag=True, help="Lanjutkan sapuan terakhir yang terhenti.")
@click.option("--render", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Render JavaScript di Chromium: auto = hanya halaman yang memerlukannya.")
@click.option("-s", "overrides", multiple=True, metavar="NAME=VALUE", help="Ubah satu setelan Scrapy/Patuh.")
@DB_OPTION
def sweep(region: str | None, kind: str | None, limit: int | None, resume: bool, render: str,
          overrides: tuple[str, ...], db: str | None) -> None:
    """Periksa semua unit yang cocok dan simpan temuannya."""
    from crawler.locking import SweepLock

    settings = _parse_overrides(overrides)
    settings.setdefault("PATUH_RENDER", render)
    db_url = resolve_url(db)
    lock = SweepLock.for_database(db_url)
    if not lock.acquire():
        err.print(f"Sapuan lain sedang berjalan (kunci {lock.path}); sapuan ini tidak dimulai.")
        sys.exit(1)
    engine = get_engine(db_url)
    with session(engine) as s:
        sw = repo.latest_sweep(s, trigger="sweep") if resume else None
        if resume and (sw is None or sw.status == "finished"):
            err.print("Tidak ada sapuan yang terhenti; memulai sapuan baru.")
            sw = None
        if sw is None:
            sw = repo.create_sweep(s, "sweep", {"limit": limit, **settings}, region=region, kind=kind)
        else:
            region, kind = sw.filter_region, sw.filter_kind
            limit = json.loads(sw.params or "{}").get("limit")
        chosen = repo.list_units(s, region=region, kind=kind, limit=limit)
        done = {v.unit_id for v, _ in repo.visits_for_sweep(s, sw.id) if v.status in ("done", "failed")}  # type: ignore[arg-type]
        todo = [u for u in chosen if u.id not in done]
        visits = {str(u.id): int(repo.start_visit(s, sw.id, u.id).id or 0) for u in todo}  # type: ignore[arg-type]
        payload = [{"key": str(u.id), "url": u.url} for u in todo]
        sweep_id = sw.id
    console.print(f"Sapuan #{sweep_id}: {len(todo)} unit diperiksa ({len(chosen) - len(todo)} sudah selesai).")
    if payload:
        _crawl(payload, visits, db_url, settings, "Sapuan", None, sweep_id=sweep_id)
    with session(engine) as s:
        repo.finish_sweep(s, sweep_id)  # type: ignore[arg-type]
        results = repo.visits_for_sweep(s, sweep_id)  # type: ignore[arg-type]
    counts = Counter(v.status for v, _ in results)
    console.print(f"Sapuan #{sweep_id} selesai: {counts.get('done', 0)} unit dinilai, "
                  f"{counts.get('failed', 0)} tidak terjangkau.")


@main.command("schedule")
@click.option("--at", "at", required=True, metavar="HH:MM", help="Jam mulai sapuan setiap malam (waktu lokal).")
@click.option("--region", default=None)
@click.option("--kind", default=None)
@click.option("--log-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("data/logs"),
              show_default=True)
@click.option("--now", is_flag=True, help="Jalankan satu sapuan segera, lalu menunggu jadwal.")
@click.option("--once", is_flag=True, help="Jalankan satu sapuan segera lalu berhenti.")
@click.option("-s", "overrides", multiple=True, metavar="NAME=VALUE", help="Diteruskan ke setiap sapuan.")
@DB_OPTION
def schedule_cmd(at: str, region: str | None, kind: str | None, log_dir: Path, now: bool, once: bool,
                 overrides: tuple[str, ...], db: str | None) -> None:
    """Sapuan setiap malam pada jam yang ditentukan; tidak pernah dua sapuan sekaligus."""
    import re

    from crawler.scheduler import loop, run_sweep, sweep_command

    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
        raise click.BadParameter("harus HH:MM, mis. 01:00", param_hint="--at")
    extra = [x for pair in overrides for x in ("-s", pair)]
    cmd = sweep_command(db, region, kind, extra)

    def summarize() -> dict[str, Any]:
        with session(get_engine(db)) as s:
            sw = repo.latest_sweep(s, trigger="sweep")
            if sw is None:
                return {}
            visits = repo.visits_for_sweep(s, sw.id)  # type: ignore[arg-type]
            counts = Counter(v.status for v, _ in visits)
            return {"sweep": sw.id, "status": sw.status, "units": len(visits), "done": counts.get("done", 0),
                    "failed": counts.get("failed", 0)}

    def job() -> None:
        result = run_sweep(cmd, log_dir, summarize)
        click.echo(json.dumps(result, ensure_ascii=False))

    console.print(f"Sapuan terjadwal setiap hari pukul {at}; log di {log_dir}/. Hentikan dengan Ctrl+C.")
    try:
        loop(at, job, once=once, now=now)
    except KeyboardInterrupt:
        console.print("Penjadwal dihentikan.")


@main.command()
@click.option("--sweep", "sweep_ref", default="latest", show_default=True, help="ID sapuan atau 'latest'.")
@DB_OPTION
def recheck(sweep_ref: str, db: str | None) -> None:
    """Jalankan ulang aturan terkini atas dokumen tersimpan, tanpa merayap ulang."""
    from crawler.items import UnitDone
    from crawler.pipelines import judge_visit

    with session(get_engine(db)) as s:
        sw = _sweep(s, sweep_ref)
        n = 0
        for visit, _unit in repo.visits_for_sweep(s, sw.id):
            if visit.id is None or visit.status not in ("done", "failed"):
                continue
            done = UnitDone(unit=str(visit.unit_id), reachable=bool(visit.reachable), error=visit.error,
                            https=visit.https, pages_fetched=visit.pages_fetched, errors=visit.errors)
            judge_visit(s, visit.id, done)
            n += 1
    console.print(f"Sapuan #{sw.id}: {n} unit dinilai ulang dengan aturan terkini.")


def _sweep(s: Any, ref: str) -> Any:
    if ref == "latest":
        sw = repo.latest_sweep(s)
    elif ref.isdigit():
        sw = repo.get_sweep(s, int(ref))
    else:
        raise click.BadParameter("harus ID sapuan atau 'latest'", param_hint="--sweep")
    if sw is None:
        raise click.UsageError("Belum ada sapuan tersimpan. Jalankan `patuh check URL` atau `patuh sweep`.")
    return sw


@main.command()
@click.option("--sweep", "sweep_ref", default="latest", show_default=True)
@click.option("--region", default=None)
@click.option("--kind", default=None)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "html", "xlsx"]), default="table",
              show_default=True)
@click.option("--out", default=None, metavar="PATH", help="Tulis ke berkas, bukan ke layar.")
@click.option("--changes", is_flag=True, help="Indikator yang muncul atau hilang sejak sapuan sebelumnya.")
@DB_OPTION
def report(sweep_ref: str, region: str | None, kind: str | None, fmt: str, out: str | None, changes: bool,
           db: str | None) -> None:
    """Nilai, zona dan butir yang belum ada per unit."""
    from crawler.report import (
        changes_since_previous,
        render_changes,
        render_csv,
        render_html,
        render_table,
        sweep_reports,
    )

    with session(get_engine(db)) as s:
        sw = _sweep(s, sweep_ref)
        if changes:
            rows = changes_since_previous(s, sw, region, kind)
            text = render_changes(rows, fmt)
            if out:
                Path(out).write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
            return
        reports = sweep_reports(s, sw, region, kind)
        if fmt in ("json", "html", "xlsx"):  # the assessors' decisions in force, as new fields
            from crawler.web.workbench import annotate_stored_reports

            annotate_stored_reports(s, reports)
    if fmt == "table" and not out:
        console.print(f"Sapuan #{sw.id} ({sw.trigger}), {len(reports)} unit")
        render_table(console, reports)
        return
    if fmt == "xlsx":
        from crawler.report_xlsx import render_xlsx

        data = render_xlsx(reports, db=resolve_url(db))  # with the assessors' decisions
        if out:
            Path(out).write_bytes(data)
            err.print(f"Laporan ditulis ke {out}")
        else:
            sys.stdout.buffer.write(data)
        return
    if fmt == "json":
        text = json.dumps(reports, ensure_ascii=False, indent=2) + "\n"
    elif fmt == "csv":
        text = render_csv(reports)
    elif fmt == "html":
        text = render_html(reports)
    else:
        buf = Console(record=True, width=160)
        render_table(buf, reports)
        text = buf.export_text()
    if out:
        Path(out).write_text(text, encoding="utf-8")
        err.print(f"Laporan ditulis ke {out}")
    else:
        sys.stdout.write(text)


@main.group()
def evidence() -> None:
    """Bukti sebuah temuan: cuplikan, letak, salinan arsip dan tangkapan layar."""


@evidence.command("show")
@click.argument("finding_id", type=int)
@click.option("--extract", "extract_to", default=None, metavar="PATH",
              help="Tulis isi halaman yang diarsipkan (bukti pertama) ke berkas ini.")
@click.option("--archive-dir", default="data/archive", show_default=True)
@DB_OPTION
def evidence_show(finding_id: int, extract_to: str | None, archive_dir: str, db: str | None) -> None:
    """Tampilkan bukti temuan FINDING_ID (lihat `patuh report --format json`)."""
    from rich.text import Text

    from storage.archive import ArchiveError, WarcArchive

    with session(get_engine(db)) as s:
        found = repo.finding_with_evidence(s, finding_id)
    if found is None:
        raise click.UsageError(f"Temuan #{finding_id} tidak ada.")
    finding, rows = found
    console.print(Text(f"Temuan #{finding_id}: {finding.indicator} — {finding.status} "
                       f"(keyakinan {finding.confidence:.2f}, aturan {finding.rule_id} v{finding.rule_version})"))
    console.print(Text(finding.summary or ""))
    for i, (ev, page) in enumerate(rows, 1):
        console.print(Text(f"\n[{i}] {ev.url}  ({ev.kind}; {ev.locator})", style="bold"))
        console.print(Text(f"    “{ev.snippet}”"))
        console.print(Text(f"    SHA-256 {ev.sha256}; diambil {ev.captured_at:%Y-%m-%d %H:%M:%S} UTC"))
        if page is not None and page.warc_record:
            console.print(Text(f"    arsip WARC: {archive_dir}/{page.warc_record}"))
        if ev.screenshot:
            console.print(Text(f"    tangkapan layar: {ev.screenshot} (SHA-256 {ev.screenshot_sha256})"))
    if extract_to:
        page = next((p for _, p in rows if p is not None and p.warc_record), None)
        if page is None or page.warc_record is None:
            raise click.UsageError("Bukti ini tidak punya salinan di arsip.")
        try:
            record = WarcArchive(archive_dir).read_record(page.warc_record, resolve=True)
        except (ArchiveError, OSError, ValueError) as exc:
            raise click.ClickException(f"Arsip tidak dapat dibaca: {exc}") from exc
        expected = next((ev.sha256 for ev, p in rows if p is page), "")
        if expected and record.sha256 != expected:
            err.print(f"Peringatan: SHA-256 arsip ({record.sha256}) berbeda dari bukti ({expected}).")
        Path(extract_to).write_bytes(record.body)
        console.print(f"{len(record.body)} bita dari {record.url} ditulis ke {extract_to} "
                      f"(SHA-256 {record.sha256}).", markup=False)


@main.command()
@click.option("--markdown", is_flag=True, help="Katalog aturan dalam Markdown.")
def rules(markdown: bool) -> None:
    """Katalog aturan: id, judul, dasar hukum, bobot, versi."""
    import inspect

    from checks.rules.base import enabled_rules

    for r in enabled_rules():
        if markdown:
            console.print(f"## `{r.id}` — {r.title}\n\n*Dasar hukum:* {r.basis} · *bobot* {r.weight} · "
                          f"*versi* {r.version}\n\n{inspect.getdoc(r)}\n", markup=False)
        else:
            console.print(f"{r.id:20} {r.weight:>4}  v{r.version}  {r.title}", markup=False)


if __name__ == "__main__":
    main()

from crawler import cli_web  # noqa: E402,F401  (registers serve, users, review)
