"""How often the plan statuses are right, measured on the snapshot itself.

Why: a status a council quotes ("on track", "about 30% likely") is a forecast, and a forecast
needs a measured error rate (DESIGN §4). The test here is a hold-out, the calibration check of
forecasting practice: for a sample of districts and every indicator with enough history, hide
the latest three years, project the latest value from what came before exactly as the plan
evaluation does, and count

* how often the 95% prediction interval covers the value that was in fact published, and
* among targets set one standard deviation either side of that value, how often those called
  "on track" (or "at risk", "off track") were in fact reached.

Used by the integration test (which holds the figures to their bounds) and by ``bench/plans.py``
(which prints them).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import query, trends
from .plans import MIN_PROJECTION_POINTS, PROJECTION_POINTS, judge

HOLDOUT_YEARS = 3.0
MIN_USABLE_POINTS = 8


@dataclass(frozen=True)
class Calibration:
    """``forecasts``: one row per held-out value (indicator, area, value, interval, covered);
    ``targets``: one row per synthetic target (status, probability, reached)."""

    forecasts: pd.DataFrame
    targets: pd.DataFrame

    @property
    def coverage(self) -> float:
        return float(self.forecasts["covered"].mean())

    def reached(self, status: str) -> float:
        part = self.targets.loc[self.targets["status"] == status, "reached"]
        return float(part.mean()) if len(part) else float("nan")


def holdout(ctx: query.Context, level: str = "ltla", areas_per_indicator: int = 25, seed: int = 0,
            holdout_years: float = HOLDOUT_YEARS, min_points: int = MIN_USABLE_POINTS,
            every_origin: bool = False) -> Calibration:
    """Hold out the last ``holdout_years`` of every sampled series with at least ``min_points``
    non-overlapping values, project the latest value from the rest, and score the forecasts.

    With ``every_origin`` every non-overlapping value that has ``min_points`` usable values up to it
    is held out in turn (a rolling-origin evaluation, Tashman 2000), so one unusual stretch of years
    (the pandemic, for the latest three) does not decide the figures alone; ``forecasts`` then has a
    ``year`` column to split them by.
    """
    rng = np.random.default_rng(seed)
    forecasts, targets = [], []
    for ind in ctx.cat["id"]:
        rows = ctx.slice(ind, level)
        rows = rows.loc[rows["value"].notna()]
        if rows.empty:
            continue
        unit, sign = ctx.catalogue.get(ind).unit, ctx.catalogue.get(ind).sign
        areas = rows["areacd"].astype(str).unique()
        if len(areas) > areas_per_indicator:
            areas = rng.choice(areas, areas_per_indicator, replace=False)
        groups = dict(tuple(rows.loc[rows["areacd"].astype(str).isin(set(areas))].groupby("areacd", observed=True)))
        for area in areas:
            part = groups.get(area)
            if part is None:
                continue
            series = part.drop_duplicates("period_code").sort_values("period_start")
            ends = _origins(series, min_points) if every_origin else [len(series)]
            for end in ends:
                row = _one(ind, str(area), series.iloc[:end], unit, sign, holdout_years, min_points)
                if row is not None:
                    forecasts.append(row[0])
                    targets.extend(row[1])
    return Calibration(pd.DataFrame(forecasts), pd.DataFrame(targets))


def _origins(s: pd.DataFrame, min_points: int) -> list[int]:
    """Row counts ending at each non-overlapping value preceded by at least ``min_points - 1`` others."""
    years = trends.period_to_year(s["period_start"])
    length = trends.period_length_years(codes=s["period_code"].astype(str).to_numpy())
    kept = np.flatnonzero(trends.non_overlapping(years, length))
    return [int(i) + 1 for i in kept[min_points - 1:]]


def _one(ind: str, area: str, s: pd.DataFrame, unit: str, sign: int, holdout_years: float, min_points: int):
    years = trends.period_to_year(s["period_start"])
    values = s["value"].to_numpy(dtype=float)
    lci, uci = s["lci"].to_numpy(dtype=float), s["uci"].to_numpy(dtype=float)
    length = trends.period_length_years(codes=s["period_code"].astype(str).to_numpy())
    usable = trends.non_overlapping(years, length)
    if usable.sum() < min_points:
        return None
    held_year, held = years[-1], values[-1]
    train = years <= held_year - holdout_years + trends.OVERLAP_SLACK_YEARS
    proj = trends.project(years[train], values[train], held_year, PROJECTION_POINTS, lci=lci[train], uci=uci[train],
                          length=length[train], trend_change=True)
    if proj.n_points < MIN_PROJECTION_POINTS or proj.se is None:
        return None
    bounds = trends.feasible_bounds(unit, values[train])
    lo, hi = (float(v) for v in trends.truncated_interval(proj.value, proj.se, proj.df, bounds))
    forecast = {"indicator_id": ind, "areacd": area, "year": float(held_year), "value": held,
                "projected": proj.value, "low": lo, "high": hi, "covered": lo <= held <= hi}
    last = values[train][-1]
    sd = float(proj.se)  # one standard deviation of the forecast
    out = []
    if sd > 0:
        for goal in (held - sd, held + sd):
            direction = sign or (1 if goal > last else -1)
            if direction * (last - goal) >= 0:  # met before the plan: such a target is refused
                continue
            j = judge(proj, goal, direction, bounds)
            out.append({"indicator_id": ind, "areacd": area, "year": float(held_year), "status": j.status,
                        "probability": j.probability,
                        "reached": bool(direction * (held - goal) >= 0)})
    return forecast, out
