"""Questions asked of the snapshot: values, periods, series, benchmarks and score-ready matrices.

Why a context object: the observations table is split once per (indicator, level) and
the catalogue is validated once per snapshot; every page and method then asks cheap
questions of that. The context is cached per snapshot identity, so a refresh that swaps
the snapshot directory is picked up on the next call.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from data_sources.errors import SnapshotError
from data_sources.store import read_manifest, read_table

from . import catalogue as catalogue_mod
from . import deprivation as deprivation_mod
from . import derived as derived_mod
from . import memory
from . import neighbours as neighbours_mod
from . import snapshot as snapshot_mod
from .cache import BoundedCache
from .errors import IndicatorError, UnknownAreaError

ENGLAND, UK = "E92000001", "K02000001"
COUNTRY_CODES = {"E": "E92000001", "N": "N92000002", "S": "S92000003", "W": "W92000004"}
# A period counts as "the latest" for an indicator only if it covers at least this share of
# the areas the indicator ever covers at that level: a new period published for a handful of
# areas must not silently shrink every comparison to those few.
LATEST_MIN_COVERAGE = 0.5
# Entries the shared context keeps per kind (least recently used go first). A per-area split
# holds every row of one area (a few MB); 64 covers the places a busy server's visitors are
# looking at now. Everything else is small but keyed by free choices (periods, custom area lists).
CACHE_LIMITS = {"area_ind": 64, "matrix": 128, "periods": 1024, "latest": 4096, "values_by_period": 64}
HIERARCHY_LEVELS = ("uk", "country", "region", "combined_authority", "utla", "ltla")
Period = str | int | None  # "latest", a period code, a year, or None (= latest)


@dataclass
class Context:
    snapshot: snapshot_mod.Snapshot
    catalogue: catalogue_mod.Catalogue
    cat: pd.DataFrame
    areas: pd.DataFrame
    names: pd.Series
    predecessor: dict[str, str]
    neighbours: pd.DataFrame
    clusters: pd.DataFrame
    _slices: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)
    _area_index: tuple[np.ndarray, dict[str, tuple[int, int]]] | None = None
    _cache: BoundedCache = field(default_factory=lambda: BoundedCache(CACHE_LIMITS))
    # rows of the catalogue's derived indicators (per-head forms of totals), kept beside the
    # snapshot's table rather than concatenated to it, so the app still holds that table once
    derived: pd.DataFrame = field(default_factory=lambda: _EMPTY)
    _derived_by_area: dict[str, pd.DataFrame] | None = None
    # content of the local layer merged in ("" for the snapshot alone): part of every shared cache key
    local_fingerprint: str = ""

    def slice(self, indicator: str, level: str) -> pd.DataFrame:
        """All rows of one indicator at one level, sorted by area then period."""
        return self._slices.get((indicator, level), _EMPTY)

    def area_rows(self, areacd: str) -> pd.DataFrame:
        """Every row of one area. Why an index of row positions and not a split per area: a
        split copies the whole table once more; this takes only the rows asked for."""
        if self._area_index is None:
            self._area_index = _positions(self.snapshot.observations["areacd"])
        order, bounds = self._area_index
        if self._derived_by_area is None:
            self._derived_by_area = {str(k): g for k, g in self.derived.groupby("areacd", sort=False)}
        extra = self._derived_by_area.get(areacd)
        if areacd not in bounds:
            return _EMPTY if extra is None else extra.reset_index(drop=True)
        start, end = bounds[areacd]
        own = self.snapshot.observations.take(order[start:end]).reset_index(drop=True)
        return own if extra is None else pd.concat([own, extra], ignore_index=True)

    def area_indicator(self, areacd: str, indicator: str) -> pd.DataFrame:
        """Rows of one area for one indicator (all levels), split once per area and cached."""
        key = ("area_ind", areacd)
        split = self._cache.get(key)
        if split is None:
            rows = self.area_rows(areacd)
            split = {str(k): g for k, g in rows.groupby("indicator_id", observed=True, sort=False)}
            self._cache[key] = split
        return split.get(indicator, _EMPTY)


_EMPTY = pd.DataFrame(columns=["indicator_id", "areacd", "areanm", "level", "period_code", "period_label",
                               "period_start", "value", "lci", "uci", "status"])


def context(path: Path | None = None, local: Any = None) -> Context:
    """The query context for the configured snapshot (cached until the snapshot is replaced),
    with the indicators of a local layer (indicators.local_data.LocalLayer) merged in when given."""
    snap = snapshot_mod.load(path)
    base = _context(snap.path, snap.manifest["created_at"])
    if not local:
        return base
    from .local_data.merge import merge
    key = ("local", str(snap.path), snap.manifest["created_at"], local.fingerprint)
    return _with_local.setdefault_by(key, lambda: merge(base, local))


# Contexts with a local layer merged in, keyed by snapshot and layer content: a handful of layers
# (the local folder, a few public visitors' uploads) are in use at once.
_with_local = BoundedCache({"local": 8})


@lru_cache(maxsize=2)
def _context(path: Path, created_at: str) -> Context:
    snap = snapshot_mod.load(path)
    cat = catalogue_mod.default()
    catalogue_mod.check_against_snapshot(cat, snap.catalogue)
    slices = _slices(snap.observations)
    derived = derived_mod.rows(cat, slices)
    slices.update(_slices(derived.astype({"indicator_id": "category", "level": "category"})))
    snap = replace(snap, catalogue=derived_mod.metadata(cat, snap.catalogue, derived))
    areas = snap.areas.copy()
    for col in ("areacd", "areanm", "level"):
        areas[col] = areas[col].astype(str)
    names = areas.drop_duplicates("areacd").set_index("areacd")["areanm"]
    neighbours = read_table(snap.path, "neighbours").astype({"areacd": str, "kind": str, "neighbour_areacd": str})
    clusters = read_table(snap.path, "clusters")
    dep = deprivation_mod.tables(snap.path)
    if dep is not None:  # "similar rural districts" as one more peer kind beside the ONS sets
        neighbours = pd.concat([neighbours, neighbours_mod.rural_urban_neighbours(dep.rural_urban, neighbours)],
                               ignore_index=True)
    if read_manifest(snap.path)["created_at"] != snap.manifest["created_at"]:
        raise SnapshotError(f"{snap.path}: the snapshot was replaced while it was being read; reload the page")
    ctx = Context(snapshot=snap, catalogue=cat, cat=cat.frame().assign(local=False, local_source=None), areas=areas, names=names,
                  predecessor=predecessors(areas), neighbours=neighbours, clusters=clusters, _slices=slices,
                  derived=derived)
    memory.release_freed()  # reading Parquet leaves tens of MB of freed buffers resident
    return ctx


def _slices(obs: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """Rows per (indicator, level) as views of the snapshot's table, which the loader sorted by
    indicator, level, area and period: no row is copied, so the app holds the table once."""
    ind = obs["indicator_id"].cat.codes.to_numpy()
    lev = obs["level"].cat.codes.to_numpy()
    starts, ends = _runs(ind, lev)
    ind_names = obs["indicator_id"].cat.categories
    lev_names = obs["level"].cat.categories
    return {(str(ind_names[ind[a]]), str(lev_names[lev[a]])): obs.iloc[a:b].reset_index(drop=True)
            for a, b in zip(starts, ends)}


def _runs(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of each run of equal values across the sorted key arrays."""
    n = len(keys[0])
    if n == 0:
        return np.array([], int), np.array([], int)
    changed = np.zeros(n - 1, bool)
    for k in keys:
        changed |= k[1:] != k[:-1]
    starts = np.flatnonzero(np.r_[True, changed])
    return starts, np.r_[starts[1:], n]


def _positions(codes: pd.Series) -> tuple[np.ndarray, dict[str, tuple[int, int]]]:
    """Row positions grouped by value, and each value's (start, end) in them."""
    c = codes.cat.codes.to_numpy()
    order = np.argsort(c, kind="stable")
    sorted_codes = c[order]
    starts, ends = _runs(sorted_codes)
    names = codes.cat.categories
    return order, {str(names[sorted_codes[a]]): (int(a), int(b)) for a, b in zip(starts, ends) if sorted_codes[a] >= 0}


def predecessors(areas: pd.DataFrame) -> dict[str, str]:
    """New code → old code for one-to-one recodes (e.g. Barnsley E08000016 → E08000038 in 2025).

    Why: publishers keep back-years under the old code, so without this a recoded area would
    look as if it had no history. Mergers (several old codes, one new) are not mapped: their
    old values describe different places.
    """
    moved = areas.loc[areas["successor"].notna(), ["areacd", "successor"]].drop_duplicates()
    moved = moved.astype(str)
    one_to_one = moved.groupby("successor")["areacd"].transform("size") == 1
    return dict(zip(moved.loc[one_to_one, "successor"], moved.loc[one_to_one, "areacd"]))


def nation_of(areacd: str) -> str | None:
    return areacd[0] if areacd[:1] in COUNTRY_CODES and not areacd.startswith("na:") else None


def current_areas(ctx: Context, level: str) -> pd.DataFrame:
    """Areas of a level as they are today: not abolished, not replaced by a successor code."""
    def make() -> pd.DataFrame:
        a = ctx.areas.loc[ctx.areas["level"] == level]
        a = a.loc[a["valid_to"].isna() & a["successor"].isna()]
        if level in HIERARCHY_LEVELS:  # codes outside the ONS hierarchy are retired or pseudo-areas
            a = a.loc[a["in_hierarchy"].astype(bool)]
        return a.sort_values("areacd").reset_index(drop=True)
    return ctx._cache.setdefault_by(("current_areas", level), make)


def area_name(ctx: Context, areacd: str) -> str:
    if areacd not in ctx.names.index:
        raise UnknownAreaError(f"unknown area code '{areacd}'")
    return str(ctx.names[areacd])


# ---------------------------------------------------------------- periods

def periods(ctx: Context, indicator: str, level: str) -> pd.DataFrame:
    """Periods with data for an indicator at a level, oldest first, with how many areas each covers."""
    return ctx._cache.setdefault_by(("periods", indicator, level), lambda: _periods(ctx, indicator, level))


def _periods(ctx: Context, indicator: str, level: str) -> pd.DataFrame:
    rows = ctx.slice(indicator, level)
    with_value = rows.loc[rows["value"].notna()]
    if with_value.empty:
        return pd.DataFrame(columns=["period_code", "period_label", "period_start", "areas"])
    out = (with_value.groupby("period_code", observed=True)
           .agg(period_label=("period_label", "first"), period_start=("period_start", "first"),
                areas=("areacd", "nunique"))
           .reset_index().sort_values("period_start").reset_index(drop=True))
    out["period_code"] = out["period_code"].astype(str)
    out["period_label"] = out["period_label"].astype(str)
    return out


def resolve_period(ctx: Context, indicator: str, level: str, period: Period = "latest") -> str | None:
    """A period code: 'latest' (well-covered), an exact code, or a year (the latest period starting by then)."""
    p = periods(ctx, indicator, level)
    if p.empty:
        return None
    well_covered = p.loc[p["areas"] >= LATEST_MIN_COVERAGE * p["areas"].max()]
    if period in (None, "latest"):
        return str(well_covered["period_code"].iloc[-1])
    if isinstance(period, str) and not period.isdigit():
        return period if period in set(p["period_code"]) else None
    year = int(period)
    starts = pd.to_datetime(well_covered["period_start"].astype(str))
    eligible = well_covered.loc[starts.dt.year.to_numpy() <= year]
    return str(eligible["period_code"].iloc[-1]) if len(eligible) else None


def latest_period(ctx: Context, indicator: str, level: str) -> str | None:
    """The latest well-covered period, kept per context: a place's profile asks for every
    indicator's, and working it out again from the periods table costs about a millisecond each."""
    return ctx._cache.setdefault_by(("latest", indicator, level),
                                    lambda: resolve_period(ctx, indicator, level, "latest"))


# ---------------------------------------------------------------- values

VALUE_COLUMNS = ["areacd", "areanm", "value", "lci", "uci", "status", "period_code", "period_label", "period_start"]


def values(ctx: Context, indicator: str, level: str, period: Period = "latest") -> pd.DataFrame:
    """One row per area with data rows for that period (values may be NULL where suppressed)."""
    ctx.catalogue.get(indicator)
    code = resolve_period(ctx, indicator, level, period)
    if code is None:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    rows = ctx.slice(indicator, level)
    out = rows.loc[rows["period_code"].astype(str) == code, VALUE_COLUMNS].copy()
    for col in ("areacd", "areanm", "status", "period_code", "period_label"):
        out[col] = out[col].astype(str)
    return out.reset_index(drop=True)


def series(ctx: Context, areacd: str, indicator: str, level: str | None = None) -> pd.DataFrame:
    """The time series of one area for one indicator, oldest first (back-years of a recoded area included)."""
    rows = ctx.area_indicator(areacd, indicator)
    old = ctx.predecessor.get(areacd)
    if old:
        rows = pd.concat([rows, ctx.area_indicator(old, indicator)], ignore_index=True)
    if level:
        rows = rows.loc[rows["level"].astype(str) == level]
    return _one_row_per_period(rows, ["period_code"], ["period_start"], VALUE_COLUMNS)


def series_many(ctx: Context, areacd: str, indicators: list[str]) -> pd.DataFrame:
    """series() for several indicators at once: `indicator_id` and VALUE_COLUMNS, grouped by indicator
    in the order given, each oldest first. Why: a comparison asks for a few places' series of several
    indicators, and the same sorting and de-duplication once per place costs what one series did."""
    order = {ind: k for k, ind in enumerate(dict.fromkeys(indicators))}
    parts = [ctx.area_rows(areacd)]
    old = ctx.predecessor.get(areacd)
    if old:
        parts.append(ctx.area_rows(old))
    rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    ids = rows["indicator_id"].astype(str)
    rows = rows.loc[ids.isin(order)].assign(indicator_id=ids, _order=ids.map(order))
    return _one_row_per_period(rows, ["indicator_id", "period_code"], ["_order", "period_start"],
                               ["indicator_id", *VALUE_COLUMNS])


def _one_row_per_period(rows: pd.DataFrame, period: list[str], order: list[str], columns: list[str]) -> pd.DataFrame:
    """One row per `period` key, sorted by `order`, text columns as str. Of rows sharing a period (an
    area's own and its predecessor's) the one with a value is kept, the area's own on a tie."""
    rows = (rows.sort_values("value", na_position="last", kind="stable").drop_duplicates(period)
            .sort_values(order, kind="stable"))
    out = rows[columns].copy()
    for col in ("areacd", "areanm", "status", "period_code", "period_label"):
        out[col] = out[col].astype(str)
    return out.reset_index(drop=True)


def value_at(ctx: Context, indicator: str, areacd: str, period_code: str) -> float | None:
    rows = ctx.area_indicator(areacd, indicator)
    hit = rows.loc[(rows["period_code"] == period_code) & rows["value"].notna(), "value"]
    return float(hit.iloc[0]) if len(hit) else None


def parent_region(ctx: Context, areacd: str) -> str | None:
    """The region (England) or nation the area sits in."""
    rows = ctx.areas.loc[ctx.areas["areacd"] == areacd]
    for col in ("parent_region", "parent_country"):
        if col in rows and rows[col].notna().any():
            return str(rows[col].dropna().iloc[0])
    nation = nation_of(areacd)
    return COUNTRY_CODES.get(nation) if nation else None


def benchmarks(ctx: Context, indicator: str, period_code: str, areacd: str | None = None,
               peers: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Comparators for one indicator and period: England, UK, the area's region or nation, its peers' mean."""
    out: dict[str, dict[str, Any]] = {}
    for key, code in (("england", ENGLAND), ("uk", UK)):
        v = value_at(ctx, indicator, code, period_code)
        if v is not None:
            out[key] = {"areacd": code, "name": area_name(ctx, code), "value": v}
    if areacd:
        region = parent_region(ctx, areacd)
        if region:
            v = value_at(ctx, indicator, region, period_code)
            if v is not None:
                out["region"] = {"areacd": region, "name": area_name(ctx, region), "value": v}
    if peers:
        vals = [value_at(ctx, indicator, p, period_code) for p in peers]
        have = [v for v in vals if v is not None]
        if have:
            out["neighbours"] = {"areacd": None, "name": f"Mean of {len(have)} neighbours", "value": float(np.mean(have)),
                                 "n": len(have)}
    return out


# ---------------------------------------------------------------- matrices

@dataclass(frozen=True)
class Matrix:
    """Areas × indicators at one level, each indicator at its own chosen period."""

    level: str
    areas: pd.Index
    ids: list[str]
    value: np.ndarray  # (n_areas, n_indicators), NaN where missing
    lci: np.ndarray
    uci: np.ndarray
    period_code: list[str | None]
    period_label: list[str | None]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.value, index=self.areas, columns=self.ids)


def matrix(ctx: Context, level: str, period: Period = "latest", indicators: list[str] | None = None,
           areas: list[str] | None = None) -> Matrix:
    """The score-ready matrix: rows are current areas of the level, columns the indicators asked for."""
    ids = indicators if indicators is not None else ctx.catalogue.ids()
    key = ("matrix", level, period, tuple(ids), tuple(areas) if areas else None)
    hit = ctx._cache.get(key)
    if hit is not None:
        return hit
    index = pd.Index(areas if areas is not None else current_areas(ctx, level)["areacd"].tolist(), name="areacd")
    successor_of = {old: new for new, old in ctx.predecessor.items()}
    n, k = len(index), len(ids)
    value, lci, uci = (np.full((n, k), np.nan) for _ in range(3))
    codes: list[str | None] = []
    labels: list[str | None] = []
    for j, ind in enumerate(ids):
        code = resolve_period(ctx, ind, level, period)
        codes.append(code)
        if code is None:
            labels.append(None)
            continue
        rows = ctx.slice(ind, level)
        rows = rows.loc[rows["period_code"].astype(str) == code]
        labels.append(str(rows["period_label"].iloc[0]))
        codes_here = rows["areacd"].astype(str)
        for lookup in (codes_here, codes_here.map(successor_of).fillna("")):  # own code first, then old code
            pos = index.get_indexer(lookup)
            ok = (pos >= 0) & rows["value"].notna().to_numpy()
            ok[ok] = np.isnan(value[pos[ok], j])
            value[pos[ok], j] = rows["value"].to_numpy(dtype=float)[ok]
            lci[pos[ok], j] = rows["lci"].to_numpy(dtype=float)[ok]
            uci[pos[ok], j] = rows["uci"].to_numpy(dtype=float)[ok]
    result = Matrix(level, index, list(ids), value, lci, uci, codes, labels)
    ctx._cache[key] = result
    return result


def require_level(level: str) -> str:
    allowed = ("ltla", "utla", "combined_authority", "region", "country", "itl1", "itl2", "itl3", "police_force_area")
    if level not in allowed:
        raise IndicatorError(f"unknown level '{level}'; use one of {', '.join(allowed)}")
    return level
