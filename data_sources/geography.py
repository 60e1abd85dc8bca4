"""Boundaries, area hierarchy, boundary changes and statistical neighbours.

Every function here is pure: it takes the raw bytes of a file that was
downloaded elsewhere and returns a pandas / geopandas frame. Nothing here
touches the network or the file system, so the same code serves the refresh
job, the tests and any notebook.

Sources:

* ONS ``uk-topojson`` ``topo.json`` (boundaries for every level and vintage)
  and its ``changes.csv`` (boundary changes);
* the Explore Local Statistics (ELS) app's ``geo-metadata.json`` (area
  hierarchy), ``areas-list.json`` (names and start/end years) and the
  ``clusters/`` files (statistical neighbours and cluster allocation).

Malformed input raises :class:`GeographyError` naming the source and what
was wrong, so a broken upstream file fails loudly instead of silently
producing a map with holes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "GeographyError",
    "TOPO_LEVELS",
    "TOPO_RECODES",
    "read_boundaries",
    "simplify_for_browser",
    "current",
    "read_hierarchy",
    "read_boundary_changes",
    "successor_map",
    "read_neighbours",
    "read_clusters",
    "districts_without_boundary",
]


class GeographyError(ValueError):
    """A geography source file is not in the shape this module expects."""


#: Our level vocabulary -> the uk-topojson object holding that level.
TOPO_LEVELS: dict[str, str] = {
    "uk": "uk",
    "country": "ctry",
    "region": "rgn",
    "combined_authority": "cauth",
    "utla": "utla",
    "ltla": "ltla",
}

#: Recodes uk-topojson files under the wrong object. In 2019 Glasgow City and
#: North Lanarkshire got new codes after a small boundary change, but the
#: topojson puts the *new* codes in ``cauth`` while ``ltla``/``utla`` keep the
#: old codes open-ended. The statistics use the new codes, so we close the old
#: code the year before and add the new code (same geometry) from that year.
#: old areacd -> (new areacd, new areanm, first year of the new code)
TOPO_RECODES: dict[str, tuple[str, str, int]] = {
    "S12000044": ("S12000050", "North Lanarkshire", 2019),
    "S12000046": ("S12000049", "Glasgow City", 2019),
}
#: Levels where the recode applies; the new codes are dropped from every other level.
_RECODE_LEVELS: tuple[str, ...] = ("utla", "ltla")

#: ELS ``level`` values -> our level names (K02 is special-cased to "uk").
_ELS_LEVELS: dict[str, str] = {
    "ctry": "country",
    "rgn": "region",
    "cauth": "combined_authority",
    "utla": "utla",
    "ltla": "ltla",
}
_LEVEL_ORDER: tuple[str, ...] = tuple(TOPO_LEVELS)

# GSS code prefixes used to read the ELS ``parents`` lists.
_UNITARY_PREFIXES = ("E06", "E08", "E09", "W06", "S12", "N09")
_UTLA_PREFIXES = ("E10", *_UNITARY_PREFIXES)
_CA_PREFIXES = ("E47", "E61", "W42", "N34")
_REGION_PREFIXES = ("E12",)
_COUNTRY_PREFIXES = ("E92", "N92", "S92", "W92")
_UK_PREFIX = "K02"

_NEIGHBOUR_KINDS: tuple[str, ...] = ("global", "economic", "demographic")

#: Decimal places kept for browser geometries: 1e-5 degrees is about 1 m.
_BROWSER_DECIMALS = 5

_HIERARCHY_COLUMNS = [
    "areacd",
    "areanm",
    "level",
    "parent_utla",
    "parent_combined_authority",
    "parent_region",
    "parent_country",
    "valid_from",
    "valid_to",
]


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


def _decode_json(raw: bytes, source: str) -> Any:
    """Parse JSON bytes, tolerating the UTF-8 BOM some ONS files start with."""
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GeographyError(f"{source}: not valid UTF-8 JSON ({exc})") from exc


def _read_csv(raw: bytes, source: str, required: Iterable[str]) -> pd.DataFrame:
    """Read a CSV as strings (codes must never become numbers) and check its columns."""
    try:
        df = pd.read_csv(
            io.BytesIO(raw),
            encoding="utf-8-sig",
            dtype=str,
            keep_default_na=False,
            na_values=[""],
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise GeographyError(f"{source}: cannot be read as CSV ({exc})") from exc
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise GeographyError(
            f"{source}: missing column(s) {missing}; found {list(df.columns)}"
        )
    return df


def _to_int64(values: Any, source: str, what: str) -> pd.Series:
    """Years as nullable Int64; anything that is not a whole number is an error."""
    s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna() & (s.astype(str).str.strip() != "")
    bad |= num.notna() & (num % 1 != 0)
    if bad.any():
        raise GeographyError(
            f"{source}: {what} must be whole years; got {list(s[bad].unique()[:5])}"
        )
    return num.round().astype("Int64")


def _prefix(code: Any) -> str:
    return code[:3] if isinstance(code, str) else ""


def _polygonal(geom: Any) -> Any:
    """Keep only the polygonal parts, so repairs never leak lines or points."""
    if geom is None or shapely.get_type_id(geom) in (3, 6):  # Polygon, MultiPolygon
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _repair(geoms: np.ndarray) -> np.ndarray:
    """Make invalid geometries valid while keeping them polygonal.

    The topojson's integer quantisation leaves a few rings touching or
    crossing themselves (about 15 districts, and the uk/country/region
    outlines). ``method="linework"`` only adds nodes where rings cross and
    keeps every original vertex bit-for-bit, so borders shared with valid
    neighbours still match exactly (``"structure"`` nudges every vertex by
    ~1e-10, which breaks that). The area change is < 1e-7 square degrees.
    """
    out = np.array(geoms, dtype=object)
    present = ~shapely.is_missing(out)
    bad = np.zeros(len(out), dtype=bool)
    bad[present] = ~shapely.is_valid(out[present])
    if bad.any():
        fixed = shapely.make_valid(out[bad], method="linework")
        out[bad] = [_polygonal(g) for g in fixed]
    return out


# --------------------------------------------------------------------------
# boundaries
# --------------------------------------------------------------------------


def _check_topology(topo: bytes) -> None:
    """Fail with a clear message before GDAL gives a vague one."""
    source = "uk-topojson topo.json"
    doc = _decode_json(topo, source)
    if not isinstance(doc, dict) or doc.get("type") != "Topology":
        raise GeographyError(f'{source}: not a TopoJSON document (no "type": "Topology")')
    objects = doc.get("objects")
    if not isinstance(objects, dict):
        raise GeographyError(f'{source}: no "objects" member')
    missing = [obj for obj in TOPO_LEVELS.values() if obj not in objects]
    if missing:
        raise GeographyError(
            f"{source}: missing object(s) {missing}; found {sorted(objects)}"
        )


def _read_topo_layer(topo: bytes, level: str) -> gpd.GeoDataFrame:
    obj = TOPO_LEVELS[level]
    source = f"uk-topojson topo.json object {obj!r}"
    try:
        layer = gpd.read_file(io.BytesIO(topo), layer=obj)
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise GeographyError(f"{source}: GDAL could not read it ({exc})") from exc
    missing = [c for c in ("areacd", "areanm") if c not in layer.columns]
    if missing:
        raise GeographyError(f"{source}: missing propert(y/ies) {missing}")
    if layer["areacd"].isna().any():
        n = int(layer["areacd"].isna().sum())
        raise GeographyError(f"{source}: {n} feature(s) without areacd")
    no_years = [None] * len(layer)  # start/end are optional properties
    return gpd.GeoDataFrame(
        {
            "level": level,
            "areacd": layer["areacd"].astype(str),
            "areanm": layer["areanm"],
            "start": _to_int64(layer.get("start", no_years), source, "start"),
            "end": _to_int64(layer.get("end", no_years), source, "end"),
        },
        geometry=_repair(layer.geometry.values),
        crs="EPSG:4326",
    )


def _apply_recodes(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Apply TOPO_RECODES: close old codes, add the new ones, drop misplaced ones."""
    new_codes = {new for new, _, _ in TOPO_RECODES.values()}
    out = {}
    for level, gdf in layers.items():
        if level not in _RECODE_LEVELS:
            out[level] = gdf[~gdf["areacd"].isin(new_codes)]
            continue
        gdf = gdf.copy()
        additions = []
        for old, (new, name, year) in TOPO_RECODES.items():
            is_old = gdf["areacd"] == old
            if not is_old.any():
                continue
            gdf.loc[is_old & gdf["end"].isna(), "end"] = year - 1
            if (gdf["areacd"] == new).any():  # upstream already fixed it
                continue
            copy = gdf[is_old].copy()
            copy["areacd"] = new
            copy["areanm"] = name
            copy["start"] = pd.array([year] * len(copy), dtype="Int64")
            copy["end"] = pd.array([None] * len(copy), dtype="Int64")
            additions.append(copy)
        out[level] = pd.concat([gdf, *additions]) if additions else gdf
    return out


def read_boundaries(topo: bytes) -> gpd.GeoDataFrame:
    """All six levels, every vintage, from the ONS uk-topojson bytes.

    Columns: ``level, areacd, areanm, start, end, geometry`` (EPSG:4326).
    ``start``/``end`` are the first/last year a feature is valid (nullable
    Int64; null means open-ended), so callers can pick the map for any year
    of data. The Glasgow/North Lanarkshire recode quirk is fixed (see
    ``TOPO_RECODES``), and the few self-intersecting rings the topojson's
    quantisation creates are repaired so spatial operations don't fail.
    """
    _check_topology(topo)
    layers = {level: _read_topo_layer(topo, level) for level in TOPO_LEVELS}
    layers = _apply_recodes(layers)
    gdf = pd.concat(list(layers.values()), ignore_index=True)
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs="EPSG:4326")


def current(gdf: gpd.GeoDataFrame, year: int | None = None) -> gpd.GeoDataFrame:
    """Features valid in ``year``; ``None`` means the latest vintage (``end`` null).

    Boundaries change (mergers, recodes), so a map of year-Y data must use the
    features valid in Y or codes won't match.
    """
    missing = [c for c in ("start", "end") if c not in gdf.columns]
    if missing:
        raise GeographyError(f"boundaries frame: missing column(s) {missing}")
    start = pd.to_numeric(gdf["start"]).astype("Int64")
    end = pd.to_numeric(gdf["end"]).astype("Int64")
    if year is None:
        keep = end.isna()
    else:
        keep = (start.isna() | (start <= year)) & (end.isna() | (end >= year))
    return gdf[keep.fillna(False).to_numpy(dtype=bool)]


# --------------------------------------------------------------------------
# simplification
# --------------------------------------------------------------------------


def _round_coords(geoms: np.ndarray, decimals: int) -> np.ndarray:
    # Rounding each coordinate (rather than set_precision, which re-nodes each
    # geometry on its own) maps a shared vertex to the same place in every
    # feature, so shared borders stay shared.
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def _coverage_simplify_level(polys: np.ndarray, tolerance: float) -> np.ndarray:
    """Simplify overlapping vintages of one level without opening gaps.

    ``coverage_simplify`` needs a non-overlapping coverage, but a level holds
    every vintage (e.g. Dorset and its six former districts). So the level is
    cut into atomic faces by all of its borders, the faces (a true coverage)
    are simplified together, and each feature is rebuilt as the union of its
    faces. Any border shared by two features of any vintages is therefore
    simplified once, identically for both.
    """
    lines = shapely.union_all(shapely.boundary(polys))  # noded linework
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    if len(faces) == 0:
        return shapely.simplify(polys, tolerance, preserve_topology=True)
    simple = shapely.coverage_simplify(faces, tolerance)
    # A face lies inside every feature (of any vintage) whose area covers it.
    face_idx, feature_idx = shapely.STRtree(polys).query(
        shapely.point_on_surface(faces), predicate="within"
    )
    order = np.argsort(feature_idx, kind="stable")
    face_idx, feature_idx = face_idx[order], feature_idx[order]
    cuts = np.flatnonzero(np.diff(feature_idx)) + 1
    out = np.array([shapely.Polygon() for _ in range(len(polys))], dtype=object)
    for faces_of_feature, features in zip(np.split(face_idx, cuts), np.split(feature_idx, cuts)):
        if len(features) == 0:
            continue
        members = simple[faces_of_feature]
        try:  # exact and fast: simplified faces still share their edges
            out[features[0]] = shapely.coverage_union_all(members)
        except shapely.errors.GEOSException:
            out[features[0]] = shapely.union_all(members)
    return out


def _simplify_group(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    result = np.array(geoms, dtype=object)
    present = ~shapely.is_missing(result)
    present[present] &= ~shapely.is_empty(result[present])
    if not present.any():
        return result
    original = _repair(result[present])
    is_poly = np.isin(shapely.get_type_id(original), (3, 6))
    simplified = np.array(original, dtype=object)
    if is_poly.any():
        if hasattr(shapely, "coverage_simplify"):
            try:
                simplified[is_poly] = _coverage_simplify_level(original[is_poly], tolerance)
            except shapely.errors.GEOSException:
                simplified[is_poly] = shapely.simplify(
                    original[is_poly], tolerance, preserve_topology=True
                )
        else:  # shapely < 2.1: borders may drift apart slightly
            simplified[is_poly] = shapely.simplify(
                original[is_poly], tolerance, preserve_topology=True
            )
    if (~is_poly).any():
        simplified[~is_poly] = shapely.simplify(
            original[~is_poly], tolerance, preserve_topology=True
        )
    simplified = _repair(_round_coords(simplified, _BROWSER_DECIMALS))
    # Never hand the browser an empty feature: fall back to the original.
    empty = shapely.is_empty(simplified)
    if empty.any():
        fallback = _repair(_round_coords(original[empty], _BROWSER_DECIMALS))
        collapsed = shapely.is_empty(fallback)
        fallback[collapsed] = original[empty][collapsed]
        simplified[empty] = fallback
    result[present] = simplified
    return result


def simplify_for_browser(
    gdf: gpd.GeoDataFrame, tolerance: float = 0.005
) -> gpd.GeoDataFrame:
    """Lighter geometries for the browser map, with borders still shared.

    Each level is simplified as one polygonal coverage (shapely's
    ``coverage_simplify``, Visvalingam-Whyatt), over all vintages at once, so
    neighbouring areas keep an identical border with no slivers or gaps, in
    any year's map. Coordinates are then rounded to 5 decimals (~1 m).

    Trade-off: ``tolerance`` is in degrees and is the square root of the
    smallest triangle area kept, so 0.005 drops wiggles under about 0.2 km2
    in the UK. On the already generalised ONS file that removes ~40% of
    vertices (current districts: 1.23 MB -> 0.75 MB as WKB, GeoJSON text
    3.2 MB -> 1.1 MB), invisible at national and regional zoom; small
    islands and estuaries lose detail (the Isles of Scilly lose ~12% of
    their area) and the coastline is simplified too. A
    feature that would vanish keeps its original geometry (so it stays
    visible, at the cost of its border no longer matching its neighbours
    exactly). Every output geometry is non-empty and valid. Rounding does not
    shrink WKB (still 8-byte doubles) but does shrink GeoJSON text.
    Without shapely >= 2.1 it falls back to per-feature
    ``simplify(preserve_topology=True)``, where shared borders can drift apart.
    """
    geom_col = gdf.geometry.name
    out = gdf.copy()
    geoms = np.asarray(out.geometry.values, dtype=object)
    result = np.array(geoms, dtype=object)
    if "level" in out.columns:
        keys = out["level"].astype(object).where(out["level"].notna(), None)
        positions = pd.Series(np.arange(len(out))).groupby(keys.to_numpy(), dropna=False).indices
        groups = list(positions.values())
    else:
        groups = [np.arange(len(out))]
    for pos in groups:
        result[pos] = _simplify_group(geoms[pos], tolerance)
    out[geom_col] = gpd.GeoSeries(result, index=out.index, crs=gdf.crs)
    return out


# --------------------------------------------------------------------------
# hierarchy
# --------------------------------------------------------------------------


def _areas_list_lookup(areas_list: bytes) -> dict[str, dict[str, Any]]:
    """areacd -> {areanm, start, end} from the ELS column-oriented areas list."""
    source = "ELS areas-list.json"
    doc = _decode_json(areas_list, source)
    if not isinstance(doc, dict) or not isinstance(doc.get("areacd"), list):
        raise GeographyError(f'{source}: expected an object with an "areacd" list')
    codes = doc["areacd"]
    names = doc.get("areanm") or [None] * len(codes)
    if len(names) != len(codes):
        raise GeographyError(f"{source}: areanm has {len(names)} entries, areacd has {len(codes)}")
    starts, ends = doc.get("start") or {}, doc.get("end") or {}
    if not isinstance(starts, dict) or not isinstance(ends, dict):
        raise GeographyError(f"{source}: start/end must be objects of index -> year")
    return {
        code: {"areanm": names[i], "start": starts.get(str(i)), "end": ends.get(str(i))}
        for i, code in enumerate(codes)
    }


def _first(parents: list[str], prefixes: tuple[str, ...]) -> str | None:
    return next((p for p in parents if _prefix(p) in prefixes), None)


def read_hierarchy(geo_metadata: bytes, areas_list: bytes) -> pd.DataFrame:
    """One row per (areacd, level) for our six levels, with each area's parents.

    Lets callers roll districts up to counties, combined authorities, regions
    and countries without a spatial join. ``parent_utla`` is the upper-tier
    authority an area *is or lies in*: the county for an E07 district, the
    area itself for a unitary and for every utla row. Other parents come from
    the nearest-first ELS ``parents`` list by code prefix. Areas that ELS
    lists in two levels (unitaries; NI/Scotland/Wales as country and region)
    get one row per level. ``valid_from``/``valid_to`` come from geo-metadata,
    else from the areas list.
    """
    source = "ELS geo-metadata.json"
    meta = _decode_json(geo_metadata, source)
    if not isinstance(meta, dict):
        raise GeographyError(f"{source}: expected an object of areacd -> area")
    names = _areas_list_lookup(areas_list)
    rows = []
    for key, area in meta.items():
        if not isinstance(area, dict):
            raise GeographyError(f"{source}: entry {key!r} is not an object")
        levels = area.get("level")
        if not isinstance(levels, list):
            raise GeographyError(f"{source}: entry {key!r} has no 'level' list")
        code = area.get("areacd") or key
        parents = area.get("parents") or []
        if not isinstance(parents, list):
            raise GeographyError(f"{source}: entry {key!r} has a non-list 'parents'")
        ours = ["uk"] if _prefix(code) == _UK_PREFIX else [
            _ELS_LEVELS[lv] for lv in levels if lv in _ELS_LEVELS
        ]
        fallback = names.get(code, {})
        for level in dict.fromkeys(ours):
            if level == "utla" or (level == "ltla" and _prefix(code) in _UNITARY_PREFIXES):
                parent_utla = code
            elif level == "ltla" and _prefix(code) == "E07":
                parent_utla = _first(parents, _UTLA_PREFIXES)
            else:
                parent_utla = None
            rows.append(
                {
                    "areacd": code,
                    "areanm": area.get("areanm") or fallback.get("areanm"),
                    "level": level,
                    "parent_utla": parent_utla,
                    "parent_combined_authority": _first(parents, _CA_PREFIXES),
                    "parent_region": _first(parents, _REGION_PREFIXES),
                    "parent_country": _first(parents, _COUNTRY_PREFIXES),
                    "valid_from": area.get("start", fallback.get("start")),
                    "valid_to": area.get("end", fallback.get("end")),
                }
            )
    df = pd.DataFrame(rows, columns=_HIERARCHY_COLUMNS)
    df["valid_from"] = _to_int64(df["valid_from"].astype(object), source, "start")
    df["valid_to"] = _to_int64(df["valid_to"].astype(object), source, "end")
    df["_order"] = df["level"].map({lv: i for i, lv in enumerate(_LEVEL_ORDER)})
    return (
        df.sort_values(["_order", "areacd"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


# --------------------------------------------------------------------------
# boundary changes
# --------------------------------------------------------------------------


def read_boundary_changes(changes_csv: bytes) -> pd.DataFrame:
    """uk-topojson's changes.csv with descriptive names and an Int64 ``year``.

    ``year`` is the first year the new code/boundary applies; ``new_areacd``
    is null for terminations (e.g. abolished counties).
    """
    source = "uk-topojson changes.csv"
    df = _read_csv(changes_csv, source, ["oldcd", "oldnm", "newcd", "newnm", "type", "start"])
    if df["oldcd"].isna().any():
        raise GeographyError(f"{source}: {int(df['oldcd'].isna().sum())} row(s) without oldcd")
    return pd.DataFrame(
        {
            "old_areacd": df["oldcd"].str.strip(),
            "old_areanm": df["oldnm"],
            "new_areacd": df["newcd"].str.strip(),
            "new_areanm": df["newnm"],
            "change_type": df["type"],
            "year": _to_int64(df["start"], source, "start"),
        }
    )


def successor_map(changes: pd.DataFrame) -> dict[str, str]:
    """Each old code -> its final successor, following chains (A->B->C gives A->C).

    Used to carry old-code statistics onto current boundaries. Rows where an
    area *joins* a combined authority (e.g. York -> York and North Yorkshire
    CA, typed ``new_geo``) are membership, not succession, and are ignored,
    as are terminations, self-maps and splits (one old code, several new
    codes in the same year: no single successor). A chain is only followed
    forwards in time and stops before revisiting a code, so cycles end.
    """
    missing = [c for c in ("old_areacd", "new_areacd", "year") if c not in changes.columns]
    if missing:
        raise GeographyError(f"boundary changes frame: missing column(s) {missing}")
    # old code -> {year: {new codes}}, keeping only real successions
    candidates: dict[str, dict[int | None, set[str]]] = {}
    for old, new, year in changes[["old_areacd", "new_areacd", "year"]].itertuples(index=False):
        if pd.isna(old) or pd.isna(new) or old == new:
            continue  # termination or self-map
        if _prefix(new) in _CA_PREFIXES and _prefix(old) not in _CA_PREFIXES:
            continue  # joining a combined authority
        year = None if pd.isna(year) else int(year)
        candidates.setdefault(str(old), {}).setdefault(year, set()).add(str(new))
    edges: dict[str, tuple[str, int | None]] = {}
    for old, by_year in candidates.items():
        known = [y for y in by_year if y is not None]
        year = max(known) if known else None  # the latest change wins
        if len(by_year[year]) == 1:  # otherwise a split: no single successor
            edges[old] = (next(iter(by_year[year])), year)

    def later_or_unknown(a: int | None, b: int | None) -> bool:
        return a is None or b is None or b >= a

    result: dict[str, str] = {}
    for old, (new, year) in edges.items():
        seen = {old, new}
        while new in edges:
            nxt, nxt_year = edges[new]
            if nxt in seen or not later_or_unknown(year, nxt_year):
                break
            seen.add(nxt)
            new, year = nxt, nxt_year
        if new != old:
            result[old] = new
    return result


# --------------------------------------------------------------------------
# neighbours and clusters
# --------------------------------------------------------------------------


def read_neighbours(
    global_csv: bytes, economic_csv: bytes, demographic_csv: bytes
) -> pd.DataFrame:
    """ELS statistical nearest neighbours in long form.

    Columns ``areacd, kind, rank, neighbour_areacd``; one row per district,
    kind and rank (1 = most similar), so "compare with similar places" is a
    simple filter.
    """
    frames = []
    for kind, raw in zip(_NEIGHBOUR_KINDS, (global_csv, economic_csv, demographic_csv)):
        source = f"ELS {kind}-neighbours.csv"
        df = _read_csv(raw, source, ["AREACD"])
        ranks = [c for c in df.columns if c.isdigit()]
        if not ranks:
            raise GeographyError(f"{source}: no rank columns (1, 2, ...); found {list(df.columns)}")
        long = df.melt(
            id_vars="AREACD", value_vars=ranks, var_name="rank", value_name="neighbour_areacd"
        )
        long = long.dropna(subset=["AREACD", "neighbour_areacd"])
        frames.append(
            pd.DataFrame(
                {
                    "areacd": long["AREACD"].str.strip(),
                    "kind": kind,
                    "rank": long["rank"].astype("int64"),
                    "neighbour_areacd": long["neighbour_areacd"].str.strip(),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["_kind"] = out["kind"].map({k: i for i, k in enumerate(_NEIGHBOUR_KINDS)})
    return (
        out.sort_values(["_kind", "areacd", "rank"], kind="stable")
        .drop(columns="_kind")
        .reset_index(drop=True)
    )


def read_clusters(allocation_csv: bytes, descriptions_json: bytes) -> pd.DataFrame:
    """ELS cluster allocation joined to each cluster's plain-English description.

    Columns ``areacd, areanm, kind, cluster, description``; ``cluster`` is a
    lower-case letter. Districts ONS left unallocated (``[x]``, e.g. Isles of
    Scilly, City of London) or left blank keep a row with a null cluster, and
    a letter with no description keeps a null description, so no district
    silently disappears from a cluster view.
    """
    source = "ELS cluster-allocation.csv"
    df = _read_csv(allocation_csv, source, [])
    by_lower = {c.lower(): c for c in df.columns}
    needed = ["areacd", "areanm", *_NEIGHBOUR_KINDS]
    missing = [c for c in needed if c not in by_lower]
    if missing:
        raise GeographyError(
            f"{source}: missing column(s) {missing} (case-insensitive); found {list(df.columns)}"
        )
    dsource = "ELS cluster-descriptions.json"
    descriptions = _decode_json(descriptions_json, dsource)
    if not isinstance(descriptions, dict):
        raise GeographyError(f"{dsource}: expected an object of kind -> letter -> text")
    lookup: dict[tuple[str, str], str] = {}
    for kind in _NEIGHBOUR_KINDS:
        texts = descriptions.get(kind)
        if not isinstance(texts, dict):
            raise GeographyError(f"{dsource}: missing or malformed {kind!r} descriptions")
        lookup.update({(kind, str(k).strip().lower()): v for k, v in texts.items()})
    frames = []
    for kind in _NEIGHBOUR_KINDS:
        cluster = df[by_lower[kind]].str.strip().str.lower()
        cluster = cluster.where(cluster.str.fullmatch(r"[a-z]").fillna(False).astype(bool))
        frames.append(
            pd.DataFrame(
                {
                    "areacd": df[by_lower["areacd"]].str.strip(),
                    "areanm": df[by_lower["areanm"]],
                    "kind": kind,
                    "cluster": cluster,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["description"] = pd.Series(
        [lookup.get(key) for key in zip(out["kind"], out["cluster"])], index=out.index
    )
    return out.dropna(subset=["areacd"]).reset_index(drop=True)


def districts_without_boundary(
    ltla_codes: Iterable[str], boundaries: gpd.GeoDataFrame
) -> list[str]:
    """Sorted district codes with no ltla geometry in any vintage.

    So callers can list districts that cannot be mapped instead of silently
    dropping them from a choropleth.
    """
    if "level" not in boundaries.columns or "areacd" not in boundaries.columns:
        raise GeographyError("boundaries frame: needs 'level' and 'areacd' columns")
    geoms = np.asarray(boundaries.geometry.values, dtype=object)
    has_geom = ~shapely.is_missing(geoms)
    has_geom[has_geom] = ~shapely.is_empty(geoms[has_geom])
    has_geom &= (boundaries["level"] == "ltla").to_numpy(dtype=bool, na_value=False)
    mapped = set(boundaries.loc[has_geom, "areacd"])
    return sorted({c for c in ltla_codes if isinstance(c, str) and c} - mapped)
