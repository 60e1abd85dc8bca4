"""Copies of the committed snapshot that are damaged, tampered with, or newer, for tests of how
the loader, the app and the health check treat them."""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from data_sources.store import Staged, read_manifest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "data"


def copy_of_shipped(dest: Path) -> Path:
    shutil.copytree(SHIPPED, dest)
    return dest


def truncate(snapshot: Path, table: str = "observations", keep: float = 0.5) -> None:
    """Cut a table's file short, as a failed copy or a full disk would."""
    path = snapshot / f"{table}.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def tamper(snapshot: Path, factor: float = 100.0) -> None:
    """Rewrite observations.parquet as a valid Parquet file with every value ×factor, manifest untouched."""
    path = snapshot / "observations.parquet"
    table = pq.read_table(path)
    values = pa.compute.multiply(table["value"], factor)
    table = table.set_column(table.schema.get_field_index("value"), "value", values)
    pq.write_table(table, path, compression="zstd")


def altered_copy(source: Path, dest: Path) -> tuple[str, int]:
    """A complete, valid snapshot like `source` with one value raised by 1 and a newer created_at.

    Returns the new created_at and the position of the changed row.
    """
    manifest = read_manifest(source)
    dest.mkdir()
    obs = pq.read_table(source / "observations.parquet").to_pandas()
    row = int(obs["value"].notna().to_numpy().argmax())
    obs.loc[obs.index[row], "value"] = obs["value"].iloc[row] + 1.0
    pq.write_table(pa.Table.from_pandas(obs, preserve_index=False), dest / "observations.parquet",
                   compression="zstd", compression_level=1)
    for name in manifest["files"]:  # the core tables and any optional ones (deprivation, rural-urban)
        if name != "observations.parquet":
            shutil.copy2(source / name, dest / name)
    created = datetime.fromisoformat(manifest["created_at"]).replace(year=2999).isoformat()
    rows = {n.removesuffix(".parquet"): meta["rows"] for n, meta in manifest["files"].items()}
    Staged(target=dest, path=dest).write_manifest({**manifest, "created_at": created}, rows)
    return created, row
