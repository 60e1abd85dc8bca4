"""Local indicators on disk (local mode only): one Parquet file per indicator in the local folder.

Why one file each, written to a temporary name and renamed: the rename is atomic, so a reader
sees the old upload or the new one, never half of one; and the folder sits beside the snapshot,
not in it, so a refresh (which swaps the snapshot folder whole) never touches it.
Each file carries its metadata as JSON in the Parquet schema's key-value metadata and is
validated again on load: a hand-edited or damaged file is skipped with a reason, not trusted.
"""
from __future__ import annotations

import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from .model import ROW_COLUMNS, LocalDataError, LocalIndicator, LocalLayer, LocalMeta

log = logging.getLogger(__name__)
META_KEY = b"good_growth_local_meta"


def _path(folder: Path, indicator_id: str) -> Path:
    if not indicator_id.replace("-", "").isalnum() or "/" in indicator_id:
        raise LocalDataError([f"'{indicator_id[:60]}' is not a local indicator id"])
    return folder / f"{indicator_id}.parquet"


def save(folder: Path, ind: LocalIndicator) -> Path:
    """Write one indicator atomically (temp file in the same folder, fsync, rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = _path(folder, ind.id)
    table = pa.Table.from_pandas(ind.rows[ROW_COLUMNS], preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), META_KEY: ind.meta.model_dump_json().encode()})
    fd, tmp = tempfile.mkstemp(prefix=f".{ind.id}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def delete(folder: Path, indicator_id: str) -> bool:
    """Remove one indicator's file; False if there was none."""
    path = _path(folder, indicator_id)
    if not path.exists():
        return False
    path.unlink()
    return True


def read(path: Path) -> LocalIndicator:
    table = pq.read_table(path)
    meta = LocalMeta.model_validate_json((table.schema.metadata or {})[META_KEY])
    rows = table.to_pandas()
    missing = [c for c in ROW_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"columns missing: {', '.join(missing)}")
    for c in ("period_start", "period_end"):
        rows[c] = pd.to_datetime(rows[c]).dt.date
    ind = LocalIndicator(meta=meta, rows=rows[ROW_COLUMNS])
    if ind.id != path.stem:
        raise ValueError(f"the file holds '{ind.id}'")
    return ind


def load(folder: Path) -> tuple[LocalLayer, list[str]]:
    """Every readable local indicator in the folder, and one line per file that was skipped."""
    if not folder.is_dir():
        return LocalLayer(), []
    found, skipped = [], []
    for path in sorted(folder.glob("*.parquet")):
        try:
            found.append(read(path))
        except (OSError, KeyError, ValueError, ValidationError, pa.ArrowException) as exc:
            log.warning("local data file %s skipped: %s", path, exc)
            skipped.append(f"{path.name}: cannot be read ({type(exc).__name__})")
    return LocalLayer(tuple(found)), skipped


def load_cached(folder: Path) -> tuple[LocalLayer, list[str]]:
    """`load`, read again only when a file in the folder changed (every page view asks)."""
    try:
        if not folder.is_dir():
            return LocalLayer(), []
        stamp = tuple((p.name, s.st_mtime_ns, s.st_size) for p in sorted(folder.glob("*.parquet")) for s in [p.stat()])
    except OSError as exc:  # an unreadable folder must not take the national data down with it
        log.warning("local data folder %s unreadable: %s", folder, exc)
        return LocalLayer(), [f"the local data folder cannot be read ({type(exc).__name__})"]
    return _load(folder, stamp)


def configured() -> LocalLayer:
    """The local folder's layer in local mode; nothing in public mode (uploads live in sessions there)."""
    from data_sources.settings import get_settings
    settings = get_settings()
    return LocalLayer() if settings.public_mode else load_cached(Path(settings.local_data_dir))[0]


@lru_cache(maxsize=4)
def _load(folder: Path, stamp: tuple) -> tuple[LocalLayer, list[str]]:
    return load(folder)
