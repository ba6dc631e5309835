"""The nightly loop of `patuh schedule`: one new process per sweep (the reactor cannot restart).

`schedule` fires the job at the given time; the job starts `patuh sweep` as a child process with
its output in a dated log file, and appends one JSON line per sweep to `sweeps.jsonl`. The sweep
itself takes the database's sweep lock, so a second sweep (scheduled or by hand) never overlaps.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import schedule


def sweep_command(db: str | None, region: str | None, kind: str | None, extra: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "crawler", "sweep"]
    if db:
        cmd += ["--db", db]
    if region:
        cmd += ["--region", region]
    if kind:
        cmd += ["--kind", kind]
    return cmd + extra


def run_sweep(cmd: list[str], log_dir: Path, summarize: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one sweep process to its end; log its output; return and record its summary."""
    log_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    log_path = log_dir / f"sweep-{started:%Y%m%d-%H%M%S}.log"
    t0 = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        log.write(f"# {started.isoformat()} {' '.join(cmd)}\n")
        log.flush()
        code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    summary = {"started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"), "seconds": round(time.monotonic() - t0, 1),
               "exit_code": code, "log": str(log_path)}
    try:
        summary.update(summarize())
    except Exception as exc:  # a broken database must not stop the nightly loop
        summary["summary_error"] = f"{type(exc).__name__}: {exc}"
    with (log_dir / "sweeps.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(summary, ensure_ascii=False) + "\n")
    return summary


def loop(at: str, job: Callable[[], Any], once: bool = False, now: bool = False) -> None:
    """Call `job` every day at `at` (HH:MM, local time) until interrupted."""
    if now or once:
        job()
        if once:
            return
    schedule.every().day.at(at).do(job)
    while True:
        schedule.run_pending()
        time.sleep(min(30.0, max(1.0, schedule.idle_seconds() or 30.0)))
