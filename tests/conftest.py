"""Shared pytest fixtures.

Storage: ``db_url`` is parametrised over a fresh SQLite file and a fresh PostgreSQL schema
(skipped with a reason when no server answers within 2 s). Set ``PATUH_TEST_PG_URL`` to use
another server (``postgresql+psycopg://user@host:port/db``); the default tries users
``postgres`` and ``root`` on ``127.0.0.1:5432/test``.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

_PG_CANDIDATES = [
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
]


def _pg_conninfo(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """A SQLAlchemy URL of a PostgreSQL server that accepts us, or skip the test."""
    import psycopg

    candidates = [os.environ["PATUH_TEST_PG_URL"]] if os.environ.get("PATUH_TEST_PG_URL") else _PG_CANDIDATES
    reasons = []
    for url in candidates:
        try:
            with psycopg.connect(_pg_conninfo(url), connect_timeout=2):
                return url
        except psycopg.Error as exc:
            reasons.append(f"{make_url(url).render_as_string()}: {str(exc).strip().splitlines()[0]}")
    pytest.skip("PostgreSQL not available: " + "; ".join(reasons))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, private database (not yet migrated); removed after the test."""
    from storage.db import dispose_engines

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'patuh.db'}"
        yield url
        dispose_engines(url)
        return

    import psycopg

    server = request.getfixturevalue("pg_server_url")
    schema = f"patuh_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_pg_conninfo(server), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    try:
        yield rendered
    finally:
        dispose_engines(rendered)
        with psycopg.connect(_pg_conninfo(server), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
