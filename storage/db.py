"""Engine and session factory for Patuh's database.

The database is a SQLite file by default (``sqlite:///./data/patuh.db``) and PostgreSQL for a
shared deployment (``PATUH_DATABASE_URL=postgresql+psycopg://user@host/db``). A PostgreSQL
schema other than ``public`` can be chosen in the URL itself:
``postgresql+psycopg://user@host/db?options=-csearch_path%3Dpatuh``.

``get_engine()`` returns one cached engine per URL, with the schema already brought to the
newest Alembic revision (migrations in ``storage/migrations``, run in code: no ``alembic.ini``
or current directory is needed). On SQLite every connection gets WAL journaling, foreign keys
and a busy timeout, so that a crawler writing and a report reading can share the file.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, pool, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlmodel import Session

DEFAULT_URL: Final = "sqlite:///./data/patuh.db"
ENV_VAR: Final = "PATUH_DATABASE_URL"
MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
_PG_MIGRATION_LOCK: Final = 0x7061_7475_68  # "patuh": serialises concurrent migrations

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: ``url`` if given, else ``$PATUH_DATABASE_URL``, else the default."""
    if url and url.strip():
        return url.strip()
    from_env = os.environ.get(ENV_VAR, "").strip()
    return from_env or DEFAULT_URL


def _sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for in-memory / ``file:`` URI databases."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def ensure_sqlite_parent(url: str) -> None:
    """Create the folder of a SQLite database file if it does not exist yet."""
    path = _sqlite_file(make_url(url))
    if path is not None:
        path.expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _normalise(url: str) -> URL:
    """Parse ``url``; a relative SQLite path becomes absolute (the cwd may change later)."""
    parsed = make_url(url)
    path = _sqlite_file(parsed)
    if path is not None:
        parsed = parsed.set(database=str(path.expanduser().resolve()))
    return parsed


def alembic_config() -> Config:
    """An Alembic configuration for the packaged migrations, built without any ini file."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    return cfg


def head_revisions() -> set[str]:
    """The newest revision(s) of the packaged migrations."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    """The revision(s) the database behind ``connection`` is at (empty when not migrated)."""
    return set(MigrationContext.configure(connection).get_current_heads())


def upgrade_schema(engine: Engine) -> None:
    """Bring the database to the newest revision; a no-op when it is already there.

    Concurrent callers are serialised: SQLite by ``BEGIN IMMEDIATE``, PostgreSQL by an advisory
    lock, so two workers starting at once do not both try to create the tables. On SQLite the
    foreign keys are switched off while migrating (batch migrations rebuild tables, and with
    ON DELETE CASCADE dropping the old copy would delete the children).
    """
    heads = head_revisions()
    with engine.connect() as conn:
        is_sqlite = conn.dialect.name == "sqlite"
        if is_sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            if is_sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            if current_revisions(conn) != heads:
                cfg = alembic_config()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if is_sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def _on_sqlite_connect(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if _sqlite_file(url) is None:
        # In-memory: one shared connection, or every checkout would see an empty database.
        engine = create_engine(url, poolclass=pool.StaticPool, connect_args={"check_same_thread": False})
    else:
        ensure_sqlite_parent(url.render_as_string(hide_password=False))
        engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _on_sqlite_connect)
    return engine


def get_engine(url: str | None = None) -> Engine:
    """The (cached) engine for ``url`` (see ``resolve_url``), its schema migrated to head."""
    parsed = _normalise(resolve_url(url))
    key = parsed.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create_engine(parsed)
            try:
                upgrade_schema(engine)
            except BaseException:
                engine.dispose()
                raise
            _engines[key] = engine
        return engine


def dispose_engines(url: str | None = None) -> None:
    """Close the cached engine of ``url`` (default: every cached engine) and forget it.

    For tests, and for worker processes after a fork.
    """
    with _engines_lock:
        keys = list(_engines) if url is None else [_normalise(resolve_url(url)).render_as_string(hide_password=False)]
        for key in keys:
            engine = _engines.pop(key, None)
            if engine is not None:
                engine.dispose()


@contextmanager
def session(engine: Engine | None = None) -> Iterator[Session]:
    """A SQLModel session on ``engine`` (default: ``get_engine()``); objects stay usable after commit.

    Uncommitted work is rolled back when the block ends.
    """
    with Session(engine if engine is not None else get_engine(), expire_on_commit=False) as s:
        yield s


__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revisions",
    "dispose_engines",
    "ensure_sqlite_parent",
    "get_engine",
    "head_revisions",
    "resolve_url",
    "session",
    "upgrade_schema",
]
