"""Incremental sweeps: conditional requests, reuse of unchanged documents, changes reported."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from storage.archive import WarcArchive
from tests.sweep.conftest import EtagSite, patuh, serve, write_units


def _reuse_counts(db: Path, sweep: int) -> dict[str | None, int]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT p.reused, count(*) FROM page p JOIN visit v ON v.id = p.visit_id "
                           "WHERE v.sweep_id = ? GROUP BY p.reused", (sweep,)).fetchall()
    return dict(rows)


def _statuses(db: Path, sweep: int) -> dict[str, dict[str, str]]:
    out = json.loads(patuh(db, "report", "--sweep", str(sweep), "--format", "json").stdout)
    return {r["unit"]["url"]: {f["indicator"]: f["status"] for f in r["findings"]} for r in out}


def test_unchanged_resweep_revalidates_and_reuses(tmp_path: Path, sites: list[EtagSite]) -> None:
    serve(sites, 2)
    db = tmp_path / "p.db"
    assert patuh(db, "units", "import", str(write_units(tmp_path / "u.csv", sites))).returncode == 0
    first = patuh(db, "sweep")
    assert first.returncode == 0, first.stderr
    for s in sites:
        s.log.clear()
    second = patuh(db, "sweep", "-s", "PATUH_REVISIT_DAYS=1")  # every known page is due: all revalidated
    assert second.returncode == 0, second.stderr
    assert _statuses(db, 1) == _statuses(db, 2)
    codes = [code for s in sites for path, code in s.log if path != "/robots.txt"]
    assert codes and set(codes) == {304}  # every page answered "not modified" to our conditional request
    assert _reuse_counts(db, 2) == {"304": sum(len(s.pages) for s in sites)}
    assert _statuses(db, 2)[sites[0].url]["service_charter"] == "present"  # judged from the reused documents
    _assert_revisits_resolve(tmp_path, db, 2, sum(len(s.pages) for s in sites))


def _assert_revisits_resolve(tmp_path: Path, db: Path, sweep: int, pages: int) -> None:
    """Every page of the sweep is archived as a revisit record that resolves to the archived body."""
    archive = WarcArchive(tmp_path / "data" / "archive")
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT p.url, p.sha256, p.warc_record FROM page p JOIN visit v ON v.id = p.visit_id "
                           "WHERE v.sweep_id = ?", (sweep,)).fetchall()
    assert len(rows) == pages
    for url, sha, ref in rows:
        record = archive.read_record(ref)
        assert record.type == "revisit" and record.url == url
        resolved = archive.read_record(ref, resolve=True)
        assert resolved.original is not None and resolved.original.type == "response"
        assert hashlib.sha256(resolved.body).hexdigest() == sha


def test_unchanged_body_without_validators_is_reused_and_archived_as_revisit(
        tmp_path: Path, sites: list[EtagSite]) -> None:
    """No ETag or Last-Modified: every page comes back as a 200, the same SHA-256 reuses the stored
    document, and tonight's fetch is archived as a revisit that resolves to the archived body."""
    serve(sites, 1, etag=False)
    db = tmp_path / "p.db"
    patuh(db, "units", "import", str(write_units(tmp_path / "u.csv", sites)))
    assert patuh(db, "sweep").returncode == 0
    assert patuh(db, "sweep", "-s", "PATUH_REVISIT_DAYS=1").returncode == 0
    assert _reuse_counts(db, 2) == {"sha256": len(sites[0].pages)}
    assert _statuses(db, 1) == _statuses(db, 2)
    _assert_revisits_resolve(tmp_path, db, 2, len(sites[0].pages))


def test_revisit_policy_skips_pages_not_due(tmp_path: Path, sites: list[EtagSite]) -> None:
    serve(sites, 1)
    db = tmp_path / "p.db"
    patuh(db, "units", "import", str(write_units(tmp_path / "u.csv", sites)))
    assert patuh(db, "sweep").returncode == 0
    sites[0].log.clear()
    assert patuh(db, "sweep").returncode == 0
    fetched = {path for path, _ in sites[0].log if path != "/robots.txt"}
    counts = _reuse_counts(db, 2)
    # the start page and the pages that carried evidence are always fetched again
    assert {"/", "/standar-pelayanan/", "/maklumat/"} <= fetched
    assert counts.get("revisit", 0) >= 1 and counts.get("revisit", 0) + len(fetched) == len(sites[0].pages)
    assert _statuses(db, 1) == _statuses(db, 2)


def test_changed_page_is_read_again_and_change_reported(tmp_path: Path, sites: list[EtagSite]) -> None:
    serve(sites, 1)
    db = tmp_path / "p.db"
    patuh(db, "units", "import", str(write_units(tmp_path / "u.csv", sites)))
    assert patuh(db, "sweep").returncode == 0
    sites[0].pages["/maklumat/"] = sites[0].pages["/maklumat/"].replace("Dengan ini kami menyatakan sanggup", "Segera")
    assert patuh(db, "sweep").returncode == 0
    assert _statuses(db, 2)[sites[0].url]["service_charter"] == "absent"
    changes = json.loads(patuh(db, "report", "--changes", "--format", "json").stdout)
    assert changes[0]["disappeared"] == ["service_charter"] and changes[0]["appeared"] == []
    text = patuh(db, "report", "--changes").stdout
    assert "hilang: Maklumat" in text
