"""`patuh check URL`: exit codes, the `patuh.report/1` JSON contract, unreachable sites, bad arguments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.patuhcli import (
    Patuh,
    Run,
    assert_reachable_report,
    assert_unreachable_report,
    findings_by_id,
    indicator_ids,
)
from tests.e2e.sitefarm import Hit, Reply, Site, SiteFarm, html, redirect, robots

STANDARD_PAGE = """
<h1>Standar Pelayanan Izin Usaha Mikro</h1>
<table>
  <tr><th>Komponen</th><th>Uraian</th></tr>
  <tr><td>Persyaratan</td><td>KTP asli, Kartu Keluarga</td></tr>
  <tr><td>Biaya/Tarif</td><td>Tidak dipungut biaya (gratis)</td></tr>
</table>
"""

HOME_PAGE = """
<header><nav><a href="/">Beranda</a> <a href="/standar-pelayanan/">Standar Pelayanan</a>
<a href="/profil/">Profil</a></nav></header>
<main><h1>Dinas Penanaman Modal dan PTSP</h1><p>Selamat datang di situs resmi kami.</p></main>
"""


def main_site(farm: SiteFarm, name: str) -> Site:
    """A small reachable site: a home page, a service standard, a profile page."""
    return farm.site(name, {
        "/": html(HOME_PAGE),
        "/standar-pelayanan/": html(STANDARD_PAGE, "Standar Pelayanan"),
        "/profil/": html("<h1>Profil</h1><p>Dinas ini dibentuk pada tahun 2016.</p>", "Profil"),
    })


@dataclass
class Checked:
    """One finished `patuh check --json FILE --html FILE` of the main site."""

    site: Site
    run: Run
    report: dict[str, Any]
    html_path: Path


@pytest.fixture(scope="module")
def checked(farm: SiteFarm, tmp_path_factory: pytest.TempPathFactory) -> Checked:
    """Check the main site once for the whole module (each check costs a few seconds)."""
    site = main_site(farm, "main")
    cli = Patuh(tmp_path_factory.mktemp("check"), render=None)  # the product's defaults, screenshots included
    html_path = cli.cwd / "report.html"
    run, report = cli.check(site.base_url, "--name", "DPMPTSP Uji", "--html", str(html_path))
    return Checked(site, run, report, html_path)


def test_check_exits_0_and_writes_a_contract_report(checked: Checked) -> None:
    assert checked.run.returncode == 0, checked.run.explain()
    report = checked.report
    assert_reachable_report(report)
    assert report["unit"]["url"] == checked.site.base_url
    assert report["unit"]["name"] == "DPMPTSP Uji"
    assert report["https"] is False
    assert isinstance(report["sweep"]["id"], int)
    assert checked.site.distinct_pages() == {"/", "/standar-pelayanan/", "/profil/"}
    assert report["sweep"]["pages_fetched"] == 3
    assert report["sweep"]["documents"] == {"html": 3}
    assert report["score"] is None or 0.0 <= report["score"] <= 100.0
    assert report["zone"] in ("hijau", "kuning", "merah")


def test_every_indicator_appears_exactly_once(checked: Checked) -> None:
    ids = [f["indicator"] for f in checked.report["findings"]]
    assert len(ids) == len(set(ids)) == len(indicator_ids())
    assert set(ids) == set(indicator_ids())


def test_present_and_absent_findings(checked: Checked) -> None:
    findings = findings_by_id(checked.report)
    requirements = findings["requirements"]
    assert requirements["status"] == "present", requirements
    assert [e["url"] for e in requirements["evidence"]] == [checked.site.url("/standar-pelayanan/")]
    assert "KTP asli" in requirements["evidence"][0]["snippet"]
    # nothing on the site speaks of disabilities, surveys or the maklumat: those must be absent
    assert any(f["status"] == "absent" for f in checked.report["findings"])


def test_evidence_hashes_the_bytes_served(checked: Checked) -> None:
    for finding in checked.report["findings"]:
        for e in finding["evidence"]:
            assert checked.site.owns(e["url"]), e
            assert e["sha256"] == checked.site.sha256_of(e["url"]), e


def test_checklist_is_printed(checked: Checked) -> None:
    out = checked.run.stdout
    assert "DPMPTSP Uji" in out
    for finding in checked.report["findings"]:
        assert finding["title"] in out, f"{finding['title']!r} missing from the printed checklist"


def test_html_report_is_written(checked: Checked) -> None:
    text = checked.html_path.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html")
    assert "DPMPTSP Uji" in text


def test_json_to_stdout(farm: SiteFarm, patuh: Patuh) -> None:
    site = main_site(farm, "stdout")
    run = patuh.run("check", site.base_url, "--json", "-")
    assert run.returncode == 0, run.explain()
    report = json.loads(run.stdout)
    assert_reachable_report(report)
    assert report["unit"]["url"] == site.base_url
    assert findings_by_id(report)["requirements"]["status"] == "present"


def test_render_never_uses_no_browser(farm: SiteFarm, patuh: Patuh) -> None:
    site = main_site(farm, "render-never")
    patuh.render = None  # only the CLI option says "never" here
    _, report = patuh.check(site.base_url, "--render", "never")
    assert findings_by_id(report)["requirements"]["status"] == "present"
    assert sorted(site.pages_requested()) == sorted(site.distinct_pages()), f"pages asked twice: {site.log}"
    assert not [e for f in report["findings"] for e in f["evidence"] if e.get("screenshot")]


# -- unreachable sites ----------------------------------------------------------------------------------
def _loop(hit: Hit) -> Reply:
    return redirect("/b/" if hit.path == "/a/" else "/a/")


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DNS_FAILS = "http://patuh-e2e-unit.invalid/"  # RFC 6761: .invalid never resolves

# case -> (routes of the farm site, or None for a URL nothing answers; reason word; extra arguments)
UNREACHABLE: dict[str, tuple[dict[str, Any] | None, str, tuple[str, ...]]] = {
    "http-500": ({"/": html("<h1>Internal Server Error</h1>", status=500)}, "HTTP 500", ()),
    "redirect-loop": ({"/": _loop, "/a/": _loop, "/b/": _loop}, "redirect loop", ()),
    "refused": (None, "refused", ()),
    "robots-disallow-all": ({"/robots.txt": robots("/"), "/": html(HOME_PAGE)}, "robots", ()),
    "timeout": ({"/": Reply(body=b"<html><body>lambat</body></html>", delay=4.0)}, "timeout",
                ("-s", "DOWNLOAD_TIMEOUT=1")),
    "dns": (None, "DNS", ()),
    "start-page-not-html": ({"/": Reply(body=PNG, content_type="image/png")}, "HTML", ()),
    # a web self-check: no connection to a private address, whatever the URL or a redirect names
    "public-only": ({"/": html(HOME_PAGE)}, "privat", ("-s", "PATUH_PUBLIC_ONLY=True")),
}


def _resolves(url: str) -> bool:
    import socket
    from urllib.parse import urlsplit

    try:
        socket.getaddrinfo(urlsplit(url).hostname, 80)
    except OSError:
        return False
    return True


@pytest.mark.parametrize("case", list(UNREACHABLE))
def test_unreachable_site_exits_3_with_unknown_findings(case: str, farm: SiteFarm, patuh: Patuh) -> None:
    routes, reason, extra = UNREACHABLE[case]
    site: Site | None = None
    if case == "dns":
        if _resolves(DNS_FAILS):
            pytest.skip("this resolver answers for .invalid names")
        url = DNS_FAILS
    elif routes is None:
        url = farm.closed_port_url()
    else:
        site = farm.site(case, routes)
        url = site.base_url
    run, report = patuh.check(url, *extra, expect=None, timeout=120)
    assert run.returncode == 3, run.explain()
    assert_unreachable_report(report, reason)
    assert report["unit"]["url"] == url
    assert report["score"] is None, "a unit we could not read must not be scored"
    if case == "robots-disallow-all":
        assert site is not None
        assert site.pages_requested() == [], "a page robots.txt disallows was requested"
    if case == "public-only":
        assert site is not None and site.log == [], "a request reached a loopback address"


@pytest.mark.parametrize("url", ["not-a-url", "ftp://x", "ftp://127.0.0.1/standar.pdf", "http://"])
def test_bad_url_exits_2(url: str, patuh: Patuh) -> None:
    run = patuh.run("check", url, timeout=60)
    assert run.returncode == 2, run.explain()
    assert "URL" in run.stderr, run.explain()


def test_bad_option_exits_2(patuh: Patuh) -> None:
    run = patuh.run("check", "http://127.0.0.1:9/", "--max-pages", "0", timeout=60)
    assert run.returncode == 2, run.explain()
