"""Roles and scope, enforced on the server for every route that names a unit, finding or evidence row."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Workspace, current_findings, evidence_ids, unit_id


def _present_with_evidence(ws: Workspace, site_id: str) -> tuple[int, int]:
    for fid, status, _ in current_findings(ws, site_id).values():
        ids = evidence_ids(ws, fid)
        if status == "present" and ids:
            return fid, ids[0]
    raise AssertionError(f"no present finding with evidence for {site_id}")


def test_agency_sees_only_its_own_unit(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace)
    b.login("moru")
    own, foreign = unit_id(workspace, "pkm-moru"), unit_id(workspace, "dukcapil-melawi")
    page = b.client.get(f"/unit/{own}")
    assert page.status_code == 200 and "UPTD Puskesmas Moru" in page.text
    dashboard = b.client.get("/").text
    assert "UPTD Puskesmas Moru" in dashboard and "Melawi" not in dashboard and "Rote Ndao" not in dashboard

    fid, eid = _present_with_evidence(workspace, "dukcapil-melawi")
    for path in (f"/unit/{foreign}", f"/temuan/{fid}", f"/bukti/{eid}/arsip", f"/bukti/{eid}/teks",
                 f"/bukti/{eid}/tangkapan", "/unit/999999"):
        r = b.client.get(path, follow_redirects=False)
        assert r.status_code == 404, path
        assert "Dukcapil" not in r.text
    assert b.client.get("/antrian").status_code == 403
    r = b.post(f"/temuan/{fid}/keputusan", {"decision": "confirm"})
    assert r.status_code == 404
    own_fid, _ = _present_with_evidence(workspace, "pkm-moru")
    r = b.post(f"/temuan/{own_fid}/keputusan", {"decision": "confirm"})
    assert r.status_code == 403  # agencies see their findings but do not decide them
    report = b.client.get("/laporan.json").json()
    assert [r["unit"]["name"] for r in report] == ["UPTD Puskesmas Moru"]


def test_assessor_sees_only_their_regions(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace)
    b.login("penilai")  # Nusa Tenggara Timur
    assert b.client.get(f"/unit/{unit_id(workspace, 'pkm-moru')}").status_code == 200
    assert b.client.get(f"/unit/{unit_id(workspace, 'dukcapil-melawi')}").status_code == 404
    queue = b.client.get("/antrian")
    assert queue.status_code == 200
    assert "Puskesmas Moru" in queue.text and "Melawi" not in queue.text
    fid, _ = _present_with_evidence(workspace, "dukcapil-melawi")
    assert b.post(f"/temuan/{fid}/keputusan", {"decision": "confirm"}).status_code == 404
    names = {r["unit"]["name"] for r in b.client.get("/laporan.json").json()}
    assert "Dinas Dukcapil Kabupaten Melawi" not in names and "UPTD Puskesmas Moru" in names


def test_admin_sees_everything(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace)
    b.login("admin")
    for site in ("pkm-moru", "dukcapil-melawi", "dinsos-rote-ndao", "dpmptsp-flores-timur", "hostile"):
        assert b.client.get(f"/unit/{unit_id(workspace, site)}").status_code == 200, site
    assert len(b.client.get("/laporan.json").json()) == 5


def test_self_check_jobs_belong_to_their_user(private_ws: Workspace, make_client: Any) -> None:
    owner = make_client(private_ws, allow_private=True)
    owner.login("moru")
    r = owner.post("/periksa", {"unit_id": str(unit_id(private_ws, "pkm-moru"))}, token_from="/periksa")
    assert r.status_code == 303
    job_path = r.headers["location"]
    app = owner.client.app
    other = make_client(private_ws, allow_private=True)
    other.client.app.state.checks.jobs.update(app.state.checks.jobs)  # same process, same jobs
    other.login("melawi")
    assert other.client.get(job_path).status_code == 404
    assert other.client.get(job_path + "/progres").status_code == 404
    assert owner.client.get(job_path).status_code == 200
    for job in app.state.checks.jobs.values():
        job.proc.wait(timeout=120)
