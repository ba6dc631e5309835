"""Reading the register of units from CSV: columns name, kind, region, url and optional province."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from storage import repo

REQUIRED = ("name", "kind", "region", "url")
KINDS = {"puskesmas", "dinas_kesehatan", "dinas_pendidikan", "dinas_sosial", "dpmptsp", "dukcapil", "opd"}


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] | None = None


def validate_url(url: str) -> str | None:
    p = urlparse(url)
    if p.scheme not in ("http", "https") or not p.hostname:
        return "url harus diawali http:// atau https:// dan memuat nama host"
    return None


def import_csv(s: Any, path: Path) -> ImportResult:
    result = ImportResult(errors=[])
    assert result.errors is not None
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            result.errors.append((1, f"kolom wajib tidak ada: {', '.join(missing)}"))
            return result
        reader.fieldnames = header
        for row in reader:
            line = reader.line_num
            values = {k: (v or "").strip() for k, v in row.items() if k}
            empty = [c for c in REQUIRED if not values.get(c)]
            if empty:
                result.errors.append((line, f"kolom kosong: {', '.join(empty)}"))
                continue
            kind = values["kind"].lower()
            if kind not in KINDS:
                result.errors.append((line, f"jenis unit tidak dikenal: {values['kind']!r} "
                                            f"(pilihan: {', '.join(sorted(KINDS))})"))
                continue
            if problem := validate_url(values["url"]):
                result.errors.append((line, problem))
                continue
            _, created = repo.upsert_unit(s, name=values["name"], kind=kind, region=values["region"],
                                          url=values["url"], province=values.get("province") or None)
            if created:
                result.added += 1
            else:
                result.updated += 1
    return result
