"""Decisions: they stick to (unit, indicator) across sweeps until the evidence changes; web and terminal agree."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from storage.reviews import evidence_key
from tests.web.conftest import Sites, Workspace, current_findings, unit_id

SITE_INDEX = """<!doctype html><html lang="id"><head><meta charset="utf-8"><title>Dinas Uji Ubah</title></head>
<body><main><h1>Dinas Uji Ubah</h1>
<p>Jam pelayanan: Senin–Jumat 08.00–15.00 WITA.</p>
<p>Alamat: Jl. Merdeka No. 2, Kota Kupang. Telepon: (0380) 821235. Email: ubah@contoh.go.id</p>
<p>{news}</p>
</main></body></html>
"""


def test_evidence_key_is_order_free_and_status_bound() -> None:
    a, b = "a" * 64, "b" * 64
    assert evidence_key("present", [a, b], []) == evidence_key("present", [b, a, a], ["x"])
    assert evidence_key("present", [a], []) != evidence_key("present", [a, b], [])
    assert evidence_key("absent", [], [a, b]) == evidence_key("absent", [a], [b, a])
    assert evidence_key("absent", [], [a]) != evidence_key("unknown", [], [a])
    assert re.fullmatch(r"[0-9a-f]{64}", evidence_key("absent", [], []))


def _queue_ids(b: Any, **params: str) -> list[int]:
    html = b.client.get("/antrian", params=params).text
    return [int(x) for x in re.findall(r'data-finding="(\d+)"', html)]


def test_overrule_sticks_across_sweeps_until_the_evidence_changes(sites: Sites, tmp_path: Path,
                                                                  make_client: Any) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(SITE_INDEX.format(news="Berita: rapat koordinasi."), encoding="utf-8")
    url = sites.serve("mutable", site, "127.0.0.31")
    ws = Workspace(tmp_path / "ws", {"hostile": url})
    ws.root.mkdir()
    (ws.root / "units.csv").write_text(f"name,kind,region,url,province\nDinas Uji Ubah,opd,Kota Kupang,{url},"
                                       "Nusa Tenggara Timur\n", encoding="utf-8")
    ws.patuh("units", "import", "units.csv")
    ws.patuh("sweep", "-s", "PATUH_RENDER=never", "-s", "PATUH_REVISIT_DAYS=1")
    ws.patuh("users", "add", "penilai", "--role", "assessor", "--region", "Kota Kupang", stdin="sandi-penilai-123\n")

    b = make_client(ws)
    b.login("penilai", "sandi-penilai-123")
    first = current_findings(ws, "hostile")
    fees_id, status, _ = first["fees"]
    assert status == "absent" and fees_id in _queue_ids(b)
    uid = unit_id(ws, "hostile")
    before = b.client.get(f"/unit/{uid}").text

    # an overrule without a note is refused, with a note it is kept
    r = b.post(f"/temuan/{fees_id}/keputusan", {"decision": "overrule", "note": "", "kembali": "/antrian"},
               token_from="/antrian")
    assert r.status_code == 303 and fees_id in _queue_ids(b)
    r = b.post(f"/temuan/{fees_id}/keputusan", {"decision": "overrule", "note": "Tarif ada di papan layanan",
                                                "kembali": "/antrian"}, token_from="/antrian")
    assert r.status_code == 303 and r.headers["location"] == "/antrian"
    assert fees_id not in _queue_ids(b)
    after = b.client.get(f"/unit/{uid}").text
    assert "dikoreksi oleh penilai" in after
    score = re.compile(r"<b>Nilai ([\d,–]+)</b>")
    assert score.search(before).group(1) != score.search(after).group(1)  # type: ignore[union-attr]

    # a new sweep of an unchanged site: a new finding, the same evidence, the decision still applies
    ws.patuh("sweep", "-s", "PATUH_RENDER=never", "-s", "PATUH_REVISIT_DAYS=1")
    second = current_findings(ws, "hostile")
    assert second["fees"][0] != fees_id and second["fees"][1] == "absent"
    assert second["fees"][0] not in _queue_ids(b)
    assert "dikoreksi oleh penilai" in b.client.get(f"/unit/{uid}").text
    # a decision on the old finding is refused now
    r = b.post(f"/temuan/{fees_id}/keputusan", {"decision": "confirm", "kembali": "/antrian"}, token_from="/antrian")
    assert r.status_code == 303
    assert "lebih baru" in b.client.get("/antrian").text

    # the site changes: the searched pages differ, so the decision no longer applies
    (site / "index.html").write_text(SITE_INDEX.format(news="Berita: pelantikan pejabat baru."), encoding="utf-8")
    ws.patuh("sweep", "-s", "PATUH_RENDER=never", "-s", "PATUH_REVISIT_DAYS=1")
    third = current_findings(ws, "hostile")
    assert third["fees"][0] in _queue_ids(b)
    html = b.client.get("/antrian", params={"status": "changed"}).text
    assert f'data-finding="{third["fees"][0]}"' in html and "bukti berubah" in html
    page = b.client.get(f"/unit/{uid}").text
    assert "bukti berubah" in page and "dikoreksi oleh penilai" not in page

    # the terminal shows the same queue and its decision is the web's too
    listed = json.loads(ws.patuh("review", "list", "--as", "penilai", "--json", "--status", "changed").stdout)
    assert [x["finding_id"] for x in listed] == [third["fees"][0]]
    assert listed[0]["reasons"][0] == "bukti berubah"
    ws.patuh("review", "confirm", str(third["fees"][0]), "--as", "penilai", "--note", "memang tidak ada")
    assert third["fees"][0] not in _queue_ids(b)
    shown = ws.patuh("review", "show", str(third["fees"][0])).stdout
    assert "dikonfirmasi" in shown and "(digantikan)" in shown


def test_cli_decisions_follow_the_same_rules(private_ws: Workspace) -> None:
    import subprocess
    import sys

    from tests.web.conftest import patuh_env

    findings = current_findings(private_ws, "dukcapil-melawi")
    charter_id, status, _ = findings["service_charter"]
    assert status == "absent"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "crawler", "review", *args, "--db", private_ws.db_url],
                              capture_output=True, text=True, env=patuh_env(), cwd=private_ws.root, timeout=60,
                              check=False)

    # penilai covers Nusa Tenggara Timur only: Melawi (Kalimantan Barat) is not theirs
    r = run("overrule", str(charter_id), "--as", "penilai", "--note", "ada")
    assert r.returncode == 1 and "tidak ditemukan" in r.stderr
    r = run("confirm", str(charter_id), "--as", "melawi")
    assert r.returncode == 1 and "penilai dan admin" in r.stderr
    r = run("overrule", str(charter_id), "--as", "admin")
    assert r.returncode == 2  # --note is required
    r = run("overrule", str(charter_id), "--as", "admin", "--note", "Maklumat terpasang di loket")
    assert r.returncode == 0, r.stderr
    listed = json.loads(run("list", "--json", "--as", "admin").stdout)
    assert charter_id not in [x["finding_id"] for x in listed]
    assert run("list", "--as", "moru").returncode == 2


@pytest.mark.parametrize("sort", ["dampak", "keyakinan", "unit"])
def test_queue_filters_and_sorts(workspace: Workspace, make_client: Any, sort: str) -> None:
    b = make_client(workspace)
    b.login("admin")
    everything = _queue_ids(b, urut=sort)
    assert everything
    moru = current_findings(workspace, "pkm-moru")
    only_moru = _queue_ids(b, wilayah="Kabupaten Alor", urut=sort)
    assert set(only_moru) == {fid for fid, st, conf in moru.values() if st == "absent" or conf < 0.7}
    charter = _queue_ids(b, indikator="service_charter", urut=sort)
    assert charter and all(fid in everything for fid in charter)
    assert set(_queue_ids(b, jenis="puskesmas", urut=sort)) == set(only_moru)
    if sort == "dampak":
        html = b.client.get("/antrian").text
        points = [float(p.replace(",", ".")) for p in re.findall(r"([+-]\d+,\d) poin", html)]
        changes = html.count("predikat →")
        # grade-changing findings first, then by points
        tail = points[changes:]
        assert tail == sorted(tail, reverse=True)


def test_unknown_findings_need_a_chosen_status(private_ws: Workspace) -> None:
    from crawler.web import workbench as wb
    from storage import reviews as rv
    from storage.db import get_engine, session

    with session(get_engine(private_ws.db_url)) as s:
        admin = rv.get_user_by_name(s, "admin")
        assert admin is not None
        finding_id = current_findings(private_ws, "pkm-moru")["satisfaction_survey"][0]
        with pytest.raises(ValueError):
            wb.decide(s, admin, finding_id, "overrule", "catatan", status_after="absent")  # no change
        with pytest.raises(ValueError):
            wb.decide(s, admin, finding_id, "maybe", "catatan")
        review = wb.decide(s, admin, finding_id, "confirm", "")
        assert review.status_after == "absent" and review.superseded_at is None
        again = wb.decide(s, admin, finding_id, "overrule", "SKM dimuat di Instagram")
        assert again.status_after == "present"
        history = rv.review_history(s, review.unit_id, "satisfaction_survey")
        assert [r.id for r, _ in history] == [again.id, review.id]
        assert history[1][0].superseded_at is not None
