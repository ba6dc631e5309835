"""storage.reviews on SQLite and PostgreSQL: users, sessions, attempts, reviews, the workbench's reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from storage import repo
from storage import reviews as rv
from storage.db import get_engine, session


@pytest.fixture
def engine(db_url: str) -> Engine:
    return get_engine(db_url)


def _visit(s: Any, unit_id: int, pages: list[tuple[str, str, bool]], reuse_from: dict[str, int] | None = None,
           ) -> tuple[int, int, list[int]]:
    """A finished sweep with one judged visit of the unit; pages are (url, sha256, has a document)."""
    sweep = repo.create_sweep(s, "sweep", {})
    assert sweep.id is not None
    visit = repo.start_visit(s, sweep.id, unit_id)
    assert visit.id is not None
    now = datetime.now(UTC)
    rows = [{"url": url, "status": 200, "kind": "html", "sha256": sha, "size": 10, "depth": 0, "fetched_at": now,
             "document": "{}" if doc else None, "text": "teks" if doc else "",
             **({"reused": "sha256", "reused_from": (reuse_from or {})[url]} if url in (reuse_from or {}) else {})}
            for url, sha, doc in pages]
    ids = repo.add_pages(s, visit.id, rows)
    repo.save_judgement(s, visit.id, findings=[
        {"indicator": "fees", "status": "absent", "confidence": 1.0, "rule_id": "Fees", "rule_version": 1},
        {"indicator": "contact", "status": "present", "confidence": 0.9, "rule_id": "Contact", "rule_version": 1,
         "evidence": [{"url": pages[0][0], "kind": "html", "sha256": pages[0][1], "captured_at": now,
                       "page_id": ids[0], "snippet": "Telepon 0380"}]},
    ], reachable=True, https=False, error=None, pages_fetched=len(pages), documents={"html": len(pages)}, errors=0,
        score=50.0, grade="D", zone="merah")
    repo.finish_sweep(s, sweep.id)
    return sweep.id, visit.id, ids


def test_users_sessions_and_attempts(engine: Engine) -> None:
    with session(engine) as s:
        user = rv.add_user(s, name="penilai", password_hash="$argon2id$x", role="assessor",
                           regions=["Kota Kupang", " Kota Kupang ", "Kabupaten Alor"])
        assert user.id is not None
        assert rv.user_regions(user) == ["Kabupaten Alor", "Kota Kupang"]
        with pytest.raises(ValueError):
            rv.add_user(s, name="penilai", password_hash="x", role="assessor")
        with pytest.raises(ValueError):
            rv.add_user(s, name="lain", password_hash="x", role="raja")

        soon = datetime.now(UTC) + timedelta(hours=1)
        rv.create_login_session(s, user.id, "a" * 64, soon)
        rv.create_login_session(s, user.id, "b" * 64, datetime.now(UTC) - timedelta(seconds=1))
        found = rv.get_login_session(s, "a" * 64)
        assert found is not None and found[1].name == "penilai"
        assert rv.get_login_session(s, "b" * 64) is None  # expired
        rv.update_user(s, user.id, active=False)  # disabling ends the sessions
        assert rv.get_login_session(s, "a" * 64) is None
        rv.update_user(s, user.id, active=True)

        window = datetime.now(UTC) - timedelta(minutes=5)
        for _ in range(3):
            rv.record_login_attempt(s, "penilai", "10.0.0.1", False)
        rv.record_login_attempt(s, "penilai", "10.0.0.2", False)
        assert rv.recent_failures(s, "penilai", "10.0.0.1", window) == 3
        rv.record_login_attempt(s, "penilai", "10.0.0.1", True)
        assert rv.recent_failures(s, "penilai", "10.0.0.1", window) == 0  # a success starts the count anew
        rv.record_login_attempt(s, "penilai", "10.0.0.1", False)
        assert rv.recent_failures(s, "penilai", "10.0.0.1", window) == 1
        rv.purge_expired(s, attempts_before=datetime.now(UTC) + timedelta(seconds=1))
        assert rv.recent_failures(s, "penilai", "10.0.0.2", window) == 0


def test_reviews_and_workbench_reads(engine: Engine) -> None:
    with session(engine) as s:
        unit, _ = repo.upsert_unit(s, name="Unit", kind="opd", region="Kota Kupang", url="http://192.0.2.1/")
        user = rv.add_user(s, name="admin", password_hash="x", role="admin")
        assert unit.id is not None and user.id is not None
        pages = [("http://192.0.2.1/", "1" * 64, True), ("http://192.0.2.1/a", "2" * 64, True),
                 ("http://192.0.2.1/logo.png", "3" * 64, False)]
        sweep1, visit1, ids1 = _visit(s, unit.id, pages)
        assert rv.searched_hashes(s, [visit1]) == {visit1: ["1" * 64, "2" * 64]}
        # the next sweep reuses both documents (no document of its own, reused_from set)
        sweep2, visit2, _ = _visit(s, unit.id, pages, reuse_from={pages[0][0]: ids1[0], pages[1][0]: ids1[1]})
        assert sorted(rv.searched_hashes(s, [visit2])[visit2]) == ["1" * 64, "2" * 64]
        assert rv.current_visits(s, [unit.id])[unit.id].id == visit2
        assert [v.id for v, _ in rv.unit_visits(s, unit.id)] == [visit1, visit2]
        history = rv.unit_finding_history(s, unit.id)
        assert [sid for sid, _ in history["fees"]] == [sweep1, sweep2]

        f1 = {f.indicator: f for f, _ in repo.findings_for_visit(s, visit1)}
        f2 = {f.indicator: (f, ev) for f, ev in repo.findings_for_visit(s, visit2)}
        assert rv.finding_key(s, f1["fees"]) == rv.finding_key(s, f2["fees"][0])  # same pages searched
        assert rv.finding_key(s, f1["contact"]) == rv.finding_key(s, *f2["contact"])

        first = rv.add_review(s, unit_id=unit.id, indicator="fees", decision="overrule", status_after="present",
                              note="ada di brosur", reviewer_id=user.id, finding_id=f1["fees"].id,
                              evidence_key=rv.finding_key(s, f1["fees"]))
        second = rv.add_review(s, unit_id=unit.id, indicator="fees", decision="confirm", status_after="absent",
                               note="", reviewer_id=user.id, finding_id=f2["fees"][0].id,
                               evidence_key=rv.finding_key(s, f2["fees"][0]))
        active = rv.active_reviews(s, [unit.id])
        assert list(active) == [(unit.id, "fees")] and active[(unit.id, "fees")].id == second.id
        history_rows = rv.review_history(s, unit.id, "fees")
        assert [r.id for r, _ in history_rows] == [second.id, first.id]
        assert history_rows[1][0].superseded_at is not None and history_rows[0][1] == "admin"
        with pytest.raises(ValueError):
            rv.add_review(s, unit_id=unit.id, indicator="fees", decision="confirm", status_after="unknown",
                          note="", reviewer_id=user.id, finding_id=None, evidence_key="k")
        assert rv.page_text(s, ids1[0]) == "teks"
        ctx = rv.evidence_context(s, f2["contact"][1][0].id or 0)
        assert ctx is not None and ctx[2].id == unit.id and ctx[3] is not None
        assert rv.page_text(s, ctx[3].id or 0) == "teks"  # through reused_from
        assert rv.visit_page_count(s, visit2) == 3
        assert rv.max_sweep_id(s) == sweep2
        assert rv.newest_visit_since(s, unit.id, sweep1) is not None
        assert rv.newest_visit_since(s, unit.id, sweep2) is None
        assert [sc for _, _, sc in rv.sweep_scores(s, [unit.id])] == [50.0, 50.0]


def test_a_page_stored_with_its_document_only_shows_the_documents_text(engine: Engine) -> None:
    from checks.extract_html import extract_html

    doc = extract_html("http://x.go.id/layanan", "<h1>Persyaratan</h1><p>KTP dan KK</p><p>Gratis</p>")
    with session(engine) as s:
        unit, _ = repo.upsert_unit(s, name="Dinas X", kind="dinas", region="Kab. X", url="http://x.go.id/")
        assert unit.id is not None
        sweep = repo.create_sweep(s, "sweep", {})
        assert sweep.id is not None
        visit = repo.start_visit(s, sweep.id, unit.id)
        assert visit.id is not None
        now = datetime.now(UTC)
        base = {"status": 200, "kind": "html", "sha256": "a" * 64, "size": 10, "depth": 0, "fetched_at": now}
        own, broken, bare = repo.add_pages(s, visit.id, [
            {**base, "url": "http://x.go.id/layanan", "document": doc.to_json()},
            {**base, "url": "http://x.go.id/rusak", "document": "{bukan json"},
            {**base, "url": "http://x.go.id/kosong"},
        ])
        later = repo.start_visit(s, repo.create_sweep(s, "sweep", {}).id or 0, unit.id)
        (reused,) = repo.add_pages(s, later.id or 0, [{**base, "url": "http://x.go.id/layanan", "reused": "sha256",
                                                       "reused_from": own}])
        assert rv.page_text(s, own) == doc.text == "Persyaratan\nKTP dan KK\nGratis"
        assert rv.page_text(s, reused) == doc.text  # through reused_from
        assert rv.page_text(s, broken) == "" and rv.page_text(s, bare) == ""
