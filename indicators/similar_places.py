"""The counterfactual asked of the snapshot: one place against its comparison pool, and a placebo study of it.

Why a module apart from `counterfactual`: that one is pure arithmetic on a panel; this one
knows the query context (slices, recoded areas) and runs the check the Methods page quotes —
how often the verdict "better / worse than similar places" appears when nothing happened.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import counterfactual as cf
from . import neighbours as nb
from . import query

# The indicators of the placebo study: annual survey estimates (noisy), earnings, a house-price
# ratio, wellbeing, and a 3-year pooled health measure (periods that straddle a start date).
STUDY_INDICATORS = ("employment-rate", "gross-median-weekly-pay", "housing-affordability-ratio-residence-based",
                    "happiness", "male-healthy-life-expectancy")
STUDY_START = "2019-01-01"


def comparison_panel(ctx: query.Context, codes: list[str], indicator: str, level: str) -> pd.DataFrame:
    """Rows [areacd, period_start, period_end, value] of `codes` for one indicator at one level.

    Back-years published under a predecessor code join the successor's series, as the place
    profile does, so a recoded district keeps its pre-period.
    """
    wanted = set(codes)
    rows = ctx.slice(indicator, level)
    if rows.empty:
        return pd.DataFrame(columns=["areacd", "period_start", "period_end", "value"])
    successor_of = {old: new for new, old in ctx.predecessor.items() if new in wanted}
    # Work on the category table (a few hundred codes), not on every row: this runs once per objective.
    cats = pd.Index(rows["areacd"].cat.categories.astype(str)) if hasattr(rows["areacd"], "cat") else None
    if cats is not None:
        mapped = np.array([successor_of.get(c, c) for c in cats], dtype=object)
        pos = rows["areacd"].cat.codes.to_numpy()
        area = np.where(pos >= 0, mapped[pos], None)
        keep = np.isin(pos, np.flatnonzero(pd.Index(mapped).isin(wanted)))
    else:
        area = rows["areacd"].astype(str).map(lambda c: successor_of.get(c, c)).to_numpy()
        keep = pd.Index(area).isin(wanted)
    keep &= rows["value"].notna().to_numpy()
    idx = np.flatnonzero(keep)
    sub = rows.iloc[idx]  # convert dates only for the rows kept: Arrow dates to datetime64 are the slow part
    out = pd.DataFrame({"areacd": area[idx].astype(str),
                        "period_start": sub["period_start"].astype("datetime64[ns]").to_numpy(),
                        "period_end": sub["period_end"].astype("datetime64[ns]").to_numpy(),
                        "value": sub["value"].to_numpy(dtype=float)})
    return out.drop_duplicates(["areacd", "period_start"]).reset_index(drop=True)


def synthetic_for(ctx: query.Context, areacd: str, donors: list[str], indicator: str, start: Any,
                  level: str = "ltla") -> cf.SyntheticControl:
    """The place against a synthetic twin from `donors` on one indicator since `start`."""
    panel = comparison_panel(ctx, [areacd, *donors], indicator, level)
    return cf.synthetic_control(panel, areacd, donors, start, ctx.catalogue.get(indicator).polarity)


@dataclass
class Study:
    """How often "better / worse than similar places" is said of places where nothing happened."""

    places: int
    indicators: list[str]
    start: str
    fits: int = 0
    too_little: int = 0
    synthetic_claims: int = 0
    did_claims: int = 0
    range_misses: int = 0
    seconds: float = 0.0
    by_indicator: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def synthetic_rate(self) -> float:
        return self.synthetic_claims / self.fits if self.fits else float("nan")

    @property
    def range_miss_rate(self) -> float:
        """Share of fits whose 90% placebo range leaves out zero (the truth here): at most 10% if honest."""
        return self.range_misses / self.fits if self.fits else float("nan")

    @property
    def did_rate(self) -> float:
        """How often the DiD line's placebo p-value is at most 0.10 (its "better / worse than peers")."""
        return self.did_claims / self.fits if self.fits else float("nan")


def english_districts_with_neighbours(ctx: query.Context) -> list[str]:
    codes = query.current_areas(ctx, "ltla")["areacd"].astype(str)
    have = set(ctx.neighbours["areacd"].astype(str))
    return sorted(c for c in codes if c.startswith("E0") and c in have)


def placebo_study(ctx: query.Context, n_places: int = 40, indicators: tuple[str, ...] = STUDY_INDICATORS,
                  start: str = STUDY_START, seed: int = 20240601) -> Study:
    """A fake start date for `n_places` random English districts, nothing treated: count the claims.

    Every claim is a false positive, so the share of fits (too-little-data ones left out)
    that say "better / worse than similar places" is the verdict's error rate; it should be at
    most the 10% the p-value threshold promises (less, since the pre-fit rule also has to pass).
    """
    rng = np.random.default_rng(seed)
    pool = english_districts_with_neighbours(ctx)
    places = [str(c) for c in rng.choice(pool, size=min(n_places, len(pool)), replace=False)]
    study = Study(len(places), list(indicators), start)
    t = time.perf_counter()
    counts: dict[str, Counter[str]] = {i: Counter() for i in indicators}
    for areacd in places:
        donors = nb.neighbour_set(ctx.neighbours, areacd, "global")
        for ind in indicators:
            res = synthetic_for(ctx, areacd, donors, ind, start)
            if res.estimate is None:
                study.too_little += 1
                counts[ind]["too little data"] += 1
                continue
            study.fits += 1
            counts[ind]["fits"] += 1
            if res.claims_difference:
                study.synthetic_claims += 1
                counts[ind]["claims"] += 1
            if res.lci is not None and res.uci is not None and not res.lci <= 0 <= res.uci:
                study.range_misses += 1
            if res.did_p_value is not None and res.did_p_value <= cf.P_THRESHOLD:
                study.did_claims += 1
    study.seconds = time.perf_counter() - t
    study.by_indicator = {i: dict(c) for i, c in counts.items()}
    return study
