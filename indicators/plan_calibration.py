"""How often the plan statuses are right, measured on the snapshot itself, and the calibration that makes them so.

Why: a status a council quotes ("on track", "about 30% likely") is a forecast, and a forecast
needs a measured error rate (DESIGN §4). Two jobs, kept apart in time so the check is out of sample:

* ``estimate`` learns the projection's calibration (``plans.ProjectionCalibration``) from
  **earlier** data only: every sampled series has its latest ``HOLDOUT_YEARS`` cut off first, and
  then every non-overlapping value with enough history before it is projected, in turn, from the
  values at least three years older (a rolling-origin evaluation, Tashman 2000). The *damping*
  is the share of the projected trend increment that was in fact realised (the regression through
  the origin of the realised change on the projected one, weighted by the inverse predictive
  variance: a Mincer–Zarnowitz efficiency check); the *scale* is the factor on the predictive
  standard error that makes the damped 95% prediction interval cover 95% of those values. The
  result is written to ``plan_calibration.yaml`` by ``write`` (``python -m indicators.plan_calibration``).
* ``holdout`` is the check: hide the latest three years of every sampled series, project the
  latest value from what came before exactly as the plan evaluation does (calibrated), and count
  how often the 95% prediction interval covers the value that was in fact published and, among
  targets set one forecast standard deviation either side of it, how often those called
  "on track" (or "at risk", "off track") were in fact reached.

Used by the integration test (which holds the figures to their bounds and recomputes the stored
calibration) and by ``bench/plans.py`` (which prints them).
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import optimize

from . import query, trends
from .plans import CALIBRATION_FILE, MIN_PROJECTION_POINTS, ProjectionCalibration, judge, projection

HOLDOUT_YEARS = 3.0
MIN_USABLE_POINTS = 8
NOMINAL_COVERAGE = 0.95
# The estimate samples other districts than the check (seed 0), and never its held-out years.
ESTIMATE_SEED = 1
ESTIMATE_AREAS = 25
IDENTITY = ProjectionCalibration(1.0, 1.0)


Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


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

    def claimed(self, status: str) -> float:
        part = self.targets.loc[self.targets["status"] == status, "probability"]
        return float(part.mean()) if len(part) else float("nan")


def _sample(ctx: query.Context, level: str, areas_per_indicator: int, seed: int
            ) -> Iterator[tuple[str, str, Arrays, str, int]]:
    """(indicator, area, series arrays in time order, unit, sign) for up to ``areas_per_indicator`` random areas.

    The dates are read once per indicator and the rows split by area with numpy (per-series pandas
    work would cost more than the projections themselves).
    """
    rng = np.random.default_rng(seed)
    for ind in ctx.cat["id"]:
        rows = ctx.slice(ind, level)
        rows = rows.loc[rows["value"].notna()]
        if rows.empty:
            continue
        unit, sign = ctx.catalogue.get(ind).unit, ctx.catalogue.get(ind).sign
        areas = rows["areacd"].astype(str).unique()
        if len(areas) > areas_per_indicator:
            areas = rng.choice(areas, areas_per_indicator, replace=False)
        part = rows.loc[rows["areacd"].astype(str).isin(set(areas))].copy()
        part["areacd"] = part["areacd"].astype(str)
        part = part.drop_duplicates(["areacd", "period_code"]).sort_values(["areacd", "period_start"], kind="stable")
        code = part["areacd"].to_numpy()
        arrays = _arrays(part)
        starts = {a: (i, j) for a, i, j in zip(*_runs(code))}
        for area in areas:
            if area in starts:
                i, j = starts[area]
                yield ind, str(area), tuple(a[i:j] for a in arrays), unit, sign


def _runs(code: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(value, first index, end index) of each run of equal values in a sorted array."""
    if code.size == 0:
        return code, np.array([], int), np.array([], int)
    first = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    return code[first], first, np.r_[first[1:], code.size]


def holdout(ctx: query.Context, level: str = "ltla", areas_per_indicator: int = 25, seed: int = 0,
            holdout_years: float = HOLDOUT_YEARS, min_points: int = MIN_USABLE_POINTS,
            every_origin: bool = False, calibrated: ProjectionCalibration | None = None) -> Calibration:
    """Hold out the last ``holdout_years`` of every sampled series with at least ``min_points``
    non-overlapping values, project the latest value from the rest, and score the forecasts.

    With ``every_origin`` every non-overlapping value that has ``min_points`` usable values up to it
    is held out in turn (a rolling-origin evaluation, Tashman 2000), so one unusual stretch of years
    (the pandemic, for the latest three) does not decide the figures alone; ``forecasts`` then has a
    ``year`` column to split them by. ``calibrated`` overrides the stored calibration (``IDENTITY``
    gives the straight line as fitted).
    """
    c = calibrated or None
    forecasts, targets = [], []
    for ind, area, arrays, unit, sign in _sample(ctx, level, areas_per_indicator, seed):
        ends = _origins(arrays, min_points) if every_origin else [arrays[0].size]
        for end in ends:
            row = _one(ind, area, tuple(a[:end] for a in arrays), unit, sign, holdout_years, min_points, c)
            if row is not None:
                forecasts.append(row[0])
                targets.extend(row[1])
    return Calibration(pd.DataFrame(forecasts), pd.DataFrame(targets))


def _arrays(s: pd.DataFrame) -> Arrays:
    """(years, values, lci, uci, period lengths) of a series in time order, read once and then sliced."""
    years = trends.period_to_year(s["period_start"])
    length = trends.period_length_years(codes=s["period_code"].astype(str).to_numpy())
    return (years, s["value"].to_numpy(dtype=float), s["lci"].to_numpy(dtype=float), s["uci"].to_numpy(dtype=float),
            length)


def _origins(arrays: Arrays, min_points: int) -> list[int]:
    """Row counts ending at each non-overlapping value preceded by at least ``min_points - 1`` others."""
    years, length = arrays[0], arrays[4]
    kept = np.flatnonzero(trends.non_overlapping(years, length))
    return [int(i) + 1 for i in kept[min_points - 1:]]


def _project_held(arrays: Arrays, holdout_years: float, min_points: int, calibrated: ProjectionCalibration | None
                  ) -> tuple[trends.Projection, float, float, np.ndarray] | None:
    """The projection of the series' last value from the values ``holdout_years`` or more before it:
    (projection, held-out year, held-out value, training values), or None if too little to project."""
    years, values, lci, uci, length = arrays
    if trends.non_overlapping(years, length).sum() < min_points:
        return None
    held_year, held = years[-1], values[-1]
    train = years <= held_year - holdout_years + trends.OVERLAP_SLACK_YEARS
    proj = projection(years[train], values[train], held_year, lci=lci[train], uci=uci[train], length=length[train],
                      calibrated=calibrated)
    if proj.n_points < MIN_PROJECTION_POINTS or proj.se is None:
        return None
    return proj, float(held_year), float(held), values[train]


def _one(ind: str, area: str, arrays: Arrays, unit: str, sign: int, holdout_years: float, min_points: int,
         calibrated: ProjectionCalibration | None):
    got = _project_held(arrays, holdout_years, min_points, calibrated)
    if got is None:
        return None
    proj, held_year, held, train_values = got
    bounds = trends.feasible_bounds(unit, train_values)
    lo, hi = (float(v) for v in trends.truncated_interval(proj.value, proj.se, proj.df, bounds))
    forecast = {"indicator_id": ind, "areacd": area, "year": held_year, "value": held,
                "projected": proj.value, "low": lo, "high": hi, "covered": lo <= held <= hi}
    last = train_values[-1]
    sd = float(proj.se)  # one standard deviation of the forecast
    out = []
    if sd > 0:
        for goal in (held - sd, held + sd):
            direction = sign or (1 if goal > last else -1)
            if direction * (last - goal) >= 0:  # met before the plan: such a target is refused
                continue
            j = judge(proj, goal, direction, bounds)
            out.append({"indicator_id": ind, "areacd": area, "year": held_year, "status": j.status,
                        "probability": j.probability,
                        "reached": bool(direction * (held - goal) >= 0)})
    return forecast, out


# ---------------------------------------------------------------- estimating the calibration

def rolling_forecasts(ctx: query.Context, level: str = "ltla", areas_per_indicator: int = ESTIMATE_AREAS,
                      seed: int = ESTIMATE_SEED, holdout_years: float = HOLDOUT_YEARS,
                      min_points: int = MIN_USABLE_POINTS) -> pd.DataFrame:
    """Uncalibrated three-year-ahead forecasts from every origin *before* each series' last ``holdout_years``.

    One row per forecast: the held-out value, the fitted level at the last fitted point (``anchor``),
    the projected trend increment beyond it (``increment``), the predictive SE and degrees of
    freedom, and the feasible bounds. Cutting each series' latest years first keeps the check in
    ``holdout`` out of sample: nothing it scores is used here.
    """
    rows = []
    for ind, area, arrays, unit, _sign in _sample(ctx, level, areas_per_indicator, seed):
        years = arrays[0]
        earlier = tuple(a[years <= years[-1] - holdout_years + trends.OVERLAP_SLACK_YEARS] for a in arrays)
        for end in _origins(earlier, min_points):
            got = _project_held(tuple(a[:end] for a in earlier), holdout_years, min_points, IDENTITY)
            if got is None:
                continue
            proj, held_year, held, train_values = got
            increment = float(proj.slope) * max(held_year - float(proj.last_year), 0.0)
            lo, hi = trends.feasible_bounds(unit, train_values)
            rows.append({"indicator_id": ind, "areacd": area, "year": held_year, "value": held,
                         "anchor": float(proj.value) - increment, "increment": increment, "se": float(proj.se),
                         "df": int(proj.df), "lower_bound": lo, "upper_bound": hi})
    return pd.DataFrame(rows)


def _coverage(f: pd.DataFrame, damping: float, scale: float) -> float:
    centre = f["anchor"].to_numpy() + damping * f["increment"].to_numpy()
    lo, hi = trends.truncated_interval(centre, scale * f["se"].to_numpy(), f["df"].to_numpy(),
                                       (f["lower_bound"].to_numpy(), f["upper_bound"].to_numpy()))
    v = f["value"].to_numpy()
    return float(np.mean((lo <= v) & (v <= hi)))


def fit(forecasts: pd.DataFrame) -> ProjectionCalibration:
    """Damping and scale from uncalibrated forecasts (see the module docstring).

    damping = Σ w·inc·real / Σ w·inc² with real = value − anchor, inc the projected increment and
    w = 1/se² (so series in different units count alike); clipped to [0, 1], since a trend is never
    carried on more than in full. scale: the root of coverage(scale) = 95% on [0.5, 5].
    """
    f = forecasts.loc[forecasts["se"] > 0]
    w = 1.0 / f["se"].to_numpy() ** 2
    inc, real = f["increment"].to_numpy(), f["value"].to_numpy() - f["anchor"].to_numpy()
    damping = float(np.clip(np.sum(w * inc * real) / np.sum(w * inc * inc), 0.0, 1.0))
    scale = float(optimize.brentq(lambda k: _coverage(f, damping, k) - NOMINAL_COVERAGE, 0.5, 5.0, xtol=1e-4))
    return ProjectionCalibration(damping, scale)


def estimate(ctx: query.Context) -> dict[str, Any]:
    """The calibration and how it was computed, as stored in ``plan_calibration.yaml``."""
    f = rolling_forecasts(ctx)
    c = fit(f)
    return {
        "damping": round(c.damping, 4),
        "scale": round(c.scale, 4),
        "computed_by": "indicators.plan_calibration.estimate (python -m indicators.plan_calibration)",
        "method": ("rolling-origin forecasts three years ahead from every non-overlapping value with at least "
                   f"{MIN_USABLE_POINTS} before it, on district series with their latest {HOLDOUT_YEARS:g} years "
                   f"removed; {ESTIMATE_AREAS} random districts per indicator (seed {ESTIMATE_SEED}). damping: "
                   "weighted regression through the origin of the realised on the projected trend increment; "
                   f"scale: makes the damped 95% prediction interval cover {NOMINAL_COVERAGE:.0%} of them"),
        "forecasts": int(len(f)),
        "indicators": int(f["indicator_id"].nunique()) if len(f) else 0,
        "snapshot_created_at": str(ctx.snapshot.manifest.get("created_at")),
    }


def write(ctx: query.Context, path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    """Recompute the calibration and store it (small YAML, checked in beside the code that reads it)."""
    data = estimate(ctx)
    header = ("# Projection calibration for plan statuses, computed from the committed snapshot by\n"
              "# indicators.plan_calibration.estimate; regenerate with `python -m indicators.plan_calibration`\n"
              "# after a snapshot refresh (tests/integration/test_plan_calibration.py checks it is current).\n")
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    return data


if __name__ == "__main__":
    print(yaml.safe_dump(write(query.context()), sort_keys=False, allow_unicode=True), file=sys.stdout)
