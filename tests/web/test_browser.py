"""The workbench in a real browser: Playwright on the system Chromium against `patuh serve` in a subprocess.

- an assessor signs in, opens the queue, overrules a finding; another `patuh sweep` runs; the
  decision is still in force on the new sweep's finding;
- an agency user cannot open another agency's unit (HTTP 404, not a hidden link);
- the script payloads of the hostile site never run, on any page that shows its text;
- an agency runs a self-check and watches it progress to its checklist.

Screenshots of the dashboard, the queue and a unit page are written to ``$PATUH_DOCS_SCREENSHOTS``
when that is set (``PATUH_DOCS_SCREENSHOTS=docs pytest tests/web/test_browser.py`` refreshes the
README's pictures), else to a temporary folder; each must stay under 300 KB.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import (
    PASSWORDS,
    LiveServer,
    Workspace,
    current_findings,
    evidence_ids,
    start_server,
    stop_server,
    unit_id,
)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
MAX_PNG = 300 * 1024

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed at /usr/bin/chromium")


@pytest.fixture(scope="module")
def live(workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`patuh serve --allow-private` on a copy of the workspace (this module sweeps it again)."""
    ws = workspace.copy(tmp_path_factory.mktemp("browser-ws"))
    server = start_server(ws, allow_private=True)
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("PATUH_DOCS_SCREENSHOTS")
    folder = Path(target) if target else tmp_path_factory.mktemp("shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(browser: Any, live: LiveServer, name: str, **context: Any) -> Any:
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, locale="id-ID", **context)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.goto(live.url + "/")
    assert "/masuk" in page.url  # signed out: sent to the sign-in page
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name])
    page.click("form[action='/masuk'] button[type=submit]")
    page.wait_for_url(live.url + "/")
    return page


def snap(page: Any, path: Path, full_page: bool = False) -> None:
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size < MAX_PNG, f"{path.name} is {path.stat().st_size} bytes"


def test_assessor_overrules_and_the_decision_survives_a_sweep(browser: Any, live: LiveServer, shots: Path) -> None:
    ws = live.ws
    page = sign_in(browser, live, "penilai")
    assert page.locator("h1").inner_text() == "Dasbor kepatuhan"
    assert page.get_by_role("link", name="UPTD Puskesmas Moru").count() == 1

    charter_before = current_findings(ws, "pkm-moru")["service_charter"]
    assert charter_before[1] == "absent"
    page.get_by_role("link", name="Antrian telaah").click()
    page.wait_for_url(re.compile(r"/antrian"))
    snap(page, shots / "workbench-queue.png")
    page.select_option("#wilayah", "Kabupaten Alor")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"wilayah=Kabupaten\+Alor"))
    row = page.locator(f"tr[data-finding='{charter_before[0]}']")
    assert row.count() == 1
    assert "Maklumat pelayanan" in row.inner_text()
    row.locator("input[name=note]").fill("Maklumat terpasang di ruang tunggu (foto di beranda)")
    row.get_by_role("button", name="Koreksi: sebenarnya ada").click()
    page.wait_for_load_state()
    assert "dikoreksi (ada)" in page.locator("[role=status]").inner_text()
    assert page.locator(f"tr[data-finding='{charter_before[0]}']").count() == 0

    # the nightly sweep runs again: new findings, same evidence
    ws.sweep()
    charter_after = current_findings(ws, "pkm-moru")["service_charter"]
    assert charter_after[0] != charter_before[0] and charter_after[1] == "absent"
    page.reload()
    assert page.locator(f"tr[data-finding='{charter_after[0]}']").count() == 0
    assert page.locator("tr[data-finding]").count() > 0  # the other Alor findings still wait

    page.goto(f"{live.url}/unit/{unit_id(ws, 'pkm-moru')}")
    item = page.locator("#indikator-service_charter")
    assert "dikoreksi oleh penilai" in item.locator("summary").inner_text()
    assert "ada" in item.locator("summary .badge").first.inner_text()
    page.locator("#indikator-requirements summary").click()
    snap(page, shots / "workbench-unit.png")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, storage_state=page.context.storage_state())
    mobile = phone.new_page()
    mobile.goto(f"{live.url}/unit/{unit_id(ws, 'pkm-moru')}")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 400  # no sideways scrolling
    snap(mobile, shots / "workbench-phone.png")
    phone.close()
    page.goto(live.url + "/")
    snap(page, shots / "workbench-dashboard.png")
    page.context.close()


def test_agency_cannot_open_another_agencys_unit(browser: Any, live: LiveServer) -> None:
    page = sign_in(browser, live, "moru")
    own = page.goto(f"{live.url}/unit/{unit_id(live.ws, 'pkm-moru')}")
    assert own is not None and own.status == 200
    foreign = page.goto(f"{live.url}/unit/{unit_id(live.ws, 'dukcapil-melawi')}")
    assert foreign is not None and foreign.status == 404
    assert "Dukcapil" not in page.content()
    fid = current_findings(live.ws, "dukcapil-melawi")["contact"][0]
    response = page.goto(f"{live.url}/temuan/{fid}")
    assert response is not None and response.status == 404
    response = page.goto(f"{live.url}/antrian")
    assert response is not None and response.status == 403
    page.context.close()


def test_script_payloads_never_run(browser: Any, live: LiveServer) -> None:
    ws = live.ws
    page = sign_in(browser, live, "admin")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    hours = current_findings(ws, "hostile")["opening_hours"][0]
    evidence = evidence_ids(ws, hours)[0]
    paths = [f"/unit/{unit_id(ws, 'hostile')}", "/", "/antrian", f"/temuan/{hours}", "/laporan",
             f"/bukti/{evidence}/arsip", f"/bukti/{evidence}/teks"]
    for path in paths:
        page.goto(live.url + path)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__pwned") == "undefined", path
        # and not only because the CSP would block it: no element came from scraped markup
        assert page.evaluate("document.querySelectorAll('[onerror], script:not([src])').length") == 0, path
    page.goto(f"{live.url}/unit/{unit_id(ws, 'hostile')}")
    page.locator("#indikator-opening_hours summary").click()
    text = page.locator("#indikator-opening_hours").inner_text()
    assert "<script>window.__pwned=1</script>" in text  # shown as text, not run
    assert page.locator("h1").inner_text().startswith("Dinas Uji <img src=x onerror=")
    assert page.locator("main img").count() == 0  # no element came from scraped text
    assert not dialogs
    page.context.close()


def test_agency_self_check_shows_live_progress_then_the_checklist(browser: Any, live: LiveServer) -> None:
    page = sign_in(browser, live, "moru")
    polls: list[str] = []
    page.on("response", lambda r: polls.append(r.url) if r.url.endswith("/progres") else None)
    page.get_by_role("link", name="Periksa mandiri").click()
    page.wait_for_url(re.compile(r"/periksa$"))
    page.get_by_role("button", name="Periksa unit ini").click()
    page.wait_for_url(re.compile(r"/periksa/[\w-]+$"))
    assert "Sedang memeriksa" in page.locator("#progres").inner_text()
    page.wait_for_selector("#progres [data-done]", timeout=120_000)
    result = page.locator("#progres").inner_text()
    assert "Hasil: nilai" in result
    assert page.locator("#progres tbody tr").count() == 12
    assert polls, "the progress was never polled"
    page.get_by_role("link", name=re.compile("buka halaman unit")).click()
    assert page.locator("h1").inner_text() == "UPTD Puskesmas Moru"
    page.context.close()
