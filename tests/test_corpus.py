"""The development corpus (../shared/corpus) scored by its own scorer; skipped where it is absent.

A fresh clone by a user has no corpus beside it: the project's own fixtures then cover every rule.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
pytestmark = pytest.mark.skipif(not (CORPUS / "evaluate.py").exists(), reason="../shared/corpus is not here")


@pytest.mark.parametrize(("kinds", "min_f1"), [("", 0.85), ("html,pdf,link", 0.95)])
def test_corpus_scores(tmp_path: Path, kinds: str, min_f1: float) -> None:
    cmd = f"{sys.executable} -m crawler check {{url}} --json {{out}} --db sqlite:///{tmp_path}/eval.db"
    args = [sys.executable, str(CORPUS / "evaluate.py"), "--cmd", cmd, "--min-f1", str(min_f1),
            "--min-evidence", "0.9", "--base-port", "18400", "--jobs", "2"]
    if kinds:
        args += ["--kinds", kinds]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-2000:]
    assert proc.returncode == 0, proc.stdout[-4000:]  # below min-f1, min-evidence or any reachability miss
    macro = float(summary.split("macro-F1 ")[1].split(";")[0])
    assert macro >= min_f1, summary
