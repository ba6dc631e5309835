"""Passwords, signed session cookies, CSRF tokens, the login rate limit and the SSRF guard.

- Passwords are hashed with argon2id (``argon2-cffi`` defaults, RFC 9106 low-memory profile).
- The session cookie carries a random token signed with the server secret (``itsdangerous``,
  with a timestamp checked against the session lifetime); the database keeps only the token's
  SHA-256 and its expiry, so a stolen database does not yield usable cookies and signing out
  (or disabling a user) ends the session at once.
- A CSRF token is an HMAC of the session token (or, before signing in, of a random pre-session
  cookie) under the server secret: it is bound to one browser session and checked on every POST.
- The self-check refuses any URL whose host resolves to an address that is not globally
  routable (private, loopback, link-local, shared, reserved, multicast, unspecified, and the
  IPv4 forms of these inside IPv6) unless the administrator allowed private targets; the check
  itself then runs with ``PATUH_PUBLIC_ONLY`` (``crawler.netguard``), so no redirect or link
  leads it to such an address either.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import ipaddress
import secrets
import socket
from pathlib import Path
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from crawler.netguard import blocked

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("patuh-dummy-password")  # verified against for unknown names (same timing)
MIN_PASSWORD_LENGTH = 8
RESOLVE_TIMEOUT = 5.0


# --------------------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``; raises ``ValueError`` when it is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"kata sandi minimal {MIN_PASSWORD_LENGTH} karakter")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (None: an unknown user; always False)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# --------------------------------------------------------------------------- secret, sessions, CSRF


def load_secret(path: Path | None, given: str | None = None) -> bytes:
    """The server secret: ``given`` if set, else read from ``path`` (created, mode 0600, when missing)."""
    if given:
        return given.encode("utf-8")
    if path is None:
        return secrets.token_bytes(32)
    if path.exists():
        data = path.read_bytes().strip()
        if len(data) >= 32:
            return data
    path.parent.mkdir(parents=True, exist_ok=True)
    data = secrets.token_hex(32).encode("ascii")
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_bytes(data)
    tmp.replace(path)
    return data


def new_token() -> str:
    """A fresh random token (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(32)


def token_sha256(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class CookieSigner:
    """Signs and checks the values of the session and pre-session cookies."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._serializer = URLSafeTimedSerializer(secret, salt="patuh-cookie")

    def sign(self, value: str) -> str:
        """``value`` with a timestamped signature."""
        return str(self._serializer.dumps(value))

    def unsign(self, signed: str | None, max_age: float) -> str | None:
        """The value of a signed cookie no older than ``max_age`` seconds, else None."""
        if not signed:
            return None
        try:
            value = self._serializer.loads(signed, max_age=int(max_age))
        except (BadSignature, ValueError, TypeError):
            return None
        return value if isinstance(value, str) else None

    def csrf_token(self, bound_to: str) -> str:
        """The CSRF token of the browser session ``bound_to`` (a session or pre-session token)."""
        return hmac.new(self._secret, b"csrf:" + bound_to.encode("utf-8"), hashlib.sha256).hexdigest()

    def csrf_ok(self, bound_to: str | None, token: str | None) -> bool:
        """Whether ``token`` is the CSRF token of ``bound_to``."""
        if not bound_to or not token:
            return False
        return hmac.compare_digest(self.csrf_token(bound_to), token)


# --------------------------------------------------------------------------- SSRF guard


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (a timeout counts as failure: ``OSError``)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        try:
            infos = future.result(timeout=RESOLVE_TIMEOUT)
        except concurrent.futures.TimeoutError as exc:
            raise OSError("waktu habis saat mencari alamat") from exc
    return sorted({str(info[4][0]) for info in infos})


def check_target(url: str, allow_private: bool = False) -> str | None:
    """Why the self-check must not fetch ``url`` (an Indonesian sentence), or None when it may."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "Alamat tidak sah."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Alamat harus diawali http:// atau https:// dan memuat nama host."
    if parts.username or parts.password:
        return "Alamat tidak boleh memuat nama pengguna atau kata sandi."
    if len(url) > 2048:
        return "Alamat terlalu panjang."
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)] if _is_ip(host) else [
            ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve_host(host, port)]
    except (OSError, UnicodeError, ValueError):
        return f"Nama host {host} tidak dapat ditemukan."
    if not addresses:
        return f"Nama host {host} tidak dapat ditemukan."
    if allow_private:
        return None
    bad = [str(a) for a in addresses if blocked(a)]
    if bad:
        return (f"Alamat {host} mengarah ke jaringan privat, loopback atau link-local ({', '.join(bad)}); "
                "pemeriksaan mandiri hanya untuk situs publik.")
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


__all__ = [
    "MIN_PASSWORD_LENGTH",
    "CookieSigner",
    "check_target",
    "hash_password",
    "load_secret",
    "needs_rehash",
    "new_token",
    "resolve_host",
    "token_sha256",
    "verify_password",
]
