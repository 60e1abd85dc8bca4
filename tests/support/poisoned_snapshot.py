"""A copy of the committed snapshot whose data-derived text is hostile: area names, indicator labels,
publishers, a source URL and manifest notes replaced by HTML, script and Markdown payloads.

Why: on the public site every string the pages draw comes either from a visitor (plan uploads) or
from the published data. The data is fetched from third parties, so a test must show that a name
such as ``<script>…</script>`` is drawn as text everywhere, never run. The copy is a valid snapshot
(``python -m data_sources verify --snapshot DEST`` passes) and comes with a matching catalogue.yaml.

Used by tests/browser/test_public_security.py:

    env = make_poisoned(tmp / "data")   # {GOOD_GROWTH_SNAPSHOT_DIR, GOOD_GROWTH_CATALOGUE_PATH}
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from data_sources.store import MANIFEST, TABLES, Staged

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "data"
CATALOGUE_YAML = ROOT / "indicators" / "catalogue.yaml"

# Every payload sets window.__xss if it ever runs; the first also opens a dialog.
SCRIPT = "<script>window.__xss=1;alert(1)</script>"
IMG = '<img src=x onerror="window.__xss=1">'
MD_LINK = "[click me](javascript:window.__xss=1)"
FORMATTING = "**bold** _it_ <b>html</b>"
SVG = '"><svg onload="window.__xss=1">'
IFRAME = "<iframe srcdoc=\"<script>parent.__xss=1</script>\"></iframe>"
JS_URL = "javascript:window.__xss=1"
PAYLOADS = (SCRIPT, IMG, MD_LINK, FORMATTING, SVG, IFRAME)

# Area code -> hostile name (the same name in every table that carries one).
AREAS = {
    "E08000035": SCRIPT,       # Leeds (district and upper tier)
    "E06000001": IMG,          # Hartlepool
    "E92000001": MD_LINK,      # England: the default benchmark, so its name is on most pages
    "E47000001": FORMATTING,   # Greater Manchester combined authority (an example plan's place)
    "E12000003": SVG,          # Yorkshire and The Humber: Leeds' region (profile caption, region benchmark)
    "E08000021": IFRAME,       # Newcastle upon Tyne: one of Leeds' statistical neighbours
    "E07000008": SCRIPT + " Cambridge",  # the Cambridge example plan's place
}

# Indicator id -> hostile label, in indicators/catalogue.yaml (the labels the pages show).
LABELS = {
    "children-in-relative-poverty-before-housing-costs": SCRIPT,  # the map's default indicator
    "gross-median-weekly-pay": IMG,
    "employment-rate": MD_LINK,
    "female-healthy-life-expectancy": FORMATTING,
}

# Indicator id -> column -> hostile value, in the snapshot's catalogue.parquet.
SNAPSHOT_CATALOGUE = {
    "children-in-relative-poverty-before-housing-costs": {"label": SCRIPT, "source_org": IMG},
    "gross-median-weekly-pay": {"label": IMG, "source_org": MD_LINK, "source_url": JS_URL},
    "employment-rate": {"source_org": FORMATTING},
}


def make_poisoned(dest: Path) -> dict[str, str]:
    """Copy data/ into `dest` with hostile text (see the tables above), re-write its manifest so it
    verifies, and write a hostile catalogue.yaml to dest.parent. Returns the environment variables
    that point the app and the CLIs at both."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(SOURCE, dest)
    rows: dict[str, int] = {}

    for name in ("areas", "observations", "clusters"):
        rows[name] = _rewrite(dest / f"{name}.parquet", {"areanm": "areacd"})
    rows["boundary_changes"] = _rewrite(dest / "boundary_changes.parquet",
                                        {"old_areanm": "old_areacd", "new_areanm": "new_areacd"})
    rows["catalogue"] = _poison_catalogue_table(dest / "catalogue.parquet")
    rows["geometry"] = _poison_geometry(dest / "geometry.parquet")
    for path in sorted(dest.glob("*.parquet")):  # neighbours and the optional tables (deprivation, rural-urban)
        rows.setdefault(path.stem, pq.ParquetFile(path).metadata.num_rows)
    assert set(TABLES) <= set(rows), sorted(set(TABLES) - set(rows))

    manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    manifest.pop("files", None)
    manifest["source_note"] = f"poisoned test copy {FORMATTING} {MD_LINK} {SCRIPT}"
    manifest["attribution"] = [*manifest.get("attribution", []), MD_LINK, IMG, FORMATTING]
    geography = manifest.setdefault("geography", {})
    geography["districts_without_boundary"] = [*geography.get("districts_without_boundary", []), MD_LINK, IMG]
    for slug, entry in manifest.get("datasets", {}).items():
        if "gross-median-weekly-pay" in (entry.get("indicators") or []):
            entry["source_org"], entry["note"] = MD_LINK, SCRIPT
        if "children-in-relative-poverty-before-housing-costs" in (entry.get("indicators") or []):
            entry["source_org"] = IMG
    Staged(target=dest, path=dest).write_manifest(manifest, rows)

    _poison_catalogue_yaml(dest.parent / "catalogue.yaml")
    return {"GOOD_GROWTH_SNAPSHOT_DIR": str(dest), "GOOD_GROWTH_CATALOGUE_PATH": str(dest.parent / "catalogue.yaml")}


def _rewrite(path: Path, name_to_code: dict[str, str]) -> int:
    """Replace the name columns for the codes in AREAS, keeping each column's Arrow type and the
    table's schema metadata."""
    table = pq.read_table(path)
    for name_col, code_col in name_to_code.items():
        codes = table.column(code_col).to_pandas()
        names = table.column(name_col).to_pandas().astype(object)
        hit = codes.isin(list(AREAS))
        names[hit] = codes[hit].map(AREAS)
        field = table.schema.field(name_col)
        i = table.schema.get_field_index(name_col)
        table = table.set_column(i, field, pa.array(names, type=field.type))
    pq.write_table(table, path, compression="zstd")
    return table.num_rows


def _poison_catalogue_table(path: Path) -> int:
    table = pq.read_table(path)
    frame = table.to_pandas()
    for ind, cols in SNAPSHOT_CATALOGUE.items():
        hit = frame["indicator_id"].astype(str) == ind
        assert hit.any(), f"{ind} not in the snapshot catalogue"
        for col, value in cols.items():
            frame[col] = frame[col].astype(object)
            frame.loc[hit, col] = value
    out = pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False)
    pq.write_table(out, path, compression="zstd")
    return out.num_rows


def _poison_geometry(path: Path) -> int:
    import geopandas as gpd  # GeoParquet: read and write with geopandas so the 'geo' metadata stays valid

    gdf = gpd.read_parquet(path)
    hit = gdf["areacd"].isin(list(AREAS))
    gdf["areanm"] = gdf["areanm"].astype(object)
    gdf.loc[hit, "areanm"] = gdf.loc[hit, "areacd"].map(AREAS)
    gdf.to_parquet(path, compression="zstd", index=False)
    return len(gdf)


def _poison_catalogue_yaml(path: Path) -> None:
    doc: dict[str, Any] = yaml.safe_load(CATALOGUE_YAML.read_text(encoding="utf-8"))
    seen = set()
    for entry in doc["indicators"]:
        if entry["id"] in LABELS:
            entry["label"] = LABELS[entry["id"]]
            seen.add(entry["id"])
    assert seen == set(LABELS), sorted(set(LABELS) - seen)
    path.write_text("# A hostile copy of indicators/catalogue.yaml for tests (labels only).\n"
                    + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
