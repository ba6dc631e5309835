"""Self-checks started from the web: one `patuh check` subprocess per job, watched through the database.

The Twisted reactor cannot run twice in one process, so each check runs as
``python -m crawler check URL --json PATH --db DB -s PATUH_PAGE_BATCH=1`` (pages are stored one
by one, so the number of stored pages of the new visit is the live progress). Jobs live in this
process's memory: a restart of ``patuh serve`` forgets them (the checks' results stay in the
database, like any other check).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage import repo
from storage import reviews as rv
from storage.db import get_engine, session

MAX_RUNNING = 2
JOB_TIMEOUT = 15 * 60.0
KEEP_FINISHED = 200


@dataclass
class Job:
    """One self-check: who started it, the process, and where its report goes."""

    id: str
    user_id: int
    url: str
    proc: subprocess.Popen[bytes]
    json_path: Path
    log_path: Path
    sweep_floor: int
    budget: int
    started: float = field(default_factory=time.monotonic)
    returncode: int | None = None
    visit_id: int | None = None
    report: dict[str, Any] | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        """Whether the check process is still going."""
        return self.returncode is None


class SelfChecks:
    """Starts, watches and stops the self-check processes of one server."""

    def __init__(self, db_url: str, workdir: Path, max_pages: int = 100, render: str = "never",
                 cwd: Path | None = None, archive_dir: Path | None = None,
                 screenshot_dir: Path | None = None, allow_private: bool = False) -> None:
        self.db_url = db_url
        self.allow_private = allow_private
        self.archive_dir = archive_dir
        self.screenshot_dir = screenshot_dir
        self.workdir = workdir
        self.max_pages = max_pages
        self.render = render
        self.cwd = cwd
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def running(self) -> list[Job]:
        """The jobs whose process is still going."""
        return [job for job in self.jobs.values() if self.poll(job)]

    def start(self, user_id: int, url: str) -> Job:
        """Start a check of ``url`` for ``user_id``; ``RuntimeError`` when too many are running."""
        with self.lock:
            running = self.running()
            if len(running) >= MAX_RUNNING:
                raise RuntimeError("Sedang ada pemeriksaan lain berjalan; coba lagi sebentar lagi.")
            if any(job.user_id == user_id for job in running):
                raise RuntimeError("Pemeriksaan Anda sebelumnya masih berjalan; tunggu sampai selesai.")
            self.workdir.mkdir(parents=True, exist_ok=True)
            job_id = secrets.token_urlsafe(12)
            json_path = self.workdir / f"check-{job_id}.json"
            log_path = self.workdir / f"check-{job_id}.log"
            with session(get_engine(self.db_url)) as s:
                floor = rv.max_sweep_id(s)
            argv = [sys.executable, "-m", "crawler", "check", url, "--json", str(json_path), "--db", self.db_url,
                    "--max-pages", str(self.max_pages), "-s", "PATUH_PAGE_BATCH=1", "-s",
                    f"PATUH_RENDER={self.render}"]
            if not self.allow_private:  # redirects and links must not lead it to private addresses either
                argv += ["-s", "PATUH_PUBLIC_ONLY=True"]
            if self.archive_dir is not None:  # the evidence viewer reads the archive the check writes
                argv += ["-s", f"PATUH_ARCHIVE_DIR={self.archive_dir.resolve()}"]
            if self.screenshot_dir is not None:
                argv += ["-s", f"PATUH_SCREENSHOT_DIR={self.screenshot_dir.resolve()}"]
            env = {**os.environ, "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "", "NO_COLOR": "1", "COLUMNS": "200"}
            with log_path.open("wb") as log:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        env=env, cwd=self.cwd)
            job = Job(id=job_id, user_id=user_id, url=url, proc=proc, json_path=json_path, log_path=log_path,
                      sweep_floor=floor, budget=self.max_pages)
            self.jobs[job_id] = job
            self._forget_old()
            return job

    def get(self, job_id: str) -> Job | None:
        """The job with that id, or None."""
        return self.jobs.get(job_id)

    def poll(self, job: Job) -> bool:
        """Update ``job`` from its process; True while it runs. A job past its time limit is stopped."""
        if job.returncode is not None:
            return False
        code = job.proc.poll()
        if code is None and time.monotonic() - job.started > JOB_TIMEOUT:
            job.proc.kill()
            code = job.proc.wait(timeout=10)
            job.error = "Pemeriksaan dihentikan karena melewati batas waktu."
        if code is None:
            return True
        job.returncode = code
        if job.json_path.exists():
            try:
                job.report = json.loads(job.json_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                job.report = None
        if job.report is None and job.error is None:
            job.error = self._log_tail(job) or f"Pemeriksaan berhenti dengan kode {code}."
        return False

    def progress(self, job: Job) -> dict[str, Any]:
        """Where the job is: pages stored so far, the page budget, seconds elapsed, done or not."""
        running = self.poll(job)
        pages = 0
        with session(get_engine(self.db_url)) as s:
            if job.visit_id is None:
                unit = repo.get_unit_by_url(s, job.url)
                if unit is not None and unit.id is not None:
                    visit = rv.newest_visit_since(s, unit.id, job.sweep_floor)
                    job.visit_id = visit.id if visit else None
            if job.visit_id is not None:
                pages = rv.visit_page_count(s, job.visit_id)
        if job.report is not None:
            pages = max(pages, int(job.report.get("sweep", {}).get("pages_fetched") or 0))
        phase = ("Menyiapkan pemeriksaan…" if job.visit_id is None else
                 "Menghubungi situs…" if pages == 0 else "Membaca halaman dan menilai…")
        return {"running": running, "pages": pages, "budget": job.budget, "phase": phase,
                "elapsed": int(time.monotonic() - job.started), "percent": min(100, round(100 * pages / job.budget))}

    def stop_all(self) -> None:
        """Stop every running check (the server is shutting down)."""
        for job in list(self.jobs.values()):
            if job.proc.poll() is None:
                job.proc.terminate()
                try:
                    job.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    job.proc.kill()

    def _forget_old(self) -> None:
        finished = [j for j in self.jobs.values() if j.returncode is not None]
        for job in finished[:-KEEP_FINISHED] if len(finished) > KEEP_FINISHED else []:
            self.jobs.pop(job.id, None)

    @staticmethod
    def _log_tail(job: Job) -> str:
        try:
            lines = job.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-5:])


__all__ = ["JOB_TIMEOUT", "MAX_RUNNING", "Job", "SelfChecks"]
