"""Inequality inside a place: how its neighbourhoods (LSOAs) spread across England's deprivation deciles.

Why shares of national deciles: the English Indices of Deprivation rank every LSOA in England and
cut the ranking into tenths (MHCLG, *English Indices of Deprivation 2025: technical report*); the
share of a place's LSOAs in each tenth is the official way to describe a place's mix of
neighbourhoods, and the district summaries (average score, extent, local concentration) are
MHCLG's own measures of how much and how concentrated deprivation is. Every share here is a share
of LSOAs, not of people (LSOA populations are not in the snapshot; LSOAs hold roughly 1,000–3,000
residents each).

Deprivation is **context**: it describes the conditions growth has to reach, it is not scored as
an outcome of growth. The index is a relative ranking built largely from benefit, employment,
health and education data a few years old, so a place cannot "improve" its decile share without
other places worsening, and the 2019 and 2025 English indices (different LSOA vintages, different
indicators) are not a time series. Indices of different nations (WIMD, SIMD, NIMDM) are built
differently and are never compared with England's or with each other.

Pure functions over DataFrames; `tables()` reads the snapshot once per snapshot identity.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from data_sources.integrity import OPTIONAL_TABLES
from data_sources.store import read_manifest, read_table

from . import snapshot as snapshot_mod

DOMAINS = {
    "imd": "Index of Multiple Deprivation", "income": "Income", "employment": "Employment",
    "education": "Education, skills and training", "health": "Health and disability", "crime": "Crime",
    "housing_and_services": "Barriers to housing and services", "environment": "Living environment",
}
EDITION = "IoD 2025"
NOT_A_TIME_SERIES = ("The 2019 and 2025 English indices use different neighbourhood (LSOA) boundaries and "
                     "indicators: compare ranks with care and never read the difference as change over time.")
WHY_CONTEXT = ("Deprivation is shown as context, not scored as an outcome of growth: the index ranks every "
               "neighbourhood in England against the others, so one place's share of the most deprived tenth can "
               "only fall if another's rises, and it is built from data a few years older than the index. It says "
               "where growth needs to reach; whether it does shows in the outcome indicators.")
# The summary measures compared with neighbours: (domain, measure) → label. In every one of them a higher
# value means more deprived (MHCLG reverses LSOA ranks before averaging them, so rank 1 = most deprived).
SUMMARY_MEASURES = {
    ("imd", "average_score"): "Average IMD score",
    ("imd", "extent"): "Extent (share of residents in the most deprived 30% of LSOAs, sliding weights)",
    ("imd", "local_concentration"): "Local concentration (population-weighted average rank of the place's most "
                                    "deprived LSOAs holding 10% of its residents)",
}


@dataclass(frozen=True)
class Tables:
    """The snapshot's deprivation tables (absent from a snapshot built without their sources)."""

    lsoa: pd.DataFrame
    summaries: pd.DataFrame
    rural_urban: pd.DataFrame


def tables(path: Path | None = None) -> Tables | None:
    """The deprivation tables of the configured snapshot, or None when it was built without them."""
    snap = snapshot_mod.load(path)
    return _tables(snap.path, snap.manifest["created_at"])


@lru_cache(maxsize=2)
def _tables(path: Path, created_at: str) -> Tables | None:
    files = read_manifest(path).get("files") or {}
    if not all(f"{name}.parquet" in files for name in OPTIONAL_TABLES):
        return None
    lsoa, summaries, ruc = (read_table(path, name) for name in OPTIONAL_TABLES)
    for frame, cols in ((lsoa, ["lsoacd", "ltlacd"]), (summaries, ["areacd", "nation", "edition", "domain", "measure"]),
                        (ruc, ["areacd", "ruc21_code", "ruc21_class", "ruc21_broad"])):
        for col in cols:
            frame[col] = frame[col].astype(str)
    return Tables(lsoa=lsoa, summaries=summaries, rural_urban=ruc)


# ------------------------------------------------------------------ shares of national deciles

def place_lsoas(lsoa: pd.DataFrame, districts: Iterable[str]) -> pd.DataFrame:
    """The LSOAs of a place given as its districts (2024 codes)."""
    return lsoa.loc[lsoa["ltlacd"].isin(list(districts))]


def decile_shares(lsoa: pd.DataFrame, districts: Iterable[str]) -> pd.DataFrame:
    """Share of the place's LSOAs in each national decile (1 = most deprived tenth), for the index
    and each domain: columns domain, label, decile, lsoas, share. Every decile 1–10 appears (0 where
    none), so the shares of one domain add up to 1."""
    mine = place_lsoas(lsoa, districts)
    n = len(mine)
    cols = [f"{d}_decile" for d in DOMAINS]
    counts = (mine[cols].apply(lambda s: s.value_counts()).reindex(range(1, 11)).fillna(0).astype(int))
    counts.columns = list(DOMAINS)
    out = counts.rename_axis("decile").reset_index().melt(id_vars="decile", var_name="domain", value_name="lsoas")
    out["share"] = out["lsoas"] / n if n else np.nan
    out["label"] = out["domain"].map(DOMAINS)
    return out[["domain", "label", "decile", "lsoas", "share"]]


def most_deprived_shares(lsoa: pd.DataFrame, districts: Iterable[str]) -> pd.DataFrame:
    """For the index and each domain: the place's LSOAs, and the shares in the most deprived 10% and
    20% nationally (deciles 1 and 1–2)."""
    shares = decile_shares(lsoa, districts)
    g = shares.assign(top10=shares["lsoas"].where(shares["decile"] == 1, 0),
                      top20=shares["lsoas"].where(shares["decile"] <= 2, 0)).groupby("domain", sort=False)
    out = g.agg(label=("label", "first"), lsoas=("lsoas", "sum"), top10=("top10", "sum"), top20=("top20", "sum"))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_most_deprived_10"] = out["top10"] / out["lsoas"].replace(0, np.nan)
        out["share_most_deprived_20"] = out["top20"] / out["lsoas"].replace(0, np.nan)
    return out.drop(columns=["top10", "top20"]).reset_index()


def spread(lsoa: pd.DataFrame, districts: Iterable[str]) -> pd.DataFrame:
    """Every LSOA of the place with its IMD 2025 score, national rank and decile, most deprived first:
    the data for a chart of the spread (no boundaries needed)."""
    mine = place_lsoas(lsoa, districts)[["lsoacd", "ltlacd", "imd_score", "imd_rank", "imd_decile"]]
    return mine.sort_values("imd_rank", kind="stable").reset_index(drop=True).astype(
        {"imd_score": float, "imd_rank": "Int64", "imd_decile": "Int64"})


# ------------------------------------------------------------------ official summaries and neighbours

def summary(summaries: pd.DataFrame, areacd: str, edition: str = EDITION) -> pd.DataFrame:
    """The official district summaries of one edition for one district: domain, measure, value, rank
    (rank 1 = most deprived district of its nation in that edition)."""
    rows = summaries.loc[(summaries["areacd"] == areacd) & (summaries["edition"] == edition)]
    return rows[["domain", "measure", "value", "rank"]].reset_index(drop=True)


def editions_of(summaries: pd.DataFrame, areacd: str) -> list[str]:
    """Every edition with a summary for the district (one nation's only: codes belong to one nation)."""
    return sorted(summaries.loc[summaries["areacd"] == areacd, "edition"].unique().tolist())


def neighbour_position(lsoa: pd.DataFrame, summaries: pd.DataFrame, areacd: str, peers: Iterable[str],
                       edition: str = EDITION) -> pd.DataFrame:
    """The place beside its peers on the headline measures: for each measure the place's value, the
    peers' median, minimum and maximum, and the place's position (1 = most deprived of the place and
    its peers; n counts those with a value). Only districts of the place's own nation and edition take
    part, so indices of different nations are never compared."""
    peers = [p for p in peers if p != areacd]
    group = [areacd, *peers]
    table = _measure_table(lsoa, summaries, group, edition)
    rows = []
    for measure, label in table.attrs["labels"].items():
        col = table[measure]
        mine = col.get(areacd, np.nan)
        others = col.reindex(peers).dropna()
        valued = col.reindex(group).dropna()
        position = int((valued > mine).sum() + 1) if pd.notna(mine) else None
        rows.append({"measure": measure, "label": label, "value": mine,
                     "peer_median": others.median() if len(others) else np.nan,
                     "peer_min": others.min() if len(others) else np.nan,
                     "peer_max": others.max() if len(others) else np.nan,
                     "position": position, "of": int(len(valued))})
    return pd.DataFrame(rows)


def _measure_table(lsoa: pd.DataFrame, summaries: pd.DataFrame, codes: list[str], edition: str) -> pd.DataFrame:
    """One row per district in `codes`: the LSOA shares in the most deprived 10% and 20% and the official
    summary measures of `edition`."""
    sub = lsoa.loc[lsoa["ltlacd"].isin(codes), ["ltlacd", "imd_decile"]]
    n = sub.groupby("ltlacd")["imd_decile"].size()
    d = sub["imd_decile"].astype(float)
    table = pd.DataFrame({
        "share_most_deprived_10": (d == 1).groupby(sub["ltlacd"]).sum() / n,
        "share_most_deprived_20": (d <= 2).groupby(sub["ltlacd"]).sum() / n,
    }).reindex(codes)
    official = summaries.loc[(summaries["edition"] == edition) & summaries["areacd"].isin(codes)]
    for (domain, measure), label in SUMMARY_MEASURES.items():
        these = official.loc[(official["domain"] == domain) & (official["measure"] == measure)]
        table[f"{domain}_{measure}"] = these.set_index("areacd")["value"].reindex(codes)
    labels = {"share_most_deprived_10": "Share of LSOAs in the most deprived 10%",
              "share_most_deprived_20": "Share of LSOAs in the most deprived 20%",
              **{f"{d}_{m}": lab for (d, m), lab in SUMMARY_MEASURES.items()}}
    table.attrs["labels"] = labels
    return table


# ------------------------------------------------------------------ rural–urban

RUC_BROAD_ORDER = ("Urban", "Rural")


def rural_urban_class(rural_urban: pd.DataFrame, areacd: str) -> dict[str, str] | None:
    """The 2021 rural–urban class of a district (England and Wales), or None where it has none."""
    row = rural_urban.loc[rural_urban["areacd"] == areacd]
    if row.empty:
        return None
    r = row.iloc[0]
    return {"code": str(r["ruc21_code"]), "label": str(r["ruc21_class"]), "broad": str(r["ruc21_broad"])}


# ------------------------------------------------------------------ one place, everything the page shows

@dataclass(frozen=True)
class PlaceDeprivation:
    """What the profile shows about deprivation inside one place."""

    areacd: str
    districts: list[str]
    lsoas: int
    deciles: pd.DataFrame            # decile_shares
    most_deprived: pd.DataFrame      # most_deprived_shares
    spread: pd.DataFrame             # spread (LSOA scores for a chart)
    official: pd.DataFrame           # summary() of IoD 2025, when the place is one district
    other_editions: dict[str, pd.DataFrame] = field(default_factory=dict)  # e.g. IoD 2019, never a trend
    neighbours: dict[str, pd.DataFrame] = field(default_factory=dict)      # peer kind → neighbour_position
    rural_urban: dict[str, str] | None = None
    nation_note: str | None = None   # set when the place is outside England: its own index only


def districts_of(areas: pd.DataFrame, areacd: str) -> list[str]:
    """The districts a place is made of: itself if it is a district, else the current districts whose
    upper tier, combined authority, region or country it is."""
    ltla = areas.loc[areas["level"].astype(str) == "ltla"]
    if (ltla["areacd"].astype(str) == areacd).any():
        return [areacd]
    current = ltla.loc[ltla["valid_to"].isna()] if "valid_to" in ltla else ltla
    parents = [c for c in ("parent_utla", "parent_combined_authority", "parent_region", "parent_country")
               if c in current]
    inside = np.zeros(len(current), bool)
    for col in parents:
        inside |= current[col].astype(str).to_numpy() == areacd
    return sorted(current.loc[inside, "areacd"].astype(str).unique().tolist())


def for_place(t: Tables, areas: pd.DataFrame, neighbours: pd.DataFrame, areacd: str,
              peer_kinds: tuple[str, ...] = ("global", "rural_urban"), n_peers: int = 20) -> PlaceDeprivation | None:
    """Everything about deprivation inside `areacd`, or None when the snapshot has nothing for it."""
    from . import neighbours as nb  # here: neighbours imports the modelling stack, not needed for tables

    districts = districts_of(areas, areacd)
    mine = place_lsoas(t.lsoa, districts)
    ruc = rural_urban_class(t.rural_urban, areacd)
    own_editions = editions_of(t.summaries, areacd)
    if mine.empty:
        if not own_editions:
            return None
        note = (f"{NATIONS.get(areacd[:1], 'This nation')} measures deprivation with its own index "
                "(" + ", ".join(own_editions) + "), built differently from England's: it is shown on its own and "
                "never compared with English places or other nations.")
        return PlaceDeprivation(areacd, districts, 0, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                                pd.DataFrame(), {e: summary(t.summaries, areacd, e) for e in own_editions},
                                {}, ruc, note)
    peers: dict[str, pd.DataFrame] = {}
    if districts == [areacd]:
        for kind in peer_kinds:
            try:
                group = nb.neighbour_set(neighbours, areacd, kind, n_peers)
            except (nb.UnknownAreaError, ValueError):
                continue
            peers[kind] = neighbour_position(t.lsoa, t.summaries, areacd, group)
    return PlaceDeprivation(
        areacd=areacd, districts=districts, lsoas=len(mine),
        deciles=decile_shares(t.lsoa, districts), most_deprived=most_deprived_shares(t.lsoa, districts),
        spread=spread(t.lsoa, districts), official=summary(t.summaries, areacd, EDITION),
        other_editions={e: summary(t.summaries, areacd, e) for e in own_editions if e != EDITION},
        neighbours=peers, rural_urban=ruc)


NATIONS = {"E": "England", "W": "Wales", "S": "Scotland", "N": "Northern Ireland"}
