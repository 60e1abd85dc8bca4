"""Indicators the catalogue derives from two in the snapshot: a total per head (or per job...).

Why: a total such as £ million of inward investment grows with the size of the place, so
comparing it across places of different size mostly compares their populations (DESIGN §4:
totals are never compared across areas of different size). The catalogue declares the
derivation as data (`derived: {numerator, denominator, scale}`); this module computes it
once, when the query context is built, matching numerator and denominator by area, level
and the calendar year the numerator's period starts in (the mid-year population of that
year). Derived values carry no confidence interval: none is published for either part.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .catalogue import Catalogue

COLUMNS = ["indicator_id", "areacd", "areanm", "level", "period_code", "period_label", "period_start",
           "period_end", "value", "lci", "uci", "status", "unit", "measure", "dataset", "notes", "source_line"]
_STR = ["indicator_id", "areacd", "areanm", "level", "period_code", "period_label", "status", "unit", "measure",
        "dataset", "notes"]


def _year(starts: pd.Series) -> np.ndarray:
    return pd.to_datetime(starts.astype(str)).dt.year.to_numpy()


def rows(cat: Catalogue, slices: dict[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    """Observations of every derived indicator, at every level where both parts are published,
    sorted like the snapshot (indicator, level, area, period)."""
    parts = []
    for ind in (i for i in cat.indicators if i.derived):
        d = ind.derived
        for (num_id, level), num in slices.items():
            den = slices.get((d.denominator, level))
            if num_id != d.numerator or den is None:
                continue
            num = num.loc[num["value"].notna()]
            den = den.loc[den["value"].to_numpy(dtype=float) > 0]
            if num.empty or den.empty:
                continue
            left = num.assign(areacd=num["areacd"].astype(str), year=_year(num["period_start"]))
            right = pd.DataFrame({"areacd": den["areacd"].astype(str).to_numpy(), "year": _year(den["period_start"]),
                                  "denominator": den["value"].to_numpy(dtype=float)}).drop_duplicates(["areacd", "year"])
            both = left.merge(right, on=["areacd", "year"], how="inner")
            if both.empty:
                continue
            both["value"] = both["value"].to_numpy(dtype=float) * d.scale / both["denominator"].to_numpy()
            both["lci"] = np.nan
            both["uci"] = np.nan
            both["indicator_id"] = ind.id
            both["unit"] = ind.unit
            both["notes"] = f"{d.numerator} × {d.scale:g} / {d.denominator} (mid-year of the period's first year)"
            parts.append(both[COLUMNS])
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out = out.astype({c: str for c in _STR})
    return out.sort_values(["indicator_id", "level", "areacd", "period_start"], kind="stable", ignore_index=True)


def metadata(cat: Catalogue, snapshot_catalogue: pd.DataFrame, derived_rows: pd.DataFrame) -> pd.DataFrame:
    """The snapshot's catalogue with a row per derived indicator: the numerator's source and dates,
    our label and unit, no CI."""
    ids = snapshot_catalogue["indicator_id"].astype(str)
    extra = []
    for ind in (i for i in cat.indicators if i.derived):
        hit = snapshot_catalogue.loc[ids == ind.derived.numerator]
        if hit.empty:
            continue
        row = hit.iloc[0].copy()
        mine = derived_rows.loc[derived_rows["indicator_id"] == ind.id]
        row["indicator_id"] = ind.id
        for col in ("label", "indicator"):
            if col in row.index:
                row[col] = ind.label
        for col, value in {"unit": ind.unit, "has_ci": False, "decimal_places": 0, "rows": len(mine),
                           "subtitle": f"{ind.label}: {ind.derived.numerator} divided by {ind.derived.denominator}",
                           "levels": ",".join(sorted(mine["level"].unique())) if len(mine) else ""}.items():
            if col in row.index:
                row[col] = value
        extra.append(row)
    if not extra:
        return snapshot_catalogue
    return pd.concat([snapshot_catalogue, pd.DataFrame(extra)], ignore_index=True)
