"""Tests of storage/: migrations, engine setup and the shared queries, on SQLite and PostgreSQL.

Every test that takes ``db_url`` runs twice: on a fresh SQLite file and in a fresh
PostgreSQL schema (skipped when the server is not there; see tests/conftest.py).
"""

import hashlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, SQLModel, select

from storage import db, repo
from storage.models import Evidence, Finding, Page, Sweep, Unit, Visit

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def engine(db_url: str) -> Engine:
    return db.get_engine(db_url)


@pytest.fixture
def s(engine: Engine) -> Iterator[Session]:
    with db.session(engine) as session:
        yield session


def fresh(engine: Engine) -> Session:
    """A new session, so reads go to the database and not to an identity map."""
    return Session(engine, expire_on_commit=False)


def sha(data: str) -> str:
    return hashlib.sha256(data.encode()).hexdigest()


def make_unit(s: Session, n: int = 1, **kw: Any) -> Unit:
    fields: dict[str, Any] = {
        "name": f"Puskesmas {n}",
        "kind": "puskesmas",
        "region": "Kota Kupang",
        "url": f"http://127.0.0.1:{18000 + n}/",
    }
    fields.update(kw)
    unit, _ = repo.upsert_unit(s, **fields)
    return unit


def page(url: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "url": url,
        "status": 200,
        "content_type": "text/html; charset=utf-8",
        "kind": "html",
        "sha256": sha(url),
        "size": 1234,
        "depth": 1,
        "fetched_at": datetime(2026, 11, 22, 1, 0, 4, tzinfo=UTC),
        "text": "Standar Pelayanan",
    }
    row.update(kw)
    return row


def finding(indicator: str, status: str = "present", evidence: list[dict[str, Any]] | None = None) -> dict:
    return {
        "indicator": indicator,
        "status": status,
        "confidence": 0.9,
        "rule_id": f"{indicator}.v1",
        "rule_version": 1,
        "summary": "tidak ditemukan pada 143 halaman yang diperiksa",
        "evidence": evidence or [],
    }


def evidence(url: str, page_id: int | None = None, snippet: str = "Biaya/Tarif : gratis") -> dict[str, Any]:
    return {
        "page_id": page_id,
        "url": url,
        "kind": "html",
        "locator": "h2: Standar Pelayanan",
        "snippet": snippet,
        "sha256": sha(url),
        "captured_at": datetime(2026, 11, 22, 1, 0, 19, tzinfo=UTC),
    }


def judge(s: Session, visit_id: int, findings: list[dict[str, Any]], **kw: Any) -> None:
    fields: dict[str, Any] = {
        "findings": findings,
        "reachable": True,
        "https": False,
        "error": None,
        "pages_fetched": 3,
        "documents": {"html": 2, "pdf": 1, "image": 0},
        "errors": 0,
        "score": 72.5,
        "grade": "B",
        "zone": "kuning",
    }
    fields.update(kw)
    repo.save_judgement(s, visit_id, **fields)


def visit_with_pages(s: Session, n_pages: int = 2) -> tuple[Sweep, Unit, Visit, list[int]]:
    unit = make_unit(s)
    sweep = repo.create_sweep(s, "check", {"url": unit.url})
    assert sweep.id is not None and unit.id is not None
    visit = repo.start_visit(s, sweep.id, unit.id)
    assert visit.id is not None
    ids = repo.add_pages(s, visit.id, [page(f"{unit.url}p{i}") for i in range(n_pages)])
    return sweep, unit, visit, ids


# --------------------------------------------------------------------------- schema


def test_migrations_reach_head_and_match_models(engine: Engine, db_url: str) -> None:
    heads = db.head_revisions()
    assert heads == {"0005"}
    with engine.connect() as conn:
        assert db.current_revisions(conn) == heads
        tables = set(inspect(conn).get_table_names())
        assert {"unit", "sweep", "visit", "page", "finding", "evidence", "alembic_version"} <= tables
        if conn.dialect.name == "postgresql":  # the migration ran inside the private schema
            schema = make_schema(db_url)
            assert conn.exec_driver_sql("SELECT current_schema()").scalar() == schema
            assert "unit" in inspect(conn).get_table_names(schema=schema)
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []

        # The comparison is not vacuous: a column that the migrations lack is reported.
        changed = MetaData(naming_convention=SQLModel.metadata.naming_convention)
        for table in SQLModel.metadata.sorted_tables:
            table.to_metadata(changed)
        changed.tables["unit"].append_column(Column("extra", Integer, nullable=True))
        diff = compare_metadata(context, changed)
        assert [d[0] for d in diff] == ["add_column"]


def make_schema(db_url: str) -> str:
    from sqlalchemy.engine import make_url

    options = make_url(db_url).query["options"]
    assert isinstance(options, str)
    return options.split("=", 1)[1]


def test_get_engine_is_cached_and_idempotent(engine: Engine, db_url: str) -> None:
    assert db.get_engine(db_url) is engine
    db.dispose_engines(db_url)
    again = db.get_engine(db_url)  # migrating an up-to-date database is a no-op
    assert again is not engine
    with again.connect() as conn:
        assert db.current_revisions(conn) == {"0005"}


def test_alembic_cli_check(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """``alembic -c storage/alembic.ini check`` works from another directory, by -x or by env."""
    alembic = [sys.executable, "-m", "alembic", "-c", str(REPO_ROOT / "storage" / "alembic.ini")]
    env = {k: v for k, v in os.environ.items() if k != db.ENV_VAR}
    if db_url.startswith("sqlite"):
        args = [*alembic, "-x", f"url={db_url}", "check"]
    else:
        args = [*alembic, "check"]
        env[db.ENV_VAR] = db_url
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "No new upgrade operations detected" in done.stdout + done.stderr


def test_sqlite_engine_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = "sqlite:///./nested/dir/patuh.db"
    try:
        engine = db.get_engine(url)
        assert (tmp_path / "nested" / "dir" / "patuh.db").is_file()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS
        # The relative path was pinned at first use: changing directory does not move the file.
        monkeypatch.chdir(tmp_path / "nested")
        with db.session(engine) as s:
            make_unit(s)
        assert not (tmp_path / "nested" / "nested").exists()
    finally:
        db.dispose_engines()


def test_resolve_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    assert db.resolve_url(None) == db.DEFAULT_URL == "sqlite:///./data/patuh.db"
    monkeypatch.setenv(db.ENV_VAR, "postgresql+psycopg://u@h/d")
    assert db.resolve_url(None) == "postgresql+psycopg://u@h/d"
    assert db.resolve_url("sqlite:///x.db") == "sqlite:///x.db"


# --------------------------------------------------------------------------- units


def test_upsert_unit_creates_then_updates(s: Session, engine: Engine) -> None:
    unit, created = repo.upsert_unit(
        s,
        name="Puskesmas Oesapa",
        kind="puskesmas",
        region="Kota Kupang",
        url="http://a.example/",
        province="Nusa Tenggara Timur",
    )
    assert created and unit.id is not None
    first_updated = unit.updated_at

    again, created = repo.upsert_unit(
        s, name="UPTD Puskesmas Oesapa", kind="puskesmas", region="Kota Kupang", url="http://a.example/"
    )
    assert not created
    assert again.id == unit.id
    found = repo.get_unit_by_url(s, " http://a.example/ ")
    assert found is not None and found.id == unit.id
    assert repo.get_unit_by_url(s, "http://a.example") is None
    with fresh(engine) as other:
        stored = other.exec(select(Unit)).all()
        assert len(stored) == 1
        assert stored[0].name == "UPTD Puskesmas Oesapa"
        assert stored[0].province == "Nusa Tenggara Timur"  # None leaves it alone
        assert stored[0].updated_at >= first_updated

    with pytest.raises(ValueError):
        repo.upsert_unit(s, name=" ", kind="puskesmas", region="X", url="http://b.example/")
    with pytest.raises(ValueError):
        repo.upsert_unit(s, name="X", kind="puskesmas", region="X", url="http://b.example/" + "a" * 3000)


def test_list_units_filters_and_order(s: Session) -> None:
    make_unit(s, 1, name="Puskesmas Oesapa", region="Kota Kupang")
    make_unit(s, 2, name="Dinas Kesehatan", kind="dinas_kesehatan", region="Kota Kupang")
    make_unit(s, 3, name="Puskesmas Bakunase", region="Kota Kupang")
    make_unit(s, 4, name="Puskesmas Atambua", region="Kabupaten Belu")

    assert [u.name for u in repo.list_units(s)] == [
        "Puskesmas Atambua",
        "Dinas Kesehatan",
        "Puskesmas Bakunase",
        "Puskesmas Oesapa",
    ]
    assert [u.name for u in repo.list_units(s, region="kota kupang", kind="PUSKESMAS")] == [
        "Puskesmas Bakunase",
        "Puskesmas Oesapa",
    ]
    assert [u.name for u in repo.list_units(s, kind="dinas_kesehatan")] == ["Dinas Kesehatan"]
    assert repo.list_units(s, region="Kota") == []  # exact match, not a prefix
    assert len(repo.list_units(s, limit=2)) == 2


# --------------------------------------------------------------------------- sweeps, visits, pages


def test_pages_round_trip_long_values(s: Session, engine: Engine) -> None:
    unit = make_unit(s)
    sweep = repo.create_sweep(s, "sweep", {"limit": 10, "region": "Kota Kupang"}, region="Kota Kupang")
    assert sweep.id is not None and unit.id is not None
    assert repo.loads_json(sweep.params) == {"limit": 10, "region": "Kota Kupang"}
    visit = repo.start_visit(s, sweep.id, unit.id)
    assert visit.id is not None and visit.status == "crawling" and visit.started_at is not None

    long_text = ("Persyaratan pelayanan: KTP, KK. " * 700)[:20_000]
    # Random hex does not compress: a b-tree index on the raw URL would reject it on PostgreSQL.
    long_url = unit.url + "cari?q=" + secrets.token_hex(1500)
    assert len(long_text) == 20_000 and len(long_url) > 3000
    pages = [
        page(unit.url),
        page(long_url, text=long_text, final_url=long_url + "#x", depth=2),
        page(
            unit.url + "sp.pdf",
            kind="pdf",
            content_type="application/pdf",
            text="a\x00b",
            document='{"pages": 2}',
            etag='W/"abc"',
            last_modified="Sun, 22 Nov 2026 01:00:00 GMT",
        ),
    ]
    ids = repo.add_pages(s, visit.id, pages)
    assert len(ids) == 3 and ids == sorted(ids) and len(set(ids)) == 3

    with fresh(engine) as other:
        stored = repo.pages_for_visit(other, visit.id)
    assert [p.id for p in stored] == ids
    assert [p.url for p in stored] == [unit.url, long_url, unit.url + "sp.pdf"]
    assert stored[0].final_url == unit.url  # defaults to url
    assert stored[1].text == long_text and stored[1].final_url == long_url + "#x"
    assert stored[2].text == "ab"  # NUL removed: PostgreSQL refuses it in text
    assert stored[2].kind == "pdf" and stored[2].document == '{"pages": 2}'
    assert stored[2].etag == 'W/"abc"'
    assert stored[1].url_sha256 == hashlib.sha256(long_url.encode()).hexdigest()

    # The same URL twice in one visit is refused, and the session stays usable.
    with pytest.raises(IntegrityError):
        repo.add_pages(s, visit.id, [page(long_url)])
    assert len(repo.pages_for_visit(s, visit.id)) == 3
    assert repo.add_pages(s, visit.id, []) == []

    with pytest.raises(ValueError, match="unknown field"):
        repo.add_pages(s, visit.id, [page(unit.url + "x", txt="typo")])
    with pytest.raises(ValueError, match="kind"):
        repo.add_pages(s, visit.id, [page(unit.url + "y", kind="movie")])


def test_timestamps_are_aware_utc(s: Session, engine: Engine) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    sweep, unit, visit, _ = visit_with_pages(s)
    assert sweep.id is not None and visit.id is not None
    repo.finish_sweep(s, sweep.id)
    with fresh(engine) as other:
        stored_sweep = repo.get_sweep(other, sweep.id)
        stored_page = repo.pages_for_visit(other, visit.id)[0]
        stored_unit = other.get(Unit, unit.id)
    assert stored_sweep is not None and stored_unit is not None
    for value in (stored_sweep.started_at, stored_sweep.finished_at, stored_unit.created_at):
        assert value is not None
        assert value.utcoffset() == timedelta(0)
        assert before <= value <= datetime.now(UTC) + timedelta(seconds=1)
    assert stored_page.fetched_at == datetime(2026, 11, 22, 1, 0, 4, tzinfo=UTC)

    # Another offset is converted to UTC; a naive datetime is refused.
    wita = datetime(2026, 11, 22, 9, 0, tzinfo=UTC).astimezone(ZoneInfo("Asia/Makassar"))
    repo.add_pages(s, visit.id, [page(unit.url + "wita", fetched_at=wita)])
    with fresh(engine) as other:
        got = other.exec(select(Page).where(Page.url == unit.url + "wita")).one()
    assert got.fetched_at == wita and got.fetched_at.tzinfo is not None and got.fetched_at.hour == 9
    with pytest.raises(StatementError):
        repo.add_pages(s, visit.id, [page(unit.url + "naive", fetched_at=datetime(2026, 1, 1))])


def test_start_visit_again_resets_the_visit(s: Session, engine: Engine) -> None:
    sweep, unit, visit, ids = visit_with_pages(s)
    assert sweep.id is not None and unit.id is not None and visit.id is not None
    judge(s, visit.id, [finding("fees", evidence=[evidence(unit.url, ids[0])])])

    # A recheck sweep whose evidence points at the first visit's page.
    recheck = repo.create_sweep(s, "recheck", {"of": sweep.id})
    assert recheck.id is not None
    revisit = repo.start_visit(s, recheck.id, unit.id)
    assert revisit.id is not None
    judge(s, revisit.id, [finding("fees", evidence=[evidence(unit.url, ids[0])])])

    retried = repo.start_visit(s, sweep.id, unit.id)
    assert retried.id == visit.id
    assert retried.status == "crawling" and retried.score is None and retried.finished_at is None
    with fresh(engine) as other:
        assert repo.pages_for_visit(other, visit.id) == []
        assert repo.findings_for_visit(other, visit.id) == []
        assert len(other.exec(select(Visit)).all()) == 2
        stored = other.get(Visit, visit.id)
        assert stored is not None and stored.status == "crawling" and stored.zone is None
        assert stored.documents == "{}" and stored.reachable is None
        # The recheck's evidence survives, unlinked from the deleted page.
        [(_, [kept])] = repo.findings_for_visit(other, revisit.id)
        assert kept.page_id is None and kept.url == unit.url


def test_save_judgement_twice_keeps_one_set(s: Session, engine: Engine) -> None:
    _, unit, visit, ids = visit_with_pages(s)
    assert visit.id is not None
    first = [
        finding("fees", evidence=[evidence(unit.url, ids[0]), evidence(unit.url + "p1", ids[1])]),
        finding("complaints", "absent"),
        finding("hours", "present", evidence=[evidence(unit.url, None, snippet="Senin–Jumat 08.00")]),
    ]
    judge(s, visit.id, first)
    judge(s, visit.id, first)
    with fresh(engine) as other:
        got = repo.findings_for_visit(other, visit.id)
        assert [f.indicator for f, _ in got] == ["fees", "complaints", "hours"]
        assert [len(evs) for _, evs in got] == [2, 0, 1]
        assert [e.page_id for e in got[0][1]] == ids[:2]
        assert got[2][1][0].snippet == "Senin–Jumat 08.00"
        assert len(other.exec(select(Finding)).all()) == 3
        assert len(other.exec(select(Evidence)).all()) == 3

    # A different verdict replaces the old one entirely.
    judge(
        s,
        visit.id,
        [finding("fees", "unknown")],
        reachable=False,
        https=True,
        error="timeout",
        score=None,
        grade=None,
        zone=None,
        status="failed",
        documents={"html": 0},
    )
    with fresh(engine) as other:
        [(only, evs)] = repo.findings_for_visit(other, visit.id)
        assert only.status == "unknown" and evs == []
        assert len(other.exec(select(Evidence)).all()) == 0
        stored = other.get(Visit, visit.id)
        assert stored is not None
        assert (stored.status, stored.reachable, stored.https, stored.error) == (
            "failed",
            False,
            True,
            "timeout",
        )
        assert stored.score is None and stored.finished_at is not None
        assert repo.loads_json(stored.documents) == {"html": 0}


def test_save_judgement_is_all_or_nothing(s: Session, engine: Engine) -> None:
    _, unit, visit, ids = visit_with_pages(s)
    assert visit.id is not None
    judge(s, visit.id, [finding("fees", evidence=[evidence(unit.url, ids[0])])])

    # Evidence pointing at a page that does not exist fails on the foreign key, after the old
    # findings were deleted and the new ones inserted: all of it must be rolled back.
    with pytest.raises(IntegrityError):
        judge(s, visit.id, [finding("fees", evidence=[evidence(unit.url, 999_999)])], score=1.0)
    with pytest.raises(ValueError, match="twice"):
        judge(s, visit.id, [finding("fees"), finding("fees")])
    with pytest.raises(ValueError, match="status"):
        judge(s, visit.id, [finding("fees", "maybe")])
    with fresh(engine) as other:
        [(kept, evs)] = repo.findings_for_visit(other, visit.id)
        assert kept.indicator == "fees" and [e.page_id for e in evs] == [ids[0]]
        stored = other.get(Visit, visit.id)
        assert stored is not None and stored.score == 72.5


def test_unique_constraints_are_enforced(s: Session) -> None:
    _, _, visit, _ = visit_with_pages(s)
    assert visit.id is not None
    for _ in range(2):
        s.add(
            Finding(
                visit_id=visit.id,
                indicator="fees",
                status="present",
                confidence=1.0,
                rule_id="fees.v1",
                rule_version=1,
                summary="",
            )
        )
    with pytest.raises(IntegrityError):
        s.commit()
    s.rollback()
    s.add(Visit(sweep_id=visit.sweep_id, unit_id=visit.unit_id))
    with pytest.raises(IntegrityError):
        s.commit()
    s.rollback()
    assert repo.start_visit(s, visit.sweep_id, visit.unit_id).id == visit.id


def test_sweeps_visits_and_previous_visit(s: Session) -> None:
    kupang = [
        make_unit(s, 1, name="Puskesmas Oesapa"),
        make_unit(s, 2, name="Dinas Sosial", kind="dinas_sosial"),
    ]
    belu = make_unit(s, 3, name="Puskesmas Atambua", region="Kabupaten Belu")
    units = [*kupang, belu]

    first = repo.create_sweep(s, "sweep", {})
    second = repo.create_sweep(s, "sweep", {})
    check = repo.create_sweep(s, "check", {"url": belu.url})
    assert first.id is not None and second.id is not None and check.id is not None
    assert first.status == "running" and first.finished_at is None

    visits = {}
    for unit in units:
        assert unit.id is not None
        v = repo.start_visit(s, first.id, unit.id)
        assert v.id is not None
        judge(s, v.id, [])
        visits[unit.url] = v
    repo.finish_sweep(s, first.id)
    assert kupang[1].id is not None and belu.id is not None
    second_visit = repo.start_visit(s, second.id, belu.id)
    repo.start_visit(s, second.id, kupang[1].id)
    repo.finish_sweep(s, second.id, status="interrupted")

    assert [u.name for _, u in repo.visits_for_sweep(s, first.id)] == [
        "Puskesmas Atambua",
        "Dinas Sosial",
        "Puskesmas Oesapa",
    ]
    assert [
        u.name for _, u in repo.visits_for_sweep(s, first.id, region="KOTA KUPANG", kind="puskesmas")
    ] == ["Puskesmas Oesapa"]
    assert all(v.sweep_id == first.id for v, _ in repo.visits_for_sweep(s, first.id))

    latest = repo.latest_sweep(s)
    assert latest is not None and latest.id == check.id
    latest_sweep = repo.latest_sweep(s, trigger="sweep")
    assert latest_sweep is not None and latest_sweep.id == second.id
    finished = repo.latest_sweep(s, finished_only=True)
    assert finished is not None and finished.id == first.id and finished.finished_at is not None
    assert repo.latest_sweep(s, trigger="recheck") is None
    assert repo.get_sweep(s, second.id) is not None and repo.get_sweep(s, 10_000) is None
    stored_second = repo.get_sweep(s, second.id)
    assert stored_second is not None and stored_second.status == "interrupted"

    # The unit's last *done* visit before a sweep; a crawling visit does not count.
    prev = repo.previous_visit(s, belu.id, check.id)
    assert prev is not None and prev.id == visits[belu.url].id and prev.id != second_visit.id
    assert repo.previous_visit(s, belu.id, first.id) is None

    with pytest.raises(ValueError):
        repo.create_sweep(s, "nightly", {})
    with pytest.raises(LookupError):
        repo.finish_sweep(s, 10_000)


# --------------------------------------------------------------------------- carried judgements

def _second_visit(s: Session, unit: Unit, urls: list[str], reused_from: list[int]) -> tuple[Visit, list[int]]:
    sweep = repo.create_sweep(s, "sweep", {})
    assert sweep.id is not None and unit.id is not None
    visit = repo.start_visit(s, sweep.id, unit.id)
    assert visit.id is not None
    ids = repo.reuse_pages(s, visit.id, [(pid, {"url": url, "reused": "304"})
                                         for pid, url in zip(reused_from, urls, strict=True)])
    return visit, ids


@pytest.mark.parametrize("kept", [2, 1], ids=["every-page", "one-page-less"])
def test_carry_judgement_copies_findings_onto_the_new_pages(s: Session, engine: Engine, kept: int) -> None:
    _, unit, first, ids = visit_with_pages(s)
    assert first.id is not None
    urls = [f"{unit.url}p0", f"{unit.url}p1"]
    shot = {"screenshot": "data/screenshots/x.png", "screenshot_sha256": sha("png")}
    judge(s, first.id, [
        finding("fees", evidence=[evidence(urls[0], ids[0]), {**evidence(urls[1], ids[1]), **shot}]),
        finding("complaints", "absent"),
    ], score=61.0, grade="C", zone="kuning")
    repo.finish_sweep(s, first.sweep_id)
    second, new_ids = _second_visit(s, unit, urls[:kept], ids[:kept])
    assert second.id is not None

    assert repo.carry_judgement(s, second.id, {"fees": 1, "complaints": 1}, reachable=True, https=True,
                                error=None, pages_fetched=kept, errors=0)
    assert repo.carry_judgement(s, second.id, {"fees": 1, "complaints": 1}, reachable=True, https=True,
                                error=None, pages_fetched=kept, errors=0)  # again (a resumed sweep): one set
    with fresh(engine) as other:
        got = repo.findings_for_visit(other, second.id)
        assert [(f.indicator, f.status, f.rule_version) for f, _ in got] == [("fees", "present", 1),
                                                                           ("complaints", "absent", 1)]
        evs = got[0][1]
        assert [e.url for e in evs] == urls and [e.snippet for e in evs] == ["Biaya/Tarif : gratis"] * 2
        assert [e.page_id for e in evs] == [*new_ids, None][:2]  # a page not seen again: no page
        assert evs[1].screenshot == shot["screenshot"] and evs[0].screenshot is None
        assert repo.unshot_evidence(other, second.id) == [(urls[0], "html", sha(urls[0]))]
        stored = other.get(Visit, second.id)
        assert stored is not None
        assert (stored.status, stored.score, stored.grade, stored.zone, stored.https, stored.pages_fetched) == (
            "done", 61.0, "C", "kuning", True, kept)
        assert repo.loads_json(stored.documents) == {"html": kept}
        assert len(other.exec(select(Finding)).all()) == 4  # the first visit's are untouched


def test_carry_judgement_refuses_changed_rules_and_first_visits(s: Session, engine: Engine) -> None:
    _, unit, first, ids = visit_with_pages(s)
    assert first.id is not None
    assert not repo.carry_judgement(s, first.id, {"fees": 1}, reachable=True, https=False, error=None,
                                    pages_fetched=2, errors=0)  # no earlier visit
    judge(s, first.id, [finding("fees")])
    second, _ = _second_visit(s, unit, [f"{unit.url}p0"], ids[:1])
    assert second.id is not None
    for versions in ({"fees": 2}, {"fees": 1, "hours": 1}):
        assert not repo.carry_judgement(s, second.id, versions, reachable=True, https=False, error=None,
                                        pages_fetched=1, errors=0)
    with fresh(engine) as other:
        assert repo.findings_for_visit(other, second.id) == []
        stored = other.get(Visit, second.id)
        assert stored is not None and stored.status != "done"


def test_previous_pages_of_many_units_at_once(s: Session) -> None:
    """Each unit's latest finished visit before the sweep counts; a later unfinished one does not."""
    units = [make_unit(s, n) for n in (1, 2, 3)]
    sweeps = [repo.create_sweep(s, "sweep", {}) for _ in range(3)]
    assert all(u.id is not None for u in units) and all(sw.id is not None for sw in sweeps)
    pages: dict[tuple[int, int], list[int]] = {}
    for n, sweep in enumerate(sweeps):
        for unit in units[:2]:
            assert sweep.id is not None and unit.id is not None
            visit = repo.start_visit(s, sweep.id, unit.id)
            assert visit.id is not None
            pages[n, unit.id] = repo.add_pages(s, visit.id, [
                page(f"{unit.url}p{n}", etag=f'"{n}"', document="{}"), page(f"{unit.url}gagal", error="timeout")])
            if n == 0 or unit is units[0]:  # unit 2's second and third visits never finish
                judge(s, visit.id, [finding("fees", evidence=[evidence(f"{unit.url}p{n}", pages[n, unit.id][0])])])
    one, two, three = (int(u.id or 0) for u in units)
    last = int(sweeps[2].id or 0)
    got = repo.previous_pages_of(s, [one, two, three], last)
    assert set(got) == {one, two}  # unit 3 was never visited
    assert list(got[one]) == [f"{units[0].url}p1"] and list(got[two]) == [f"{units[1].url}p0"]
    assert got[one][f"{units[0].url}p1"]["etag"] == '"1"' and got[one][f"{units[0].url}p1"]["evidence"]
    assert got[one][f"{units[0].url}p1"]["id"] == pages[1, one][0]
    assert got[one][f"{units[0].url}p1"]["fetched_at"].tzinfo is not None
    for unit_id in (one, two, three):
        assert repo.previous_pages(s, unit_id, last) == got.get(unit_id, {})
