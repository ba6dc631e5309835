"""The register of units and the sweep: `units import/list`, `sweep [--resume]`, `report`, `recheck`."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.patuhcli import (
    Patuh,
    assert_reachable_report,
    assert_report_shape,
    assert_unreachable_report,
    statuses,
)
from tests.e2e.sitefarm import Hit, Reply, Site, SiteFarm, html, with_etag

HEADER = "name,kind,region,url"


def write_csv(path: Path, *lines: str, bom: bool = False) -> Path:
    """A units CSV from raw lines (so that line numbers are exactly what the test says)."""
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def mentions_line(output: str, line: int) -> bool:
    """Whether `output` reports a problem on line `line` ("baris 3" / "line 3")."""
    return re.search(rf"\b(?:baris|line)\s*{line}\b", output, re.I) is not None


def units_count(output: str) -> int:
    """The total that `units list` prints ("N unit.")."""
    match = re.search(r"(\d+)\s+unit\b", output)
    assert match, output
    return int(match.group(1))


# -- units import / list ----------------------------------------------------------------------------------
def test_units_import_reports_bad_rows_and_keeps_good_ones(patuh: Patuh) -> None:
    csv_path = write_csv(
        patuh.cwd / "units.csv",
        HEADER,                                                               # line 1
        "Puskesmas Satu,puskesmas,Kota Uji,http://pkm-satu.example.test/",   # line 2: good
        "Dinas Tanpa URL,dinas_sosial,Kota Uji,",                             # line 3: missing url
        "Rumah Sakit Uji,rumah_sakit,Kota Uji,http://rs.example.test/",      # line 4: bad kind
        "",                                                                   # line 5: blank
        "Dinas Berkas,dukcapil,Kota Uji,ftp://files.example.test/",           # line 6: ftp url
        "Dukcapil Dua,dukcapil,Kabupaten Uji,https://dukcapil-dua.example.test/",  # line 7: good
        bom=True,
    )
    run = patuh.run("units", "import", str(csv_path), timeout=60)
    assert run.returncode == 0, run.explain()
    for line in (3, 4, 6):
        assert mentions_line(run.output, line), f"line {line} not reported\n" + run.explain()
    for line in (1, 2, 5, 7):
        assert not mentions_line(run.output, line), f"good line {line} reported\n" + run.explain()

    listed = patuh.run("units", "list", timeout=60)
    assert listed.returncode == 0, listed.explain()
    assert "Puskesmas Satu" in listed.stdout and "Dukcapil Dua" in listed.stdout, listed.stdout
    assert "http://pkm-satu.example.test/" in listed.stdout
    for bad in ("Dinas Tanpa URL", "Rumah Sakit Uji", "Dinas Berkas"):
        assert bad not in listed.stdout
    assert units_count(listed.stdout) == 2

    only_puskesmas = patuh.run("units", "list", "--kind", "puskesmas", timeout=60)
    assert only_puskesmas.returncode == 0, only_puskesmas.explain()
    assert "Puskesmas Satu" in only_puskesmas.stdout and "Dukcapil Dua" not in only_puskesmas.stdout
    assert units_count(only_puskesmas.stdout) == 1

    # the same url with another name: updated, not added again
    renamed = write_csv(patuh.cwd / "units2.csv", HEADER,
                        "Puskesmas Satu Baru,puskesmas,Kota Uji,http://pkm-satu.example.test/")
    again = patuh.run("units", "import", str(renamed), timeout=60)
    assert again.returncode == 0, again.explain()
    listed = patuh.run("units", "list", timeout=60)
    assert "Puskesmas Satu Baru" in listed.stdout, listed.stdout
    assert listed.stdout.count("http://pkm-satu.example.test/") == 1, listed.stdout
    assert units_count(listed.stdout) == 2


def test_units_import_without_required_columns(patuh: Patuh) -> None:
    csv_path = write_csv(patuh.cwd / "units.csv", "name,url", "Puskesmas Satu,http://pkm-satu.example.test/")
    run = patuh.run("units", "import", str(csv_path), timeout=60)
    assert run.returncode == 0, run.explain()
    assert mentions_line(run.output, 1), run.explain()
    assert units_count(patuh.run("units", "list", timeout=60).stdout) == 0


# -- sweep, report, recheck -------------------------------------------------------------------------------
STANDARD = ("<h1>Standar Pelayanan Akta Kelahiran</h1><table><tr><th>Komponen</th><th>Uraian</th></tr>"
            "<tr><td>Persyaratan</td><td>KTP asli, Kartu Keluarga</td></tr></table>")


@dataclass
class Swept:
    """Three units swept once: two reachable sites and a closed port."""

    cli: Patuh
    sites: list[Site]
    dead_url: str
    sweep_run: Any
    reports: list[dict[str, Any]]


@pytest.fixture(scope="module")
def swept(farm: SiteFarm, tmp_path_factory: pytest.TempPathFactory) -> Swept:
    """Import three units and sweep them once for the whole module."""
    cli = Patuh(tmp_path_factory.mktemp("sweep"))
    one = farm.site("sweep-one", {
        "/": html("<h1>Dukcapil Kota Uji</h1><a href='/standar-pelayanan/'>Standar Pelayanan</a>"),
        "/standar-pelayanan/": html(STANDARD, "Standar Pelayanan"),
    })
    two = farm.site("sweep-two", {"/": html("<h1>Puskesmas Dua</h1><p>Selamat datang.</p>")})
    dead = farm.closed_port_url()
    csv_path = write_csv(cli.cwd / "units.csv", HEADER,
                         f"Dukcapil Kota Uji,dukcapil,Kota Uji,{one.base_url}",
                         f"Puskesmas Dua,puskesmas,Kota Uji,{two.base_url}",
                         f"Dinas Mati,dinas_sosial,Kota Uji,{dead}")
    imported = cli.run("units", "import", str(csv_path), timeout=60)
    assert imported.returncode == 0, imported.explain()
    run = cli.run("sweep", timeout=150)
    report = cli.run("report", "--format", "json", timeout=60)
    assert report.returncode == 0, report.explain()
    return Swept(cli, [one, two], dead, run, json.loads(report.stdout))


def _by_url(reports: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["unit"]["url"]: r for r in reports}


def test_sweep_exits_0_even_with_an_unreachable_unit(swept: Swept) -> None:
    assert swept.sweep_run.returncode == 0, swept.sweep_run.explain()
    for site in swept.sites:
        assert "/" in site.requested(), f"{site.name} was not crawled"


def test_report_json_is_an_array_of_unit_reports(swept: Swept) -> None:
    reports = swept.reports
    assert isinstance(reports, list) and len(reports) == 3
    by_url = _by_url(reports)
    assert set(by_url) == {swept.sites[0].base_url, swept.sites[1].base_url, swept.dead_url}
    assert len({r["sweep"]["id"] for r in reports}) == 1
    for site in swept.sites:
        assert_reachable_report(by_url[site.base_url])
    assert_unreachable_report(by_url[swept.dead_url], "refused")
    assert by_url[swept.dead_url]["unit"]["name"] == "Dinas Mati"
    assert statuses(by_url[swept.sites[0].base_url])["requirements"] == "present"


def test_report_csv_has_a_header_and_one_row_per_unit(swept: Swept) -> None:
    run = swept.cli.run("report", "--format", "csv", timeout=60)
    assert run.returncode == 0, run.explain()
    rows = list(csv.reader(io.StringIO(run.stdout)))
    rows = [r for r in rows if r]
    assert len(rows) == 4, run.stdout
    header = rows[0]
    assert "url" in header, header
    urls = {r[header.index("url")] for r in rows[1:]}
    assert urls == {swept.sites[0].base_url, swept.sites[1].base_url, swept.dead_url}


@pytest.mark.parametrize(("region", "expected"), [("Kota Uji", 3), ("kota uji", 3), ("Kabupaten Lain", 0)])
def test_report_by_region(region: str, expected: int, swept: Swept) -> None:
    run = swept.cli.run("report", "--format", "json", "--region", region, timeout=60)
    assert run.returncode == 0, run.explain()
    assert len(json.loads(run.stdout)) == expected


@pytest.mark.parametrize("fmt", ["table", "html"])
def test_report_other_formats(fmt: str, swept: Swept) -> None:
    out = swept.cli.cwd / f"report.{fmt}"
    run = swept.cli.run("report", "--format", fmt, "--out", str(out), timeout=60)
    assert run.returncode == 0, run.explain()
    text = out.read_text(encoding="utf-8")
    for name in ("Dukcapil Kota Uji", "Puskesmas Dua", "Dinas Mati"):
        assert name in text, text[:2000]


def test_recheck_keeps_the_statuses(swept: Swept) -> None:
    run = swept.cli.run("recheck", timeout=90)
    assert run.returncode == 0, run.explain()
    after = swept.cli.run("report", "--format", "json", timeout=60)
    assert after.returncode == 0, after.explain()
    before_by_url, after_by_url = _by_url(swept.reports), _by_url(json.loads(after.stdout))
    assert set(before_by_url) == set(after_by_url)
    for url, before in before_by_url.items():
        now = after_by_url[url]
        assert_report_shape(now)
        assert now["reachable"] == before["reachable"], url
        assert statuses(now) == statuses(before), url
        assert now["sweep"]["id"] == before["sweep"]["id"]
    assert after_by_url[swept.dead_url].get("error") == before_by_url[swept.dead_url].get("error")


# -- a sweep killed halfway resumes ----------------------------------------------------------------------
def _latest_reports(cli: Patuh) -> list[dict[str, Any]]:
    run = cli.run("report", "--format", "json", timeout=60)
    return json.loads(run.stdout) if run.returncode == 0 and run.stdout.strip().startswith("[") else []


def test_killed_sweep_resumes_where_it_stopped(farm: SiteFarm, patuh: Patuh) -> None:
    gate = threading.Event()  # the slow unit's start page answers only when the gate opens

    def held(hit: Hit) -> Reply:
        gate.wait(100)
        return html("<h1>Puskesmas Lambat</h1>")

    fast = farm.site("resume-fast", {"/": html(f"<h1>Dukcapil Cepat</h1>{STANDARD}")})
    slow = farm.site("resume-slow", {"/": held})
    csv_path = write_csv(patuh.cwd / "units.csv", HEADER,
                         f"Dukcapil Cepat,dukcapil,Kota Uji,{fast.base_url}",
                         f"Puskesmas Lambat,puskesmas,Kota Uji,{slow.base_url}")
    assert patuh.run("units", "import", str(csv_path), timeout=60).returncode == 0

    argv = [sys.executable, "-m", "crawler", "sweep", "-s", "DOWNLOAD_TIMEOUT=110", *patuh.crawl_settings(["sweep"]),
            "--db", patuh.db_url]
    proc = subprocess.Popen(argv, cwd=patuh.cwd, env=patuh.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        fast_done = False
        while time.monotonic() < deadline and not fast_done:
            time.sleep(0.5)
            by_url = _by_url(_latest_reports(patuh))
            fast_done = bool(by_url.get(fast.base_url, {}).get("findings")) and bool(slow.requested("/"))
        assert fast_done, "the fast unit was never judged while the slow one was crawling"
        assert proc.poll() is None, "the sweep ended before it could be interrupted"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        gate.set()

    fast_requests = len(fast.requested("/"))
    slow.routes["/"] = html("<h1>Puskesmas Lambat</h1><p>Sudah pulih.</p>")
    resumed = patuh.run("sweep", "--resume", timeout=120)
    assert resumed.returncode == 0, resumed.explain()
    assert len(fast.requested("/")) == fast_requests, "the unit judged before the kill was crawled again"
    reports = _by_url(_latest_reports(patuh))
    assert set(reports) == {fast.base_url, slow.base_url}
    assert len({r["sweep"]["id"] for r in reports.values()}) == 1
    assert reports[fast.base_url]["reachable"] is True
    assert reports[slow.base_url]["reachable"] is True, reports[slow.base_url].get("error")
    assert statuses(reports[fast.base_url])["requirements"] == "present"


# -- incremental sweeps ---------------------------------------------------------------------------------
def test_next_sweep_revalidates_and_sees_a_changed_standard(farm: SiteFarm, patuh: Patuh) -> None:
    home = with_etag(html("<h1>Dukcapil Kota Uji</h1><a href='/standar-pelayanan/'>Standar Pelayanan</a>"
                          "<a href='/profil/'>Profil</a>"))
    site = farm.site("incremental", {
        "/": home,
        "/standar-pelayanan/": with_etag(html(STANDARD, "Standar Pelayanan")),
        "/profil/": with_etag(html("<h1>Profil</h1><p>Dinas ini dibentuk pada tahun 2016.</p>", "Profil")),
    })
    csv_path = write_csv(patuh.cwd / "units.csv", HEADER, f"Dukcapil Kota Uji,dukcapil,Kota Uji,{site.base_url}")
    assert patuh.run("units", "import", str(csv_path), timeout=60).returncode == 0
    first = patuh.run("sweep", timeout=120)
    assert first.returncode == 0, first.explain()
    [before] = _latest_reports(patuh)
    assert statuses(before)["requirements"] == "present"

    # the standard is emptied; the home page and the profile stay as they were
    site.routes["/standar-pelayanan/"] = with_etag(html("<h1>Standar Pelayanan</h1><p>Sedang diperbarui.</p>"))
    already = len(site.answers)
    second = patuh.run("sweep", timeout=120)
    assert second.returncode == 0, second.explain()
    [after] = _latest_reports(patuh)
    assert after["sweep"]["id"] != before["sweep"]["id"]
    assert_reachable_report(after)
    assert statuses(after)["requirements"] == "absent", "a changed page that carried evidence was not read again"
    tonight = site.answers[already:]
    assert any(path == "/standar-pelayanan/" and status == 200 for path, status in
               ((h.path, st) for h, st in tonight)), tonight
    assert any(h.path == "/" and st == 304 for h, st in tonight), "the unchanged home page was not revalidated"
    for finding in after["findings"]:
        for e in finding["evidence"]:
            assert e["sha256"] == site.sha256_of(e["url"]), e
