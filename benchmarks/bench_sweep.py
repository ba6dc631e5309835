#!/usr/bin/env python3
"""Patuh's sweep benchmark: `patuh sweep` against a bare Scrapy spider on the same local farm.

    .venv/bin/python benchmarks/bench_sweep.py --sites 100
    .venv/bin/python benchmarks/bench_sweep.py --sites 100,1000      # two memory points
    .venv/bin/python benchmarks/bench_sweep.py --sites 100 --py-spy /path/to/py-spy   # + a profiled sweep

For each farm size N (sites x `--pages` pages, see farm.py), in one run: the farm is built (or
completed) and served by nginx on 127.0.X.Y:PORT; then, one after the other,
  1. the bare spider (bare_spider.py) fetches the N sites;
  2. `patuh sweep` crawls them into a fresh SQLite database in a temporary folder (units imported
     first, not timed);
  3. `patuh sweep` runs again over the unchanged farm with the same database (the re-sweep).
Each child is timed from start to exit; its memory is polled every 0.2 s in /proc (VmRSS summed over
the child and its descendants) and its own peak is taken from wait4() (ru_maxrss); its progress
(sites done) is polled too, so that the RSS at the moment 100 (1,000, ...) sites were done is known.
Patuh's pages are counted in its database (`page` rows of that sweep). The figures are printed as a
table and written to benchmarks/results/latest.json. Everything runs on 127.x addresses only; every
wait is bounded (`--timeout` per child); nginx and any child still running are stopped at the end,
on error and on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import farm as farmlib  # noqa: E402

RESULTS = HERE / "results"
POLL_S = 0.2
PROGRESS_EVERY_S = 1.0
TARGETS = {"ratio": 0.7, "rss_growth_mb": 50.0, "resweep_speedup": 3.0, "projection_hours": 4.0}
PROJECTED_UNITS = 10_000

_children: set[subprocess.Popen[bytes]] = set()
_nginx: farmlib.Nginx | None = None
_tmpdirs: list[Path] = []
_keep_tmp = False


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# cleanup


def _kill_group(p: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the process group of a child we started (start_new_session=True makes it its own group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(p.pid, sig)


def _stop_child(p: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if p.returncode is None:
        # Scrapy takes a first SIGTERM as "shut down gracefully" and a second as "now"
        _kill_group(p, signal.SIGTERM)
        time.sleep(0.5)
        _kill_group(p, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        if p.poll() is None:
            _kill_group(p, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
    _children.discard(p)


def cleanup() -> None:
    global _nginx
    for p in list(_children):
        _stop_child(p)
    if _nginx is not None:
        with contextlib.suppress(Exception):
            _nginx.stop()
        _nginx = None
    if not _keep_tmp:
        for d in _tmpdirs:
            shutil.rmtree(d, ignore_errors=True)
    _tmpdirs.clear()


def _on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


# --------------------------------------------------------------------------------------------
# measuring a child


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = [pid]
    while todo and len(out) < 1000:
        p = todo.pop()
        out.append(p)
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            with contextlib.suppress(OSError, ValueError):
                todo.extend(int(c) for c in Path(f"/proc/{p}/task/{t}/children").read_text().split())
    return out


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_s(pid: int) -> float | None:
    """utime + stime of one process, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Sample:
    t: float  # seconds since the child started
    rss_mb: float  # VmRSS of the child and its descendants
    done: int | None = None  # sites done, when known at that moment
    pages: int | None = None


@dataclass
class ChildRun:
    label: str
    cmd: list[str]
    wall_s: float = 0.0
    returncode: int | None = None
    started_epoch: float = 0.0
    maxrss_mb: float = 0.0  # wait4() ru_maxrss of the child (peak of the largest process)
    peak_tree_rss_mb: float = 0.0  # highest polled VmRSS sum over the process tree
    peak_hwm_mb: float = 0.0  # highest polled VmHWM of the child itself
    cpu_s: float = 0.0  # user + system CPU of the whole process tree (polled per process, or wait4's if higher)
    cpu_main_s: float = 0.0  # of the child process itself (polled)
    peak_main_rss_mb: float = 0.0  # polled VmRSS peak of the child process itself
    peak_others_rss_mb: float = 0.0  # polled peak of the VmRSS sum of its descendants (worker pool)
    peak_one_other_rss_mb: float = 0.0  # the largest single descendant
    processes_seen: int = 1
    loadavg_before: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    capped: bool = False  # stopped at --cap: the figures cover the part done until then
    stdout_tail: str = ""
    stderr_tail: str = ""

    @property
    def peak_rss_mb(self) -> float:
        return max(self.maxrss_mb, self.peak_tree_rss_mb)

    def rss_at(self, done: int, total: int) -> float | None:
        """The polled tree RSS at the first moment at least `done` sites were done; for `done == total`
        (the child may exit before the next progress poll) the last RSS polled."""
        for s in self.samples:
            if s.done is not None and s.done >= done:
                return s.rss_mb
        if done >= total and self.samples and not self.capped:
            return self.samples[-1].rss_mb
        return None


def _tail(path: Path, n: int = 2000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-n:].decode("utf-8", "replace")


def run_child(label: str, cmd: list[str], cwd: Path, env: dict[str, str], timeout: float, logdir: Path,
              progress: Callable[[], tuple[int | None, int | None]] | None = None,
              cap: float | None = None) -> ChildRun:
    """Run `cmd` to its end (at most `timeout` s: an error), polling its memory and progress; with `cap`,
    a child still running after `cap` s is stopped and its run marked `capped` (not an error)."""
    run = ChildRun(label=label, cmd=cmd, loadavg_before=os.getloadavg()[0])
    out_path, err_path = logdir / f"{label}.stdout", logdir / f"{label}.stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        run.started_epoch = time.time()
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        _children.add(p)
        last_progress = -PROGRESS_EVERY_S
        pids_seen: set[int] = set()
        cpu_by_pid: dict[int, float] = {}
        rss_by_pid: dict[int, float] = {}
        try:
            while True:
                pid, status, usage = os.wait4(p.pid, os.WNOHANG)
                now = time.monotonic() - t0
                if pid:
                    p.returncode = os.waitstatus_to_exitcode(status)
                    run.wall_s = now
                    run.maxrss_mb = usage.ru_maxrss / 1024
                    run.cpu_s = max(usage.ru_utime + usage.ru_stime, sum(cpu_by_pid.values()))
                    run.cpu_main_s = cpu_by_pid.get(p.pid, 0.0)
                    run.peak_main_rss_mb = rss_by_pid.get(p.pid, 0.0)
                    run.peak_one_other_rss_mb = max((v for q, v in rss_by_pid.items() if q != p.pid), default=0.0)
                    break
                if now > timeout:
                    _stop_child(p)
                    raise BenchError(f"{label}: still running after {timeout:.0f} s (see {err_path})")
                if cap is not None and now > cap:
                    run.capped = True
                    run.wall_s = now
                    run.cpu_s = sum(cpu_by_pid.values())
                    run.cpu_main_s = cpu_by_pid.get(p.pid, 0.0)
                    run.peak_main_rss_mb = rss_by_pid.get(p.pid, 0.0)
                    run.peak_one_other_rss_mb = max((v for q, v in rss_by_pid.items() if q != p.pid), default=0.0)
                    _stop_child(p)
                    break
                pids = _descendants(p.pid)
                pids_seen.update(pids)
                for q in pids:
                    cpu = _cpu_s(q)
                    if cpu is not None:
                        cpu_by_pid[q] = max(cpu_by_pid.get(q, 0.0), cpu)
                per_pid = {q: _status_kb(q, "VmRSS") / 1024 for q in pids}
                rss = sum(per_pid.values())
                for q, v in per_pid.items():
                    rss_by_pid[q] = max(rss_by_pid.get(q, 0.0), v)
                run.peak_others_rss_mb = max(run.peak_others_rss_mb, rss - per_pid.get(p.pid, 0.0))
                run.peak_tree_rss_mb = max(run.peak_tree_rss_mb, rss)
                run.peak_hwm_mb = max(run.peak_hwm_mb, _status_kb(p.pid, "VmHWM") / 1024)
                sample = Sample(t=round(now, 2), rss_mb=round(rss, 1))
                if progress is not None and now - last_progress >= PROGRESS_EVERY_S:
                    last_progress = now
                    sample.done, sample.pages = progress()
                run.samples.append(sample)
                time.sleep(POLL_S)
        finally:
            if p.returncode is None:  # interrupted (error, Ctrl-C, SIGTERM): end the child and its group
                _stop_child(p)
            _children.discard(p)
    run.returncode = p.returncode
    run.processes_seen = len(pids_seen) or 1
    run.stdout_tail, run.stderr_tail = _tail(out_path), _tail(err_path)
    if run.returncode != 0 and not run.capped:
        raise BenchError(f"{label} exited with {run.returncode}:\n{run.stderr_tail[-1500:]}")
    return run


# --------------------------------------------------------------------------------------------
# reading Patuh's database


def _connect(db_file: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=2.0)


def patuh_progress(db_file: Path, sweep_floor: int) -> Callable[[], tuple[int | None, int | None]]:
    """Sites done and pages stored so far by the newest sweep above `sweep_floor`."""

    def poll() -> tuple[int | None, int | None]:
        if not db_file.exists():
            return None, None
        try:
            con = _connect(db_file)
            try:
                row = con.execute("SELECT max(id) FROM sweep").fetchone()
                sweep = row[0] if row else None
                if sweep is None or sweep <= sweep_floor:
                    return 0, 0
                done = con.execute("SELECT count(*) FROM visit WHERE sweep_id = ? AND status IN ('done', 'failed')",
                                   (sweep,)).fetchone()[0]
                pages = con.execute("SELECT count(*) FROM page JOIN visit ON page.visit_id = visit.id "
                                    "WHERE visit.sweep_id = ?", (sweep,)).fetchone()[0]
                return int(done), int(pages)
            finally:
                con.close()
        except sqlite3.Error:
            return None, None

    return poll


def bare_progress(path: Path) -> Callable[[], tuple[int | None, int | None]]:
    def poll() -> tuple[int | None, int | None]:
        try:
            lines = path.read_text().splitlines()
        except OSError:
            return 0, 0
        if not lines:
            return 0, 0
        parts = lines[-1].split()
        return (int(parts[1]), int(parts[2])) if len(parts) == 3 else (None, None)

    return poll


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def last_sweep_id(db_file: Path) -> int:
    if not db_file.exists():
        return 0
    con = _connect(db_file)
    try:
        row = con.execute("SELECT max(id) FROM sweep").fetchone()
        return int(row[0] or 0)
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def sweep_figures(db_file: Path, sweep_id: int, since_epoch: float) -> dict[str, Any]:
    """Figures of one sweep from Patuh's database; the crawl window counts pages fetched after `since_epoch`."""
    con = _connect(db_file)
    try:
        columns = {r[1] for r in con.execute("PRAGMA table_info(page)").fetchall()}
        join = "FROM page p JOIN visit v ON p.visit_id = v.id WHERE v.sweep_id = ?"
        pages, size, max_depth = con.execute(
            f"SELECT count(*), coalesce(sum(p.size), 0), max(p.depth) {join}", (sweep_id,)).fetchone()
        statuses = dict(con.execute(f"SELECT p.status, count(*) {join} GROUP BY p.status", (sweep_id,)).fetchall())
        kinds = dict(con.execute(f"SELECT p.kind, count(*) {join} GROUP BY p.kind", (sweep_id,)).fetchall())
        reused: dict[str, int] = {}
        if "reused" in columns:  # 304 / sha256: fetched, document reused; revisit: not fetched at all
            reused = {str(k): v for k, v in con.execute(
                f"SELECT coalesce(p.reused, 'no'), count(*) {join} GROUP BY 1", (sweep_id,)).fetchall()}
        errors = con.execute(f"SELECT count(*) {join} AND p.error IS NOT NULL", (sweep_id,)).fetchone()[0]
        rendered = 0
        if "render_reason" in columns:  # pages read in Chromium (--render auto renders only those that need it)
            rendered = con.execute(f"SELECT count(*) {join} AND p.render_reason IS NOT NULL AND p.reused IS NULL",
                                   (sweep_id,)).fetchone()[0]
        times = [t for (t,) in con.execute(f"SELECT p.fetched_at {join}", (sweep_id,)).fetchall()]
        visits = dict(con.execute("SELECT status, count(*) FROM visit WHERE sweep_id = ? GROUP BY status",
                                  (sweep_id,)).fetchall())
        per_unit = [r[0] for r in con.execute(
            "SELECT count(p.id) FROM visit v LEFT JOIN page p ON p.visit_id = v.id WHERE v.sweep_id = ? "
            "GROUP BY v.id", (sweep_id,)).fetchall()]
        findings = con.execute("SELECT count(*) FROM finding f JOIN visit v ON f.visit_id = v.id WHERE v.sweep_id = ?",
                               (sweep_id,)).fetchone()[0]
        sweep_row = con.execute("SELECT status FROM sweep WHERE id = ?", (sweep_id,)).fetchone()
    finally:
        con.close()
    epochs = sorted(e for e in (_epoch(t) for t in times) if e is not None and e >= since_epoch - 1)
    not_fetched = reused.get("revisit", 0)
    return {
        "sweep_id": sweep_id, "pages": int(pages), "network_fetches": int(pages) - not_fetched, "bytes": int(size),
        "statuses": {str(k): v for k, v in statuses.items()}, "kinds": kinds, "reused": reused,
        "page_errors": int(errors), "rendered": int(rendered), "visits": visits, "findings": int(findings),
        "max_depth_stored": max_depth,
        "pages_per_unit": {"min": min(per_unit, default=0), "max": max(per_unit, default=0),
                           "mean": sum(per_unit) / len(per_unit) if per_unit else 0},
        "first_page_epoch": epochs[0] if epochs else None, "last_page_epoch": epochs[-1] if epochs else None,
        "sweep_status": sweep_row[0] if sweep_row else None,
    }


# --------------------------------------------------------------------------------------------
# one farm size


def _rate(pages: int, seconds: float | None) -> float | None:
    return pages / seconds if seconds and seconds > 0 else None


def child_figures(run: ChildRun, pages: int, first: float | None, last: float | None, marks: list[int],
                  total: int) -> dict:
    window = (last - first) if first and last else None
    return {
        "wall_s": round(run.wall_s, 2), "pages": pages, "pages_per_s": _rate(pages, run.wall_s),
        "crawl_window_s": round(window, 2) if window else None, "pages_per_s_window": _rate(pages, window),
        "startup_s": round(first - run.started_epoch, 2) if first else None,
        "cpu_s": round(run.cpu_s, 2), "cpu_main_s": round(run.cpu_main_s, 2),
        "cpu_ms_per_page": 1000 * run.cpu_s / pages if pages else None,
        "cores_busy": round(run.cpu_s / run.wall_s, 2) if run.wall_s else None,
        "peak_rss_mb": round(run.peak_rss_mb, 1), "maxrss_mb": round(run.maxrss_mb, 1),
        "peak_tree_rss_mb": round(run.peak_tree_rss_mb, 1), "processes": run.processes_seen,
        "peak_main_rss_mb": round(max(run.peak_main_rss_mb, run.peak_hwm_mb), 1),
        "peak_descendants_rss_mb": round(run.peak_others_rss_mb, 1),
        "peak_largest_descendant_rss_mb": round(run.peak_one_other_rss_mb, 1),
        "rss_at_sites_mb": {str(m): run.rss_at(m, total) for m in marks},
        "loadavg_before": round(run.loadavg_before, 2), "capped": run.capped,
        "sites_done": max((s.done for s in run.samples if s.done is not None), default=None),
    }


def warm_farm(farm: farmlib.Farm) -> float:
    """Read every file of the farm once, so that nginx serves it from the page cache: this machine's
    kernel reclaims cold file pages (DAMON), and a spider whose pages nginx first reads from disk
    waits on them (the bare spider was 0.70-0.87 cores busy with ~80 s of iowait). Seconds taken."""
    t = time.monotonic()
    for path in (farm.root / "sites").rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                while fh.read(1 << 20):
                    pass
    return time.monotonic() - t


def bench_size(n: int, farm: farmlib.Farm, args: argparse.Namespace, env: dict[str, str], patuh: list[str],
               marks: list[int], do_resweep: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"patuh-bench-{n}-"))
    _tmpdirs.append(work)
    units = farmlib.write_units_csv(farm, work / "units.csv", n)
    overrides: list[str] = []
    for pair in args.overrides:
        overrides += ["-s", pair]
    result: dict[str, Any] = {"sites": n, "pages_per_site_in_farm": farm.pages, "workdir": str(work)}
    marks = [m for m in marks if m <= n]

    # 1. the bare spider
    if not args.no_bare:
        print(f"[{n} sites] bare spider ...", file=sys.stderr, flush=True)
        bare_json, bare_prog = work / "bare.json", work / "bare.progress"
        result["farm_warm_s_bare"] = round(warm_farm(farm), 1)
        run = run_child(f"bare-{n}", [sys.executable, str(HERE / "bare_spider.py"), "--units", str(units), "--out",
                                      str(bare_json), "--progress", str(bare_prog), *overrides],
                        cwd=work, env=env, timeout=args.timeout, logdir=work, progress=bare_progress(bare_prog))
        bare = json.loads(bare_json.read_text())
        result["bare"] = child_figures(run, bare["pages"], bare["t_first_response"], bare["t_last_response"],
                                       marks, n)
        result["bare"].update({"errors": bare["errors"], "statuses": bare["statuses"],
                               "sites_done": bare["sites_done"], "bytes": bare["bytes"],
                               "pages_per_unit": bare["pages_per_site"], "samples": [asdict(s) for s in run.samples]})
        _say_run("bare", result["bare"])

    # 2. patuh sweep, fresh database
    db_file = work / "patuh.db"
    db_url = f"sqlite:///{db_file}"
    t = time.monotonic()
    subprocess.run([*patuh, "units", "import", str(units), "--db", db_url], cwd=work, env=env, check=True,
                   timeout=min(args.timeout, 600), stdout=subprocess.DEVNULL)
    result["import_s"] = round(time.monotonic() - t, 2)
    sweeps = [("patuh", "sweep")] + ([("patuh_resweep", "re-sweep")] if do_resweep else [])
    for key, what in sweeps:
        print(f"[{n} sites] patuh {what} ...", file=sys.stderr, flush=True)
        floor = last_sweep_id(db_file)
        result[f"farm_warm_s_{key}"] = round(warm_farm(farm), 1)
        cmd = [*patuh, "sweep", "--db", db_url, *overrides]
        run = run_child(f"{key}-{n}", cmd, cwd=work, env=env, timeout=args.timeout, logdir=work,
                        progress=patuh_progress(db_file, floor), cap=args.cap)
        sweep_id = last_sweep_id(db_file)
        if sweep_id <= floor:
            raise BenchError(f"patuh {what} stored no sweep (stdout: {run.stdout_tail[-500:]})")
        figs = sweep_figures(db_file, sweep_id, run.started_epoch)
        result[key] = child_figures(run, figs["pages"], figs["first_page_epoch"], figs["last_page_epoch"], marks,
                                   n)
        result[key].update({k: figs[k] for k in ("sweep_id", "statuses", "kinds", "reused", "network_fetches",
                                                 "page_errors", "rendered", "visits",
                                                 "findings", "max_depth_stored", "pages_per_unit", "bytes",
                                                 "sweep_status")})
        result[key]["samples"] = [asdict(s) for s in run.samples]
        result[key]["stdout_tail"] = run.stdout_tail[-400:]
        _say_run(key, result[key])

    b, p = result.get("bare"), result["patuh"]
    if b:
        result["ratio_pages_per_s"] = _div(p["pages_per_s"], b["pages_per_s"])
        result["ratio_pages_per_s_window"] = _div(p["pages_per_s_window"], b["pages_per_s_window"])
        result["ratio_cpu_per_page"] = _div(p["cpu_ms_per_page"], b["cpu_ms_per_page"])
        result["pages_patuh_vs_bare"] = None if p["capped"] else _div(p["pages"], b["pages"])
    if "patuh_resweep" in result and not p["capped"] and not result["patuh_resweep"]["capped"]:
        result["resweep_speedup"] = _div(p["wall_s"], result["patuh_resweep"]["wall_s"])
    return result


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _say_run(label: str, r: dict[str, Any]) -> None:
    print(f"    {label}: {r['pages']} pages in {r['wall_s']:.1f} s = {_fmt(r['pages_per_s'])} pages/s, "
          f"peak RSS {r['peak_rss_mb']:.0f} MB, CPU {r['cpu_s']:.1f} s", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# profiling (optional)


def profile_sweep(n: int, farm: farmlib.Farm, args: argparse.Namespace, env: dict[str, str],
                  patuh: list[str]) -> dict[str, Any]:
    """One more `patuh sweep` (fresh database) under `py-spy record`; the top functions by samples."""
    work = Path(tempfile.mkdtemp(prefix=f"patuh-bench-prof-{n}-"))
    _tmpdirs.append(work)
    units = farmlib.write_units_csv(farm, work / "units.csv", n)
    db_url = f"sqlite:///{work / 'patuh.db'}"
    subprocess.run([*patuh, "units", "import", str(units), "--db", db_url], cwd=work, env=env, check=True,
                   timeout=600, stdout=subprocess.DEVNULL)
    raw = RESULTS / f"profile-{n}.txt"
    overrides: list[str] = []
    for pair in args.overrides:
        overrides += ["-s", pair]
    cmd = [args.py_spy, "record", "--format", "raw", "--rate", "100", "--subprocesses", "--nonblocking",
           "--output", str(raw), "--", *patuh, "sweep", "--db", db_url, *overrides]
    print(f"[{n} sites] patuh sweep under py-spy ...", file=sys.stderr, flush=True)
    run = run_child(f"profile-{n}", cmd, cwd=work, env=env, timeout=args.timeout, logdir=work)
    return {"sites": n, "wall_s": round(run.wall_s, 2), "raw": str(raw), **summarise_profile(raw, run.wall_s)}


def _package(frame: str) -> str:
    """A frame 'func (path:line)' -> the part of the code it belongs to (py-spy prints paths relative to
    sys.path: 'checks/text.py', 'scrapy/core/engine.py', 're/__init__.py', '<frozen importlib._bootstrap>')."""
    path = frame.rsplit(" (", 1)[-1].rstrip(")").rsplit(":", 1)[0]
    if path.startswith("<"):
        return path
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    head = path.lstrip("/").split("/", 1)[0]
    head = head[:-3] if head.endswith(".py") else head
    return f"patuh:{head}" if head in ("checks", "crawler", "spiders", "storage") else head


def _role(process: str, frames: list[str]) -> str:
    """'workers' for the multiprocessing pool (and its fork server), else 'main' (py-spy may not read
    a command line, so the frames decide too)."""
    if "forkserver" in process or "multiprocessing" in process:
        return "workers"
    if any("multiprocessing/forkserver.py" in f or "concurrent/futures/process.py" in f for f in frames[:12]):
        return "workers"
    return "main"


def summarise_profile(raw: Path, wall_s: float, top: int = 15, rate: int = 100) -> dict[str, Any]:
    """Top frames of a py-spy raw (collapsed-stack) file, per process role (main = the Scrapy process,
    workers = Patuh's extraction/judgement pool)."""
    try:
        lines = raw.read_text(errors="replace").splitlines()
    except OSError:
        return {"error": f"no profile written at {raw}"}
    roles: dict[str, dict[str, Counter[str]]] = {}
    totals: Counter[str] = Counter()
    for line in lines:
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        process = ""
        # 'process PID:"command line";[process PID:"child command line";]frame;frame' (a command may hold ';');
        # with --subprocesses a child's stacks sit under its parent's label: the last label is the process
        while stack.startswith("process "):
            end = stack.find('";')
            if end < 0:
                break
            process, stack = stack[: end + 1], stack[end + 2:]
        frames = [f for f in stack.split(";") if f and not f.startswith("thread (")]
        if not frames:
            continue
        role = _role(process, frames)
        count = int(count_s)
        totals[role] += count
        r = roles.setdefault(role, {"self": Counter(), "inclusive": Counter(), "package": Counter()})
        r["self"][frames[-1]] += count
        for f in set(frames):
            r["inclusive"][f] += count
        for pkg in {_package(f) for f in frames}:
            r["package"][pkg] += count
    if not totals:
        return {"error": "empty profile"}
    out: dict[str, Any] = {"samples": sum(totals.values()), "rate_hz": rate, "roles": {}}
    for role, r in roles.items():
        n = totals[role]

        def table(c: Counter[str], n: int = n) -> list[dict[str, Any]]:
            return [{"frame": f, "samples": v, "share": round(v / n, 3)} for f, v in c.most_common(top)]

        out["roles"][role] = {
            "samples": n, "busy_cores": round(n / (wall_s * rate), 3) if wall_s else None,
            "top_self": table(r["self"]), "top_inclusive": table(r["inclusive"]),
            "by_package_inclusive": [{"package": k, "share": round(v / n, 3)} for k, v in
                                     r["package"].most_common(20)],
        }
    return out


# --------------------------------------------------------------------------------------------
# report


def _fmt(v: Any, nd: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def print_report(res: dict[str, Any]) -> None:
    w = 18
    for size in res["sizes"]:
        n = size["sites"]
        cols = [c for c in ("bare", "patuh", "patuh_resweep") if c in size]
        print(f"\n== {n} sites x {size['pages_per_site_in_farm']} pages (farm) ==")
        print(f"{'':34}" + "".join(f"{c:>{w}}" for c in cols))
        rows = [("wall time, s", "wall_s", 1), ("pages fetched", "pages", 0), ("pages/s (wall)", "pages_per_s", 1),
                ("pages/s (first..last page)", "pages_per_s_window", 1), ("start-up to first page, s", "startup_s", 1),
                ("CPU, all processes, s", "cpu_s", 1), ("CPU, main process, s", "cpu_main_s", 1),
                ("cores busy (CPU / wall)", "cores_busy", 2), ("CPU ms per page", "cpu_ms_per_page", 2),
                ("peak RSS (all processes), MB", "peak_rss_mb", 1),
                ("  of the main process, MB", "peak_main_rss_mb", 1),
                ("  of its descendants (sum), MB", "peak_descendants_rss_mb", 1), ("processes seen", "processes", 0)]
        for label, key, nd in rows:
            print(f"{label:34}" + "".join(f"{_fmt(size[c].get(key), nd):>{w}}" for c in cols))
        for m in res["rss_marks"]:
            if m <= n:
                print(f"{f'RSS when {m} sites done, MB':34}" + "".join(
                    f"{_fmt(size[c]['rss_at_sites_mb'].get(str(m)), 1):>{w}}" for c in cols))
        print(f"{'pages per unit (mean)':34}" + "".join(
            f"{_fmt(size[c]['pages_per_unit']['mean'], 1):>{w}}" for c in cols))
        for c in (c for c in cols if c != "bare"):
            share = size[c].get("rendered", 0) / max(size[c]["network_fetches"], 1)
            print(f"  {c}: statuses {size[c]['statuses']}, reused {size[c]['reused'] or '-'}, "
                  f"rendered {size[c].get('rendered', 0)} ({share:.1%} of fetches), "
                  f"network fetches {size[c]['network_fetches']}, visits {size[c]['visits']}, "
                  f"findings {size[c]['findings']}, max stored depth {size[c]['max_depth_stored']}")
        for c in cols:
            if size[c].get("capped"):
                print(f"  {c}: CAPPED at {size[c]['wall_s']:.0f} s (--cap), {size[c]['sites_done']} of {n} sites "
                      f"done: its figures cover that part")
        if "bare" not in size:
            continue
        print(f"ratio patuh/bare pages/s: {_fmt(size['ratio_pages_per_s'], 3)} (wall), "
              f"{_fmt(size['ratio_pages_per_s_window'], 3)} (first..last page); "
              f"CPU per page patuh/bare: {_fmt(size['ratio_cpu_per_page'], 2)}x; "
              f"pages per site patuh/bare: {_fmt(size['pages_patuh_vs_bare'], 3)}")
        if size["pages_patuh_vs_bare"] is not None and size["pages_patuh_vs_bare"] < 0.95:
            print(f"NOTE: patuh fetched {size['patuh']['pages']} pages, the bare spider {size['bare']['pages']}: "
                  f"their pages/s measure different amounts of work per site")
        if "resweep_speedup" in size:
            print(f"unchanged re-sweep speed-up (first wall / second wall): {_fmt(size['resweep_speedup'], 2)}x")
    s = res["summary"]
    print("\n== summary ==")
    print(f"patuh pages/s {_fmt(s['patuh_pages_per_s'])} vs bare {_fmt(s['bare_pages_per_s'])}: "
          f"ratio {_fmt(s['ratio'], 3)}")
    for n, v in s["peak_rss_mb"].items():
        print(f"peak RSS at {n} sites: patuh {_fmt(v['patuh'])} MB, bare {_fmt(v['bare'])} MB")
    if s.get("rss_growth_mb") is not None:
        print(f"peak RSS growth {s['rss_small']} -> {s['rss_large']} sites: {_fmt(s['rss_growth_mb'])} MB")
    if s.get("rss_growth_within_largest_mb") is not None:
        w = s["rss_within_largest"]
        print(f"within the {w['sites']}-site patuh sweep: peak RSS - RSS when {w['from_mark']} sites were done = "
              f"{_fmt(s['rss_growth_within_largest_mb'])} MB ({w['sites_done']} sites done"
              f"{', capped' if w['capped'] else ''})")
    print(f"re-sweep speed-up: {_fmt(s['resweep_speedup'], 2)}x")
    print(f"projected {PROJECTED_UNITS:,}-unit sweep: {_fmt(s['projection_hours'], 2)} h at "
          f"{_fmt(s['pages_per_unit'])} pages/unit; {_fmt(s['projection_hours_budget'], 2)} h if every unit "
          f"used its {s['page_budget']}-page budget (bare spider: {_fmt(s['projection_hours_bare'], 2)} h)")
    print("targets:")
    for name, t in s["targets"].items():
        print(f"  {name:58} {t['verdict']:>5}  ({_fmt(t['value'], 3)} vs {t['target']})")
    if res.get("profile"):
        pr = res["profile"]
        if "error" in pr:
            print(f"\nprofile: {pr['error']}")
            return
        print(f"\n== py-spy profile of one more patuh sweep, {pr['sites']} sites, {pr['wall_s']:.0f} s under py-spy "
              f"({pr['samples']} samples at {pr['rate_hz']} Hz; idle time not sampled) ==")
        for role, r in sorted(pr["roles"].items(), key=lambda kv: -kv[1]["samples"]):
            print(f"-- {role} process(es): {r['samples']} samples, {_fmt(r['busy_cores'], 2)} cores busy on average")
            print("   by package (share of this role's samples whose stack passes through it):")
            for row in r["by_package_inclusive"][:12]:
                print(f"     {row['share']:6.1%}  {row['package']}")
            print("   top functions by self time:")
            for row in r["top_self"][:12]:
                print(f"     {row['share']:6.1%}  {row['frame'][:110]}")
            print("   top functions by inclusive time:")
            for row in r["top_inclusive"][:15]:
                print(f"     {row['share']:6.1%}  {row['frame'][:110]}")


def summarise(res: dict[str, Any], budget: int) -> dict[str, Any]:
    sizes = res["sizes"]
    largest = max(sizes, key=lambda s: s["sites"])
    with_bare = [s for s in sizes if "bare" in s] or [largest]
    compared = max(with_bare, key=lambda s: s["sites"])  # the largest size that has both spiders
    p, b = compared["patuh"], compared.get("bare") or {}
    ppu = p["pages_per_unit"]["mean"]
    summary: dict[str, Any] = {
        "from_sites": compared["sites"], "patuh_pages_per_s": p["pages_per_s"],
        "bare_pages_per_s": b.get("pages_per_s"), "ratio": compared.get("ratio_pages_per_s"),
        "pages_per_unit": ppu, "page_budget": budget,
        "peak_rss_mb": {str(s["sites"]): {"patuh": s["patuh"]["peak_rss_mb"],
                                          "bare": (s.get("bare") or {}).get("peak_rss_mb"),
                                          "patuh_capped": s["patuh"]["capped"]} for s in sizes},
        "resweep_speedup": largest.get("resweep_speedup"),
    }
    speedups = [s["resweep_speedup"] for s in sizes if s.get("resweep_speedup") is not None]
    if summary["resweep_speedup"] is None and speedups:
        summary["resweep_speedup"] = speedups[-1]
    pps = p["pages_per_s"]
    summary["projection_hours"] = PROJECTED_UNITS * ppu / pps / 3600 if pps else None
    summary["projection_hours_budget"] = PROJECTED_UNITS * budget / pps / 3600 if pps else None
    summary["projection_hours_bare"] = (PROJECTED_UNITS * b["pages_per_unit"]["mean"] / b["pages_per_s"] / 3600
                                        if b.get("pages_per_s") else None)
    growth = None
    if len(sizes) >= 2:
        small, large = min(sizes, key=lambda s: s["sites"]), largest
        growth = large["patuh"]["peak_rss_mb"] - small["patuh"]["peak_rss_mb"]
        summary.update(rss_small=small["sites"], rss_large=large["sites"], rss_growth_mb=growth)
    lp = largest["patuh"]
    marks = [m for m in res["rss_marks"] if m < largest["sites"]]
    if marks and lp["rss_at_sites_mb"].get(str(marks[0])) is not None:
        summary["rss_growth_within_largest_mb"] = lp["peak_rss_mb"] - lp["rss_at_sites_mb"][str(marks[0])]
        summary["rss_within_largest"] = {"sites": largest["sites"], "from_mark": marks[0],
                                         "sites_done": lp["sites_done"], "capped": lp["capped"]}

    def verdict(value: float | None, ok: Callable[[float], bool]) -> str:
        return "n/a" if value is None else ("PASS" if ok(value) else "FAIL")

    t = TARGETS
    summary["targets"] = {
        f"patuh pages/s >= {t['ratio']} x bare": {"value": summary["ratio"], "target": t["ratio"],
                                                  "verdict": verdict(summary["ratio"], lambda v: v >= t["ratio"])},
        f"peak RSS, largest run <= smallest run + {t['rss_growth_mb']:.0f} MB": {
            "value": growth, "target": t["rss_growth_mb"],
            "verdict": verdict(growth, lambda v: v <= t["rss_growth_mb"])},
        f"unchanged re-sweep >= {t['resweep_speedup']}x faster": {
            "value": summary["resweep_speedup"], "target": t["resweep_speedup"],
            "verdict": verdict(summary["resweep_speedup"], lambda v: v >= t["resweep_speedup"])},
        f"projected {PROJECTED_UNITS:,}-unit sweep < {t['projection_hours']} h": {
            "value": summary["projection_hours"], "target": t["projection_hours"],
            "verdict": verdict(summary["projection_hours"], lambda v: v < t["projection_hours"])},
    }
    return summary


# --------------------------------------------------------------------------------------------


def _patuh_command() -> list[str]:
    script = Path(sys.executable).parent / "patuh"
    if script.exists():
        return [str(script)]
    found = shutil.which("patuh")
    return [found] if found else [sys.executable, "-m", "crawler"]


def code_fingerprint() -> dict[str, Any]:
    """SHA-256 over Patuh's code (crawler, spiders, checks, storage), to tell which code a result is of."""
    h = hashlib.sha256()
    files = sorted(p for room in ("crawler", "spiders", "checks", "storage") for p in (ROOT / room).rglob("*")
                   if p.is_file() and p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts)
    for p in files:
        h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() + b"\0")
    newest = max((p.stat().st_mtime for p in files), default=0)
    return {"sha256": h.hexdigest()[:16], "files": len(files),
            "newest_change": datetime.fromtimestamp(newest, UTC).isoformat(timespec="seconds")}


def _versions(nginx_bin: str) -> dict[str, str]:
    out: dict[str, str] = {"python": platform.python_version(), "machine": platform.machine(),
                           "cpus": str(os.cpu_count())}
    with contextlib.suppress(Exception):
        import scrapy

        out["scrapy"] = scrapy.__version__
    with contextlib.suppress(Exception):
        out["nginx"] = subprocess.run([nginx_bin, "-v"], capture_output=True, text=True, timeout=10).stderr.strip()
    return out


def main(argv: list[str] | None = None) -> int:
    global _nginx, _keep_tmp
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", default="100", help="farm sizes, comma-separated (default 100; e.g. 100,1000)")
    ap.add_argument("--pages", type=int, default=30, help="pages per site in the farm (default 30)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port", type=int, default=farmlib.DEFAULT_PORT)
    ap.add_argument("--farm-dir", type=Path, default=farmlib.DEFAULT_DIR)
    ap.add_argument("--no-gzip", action="store_true", help="serve the farm uncompressed")
    ap.add_argument("--resweep", choices=["all", "smallest", "none"], default="all",
                    help="which sizes get the second, unchanged sweep (default all)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds one child may run (default 3600)")
    ap.add_argument("--cap", type=float, default=None, metavar="SECONDS",
                    help="stop a patuh sweep after this long and keep its partial figures (memory vs sites done)")
    ap.add_argument("--no-bare", action="store_true", help="skip the bare spider (no ratio)")
    ap.add_argument("--rss-marks", default="100,1000", help="sites-done marks at which RSS is reported")
    ap.add_argument("--py-spy", default=None, metavar="PATH",
                    help="py-spy binary: profile one extra patuh sweep of the smallest size")
    ap.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folders (databases, logs)")
    ap.add_argument("-s", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting override for both spiders (as `patuh sweep -s`)")
    args = ap.parse_args(argv)
    sizes = sorted({int(x) for x in args.sites.split(",") if x.strip()})
    marks = sorted({int(x) for x in args.rss_marks.split(",") if x.strip()})
    _keep_tmp = args.keep
    if args.py_spy and not (shutil.which(args.py_spy) or os.access(args.py_spy, os.X_OK)):
        ap.error(f"py-spy not found at {args.py_spy} (pip install py-spy)")

    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    RESULTS.mkdir(exist_ok=True)
    gitignore = RESULTS / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n!.gitignore\n")
    env = {k: v for k, v in os.environ.items() if k != "PATUH_DATABASE_URL"}
    env["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""  # STACK.md: never fetch the public suffix list
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    patuh = _patuh_command()
    t_start = time.monotonic()
    res: dict[str, Any] = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "rss_marks": marks,
                           "overrides": args.overrides, "sizes": []}
    try:
        nginx_bin = farmlib.ensure_nginx()
        print(f"farm: {max(sizes)} sites x {args.pages} pages in {args.farm_dir} ...", file=sys.stderr, flush=True)
        t = time.monotonic()
        farm = farmlib.build_farm(args.farm_dir, max(sizes), args.pages, args.seed, args.port, not args.no_gzip)
        res["farm"] = {"dir": str(farm.root), "sites": farm.sites, "pages": farm.pages, "seed": farm.seed,
                       "port": farm.port, "gzip": farm.gzip, "build_s": round(time.monotonic() - t, 1)}
        res["versions"] = _versions(nginx_bin)
        res["patuh_code"] = code_fingerprint()
        from bare_spider import bare_settings

        _, copied, limits = bare_settings(dict(pair.split("=", 1) for pair in args.overrides))
        res["settings"] = {k: copied.get(k) for k in ("CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN",
                                                      "DOWNLOAD_DELAY", "ROBOTSTXT_OBEY", "DOWNLOAD_TIMEOUT",
                                                      "RETRY_TIMES", "AUTOTHROTTLE_ENABLED")} | limits
        _nginx = farmlib.Nginx(farm, max(sizes))
        _nginx.start(foreground=True)
        for k, n in enumerate(sizes):
            resweep = args.resweep == "all" or (args.resweep == "smallest" and k == 0)
            res["sizes"].append(bench_size(n, farm, args, env, patuh, marks, resweep))
        res["summary"] = summarise(res, int(limits["max_pages"]))
        if args.py_spy:
            try:
                res["profile"] = profile_sweep(sizes[0], farm, args, env, patuh)
            except BenchError as exc:
                res["profile"] = {"error": str(exc)}
    except BenchError as exc:
        res["error"] = str(exc)
        print(f"benchmark failed: {exc}", file=sys.stderr)
    finally:
        res["total_s"] = round(time.monotonic() - t_start, 1)
        with contextlib.suppress(Exception):
            if res.get("patuh_code") and code_fingerprint()["sha256"] != res["patuh_code"]["sha256"]:
                res["warning"] = "Patuh's code changed while the benchmark ran: figures mix two versions"
                print(f"warning: {res['warning']}", file=sys.stderr)
        cleanup()
        if res["sizes"]:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(res, indent=2, default=str))
    if "summary" in res:
        print_report(res)
    print(f"\n(total {res['total_s']:.0f} s; figures in {args.out})")
    return 1 if "error" in res else 0


if __name__ == "__main__":
    sys.exit(main())
