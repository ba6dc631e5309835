"""Sign-in, sessions, CSRF, the login rate limit, security headers and the SSRF guard."""

from __future__ import annotations

import ipaddress
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from crawler.netguard import blocked
from crawler.web import security
from tests.web.conftest import PASSWORDS, Workspace


def test_users_are_stored_with_argon2_hashes(workspace: Workspace) -> None:
    con = sqlite3.connect(workspace.root / "patuh.db")
    try:
        rows = dict(con.execute("SELECT name, password_hash FROM app_user").fetchall())
    finally:
        con.close()
    assert set(rows) == {"admin", "penilai", "moru", "melawi"}
    for name, hashed in rows.items():
        assert hashed.startswith("$argon2id$"), name
        assert PASSWORDS[name] not in hashed
    assert security.verify_password(rows["moru"], PASSWORDS["moru"])
    assert not security.verify_password(rows["moru"], PASSWORDS["admin"])
    assert not security.verify_password(None, "anything-at-all")


def test_users_add_refuses_short_password_and_duplicates(private_ws: Workspace) -> None:
    import subprocess
    import sys

    from tests.web.conftest import patuh_env

    def add(*args: str, password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "crawler", "users", "add", *args, "--db", private_ws.db_url],
                              input=password + "\n", capture_output=True, text=True, env=patuh_env(),
                              cwd=private_ws.root, timeout=60, check=False)

    short = add("baru", "--role", "admin", password="pendek")
    assert short.returncode == 2 and "minimal 8" in short.stderr
    dup = add("admin", "--role", "admin", password="cukup-panjang-1")
    assert dup.returncode == 2 and "sudah ada" in dup.stderr
    no_region = add("penilai2", "--role", "assessor", password="cukup-panjang-1")
    assert no_region.returncode == 2 and "--region" in no_region.stderr


def test_pages_need_a_signed_in_user(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace)
    for path in ("/", "/antrian", "/unit/1", "/temuan/1", "/periksa", "/laporan", "/laporan.csv", "/bukti/1/arsip"):
        r = b.client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/masuk?lanjut="), path


def test_login_logout_and_session_cookie(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace)
    r = b.login("penilai", "salah-sandi")
    assert r.status_code == 401 and "salah" in r.text
    r = b.login("penilai")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "patuh_sesi=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert b.client.get("/").status_code == 200
    stolen = b.client.cookies.get("patuh_sesi")
    r = b.post("/keluar", {})
    assert r.status_code == 303
    # the old cookie no longer works: the session was deleted on the server
    b.client.cookies.set("patuh_sesi", stolen)
    assert b.client.get("/", follow_redirects=False).status_code == 303


def test_login_redirect_stays_on_this_site(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace)
    token = b.csrf("/masuk")
    r = b.client.post("/masuk", data={"csrf_token": token, "name": "admin", "password": PASSWORDS["admin"],
                                      "lanjut": "//evil.example/x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_tampered_and_expired_sessions_are_refused(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace)
    b.login("admin")
    value = b.client.cookies.get("patuh_sesi")
    assert b.client.get("/", follow_redirects=False).status_code == 200
    payload, stamp, signature = value.split(".")
    forged = "x" + payload[1:] if payload[0] != "x" else "y" + payload[1:]
    b.client.cookies.clear()
    b.client.cookies.set("patuh_sesi", f"{forged}.{stamp}.{signature}")
    assert b.client.get("/", follow_redirects=False).status_code == 303
    b.client.cookies.clear()
    b.client.cookies.set("patuh_sesi", value)  # the genuine cookie still works
    assert b.client.get("/", follow_redirects=False).status_code == 200

    short = make_client(workspace, session_hours=1 / 3600)  # one second
    short.login("admin")
    assert short.client.get("/").status_code == 200
    import time

    time.sleep(2.2)
    assert short.client.get("/", follow_redirects=False).status_code == 303


def test_every_post_route_rejects_a_missing_or_foreign_csrf_token(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace)
    b.login("admin")
    app = b.client.app
    posts = sorted({r.path for r in app.routes if "POST" in getattr(r, "methods", set())})
    assert {"/masuk", "/keluar", "/periksa", "/temuan/{finding_id}/keputusan"} <= set(posts)
    other = make_client(workspace)
    other.login("penilai")
    foreign = other.csrf("/")
    for path in posts:
        concrete = path.replace("{finding_id}", "1")
        r = b.client.post(concrete, data={"decision": "confirm", "name": "admin", "password": "x"},
                          follow_redirects=False)
        assert r.status_code == 403, (path, r.status_code)
        assert "CSRF" in r.text
        r = b.client.post(concrete, data={"csrf_token": foreign, "decision": "confirm"}, follow_redirects=False)
        assert r.status_code == 403, (path, "foreign token")
    # and the signed-out login form needs its own token too
    fresh = make_client(workspace)
    r = fresh.client.post("/masuk", data={"name": "admin", "password": PASSWORDS["admin"]}, follow_redirects=False)
    assert r.status_code == 403


def test_login_is_rate_limited_per_name_and_address(private_ws: Workspace, make_client: Any) -> None:
    b = make_client(private_ws, login_limit=5, login_window=300)
    for _ in range(5):
        assert b.login("moru", "salah-sandi-123").status_code == 401
    r = b.login("moru")  # even the right password is refused while the limit holds
    assert r.status_code == 429
    assert "Terlalu banyak percobaan" in r.text
    assert b.client.get("/", follow_redirects=False).status_code == 303
    # another name from the same address is not affected
    assert b.login("melawi").status_code == 303


def test_security_headers(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace)
    r = b.client.get("/masuk")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"


# --------------------------------------------------------------------------- SSRF


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://127.5.6.7:8080/", "http://localhost/", "http://10.1.2.3/", "http://172.16.0.1/",
    "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/", "http://[fd00::1]/",
    "http://224.0.0.1/",
])
def test_private_targets_are_refused(url: str) -> None:
    problem = security.check_target(url, allow_private=False)
    assert problem is not None and ("privat" in problem or "tidak dapat ditemukan" in problem), url


@pytest.mark.parametrize("url", ["ftp://example.org/", "javascript:alert(1)", "http://user:pw@example.org/",
                                 "/relatif"])
def test_malformed_targets_are_refused(url: str) -> None:
    assert security.check_target(url, allow_private=True) is not None


def test_public_addresses_pass_and_private_pass_when_allowed() -> None:
    assert security.check_target("http://93.184.215.14/", allow_private=False) is None
    assert security.check_target("http://127.0.0.1:18700/", allow_private=True) is None
    assert blocked(ipaddress.ip_address("::ffff:10.0.0.1"))
    assert not blocked(ipaddress.ip_address("2606:4700::1111"))


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:192.168.0.1", "0.0.0.0",
                                     "fe80::1", "100.64.0.1"])
def test_the_crawl_resolver_refuses_private_addresses(address: str) -> None:
    """With PATUH_PUBLIC_ONLY every address Scrapy connects to passes `crawler.netguard` (redirects too)."""
    from twisted.internet.error import DNSLookupError

    from crawler.netguard import _public

    with pytest.raises(DNSLookupError, match="privat"):
        _public(address, "unit.example")
    assert _public("93.184.215.14", "unit.example") == "93.184.215.14"


def test_self_check_form_refuses_loopback_without_the_admin_setting(workspace: Workspace, make_client: Any,
                                                                   tmp_path: Path) -> None:
    b = make_client(workspace, allow_private=False, work_dir=tmp_path / "jobs")
    b.login("admin")
    r = b.post("/periksa", {"url": workspace.urls["pkm-moru"]}, token_from="/periksa")
    assert r.status_code == 400
    assert "jaringan privat, loopback atau link-local" in r.text
    r = b.post("/periksa", {"url": "http://169.254.169.254/latest/"}, token_from="/periksa")
    assert r.status_code == 400
    assert not b.client.app.state.checks.jobs  # nothing was started
    assert not (tmp_path / "jobs").exists() or not list((tmp_path / "jobs").iterdir())


def test_self_check_of_a_foreign_registered_unit_is_refused(workspace: Workspace, make_client: Any) -> None:
    b = make_client(workspace, allow_private=True)
    b.login("moru")
    r = b.post("/periksa", {"url": workspace.urls["dukcapil-melawi"]}, token_from="/periksa")
    assert r.status_code == 403
    r = b.post("/periksa", {"unit_id": "3"}, token_from="/periksa")
    assert r.status_code == 404
    assert not b.client.app.state.checks.jobs
