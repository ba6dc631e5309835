"""The web workbench of Patuh (`patuh serve`): FastAPI, server-rendered Jinja2, a few lines of JS.

Pages (Indonesian paths, like everything a person reads):

| path | who | what |
|---|---|---|
| ``/masuk``, ``/keluar`` | everyone | sign in (rate-limited) / out |
| ``/`` | signed in | dashboard: province → kabupaten/kota → unit, trend, most missing items |
| ``/unit/{id}`` | in scope | checklist, evidence, screenshots, history per indicator, decisions |
| ``/temuan/{id}`` | in scope | one finding: evidence, history, the confirm/overrule form |
| ``/temuan/{id}/keputusan`` (POST) | assessor, admin | confirm or overrule |
| ``/antrian`` | assessor, admin | the review queue, filtered and sorted by impact |
| ``/bukti/{id}/arsip`` | in scope | the archived bytes, as ``text/plain`` under ``CSP: sandbox`` (never active HTML) |
| ``/bukti/{id}/teks`` | in scope | the text extracted from that page |
| ``/bukti/{id}/tangkapan`` | in scope | the screenshot (PNG) |
| ``/periksa`` | signed in | self-check: enter a URL or pick a unit, watch it run |
| ``/laporan`` (+ ``.csv``/``.json``/``.xlsx``/``.html``) | signed in | the report of the units in scope |

Security: every route that names a unit, finding or evidence row checks the user's scope on the
server (404 for a unit outside it); every POST carries a CSRF token bound to the browser session
(403 without it); Jinja2 autoescapes everything and no template marks scraped text safe; every
response carries a strict Content-Security-Policy (scripts only from ``/static``).
"""

import json
import re
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from checks.judge import BANDS_2022
from crawler.web import charts, security
from crawler.web import workbench as wb
from crawler.web.selfcheck import SelfChecks
from storage import repo
from storage import reviews as rv
from storage.db import get_engine, session
from storage.models import User

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "patuh_sesi"
PRE_COOKIE = "patuh_pra"
FLASH_COOKIE = "patuh_pesan"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
ARCHIVE_CSP = "sandbox; default-src 'none'"
_SHOT_NAME = re.compile(r"^[0-9a-f]{64}\.png$")
_TEXT_TYPES = ("text/", "application/xhtml", "application/xml", "application/json", "application/javascript")
ERROR_TITLES = {400: "Permintaan tidak sah", 403: "Akses ditolak", 404: "Tidak ditemukan",
                405: "Metode tidak diizinkan", 409: "Konflik", 429: "Terlalu banyak percobaan",
                500: "Terjadi galat"}


@dataclass
class WebConfig:
    """How one `patuh serve` runs."""

    db_url: str
    secret: bytes
    allow_private: bool = False
    archive_dir: Path = Path("data/archive")
    screenshot_dir: Path = Path("data/screenshots")
    work_dir: Path = Path("data/web")
    session_hours: float = 8.0
    check_max_pages: int = 100
    check_render: str = "auto"
    secure_cookies: bool = False
    login_limit: int = 5
    login_window: float = 300.0
    check_cwd: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class LoginRequired(Exception):
    """The page needs a signed-in user."""


# --------------------------------------------------------------------------- helpers for templates


def safe_url(value: str | None) -> str:
    """``value`` when it is an http(s) URL, else "#" (no ``javascript:`` or ``data:`` link from scraped text)."""
    if not value:
        return "#"
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return "#"
    return value.strip() if scheme in ("http", "https") else "#"


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` when it is a path on this site (no open redirect), else ``default``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return default
    return value


def fmt_score(value: float | None) -> str:
    """A score the Indonesian way (comma decimals), or "–"."""
    return "–" if value is None else f"{value:.1f}".replace(".", ",")


def fmt_time(value: datetime | None) -> str:
    """A UTC time as ``dd-mm-yyyy HH:MM UTC``."""
    return "–" if value is None else value.astimezone(UTC).strftime("%d-%m-%Y %H:%M UTC")


def make_env() -> Environment:
    """The Jinja2 environment: autoescape on for every template, filters for dates, scores, links."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(safe_url=safe_url, score=fmt_score, time=fmt_time,
                       status_id=lambda s: wb.STATUS_ID.get(s or "", s or "–"),
                       decision_id=lambda d: wb.DECISION_ID.get(d or "", d or ""),
                       role_id=lambda r: wb.ROLE_ID.get(r or "", r or ""),
                       pct=lambda v: f"{round(100 * float(v or 0))}%")
    env.globals.update(bands=BANDS_2022, trend=charts.trend, queue_statuses=wb.QUEUE_STATUSES,
                       queue_sorts=wb.QUEUE_SORTS)
    return env


# --------------------------------------------------------------------------- the application


def create_app(config: WebConfig) -> FastAPI:
    """The workbench application for ``config``."""
    engine = get_engine(config.db_url)
    signer = security.CookieSigner(config.secret)
    env = make_env()
    checks = SelfChecks(config.db_url, config.work_dir, config.check_max_pages, config.check_render,
                        cwd=config.check_cwd, archive_dir=config.archive_dir, screenshot_dir=config.screenshot_dir,
                        allow_private=config.allow_private)
    session_age = config.session_hours * 3600

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        with session(engine) as s:
            rv.purge_expired(s, attempts_before=datetime.now(UTC) - timedelta(days=1))
        yield
        checks.stop_all()

    # ------------------------------------------------------------------ request state

    def current(request: Request) -> tuple[User | None, str | None]:
        """The signed-in user and their session token (cached on the request)."""
        if hasattr(request.state, "user"):
            return request.state.user, request.state.token
        user, token = None, signer.unsign(request.cookies.get(SESSION_COOKIE), session_age)
        if token:
            with session(engine) as s:
                found = rv.get_login_session(s, security.token_sha256(token))
            user = found[1] if found else None
            token = token if found else None
        request.state.user, request.state.token = user, token
        return user, token

    def binding(request: Request) -> str:
        """What this browser's CSRF token is bound to: the session, else the pre-session cookie."""
        _, token = current(request)
        return token or request.state.pre

    def require_user(request: Request) -> User:
        user, _ = current(request)
        if user is None:
            raise LoginRequired()
        return user

    CurrentUser = Annotated[User, Depends(require_user)]

    async def csrf_guard(request: Request) -> None:
        """Every POST must carry the CSRF token of this browser session (403 otherwise)."""
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        token = request.headers.get("x-csrf-token")
        if token is None:
            try:
                form = await request.form()
            except Exception:
                form = None
            value = form.get("csrf_token") if form is not None else None
            token = value if isinstance(value, str) else None
        if not signer.csrf_ok(binding(request), token):
            raise HTTPException(403, "Token formulir (CSRF) tidak ada atau tidak sah. "
                                     "Muat ulang halaman lalu coba lagi.")

    app = FastAPI(title="Patuh", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(csrf_guard)])
    app.state.config = config
    app.state.checks = checks
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def headers_and_pre_session(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                                      ) -> Response:
        pre = signer.unsign(request.cookies.get(PRE_COOKIE), 30 * 24 * 3600)
        fresh = pre is None
        request.state.pre = pre or security.new_token()
        response = await call_next(request)
        if fresh:
            response.set_cookie(PRE_COOKIE, signer.sign(request.state.pre), max_age=30 * 24 * 3600, httponly=True,
                                samesite="lax", secure=config.secure_cookies, path="/")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    def render(request: Request, template: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        user, _ = current(request)
        flash = signer.unsign(request.cookies.get(FLASH_COOKIE), 300)
        scope = wb.Scope(user) if user else None
        html = env.get_template(template).render(
            request=request, user=user, scope=scope, csrf=signer.csrf_token(binding(request)), flash=flash,
            path=request.url.path, **ctx)
        response = HTMLResponse(html, status_code=status_code)
        if flash:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response

    def redirect(url: str, message: str | None = None) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        if message:
            response.set_cookie(FLASH_COOKIE, signer.sign(message), max_age=300, httponly=True, samesite="lax",
                                secure=config.secure_cookies, path="/")
        return response

    # ------------------------------------------------------------------ errors

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/masuk?" + urlencode({"lanjut": target}), status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title = ERROR_TITLES.get(exc.status_code, "Galat")
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed") \
            else {404: "Halaman atau data yang Anda cari tidak ada, atau bukan wewenang Anda.",
                  405: "Metode tidak diizinkan."}.get(exc.status_code, title)
        return render(request, "error.html", status_code=exc.status_code, title=title, detail=detail)

    @app.exception_handler(wb.NotFound)
    async def not_found(request: Request, exc: wb.NotFound) -> Response:
        return render(request, "error.html", status_code=404, title=ERROR_TITLES[404], detail=str(exc))

    @app.exception_handler(wb.NotAllowed)
    async def not_allowed(request: Request, exc: wb.NotAllowed) -> Response:
        return render(request, "error.html", status_code=403, title=ERROR_TITLES[403], detail=str(exc))

    # ------------------------------------------------------------------ scope helpers

    def unit_or_404(s: Any, scope: wb.Scope, unit_id: int) -> Any:
        unit = repo.get_unit(s, unit_id)
        if unit is None or not scope.sees(unit):
            raise wb.NotFound("Unit tidak ditemukan, atau bukan wewenang Anda.")
        return unit

    def evidence_or_404(s: Any, scope: wb.Scope, evidence_id: int) -> Any:
        found = rv.evidence_context(s, evidence_id)
        if found is None or not scope.sees(found[2]):
            raise wb.NotFound("Bukti tidak ditemukan, atau bukan wewenang Anda.")
        return found

    def reviewer_or_403(user: User) -> wb.Scope:
        scope = wb.Scope(user)
        if not scope.reviews:
            raise wb.NotAllowed("Halaman ini hanya untuk penilai dan admin.")
        return scope

    # ------------------------------------------------------------------ sign in / out

    @app.get("/sehat", include_in_schema=False)
    def health() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/masuk", response_class=HTMLResponse)
    def login_form(request: Request, lanjut: str = "/") -> HTMLResponse:
        return render(request, "login.html", lanjut=local_path(lanjut), error=None, name="")

    @app.post("/masuk", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        return await run_in_threadpool(login_sync, request, await request.form())

    def login_sync(request: Request, form: Any) -> Response:
        name = str(form.get("name") or "").strip()[:255]
        password = str(form.get("password") or "")
        target = local_path(str(form.get("lanjut") or "/"))
        ip = request.client.host if request.client else "-"
        since = datetime.now(UTC) - timedelta(seconds=config.login_window)
        with session(engine) as s:
            if rv.recent_failures(s, name, ip, since) >= config.login_limit:
                minutes = max(1, round(config.login_window / 60))
                return render(request, "login.html", status_code=429, lanjut=target, name=name,
                              error=f"Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {minutes} menit.")
            user = rv.get_user_by_name(s, name) if name else None
            ok = security.verify_password(user.password_hash if user and user.active else None, password)
            rv.record_login_attempt(s, name, ip, ok)
            if not ok or user is None or user.id is None:
                return render(request, "login.html", status_code=401, lanjut=target, name=name,
                              error="Nama pengguna atau kata sandi salah.")
            if security.needs_rehash(user.password_hash):
                rv.update_user(s, user.id, password_hash=security.hash_password(password))
            token = security.new_token()
            rv.create_login_session(s, user.id, security.token_sha256(token),
                                    datetime.now(UTC) + timedelta(seconds=session_age))
        response = redirect(target)
        response.set_cookie(SESSION_COOKIE, signer.sign(token), max_age=int(session_age), httponly=True,
                            samesite="lax", secure=config.secure_cookies, path="/")
        return response

    @app.post("/keluar")
    def logout(request: Request) -> Response:
        _, token = current(request)
        if token:
            with session(engine) as s:
                rv.delete_login_session(s, security.token_sha256(token))
        response = redirect("/masuk")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ------------------------------------------------------------------ dashboard

    @app.get("/", response_class=HTMLResponse)
    def dashboard(request: Request, user: CurrentUser, provinsi: str = "",
                  jenis: str = "") -> HTMLResponse:
        scope = wb.Scope(user)
        with session(engine) as s:
            every = scope.units(s)
            groups = wb.dashboard(s, scope, province=provinsi or None, kind=jenis or None)
            views = [v for g in groups for r in g.regions for v in r.views]
            queue_size = len(wb.build_queue(s, scope, views=views)) if scope.reviews else 0
        zones = {z: sum(1 for v in views if v.grade[2] == z) for z in ("hijau", "kuning", "merah")}
        return render(request, "dashboard.html", groups=groups, zones=zones, total=len(views),
                      queue_size=queue_size, provinces=sorted({u.province or "" for u in every} - {""}),
                      kinds=sorted({u.kind for u in every}), provinsi=provinsi, jenis=jenis,
                      unvisited=sum(1 for v in views if v.visit is None))

    # ------------------------------------------------------------------ unit and finding pages

    def finding_extras(s: Any, unit_id: int) -> tuple[dict[str, list[tuple[int, Any]]], dict[str, list[Any]]]:
        history = rv.unit_finding_history(s, unit_id)
        decisions: dict[str, list[Any]] = {}
        for review, name in rv.review_history(s, unit_id):
            decisions.setdefault(review.indicator, []).append((review, name))
        return history, decisions

    @app.get("/unit/{unit_id}", response_class=HTMLResponse)
    def unit_page(request: Request, unit_id: int, user: CurrentUser) -> HTMLResponse:
        scope = wb.Scope(user)
        with session(engine) as s:
            unit = unit_or_404(s, scope, unit_id)
            view = wb.build_views(s, [unit])[0]
            visits = rv.unit_visits(s, unit_id)
            history, decisions = finding_extras(s, unit_id)
            sweep = repo.get_sweep(s, view.visit.sweep_id) if view.visit else None
        series = [(f"#{sw.id} {sw.started_at:%d-%m-%Y}", v.score) for v, sw in visits if v.score is not None]
        return render(request, "unit.html", view=view, unit=unit, sweep=sweep, visits=visits, series=series,
                      history=history, decisions=decisions, can_review=scope.can_review(unit),
                      documents=json.loads(view.visit.documents or "{}") if view.visit else {},
                      back=request.url.path)

    @app.get("/temuan/{finding_id}", response_class=HTMLResponse)
    def finding_page(request: Request, finding_id: int, user: CurrentUser,
                     kembali: str = "") -> HTMLResponse:
        scope = wb.Scope(user)
        with session(engine) as s:
            ctx = rv.finding_context(s, finding_id)
            if ctx is None or not scope.sees(ctx[2]):
                raise wb.NotFound("Temuan tidak ditemukan, atau bukan wewenang Anda.")
            _finding, visit, unit = ctx
            view = wb.build_views(s, [unit], visits={int(unit.id or 0): visit})[0]
            current_visit = rv.current_visits(s, [int(unit.id or 0)]).get(int(unit.id or 0))
            history, decisions = finding_extras(s, int(unit.id or 0))
        fv = next((f for f in view.findings if f.finding.id == finding_id), None)
        if fv is None:
            raise wb.NotFound("Temuan tidak ditemukan.")
        return render(request, "finding.html", view=view, unit=unit, fv=fv, history=history, decisions=decisions,
                      can_review=scope.can_review(unit), is_current=current_visit is not None
                      and current_visit.id == visit.id, back=local_path(kembali, f"/unit/{unit.id}"))

    @app.post("/temuan/{finding_id}/keputusan")
    async def decide(request: Request, finding_id: int, user: CurrentUser) -> Response:
        return await run_in_threadpool(decide_sync, request, finding_id, user, await request.form())

    def decide_sync(request: Request, finding_id: int, user: User, form: Any) -> Response:
        decision = str(form.get("decision") or "")
        note = str(form.get("note") or "")
        status_after = str(form.get("status_after") or "") or None
        back = local_path(str(form.get("kembali") or ""), f"/temuan/{finding_id}")
        with session(engine) as s:
            try:
                review = wb.decide(s, user, finding_id, decision, note, status_after)
            except ValueError as exc:
                return redirect(back, f"Keputusan tidak disimpan: {exc}")
            unit = repo.get_unit(s, review.unit_id)
        title = wb.indicator_title(review.indicator)
        verb = "dikonfirmasi" if review.decision == "confirm" else "dikoreksi"
        status = wb.STATUS_ID[review.status_after]
        return redirect(back, f"{title} — {unit.name if unit else ''}: {verb} ({status}).")

    # ------------------------------------------------------------------ the queue

    @app.get("/antrian", response_class=HTMLResponse)
    def queue(request: Request, user: CurrentUser, wilayah: str = "", jenis: str = "",
              indikator: str = "", status: str = "", urut: str = "dampak") -> HTMLResponse:
        scope = reviewer_or_403(user)
        status = status if status in wb.QUEUE_STATUSES else ""
        urut = urut if urut in wb.QUEUE_SORTS else "dampak"
        with session(engine) as s:
            every = scope.units(s)
            items = wb.build_queue(s, scope, region=wilayah or None, kind=jenis or None,
                                   indicator=indikator or None, status=status, sort=urut)
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return render(request, "queue.html", items=items, regions=sorted({u.region for u in every}, key=str.casefold),
                      kinds=sorted({u.kind for u in every}), indicators=wb.rule_index(), wilayah=wilayah,
                      jenis=jenis, indikator=indikator, status=status, urut=urut, back=here)

    # ------------------------------------------------------------------ evidence: archive, text, screenshot

    @app.get("/bukti/{evidence_id}/arsip")
    def archived(request: Request, evidence_id: int, user: CurrentUser, unduh: int = 0) -> Response:
        from storage.archive import ArchiveError, WarcArchive

        with session(engine) as s:
            _ev, _finding, _unit, page = evidence_or_404(s, wb.Scope(user), evidence_id)
        if page is None or not page.warc_record:
            raise HTTPException(404, "Salinan arsip untuk bukti ini tidak tersedia.")
        try:
            record = WarcArchive(config.archive_dir).read_record(page.warc_record, resolve=True)
        except (ArchiveError, OSError, ValueError) as exc:
            raise HTTPException(404, f"Salinan arsip tidak dapat dibaca ({type(exc).__name__}).") from None
        headers = {"Content-Security-Policy": ARCHIVE_CSP, "X-Content-Type-Options": "nosniff",
                   "Cache-Control": "private, no-store"}
        ctype = (record.header("Content-Type") or page.content_type or "").lower()
        if unduh or not ctype.startswith(_TEXT_TYPES):
            headers["Content-Disposition"] = f'attachment; filename="arsip-bukti-{evidence_id}.bin"'
            return Response(record.body, media_type="application/octet-stream", headers=headers)
        charset = "utf-8"
        match = re.search(r"charset=([\w.:-]+)", ctype)
        if match:
            charset = match.group(1)
        try:
            text = record.body.decode(charset, errors="replace")
        except LookupError:
            text = record.body.decode("utf-8", errors="replace")
        banner = (f"Salinan arsip Patuh (teks mentah; tidak dijalankan)\nURL: {record.url}\n"
                  f"Diambil: {fmt_time(record.date)}\nSHA-256: {record.sha256}\nArsip: {page.warc_record}\n"
                  f"{'-' * 72}\n")
        return PlainTextResponse(banner + text, headers=headers)

    @app.get("/bukti/{evidence_id}/teks")
    def extracted_text(request: Request, evidence_id: int, user: CurrentUser) -> Response:
        with session(engine) as s:
            ev, _finding, _unit, page = evidence_or_404(s, wb.Scope(user), evidence_id)
            text = rv.page_text(s, page.id) if page is not None and page.id is not None else ""
        if not text:
            raise HTTPException(404, "Teks halaman ini tidak tersimpan.")
        return PlainTextResponse(f"Teks yang dibaca Patuh dari {ev.url}\n{'-' * 72}\n{text}",
                                 headers={"Content-Security-Policy": ARCHIVE_CSP})

    @app.get("/bukti/{evidence_id}/tangkapan")
    def screenshot(request: Request, evidence_id: int, user: CurrentUser) -> Response:
        with session(engine) as s:
            ev, _finding, _unit, _page = evidence_or_404(s, wb.Scope(user), evidence_id)
        if not ev.screenshot:
            raise HTTPException(404, "Bukti ini tidak punya tangkapan layar.")
        name = Path(ev.screenshot).name
        path = (config.screenshot_dir / name).resolve()
        if not _SHOT_NAME.match(name) or not path.is_relative_to(config.screenshot_dir.resolve()) \
                or not path.is_file():
            raise HTTPException(404, "Berkas tangkapan layar tidak ditemukan.")
        return Response(path.read_bytes(), media_type="image/png",
                        headers={"Content-Security-Policy": ARCHIVE_CSP, "Cache-Control": "private, max-age=3600"})

    # ------------------------------------------------------------------ self-check

    @app.get("/periksa", response_class=HTMLResponse)
    def selfcheck_form(request: Request, user: CurrentUser) -> HTMLResponse:
        with session(engine) as s:
            units = wb.Scope(user).units(s)
        return render(request, "selfcheck.html", units=units, error=None, url="",
                      allow_private=config.allow_private)

    @app.post("/periksa", response_class=HTMLResponse)
    async def selfcheck_start(request: Request, user: CurrentUser) -> Response:
        return await run_in_threadpool(selfcheck_sync, request, user, await request.form())

    def selfcheck_sync(request: Request, user: User, form: Any) -> Response:
        scope = wb.Scope(user)
        url = str(form.get("url") or "").strip()
        unit_id = str(form.get("unit_id") or "").strip()
        with session(engine) as s:
            units = scope.units(s)
            if unit_id:
                if not unit_id.isdigit():
                    raise HTTPException(400, "Unit tidak sah.")
                unit = unit_or_404(s, scope, int(unit_id))
                url = unit.url
            else:
                known = repo.get_unit_by_url(s, url) if url else None
                if known is not None and not scope.sees(known):
                    return render(request, "selfcheck.html", status_code=403, units=units, url=url,
                                  allow_private=config.allow_private,
                                  error="Situs ini terdaftar sebagai unit di luar wewenang Anda.")
        problem = security.check_target(url, config.allow_private) if url else "Isi alamat situs atau pilih unit."
        if problem:
            return render(request, "selfcheck.html", status_code=400, units=units, url=url, error=problem,
                          allow_private=config.allow_private)
        try:
            job = checks.start(int(user.id or 0), url)
        except RuntimeError as exc:
            return render(request, "selfcheck.html", status_code=429, units=units, url=url, error=str(exc),
                          allow_private=config.allow_private)
        return redirect(f"/periksa/{quote(job.id)}")

    def job_or_404(job_id: str, user: User) -> Any:
        job = checks.get(job_id)
        if job is None or (job.user_id != user.id and user.role != "admin"):
            raise wb.NotFound("Pemeriksaan tidak ditemukan.")
        return job

    def job_context(job: Any, user: User) -> dict[str, Any]:
        progress = checks.progress(job)
        unit_link = None
        if not progress["running"]:
            with session(engine) as s:
                unit = repo.get_unit_by_url(s, job.url)
                if unit is not None and wb.Scope(user).sees(unit):
                    unit_link = f"/unit/{unit.id}"
        return {"job": job, "progress": progress, "report": job.report, "unit_link": unit_link}

    @app.get("/periksa/{job_id}", response_class=HTMLResponse)
    def selfcheck_job(request: Request, job_id: str, user: CurrentUser) -> HTMLResponse:
        job = job_or_404(job_id, user)
        return render(request, "selfcheck_job.html", **job_context(job, user))

    @app.get("/periksa/{job_id}/progres", response_class=HTMLResponse)
    def selfcheck_progress(request: Request, job_id: str, user: CurrentUser) -> HTMLResponse:
        job = job_or_404(job_id, user)
        return render(request, "_selfcheck_progress.html", **job_context(job, user))

    # ------------------------------------------------------------------ reports

    def report_views(s: Any, user: User, wilayah: str, jenis: str) -> list[wb.UnitView]:
        scope = wb.Scope(user)
        units = [u for u in scope.units(s)
                 if (not wilayah or wilayah.casefold() in (u.region.casefold(), (u.province or "").casefold()))
                 and (not jenis or u.kind.casefold() == jenis.casefold())]
        return wb.build_views(s, units)

    @app.get("/laporan", response_class=HTMLResponse)
    def report_page(request: Request, user: CurrentUser, wilayah: str = "",
                    jenis: str = "") -> HTMLResponse:
        with session(engine) as s:
            every = wb.Scope(user).units(s)
            views = report_views(s, user, wilayah, jenis)
        query = urlencode({k: v for k, v in (("wilayah", wilayah), ("jenis", jenis)) if v})
        return render(request, "report.html", views=[v for v in views if v.visit is not None], wilayah=wilayah,
                      jenis=jenis, regions=sorted({u.region for u in every} | {u.province or "" for u in every} - {""},
                                                  key=str.casefold),
                      kinds=sorted({u.kind for u in every}), query=query, standalone=False,
                      generated=datetime.now(UTC))

    @app.get("/laporan.{fmt}")
    def report_file(request: Request, fmt: str, user: CurrentUser, wilayah: str = "",
                    jenis: str = "") -> Response:
        if fmt not in ("csv", "json", "xlsx", "html"):
            raise HTTPException(404, "Format laporan tidak dikenal.")
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        disposition = {"Content-Disposition": f'attachment; filename="laporan-patuh-{stamp}.{fmt}"'}
        with session(engine) as s:
            views = report_views(s, user, wilayah, jenis)
            reports = wb.reports_for(s, views)
        if fmt == "json":
            return Response(json.dumps(reports, ensure_ascii=False, indent=2), media_type="application/json",
                            headers=disposition)
        if fmt == "csv":
            from crawler.report import render_csv

            return Response(render_csv(reports), media_type="text/csv; charset=utf-8", headers=disposition)
        if fmt == "xlsx":
            from crawler.report_xlsx import render_xlsx

            return Response(render_xlsx(reports), headers=disposition,
                            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        html = env.get_template("report.html").render(
            request=request, user=user, views=[v for v in views if v.visit is not None], standalone=True,
            generated=datetime.now(UTC), wilayah=wilayah, jenis=jenis, csrf="", flash=None, path="",
            stylesheet=Markup((HERE / "static" / "style.css").read_text(encoding="utf-8")))  # our own file
        return HTMLResponse(html, headers=disposition)

    return app


__all__ = ["WebConfig", "create_app", "fmt_score", "local_path", "make_env", "safe_url"]
