"""One sweep at a time per database: an exclusive `flock` on a file beside the data.

The kernel releases the lock when the holding process ends, however it ends (kill -9 included),
so a crashed sweep never leaves it stuck.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import IO


class SweepLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    @classmethod
    def for_database(cls, db_url: str, folder: Path | None = None) -> SweepLock:
        """The lock of one database: sweeps of different databases never block each other."""
        digest = hashlib.sha256(db_url.encode()).hexdigest()[:12]
        base = folder or Path(os.environ.get("PATUH_LOCK_DIR", "./data"))
        return cls(base / f"sweep-{digest}.lock")

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another live process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
