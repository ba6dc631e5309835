"""kill -9 in the middle of a real sweep, then `--resume`: nothing lost, nothing done twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.sweep.conftest import EtagSite, patuh, serve, write_units

ONE_AT_A_TIME = ["-s", "PATUH_ACTIVE_UNITS=1"]


def _done_units(db: Path) -> dict[int, str]:
    if not db.exists():
        return {}
    try:
        with sqlite3.connect(db, timeout=5) as con:
            rows = con.execute("SELECT unit_id, started_at FROM visit WHERE status IN ('done', 'failed')").fetchall()
    except sqlite3.OperationalError:  # schema not created yet
        return {}
    return dict(rows)


def _result(db: Path) -> dict[str, dict[str, str]]:
    out = json.loads(patuh(db, "report", "--format", "json").stdout)
    return {r["unit"]["url"]: {f["indicator"]: f["status"] for f in r["findings"]} for r in out}


def _two_databases(tmp_path: Path, sites: list[EtagSite], first: str) -> tuple[Path, Path]:
    """Five slow sites, and two databases that list them: one for the disturbed sweep, one clean."""
    serve(sites, 5, delay=0.25)
    units = write_units(tmp_path / "units.csv", sites)
    disturbed, clean = tmp_path / first / "p.db", tmp_path / "clean" / "p.db"
    for db in (disturbed, clean):
        db.parent.mkdir()
        assert patuh(db, "units", "import", str(units)).returncode == 0
    return disturbed, clean


def _sweep_until(db: Path, done: int, stderr: int) -> subprocess.Popen[str]:
    """A sweep of `db` (one unit at a time) in the background, once `done` units are finished."""
    proc = subprocess.Popen([sys.executable, "-m", "crawler", "sweep", *ONE_AT_A_TIME, "--db", f"sqlite:///{db}"],
                            cwd=db.parent, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    deadline = time.monotonic() + 120
    while len(_done_units(db)) < done and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    return proc


def test_killed_sweep_resumes_to_the_same_result(tmp_path: Path, sites: list[EtagSite]) -> None:
    killed, clean = _two_databases(tmp_path, sites, "killed")
    proc = _sweep_until(killed, 2, subprocess.DEVNULL)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    before = _done_units(killed)
    assert 2 <= len(before) < len(sites), "the kill must land in the middle of the sweep"

    resumed = patuh(killed, "sweep", "--resume", *ONE_AT_A_TIME)
    assert resumed.returncode == 0, resumed.stderr
    assert "sudah selesai" in resumed.stdout
    after = _done_units(killed)
    assert len(after) == len(sites)
    assert all(after[u] == started for u, started in before.items())  # finished units were not crawled again

    assert patuh(clean, "sweep").returncode == 0
    assert _result(killed) == _result(clean)
    with sqlite3.connect(killed) as con:
        assert con.execute("SELECT count(*) FROM sweep").fetchone()[0] == 1  # resumed, not a new sweep
        assert con.execute("SELECT status FROM sweep").fetchone()[0] == "finished"
        dupes = con.execute("SELECT count(*) FROM (SELECT visit_id, indicator FROM finding GROUP BY 1, 2 "
                            "HAVING count(*) > 1)").fetchone()[0]
        assert dupes == 0
        pages = dict(con.execute("SELECT v.unit_id, count(*) FROM page p JOIN visit v ON v.id = p.visit_id "
                                 "GROUP BY 1").fetchall())
    with sqlite3.connect(clean) as con:
        clean_pages = dict(con.execute("SELECT v.unit_id, count(*) FROM page p JOIN visit v ON v.id = p.visit_id "
                                       "GROUP BY 1").fetchall())
    assert pages == clean_pages  # no half-written or doubled page rows


def test_second_sweep_is_refused_while_one_runs(tmp_path: Path, sites: list[EtagSite]) -> None:
    serve(sites, 2, delay=0.3)
    db = tmp_path / "p.db"
    patuh(db, "units", "import", str(write_units(tmp_path / "units.csv", sites)))
    first = subprocess.Popen([sys.executable, "-m", "crawler", "sweep", "--db", f"sqlite:///{db}"], cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list((tmp_path / "data").glob("sweep-*.lock")) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        second = patuh(db, "sweep")
        assert second.returncode == 1 and "Sapuan lain sedang berjalan" in second.stderr
    finally:
        first.wait(timeout=120)
    assert first.returncode == 0
    assert patuh(db, "sweep").returncode == 0  # the lock is gone with the process that held it


def _children_named(pid: int, name: str) -> list[int]:
    """The processes of the sweep `pid` called `name` (crawler.pool names its workers: patuh-read for
    those that read pages, patuh-store for the storage writer)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            comm = (entry / "comm").read_text().strip()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and comm == name:
            out.append(int(entry.name))
    return out


def _pages_per_unit(db: Path) -> dict[int, int]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT v.unit_id, count(*) FROM page p JOIN visit v ON v.id = p.visit_id "
                                "GROUP BY 1").fetchall())


@pytest.mark.parametrize("worker", ["patuh-read", "patuh-store"])
def test_a_worker_killed_mid_sweep_costs_nothing(tmp_path: Path, sites: list[EtagSite], worker: str) -> None:
    """A page reader or the storage writer killed mid-sweep: its job is done again by its successor
    (the writer stores only what it had not committed), and the sweep ends as an undisturbed one."""
    hit, clean = _two_databases(tmp_path, sites, "hit")
    proc = _sweep_until(hit, 1, subprocess.PIPE)
    first = _children_named(proc.pid, worker)
    assert first, f"the sweep has a {worker} process"
    os.kill(first[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr
    assert "a new one takes its place" in stderr
    assert "Error processing" not in stderr and "IntegrityError" not in stderr, stderr
    assert len(_done_units(hit)) == len(sites)

    assert patuh(clean, "sweep").returncode == 0
    assert _result(hit) == _result(clean)
    assert _pages_per_unit(hit) == _pages_per_unit(clean)


def test_a_page_batch_written_twice_is_stored_once(tmp_path: Path) -> None:
    """What the storage writer does when a job it committed is asked of it again (it died before
    answering): the pages it stored stand, the others of the batch are stored, nothing twice."""
    from datetime import UTC, datetime

    from crawler.pipelines import _write_pages
    from storage import repo
    from storage.db import get_engine, session

    engine = get_engine(f"sqlite:///{tmp_path / 'p.db'}")
    when = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)

    def row(n: int) -> dict[str, object]:
        return {"url": f"http://127.0.0.1:1/p{n}", "status": 200, "kind": "html", "sha256": f"{n:064x}",
                "size": 1, "depth": 1, "fetched_at": when, "document": "{}"}

    with session(engine) as s:
        unit, _ = repo.upsert_unit(s, name="Puskesmas", kind="puskesmas", region="Kota", url="http://127.0.0.1:1/")
        assert unit.id is not None
        first, second = (repo.create_sweep(s, "sweep", {}) for _ in range(2))
        assert first.id is not None and second.id is not None
        old = repo.start_visit(s, first.id, unit.id)
        new = repo.start_visit(s, second.id, unit.id)
        assert old.id is not None and new.id is not None
        old_ids = repo.add_pages(s, old.id, [row(n) for n in range(4)])
        reuse = [(pid, {"url": f"http://127.0.0.1:1/p{n}", "reused": "304"}) for n, pid in enumerate(old_ids)]
        _write_pages(s, new.id, [row(10)], reuse[:2])
        _write_pages(s, new.id, [row(10), row(11)], reuse)  # asked again, with more
        urls = sorted(p.url for p in repo.pages_for_visit(s, new.id))
    assert urls == sorted([f"http://127.0.0.1:1/p{n}" for n in (0, 1, 2, 3, 10, 11)])
