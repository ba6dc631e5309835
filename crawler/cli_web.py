"""`patuh serve`, `patuh users` and `patuh review`: the workbench and its terminal side.

Registered on the `main` group of ``crawler.cli`` when this module is imported (the last line
of ``crawler/cli.py`` does that). The terminal commands use the same rules and records as the
web UI (``crawler.web.workbench``): a decision taken here is the one the queue shows there.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from crawler.cli import DB_OPTION, main
from storage import reviews as rv
from storage.db import get_engine, resolve_url, session
from storage.models import User

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

ROLES = ("admin", "assessor", "agency")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "ya", "on")


# --------------------------------------------------------------------------- serve


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Alamat yang didengarkan.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--allow-private", is_flag=True, default=False,
              help="Izinkan pemeriksaan mandiri ke alamat privat/loopback/link-local (juga PATUH_ALLOW_PRIVATE=1).")
@click.option("--archive-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("data/archive"),
              show_default=True, help="Folder arsip WARC.")
@click.option("--screenshot-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("data/screenshots"), show_default=True, help="Folder tangkapan layar.")
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path), default=Path("data/web-secret.key"),
              show_default=True, help="Kunci penanda tangan sesi (dibuat bila belum ada; atau PATUH_SECRET_KEY).")
@click.option("--session-hours", type=click.FloatRange(0.05, 24 * 30), default=8.0, show_default=True,
              help="Umur sesi masuk (jam).")
@click.option("--check-max-pages", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="Batas halaman per pemeriksaan mandiri.")
@click.option("--check-render", type=click.Choice(["auto", "never"]), default="auto", show_default=True,
              help="Render JavaScript pada pemeriksaan mandiri.")
@click.option("--secure-cookies", is_flag=True, help="Kuki hanya lewat HTTPS (pasang di balik proksi TLS).")
@DB_OPTION
def serve(host: str, port: int, allow_private: bool, archive_dir: Path, screenshot_dir: Path, secret_file: Path,
          session_hours: float, check_max_pages: int, check_render: str, secure_cookies: bool,
          db: str | None) -> None:
    """Jalankan meja kerja web: dasbor, antrian telaah, bukti, periksa mandiri, laporan."""
    import uvicorn

    from crawler.web.app import WebConfig, create_app
    from crawler.web.security import load_secret

    db_url = resolve_url(db)
    allow = allow_private or _truthy(os.environ.get("PATUH_ALLOW_PRIVATE"))
    config = WebConfig(db_url=db_url, secret=load_secret(secret_file, os.environ.get("PATUH_SECRET_KEY")),
                       allow_private=allow, archive_dir=archive_dir, screenshot_dir=screenshot_dir,
                       work_dir=Path("data/web"), session_hours=session_hours, check_max_pages=check_max_pages,
                       check_render=check_render, secure_cookies=secure_cookies)
    app = create_app(config)
    with session(get_engine(db_url)) as s:
        if not rv.list_users(s):
            err.print("Belum ada pengguna. Buat dulu, mis.: "
                      "echo 'kata-sandi-kuat' | patuh users add admin --role admin")
    console.print(f"Patuh berjalan di http://{host}:{port}/ (Ctrl+C untuk berhenti)"
                  + ("; alamat privat diizinkan untuk periksa mandiri" if allow else ""), markup=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)


# --------------------------------------------------------------------------- users


def _read_password() -> str:
    if sys.stdin.isatty():
        return str(click.prompt("Kata sandi", hide_input=True, confirmation_prompt="Ulangi kata sandi"))
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@main.group()
def users() -> None:
    """Pengguna meja kerja web (kata sandi dibaca dari stdin)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="admin, assessor (penilai) atau agency (instansi).")
@click.option("--unit", "unit_urls", multiple=True, metavar="URL", help="URL unit milik instansi (boleh berulang).")
@click.option("--region", "regions", multiple=True, metavar="R",
              help="Kabupaten/kota atau provinsi yang dinilai penilai (boleh berulang).")
@DB_OPTION
def users_add(name: str, role: str, unit_urls: tuple[str, ...], regions: tuple[str, ...], db: str | None) -> None:
    """Tambah pengguna NAME; kata sandi dibaca dari stdin (baris pertama)."""
    from crawler.web.security import hash_password

    if role == "agency" and not unit_urls:
        raise click.UsageError("Pengguna instansi memerlukan sedikitnya satu --unit URL.")
    if role == "assessor" and not regions:
        raise click.UsageError("Penilai memerlukan sedikitnya satu --region.")
    if role != "agency" and unit_urls:
        raise click.UsageError("--unit hanya untuk peran agency.")
    if role != "assessor" and regions:
        raise click.UsageError("--region hanya untuk peran assessor.")
    try:
        password_hash = hash_password(_read_password())
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    with session(get_engine(db)) as s:
        try:
            user = rv.add_user(s, name=name, password_hash=password_hash, role=role, regions=regions,
                               unit_urls=unit_urls)
        except ValueError as exc:
            raise click.UsageError(f"Pengguna {name!r} sudah ada.") from exc
        known = {u.url.rstrip("/") for u in rv.all_units(s)}
    console.print(f"Pengguna {user.name} ({role}) dibuat.", markup=False)
    for url in unit_urls:
        if url.strip().rstrip("/") not in known:
            err.print(f"Catatan: {url} belum terdaftar sebagai unit (patuh units import).", markup=False)


@users.command("list")
@DB_OPTION
def users_list(db: str | None) -> None:
    """Tampilkan pengguna."""
    with session(get_engine(db)) as s:
        rows = rv.list_users(s)
    table = Table("Nama", "Peran", "Aktif", "Wilayah / unit", "Dibuat")
    for u in rows:
        scope = ", ".join(rv.user_regions(u) if u.role == "assessor" else rv.user_unit_urls(u)) or "semua"
        table.add_row(Text(u.name), u.role, "ya" if u.active else "tidak", Text(scope), f"{u.created_at:%Y-%m-%d}")
    console.print(table)


def _user(s: object, name: str) -> User:
    user = rv.get_user_by_name(s, name)  # type: ignore[arg-type]
    if user is None or user.id is None:
        raise click.UsageError(f"Pengguna {name!r} tidak ada.")
    return user


@users.command("passwd")
@click.argument("name")
@DB_OPTION
def users_passwd(name: str, db: str | None) -> None:
    """Ganti kata sandi NAME (dibaca dari stdin); sesi yang ada berakhir."""
    from crawler.web.security import hash_password

    try:
        password_hash = hash_password(_read_password())
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    with session(get_engine(db)) as s:
        rv.update_user(s, int(_user(s, name).id or 0), password_hash=password_hash)
    console.print(f"Kata sandi {name} diganti.", markup=False)


@users.command("disable")
@click.argument("name")
@DB_OPTION
def users_disable(name: str, db: str | None) -> None:
    """Nonaktifkan NAME (keputusannya tetap tercatat); sesi yang ada berakhir."""
    with session(get_engine(db)) as s:
        rv.update_user(s, int(_user(s, name).id or 0), active=False)
    console.print(f"Pengguna {name} dinonaktifkan.", markup=False)


@users.command("enable")
@click.argument("name")
@DB_OPTION
def users_enable(name: str, db: str | None) -> None:
    """Aktifkan kembali NAME."""
    with session(get_engine(db)) as s:
        rv.update_user(s, int(_user(s, name).id or 0), active=True)
    console.print(f"Pengguna {name} diaktifkan.", markup=False)


# --------------------------------------------------------------------------- review

AS_OPTION = click.option("--as", "as_name", default=lambda: os.environ.get("PATUH_USER"), metavar="NAME",
                         help="Bertindak sebagai pengguna ini (bawaan: PATUH_USER); wewenangnya berlaku.")


def _actor(s: object, as_name: str | None, required: bool) -> User | None:
    if not as_name:
        if required:
            raise click.UsageError("Sebutkan penilai dengan --as NAMA (atau PATUH_USER).")
        return None
    user = _user(s, as_name)
    if not user.active:
        raise click.UsageError(f"Pengguna {as_name!r} tidak aktif.")
    return user


@main.group()
def review() -> None:
    """Antrian telaah di terminal: daftar, rincian, konfirmasi, koreksi."""


@review.command("list")
@click.option("--region", default=None, help="Kabupaten/kota atau provinsi.")
@click.option("--kind", default=None, help="Jenis unit.")
@click.option("--indicator", default=None, help="Id indikator (lihat `patuh rules`).")
@click.option("--status", "status", type=click.Choice(["", "absent", "low", "changed", "unknown", "all"]), default="",
              help="Kosong: tidak ada + keyakinan rendah.")
@click.option("--sort", "sort", type=click.Choice(["dampak", "keyakinan", "unit"]), default="dampak",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Keluaran JSON.")
@AS_OPTION
@DB_OPTION
def review_list(region: str | None, kind: str | None, indicator: str | None, status: str, sort: str, as_json: bool,
                as_name: str | None, db: str | None) -> None:
    """Temuan yang menunggu telaah, diurutkan menurut dampak."""
    from crawler.web import workbench as wb

    with session(get_engine(db)) as s:
        actor = _actor(s, as_name, required=False)
        scope = wb.Scope(actor)
        if actor is not None and not scope.reviews:
            raise click.UsageError("Antrian telaah hanya untuk penilai dan admin.")
        items = wb.build_queue(s, scope, region=region, kind=kind, indicator=indicator, status=status, sort=sort)
        rows = [wb.as_json(q) for q in items]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("Temuan", "Unit", "Indikator", "Status", "Keyakinan", "Alasan", "Dampak")
    for r in rows:
        impact = f"{r['impact_points']:.1f} poin" + (f", predikat → {r['grade_after']}" if r["changes_grade"] else "")
        table.add_row(str(r["finding_id"]), Text(f"{r['unit']}\n{r['region']}"), Text(r["title"]),
                      wb.STATUS_ID[r["status"]], f"{r['confidence']:.2f}", ", ".join(r["reasons"]), impact)
    console.print(table)
    console.print(f"{len(rows)} temuan menunggu telaah.")


@review.command("show")
@click.argument("finding_id", type=int)
@AS_OPTION
@DB_OPTION
def review_show(finding_id: int, as_name: str | None, db: str | None) -> None:
    """Rincian temuan FINDING_ID: bukti, keputusan, riwayat."""
    from crawler.web import workbench as wb

    with session(get_engine(db)) as s:
        scope = wb.Scope(_actor(s, as_name, required=False))
        ctx = rv.finding_context(s, finding_id)
        if ctx is None or not scope.sees(ctx[2]):
            raise click.UsageError(f"Temuan #{finding_id} tidak ada (atau bukan wewenang Anda).")
        finding, visit, unit = ctx
        view = wb.build_views(s, [unit], visits={int(unit.id or 0): visit})[0]
        fv = next(f for f in view.findings if f.finding.id == finding_id)
        history = rv.unit_finding_history(s, int(unit.id or 0)).get(finding.indicator, [])
        decisions = rv.review_history(s, int(unit.id or 0), finding.indicator)
        current = rv.current_visits(s, [int(unit.id or 0)]).get(int(unit.id or 0))
    console.print(Text(f"Temuan #{finding_id}: {fv.title} — {unit.name} ({unit.region})", style="bold"))
    console.print(Text(f"Status mesin: {wb.STATUS_ID[finding.status]}, keyakinan {finding.confidence:.2f}, "
                       f"aturan {finding.rule_id} v{finding.rule_version}; sapuan #{visit.sweep_id}"
                       + ("" if current and current.id == visit.id else " (bukan pemeriksaan terbaru)")))
    if fv.review is not None:
        state = "berlaku" if fv.review_state == "applies" else "bukti berubah — tidak berlaku"
        console.print(Text(f"Keputusan: {wb.DECISION_ID[fv.review.decision]} → {wb.STATUS_ID[fv.review.status_after]}"
                           f" oleh {fv.reviewer} ({state}): {fv.review.note}"))
    console.print(Text(finding.summary or ""))
    for i, ev in enumerate(fv.evidence, 1):
        console.print(Text(f"[{i}] {ev.url} ({ev.kind}; {ev.locator})\n    “{ev.snippet}”\n    SHA-256 {ev.sha256}"))
    console.print(Text("Riwayat: " + " ".join(f"#{sid}:{wb.STATUS_ID[f.status]}" for sid, f in history)))
    for r, name in decisions:
        console.print(Text(f"  {r.created_at:%Y-%m-%d %H:%M} {name}: {wb.DECISION_ID[r.decision]} → "
                           f"{wb.STATUS_ID[r.status_after]} {r.note}" + (" (digantikan)" if r.superseded_at else "")))


def _decide(finding_id: int, decision: str, note: str, status_after: str | None, as_name: str | None,
            db: str | None) -> None:
    from crawler.web import workbench as wb

    with session(get_engine(db)) as s:
        actor = _actor(s, as_name, required=True)
        assert actor is not None
        try:
            review_row = wb.decide(s, actor, finding_id, decision, note, status_after)
        except (wb.NotFound, wb.NotAllowed, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
    console.print(f"Temuan #{finding_id}: {wb.DECISION_ID[review_row.decision]} → "
                  f"{wb.STATUS_ID[review_row.status_after]} (keputusan #{review_row.id}).", markup=False)


@review.command("confirm")
@click.argument("finding_id", type=int)
@click.option("--note", default="", help="Catatan.")
@AS_OPTION
@DB_OPTION
def review_confirm(finding_id: int, note: str, as_name: str | None, db: str | None) -> None:
    """Konfirmasi temuan FINDING_ID apa adanya."""
    _decide(finding_id, "confirm", note, None, as_name, db)


@review.command("overrule")
@click.argument("finding_id", type=int)
@click.option("--note", required=True, help="Alasan koreksi (wajib).")
@click.option("--status", "status_after", type=click.Choice(["present", "absent"]), default=None,
              help="Status yang benar (bawaan: kebalikan temuan; wajib untuk temuan 'tidak diketahui').")
@AS_OPTION
@DB_OPTION
def review_overrule(finding_id: int, note: str, status_after: str | None, as_name: str | None,
                    db: str | None) -> None:
    """Koreksi temuan FINDING_ID (ada ↔ tidak ada) dengan catatan."""
    _decide(finding_id, "overrule", note, status_after, as_name, db)


__all__ = ["review", "serve", "users"]
