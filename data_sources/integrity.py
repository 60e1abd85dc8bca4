"""Does a snapshot directory still hold the bytes its manifest describes?

Standard library only, so the container's health check can run it every few seconds
without importing pandas or pyarrow. The manifest records every file's size and sha256
when the snapshot is built; a truncated copy, a disk error or a hand-edited Parquet file
shows up as a difference here.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable

from .errors import SnapshotError

MANIFEST = "manifest.json"
TABLES = ("observations", "catalogue", "areas", "neighbours", "clusters", "boundary_changes", "geometry")
# Built when their sources could be had (a snapshot without them still works, without the deprivation view).
OPTIONAL_TABLES = ("lsoa_deprivation", "deprivation_summaries", "rural_urban")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(snapshot: Path) -> dict[str, Any]:
    """The manifest as written, or SnapshotError saying why it cannot be read."""
    path = snapshot / MANIFEST
    if not path.exists():
        raise SnapshotError(f"{snapshot}: no snapshot here (missing {MANIFEST}); run `python -m data_sources refresh`")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{path}: manifest is not valid JSON ({exc})") from exc


def file_problems(snapshot: Path, manifest: dict[str, Any],
                  row_count: Callable[[Path], int] | None = None) -> list[str]:
    """Every difference between the files and the manifest (empty list = intact).

    `row_count`, if given, also reads each intact file's row count and compares it (store.verify
    passes a Parquet reader; the health check does without)."""
    problems = []
    files = manifest.get("files") or {}
    for name in TABLES:
        if f"{name}.parquet" not in files:
            problems.append(f"{name}.parquet: not listed in the manifest")
    for name, meta in files.items():
        path = snapshot / name
        if not path.exists():
            problems.append(f"{name}: listed in the manifest but missing")
            continue
        if path.stat().st_size != meta["bytes"]:
            problems.append(f"{name}: {path.stat().st_size} bytes, manifest says {meta['bytes']}")
        if sha256_file(path) != meta["sha256"]:
            problems.append(f"{name}: sha256 differs from the manifest")
            continue
        if row_count is None:
            continue
        try:
            rows = row_count(path)
        except Exception as exc:  # noqa: BLE001 - any read failure is a verification failure
            problems.append(f"{name}: unreadable Parquet ({exc})")
            continue
        if rows != meta["rows"]:
            problems.append(f"{name}: {rows} rows, manifest says {meta['rows']}")
    extra = sorted(p.name for p in snapshot.glob("*.parquet") if p.name not in files)
    problems.extend(f"{name}: present but not in the manifest" for name in extra)
    return problems
