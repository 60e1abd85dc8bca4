"""Read-only access to the shipped snapshot for the app and the scoring engine.

Why here and not in pages: pages only ask indicators/ and draw. Loading is cached per
snapshot identity (its manifest's creation time), so a refresh that swaps the directory
is picked up without restarting the app.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from data_sources.settings import get_settings
from data_sources.errors import SnapshotError
from data_sources.integrity import file_problems
from data_sources.store import read_manifest, read_table

# The system allocator hands decoded Parquet buffers back to the OS, where Arrow's default
# pool keeps them: it lowers the app's resident memory after loading by about a tenth.
pa.set_memory_pool(pa.system_memory_pool())


class DamagedSnapshotError(SnapshotError):
    """The snapshot's files differ from what its manifest records: truncated, damaged or edited."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path, self.problems = path, problems
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        super().__init__(f"{path}: the snapshot does not match its manifest ({shown}); restore it or run "
                         "`python -m data_sources refresh`")


@dataclass(frozen=True)
class Snapshot:
    path: Path
    manifest: dict[str, Any]
    observations: pd.DataFrame
    catalogue: pd.DataFrame
    areas: pd.DataFrame


def snapshot_dir() -> Path:
    return Path(get_settings().snapshot_dir)


def load(path: Path | None = None) -> Snapshot:
    """The snapshot at `path` (default: the configured directory), cached until it is replaced."""
    path = Path(path or snapshot_dir()).resolve()
    manifest = read_manifest(path)
    return _load(path, manifest["created_at"])


@lru_cache(maxsize=2)
def _load(path: Path, created_at: str) -> Snapshot:
    """Check every file against the manifest's checksums, read the tables, then check the manifest
    again: a refresh that swapped the directory mid-read would otherwise hand back tables from two
    different snapshots. Why check checksums here: a truncated or edited Parquet file would otherwise
    be served (or fail deep inside a page); hashing the few MB costs tens of milliseconds, once per
    snapshot identity thanks to the cache."""
    for _ in range(5):
        manifest = read_manifest(path)
        problems = file_problems(path, manifest)
        if problems and read_manifest(path)["created_at"] != manifest["created_at"]:
            continue  # swapped while being checked: check the new one
        if problems:
            raise DamagedSnapshotError(path, problems)
        snap = Snapshot(
            path=path,
            manifest=manifest,
            observations=_sorted(read_table(path, "observations")),
            catalogue=read_table(path, "catalogue"),
            areas=read_table(path, "areas"),
        )
        if read_manifest(path)["created_at"] == manifest["created_at"]:
            return snap
    raise SnapshotError(f"{path}: the snapshot kept changing while it was being read; try again")


def _sorted(obs: pd.DataFrame) -> pd.DataFrame:
    """Rows in (indicator, level, area, period) order, so the query context can hand out each
    indicator's rows at a level as a view instead of a copy."""
    return obs.sort_values(["indicator_id", "level", "areacd", "period_start"], kind="stable", ignore_index=True)


def dataset_summary(snap: Snapshot) -> pd.DataFrame:
    """One row per listed dataset: status, rows, indicators, periods covered and the source's date."""
    periods = (snap.observations.groupby("dataset")
               .agg(first_period=("period_start", "min"), last_period=("period_start", "max"),
                    periods=("period_code", "nunique"), areas=("areacd", "nunique")))
    rows = []
    for slug, entry in snap.manifest["datasets"].items():
        rows.append({
            "dataset": slug,
            "status": entry["status"],
            "source": entry.get("source_org"),
            "source date": entry.get("source_date"),
            "indicators": len(entry.get("indicators", [])),
            "rows": entry.get("rows", 0),
            "note": entry.get("error") or entry.get("note"),
        })
    frame = pd.DataFrame(rows).set_index("dataset").join(periods, how="left").reset_index()
    frame = frame.rename(columns={"first_period": "first period", "last_period": "last period"})
    order = ["dataset", "status", "source", "source date", "indicators", "rows", "first period", "last period",
             "periods", "areas", "note"]
    return frame[order]


def level_summary(snap: Snapshot) -> pd.DataFrame:
    """Areas with at least one value, per level."""
    with_value = snap.observations.loc[snap.observations["value"].notna()]
    return (with_value.groupby("level")
            .agg(areas=("areacd", "nunique"), indicators=("indicator_id", "nunique"), values=("value", "size"))
            .sort_values("areas", ascending=False).reset_index())
