"""Running the real `patuh` command in a subprocess, and checking its reports against CONTRACT.md."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[3] / "shared"
INDICATORS_YAML = SHARED / "indicators.yaml"
FALLBACK_IDS = (
    "requirements", "procedure", "service_time", "fees", "service_product", "complaint_handling",
    "complaint_channel", "service_charter", "satisfaction_survey", "disability_access", "opening_hours", "contact",
)
SCHEMA = "patuh.report/1"
EVIDENCE_KINDS = {"html", "pdf", "image", "js", "link"}
SHA256 = re.compile(r"[0-9a-f]{64}")
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|\+00:00)")
DEFAULT_TIMEOUT = 90.0


def indicator_ids() -> list[str]:
    """The indicator ids of shared/indicators.yaml (the 12 known ones if the file is not there)."""
    if INDICATORS_YAML.exists():
        import yaml

        data = yaml.safe_load(INDICATORS_YAML.read_text(encoding="utf-8"))
        return [str(item["id"]) for item in data["indicators"]]
    return list(FALLBACK_IDS)


@dataclass
class Run:
    """A finished `patuh` process."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr together (messages may go to either)."""
        return self.stdout + "\n" + self.stderr

    def explain(self) -> str:
        """Everything needed to understand a failed assertion."""
        return (f"patuh {' '.join(self.args)} -> exit {self.returncode}\n--- stdout ---\n{self.stdout[-4000:]}"
                f"\n--- stderr ---\n{self.stderr[-4000:]}")


CRAWLING = ("check", "sweep")


class Patuh:
    """The `patuh` CLI bound to one working directory and one SQLite database.

    `render` is passed to crawling commands as ``-s PATUH_RENDER=...``: "never" by default, since a
    Chromium start (for screenshots of evidence pages) triples the cost of a small check and this
    suite is about crawling and the contract; None leaves the product's own default in force.
    """

    def __init__(self, cwd: Path, render: str | None = "never") -> None:
        self.cwd = cwd
        self.render = render
        self.db_url = f"sqlite:///{cwd / 'patuh.db'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PATUH_")}
        env.update({"COLUMNS": "250", "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8", "TERM": "dumb"})
        self.env = env

    def run(self, *args: str, timeout: float = DEFAULT_TIMEOUT, db: bool = True) -> Run:
        """Run ``python -m crawler ARGS [--db URL]`` in `cwd` and wait at most `timeout` seconds."""
        argv = [*args, *self.crawl_settings(args), *(["--db", self.db_url] if db else [])]
        proc = subprocess.run([sys.executable, "-m", "crawler", *argv], cwd=self.cwd, env=self.env,
                              capture_output=True, text=True, encoding="utf-8", timeout=timeout, check=False)
        return Run(argv, proc.returncode, proc.stdout, proc.stderr)

    def crawl_settings(self, args: tuple[str, ...] | list[str]) -> list[str]:
        """The ``-s`` options this CLI adds to `args` (only to commands that crawl)."""
        if self.render is None or not args or args[0] not in CRAWLING:
            return []
        return ["-s", f"PATUH_RENDER={self.render}"]

    def check(self, url: str, *extra: str, timeout: float = DEFAULT_TIMEOUT,
              expect: int | None = 0) -> tuple[Run, dict[str, Any]]:
        """`patuh check URL --json FILE`; returns the run and the parsed report."""
        out = self.cwd / f"report-{abs(hash((url, extra))) % 10**8}.json"
        run = self.run("check", url, "--json", str(out), *extra, timeout=timeout)
        if expect is not None:
            assert run.returncode == expect, run.explain()
        assert out.exists(), "no JSON report written\n" + run.explain()
        return run, json.loads(out.read_text(encoding="utf-8"))


def findings_by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The report's findings keyed by indicator id."""
    return {f["indicator"]: f for f in report["findings"]}


def statuses(report: dict[str, Any]) -> dict[str, str]:
    """indicator id -> status."""
    return {f["indicator"]: f["status"] for f in report["findings"]}


def evidence_urls(report: dict[str, Any]) -> list[str]:
    """Every evidence URL of every finding."""
    return [e["url"] for f in report["findings"] for e in f["evidence"]]


def assert_report_shape(report: dict[str, Any]) -> None:
    """The top-level keys and types of a `patuh.report/1` object."""
    assert report["schema"] == SCHEMA
    for key in ("unit", "sweep", "reachable", "https", "score", "zone", "findings"):
        assert key in report, f"missing {key!r} in report"
    assert {"name", "kind", "region", "url"} <= set(report["unit"])
    assert {"id", "started_at", "finished_at", "pages_fetched", "documents", "errors"} <= set(report["sweep"])
    assert isinstance(report["reachable"], bool)
    assert isinstance(report["https"], bool)
    assert isinstance(report["findings"], list)
    assert isinstance(report["sweep"]["pages_fetched"], int)
    assert isinstance(report["sweep"]["documents"], dict)
    ids = [f["indicator"] for f in report["findings"]]
    expected = indicator_ids()
    assert sorted(ids) == sorted(expected), f"indicators {ids} != {expected}"
    for f in report["findings"]:
        assert f["status"] in ("present", "absent", "unknown"), f
        assert isinstance(f["evidence"], list), f


def assert_reachable_report(report: dict[str, Any]) -> None:
    """A reachable unit's report: evidence for every `present`, a searched-documents summary for `absent`."""
    assert_report_shape(report)
    assert report["reachable"] is True, report.get("error")
    assert "error" not in report or not report["error"]
    searched = sum(int(n) for n in report["sweep"]["documents"].values())
    for f in report["findings"]:
        if f["status"] == "present":
            assert f["evidence"], f"present without evidence: {f}"
            for e in f["evidence"]:
                assert_evidence(e)
        elif f["status"] == "absent":
            assert f["evidence"] == [], f
            numbers = [int(n) for n in re.findall(r"(\d+)\s+dokumen", f.get("summary") or "")]
            assert numbers, f"absent summary does not say how many documents were searched: {f}"
            assert searched in numbers, f"summary {f['summary']!r} vs {searched} documents stored"
        else:
            raise AssertionError(f"unknown finding on a reachable unit: {f}")


def assert_evidence(e: dict[str, Any]) -> None:
    """One evidence item as CONTRACT.md describes it."""
    for key in ("url", "kind", "locator", "snippet", "sha256", "captured_at"):
        assert key in e, f"evidence without {key!r}: {e}"
    assert e["url"].startswith(("http://", "https://")), e
    assert e["kind"] in EVIDENCE_KINDS, e
    assert isinstance(e["locator"], str) and e["locator"].strip(), e
    assert isinstance(e["snippet"], str) and e["snippet"].strip(), e
    assert SHA256.fullmatch(e["sha256"] or ""), e
    assert ISO_UTC.fullmatch(e["captured_at"] or ""), e


def assert_unreachable_report(report: dict[str, Any], reason: str) -> None:
    """An unreachable unit: reachable false, every finding unknown, an error naming `reason`."""
    assert_report_shape(report)
    assert report["reachable"] is False
    assert all(f["status"] == "unknown" for f in report["findings"]), [f["status"] for f in report["findings"]]
    assert all(f["evidence"] == [] for f in report["findings"])
    assert report.get("error"), "unreachable report without an error"
    assert reason.lower() in report["error"].lower(), f"error {report['error']!r} does not say {reason!r}"
