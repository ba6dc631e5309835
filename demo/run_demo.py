"""`make demo`: serve the bundled demo sites on 127.0.0.1, import them as units, sweep, report.

Runs the main job on the embedded defaults: SQLite at ./data/patuh.db, no network beyond loopback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PATUH = [sys.executable, "-m", "crawler"]


def main() -> int:
    server = subprocess.Popen([sys.executable, str(HERE / "serve.py")], stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line:
            print("Server situs demo gagal berjalan.", file=sys.stderr)
            return 1
        sites = json.loads(line)
        print(f"Situs demo berjalan: {', '.join(sites.values())}")
        env = {**os.environ}
        for args in (["units", "import", str(HERE / "units.csv")], ["sweep"], ["report", "--format", "table"]):
            print(f"\n$ patuh {' '.join(args)}", flush=True)
            code = subprocess.call([*PATUH, *args], env=env)
            if code != 0:
                return code
        print("\nLaporan lengkap: .venv/bin/patuh report --format json | html --out laporan.html")
        print("Satu situs: .venv/bin/patuh check http://127.0.0.1:18701/")
        return 0
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
