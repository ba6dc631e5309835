"""Fixtures of the end-to-end suite: a site farm per test module, a `patuh` CLI per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.patuhcli import Patuh
from tests.e2e.sitefarm import SiteFarm


@pytest.fixture(scope="module")
def farm() -> Iterator[SiteFarm]:
    """A running site farm, shared by one test module and stopped after it."""
    f = SiteFarm()
    try:
        yield f
    finally:
        f.stop()


@pytest.fixture
def patuh(tmp_path: Path) -> Patuh:
    """The real `patuh` command, run in `tmp_path` with its own SQLite database."""
    return Patuh(tmp_path)
