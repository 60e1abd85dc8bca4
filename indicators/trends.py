"""Change over time: how far an indicator has moved, whether the move is real, and where it is heading.

Why this module: "is this place getting better?" is the question a reader asks first, and the
honest answer has three parts that must not be blurred together.

* ``change`` — the plain arithmetic between two periods (baseline → latest), with a direction
  that respects polarity. It says nothing about chance.
* ``trend`` / ``trend_many`` — a *recent trend* in the manner of the OHID Fingertips trend
  markers (Public Health Technical Guidance, "Fingertips trend markers"): look only at the most
  recent five data points, and call a trend "improving" or "worsening" only when it is
  statistically significant, otherwise "no significant change". Fingertips uses a chi-squared
  test for trend on numerators/denominators for proportions and an inverse-variance weighted
  regression for other value types; many of our sources (ONS Local Indicators, medians,
  survey scores) publish no numerators and often no confidence intervals, so we fit ordinary
  least squares of value on year to every indicator alike and judge significance by whether
  the 95% confidence interval of the slope excludes zero — the same reading of a confidence
  interval that ONS's guidance on uncertainty and statistical significance recommends.
  Fingertips asks for at least five points; we fit from three (the fewest that leave a
  residual degree of freedom for an interval) and say so via ``n_points``.
* ``project`` — a straight-line extrapolation with a 95% *prediction* interval (where a single
  future observation may plausibly fall), not just the narrower interval for the fitted mean,
  so a projection is never shown with more certainty than the data give it.

Years come from ``period_to_year``: decimal years from the period start date, so financial
years (April), academic years (September) and pooled 3-year periods sit in the right place on
one time axis rather than being treated as equally spaced labels.

Everything here is pure: numbers in, numbers out; no I/O, no streamlit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

__all__ = [
    "POLARITIES",
    "Change",
    "Projection",
    "Trend",
    "change",
    "period_to_year",
    "project",
    "trend",
    "trend_many",
    "worse_and_worsening",
]

POLARITIES: tuple[str, ...] = ("higher_is_better", "lower_is_better", "neutral")
# Fingertips' "recent trend" window: the most recent five data points.
DEFAULT_MAX_POINTS = 5
# Fewest points for a slope with a confidence interval (n - 2 >= 1 residual degree of freedom).
MIN_POINTS_FOR_CI = 3

TOO_FEW = "too few points"
NO_SIGNIFICANT_CHANGE = "no significant change"


# --------------------------------------------------------------------------------------- helpers
def _check_polarity(polarity: str) -> None:
    if polarity not in POLARITIES:
        raise ValueError(f"unknown polarity {polarity!r}; expected one of {', '.join(POLARITIES)}")


def _check_options(max_points: int, alpha: float) -> None:
    if int(max_points) != max_points or max_points < 2:
        raise ValueError(f"max_points must be an integer >= 2, got {max_points!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")


def _recent_points(years, values, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """The last ``max_points`` points with both year and value present, in time order.

    Why drop rather than interpolate: a suppressed value is unknown, not zero or an average;
    the regression simply has fewer points (Fingertips notes the method copes with gaps).
    A stable sort keeps the input order of any duplicated years.
    """
    x = np.asarray(years, dtype=float).ravel()
    y = np.asarray(values, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"years and values differ in length: {x.shape[0]} vs {y.shape[0]}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    order = np.argsort(x, kind="stable")
    return x[order][-max_points:], y[order][-max_points:]


def _verdict(slope: float, lci: float, uci: float, polarity: str) -> str:
    """Direction only when the slope's CI excludes zero; its sign read through polarity."""
    if lci > 0:
        rising = True
    elif uci < 0:
        rising = False
    else:
        return NO_SIGNIFICANT_CHANGE
    if polarity == "neutral":
        return "increasing" if rising else "decreasing"
    return "improving" if rising == (polarity == "higher_is_better") else "worsening"


def _finite_or_none(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _fit(x: np.ndarray, y: np.ndarray):
    """OLS of (y - ȳ) on (x - x̄) with a constant. Returns (result, x_mean, y_mean).

    Why centre: raw years (~2020) make the design matrix ill-conditioned — the constant and
    year columns are almost collinear — and the slope then loses digits; centring x removes
    that, and centring y keeps large-level series (populations, GVA) from losing digits in
    the residuals. Neither changes the slope, its standard error or the intervals; callers
    add ``y_mean`` back to anything on the value scale.
    """
    x_mean, y_mean = float(x.mean()), float(y.mean())
    exog = sm.add_constant(x - x_mean, has_constant="add")
    with np.errstate(divide="ignore", invalid="ignore"):  # exact fits: zero residual variance
        result = sm.OLS(y - y_mean, exog).fit()
    return result, x_mean, y_mean


# --------------------------------------------------------------------------------------- period
def period_to_year(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Decimal years from period start dates: ``year + (day_of_year - 1) / days_in_year``.

    Why: the x axis of every trend. 2023-04-01 (a financial year) → 2023.2466, 2023-09-01 (an
    academic year) → 2023.666, 2021-01-01 (the start of a pooled 2021-23 period) → 2021.0, so
    differently-defined periods line up in real time and a slope is always "per year".
    Missing dates give NaN (and are then dropped by ``trend``/``project``).
    """
    series = dates.reset_index(drop=True) if isinstance(dates, pd.Series) else pd.Series(np.asarray(dates))
    ts = pd.to_datetime(series)
    year = ts.dt.year.to_numpy(dtype=float, na_value=np.nan)
    day = ts.dt.day_of_year.to_numpy(dtype=float, na_value=np.nan)
    days_in_year = np.where(ts.dt.is_leap_year.to_numpy(dtype=bool, na_value=False), 366.0, 365.0)
    return year + (day - 1.0) / days_in_year


# --------------------------------------------------------------------------------------- change
@dataclass(frozen=True)
class Change:
    """Point-to-point change between two periods.

    ``relative`` is ``absolute / |baseline|`` (None when the baseline is 0 or missing), so its
    sign always agrees with ``absolute`` even for a negative baseline (e.g. net migration).
    ``direction``: 'improved' | 'worsened' | 'no change' | 'not assessed' for judged
    indicators; 'increased' | 'decreased' | 'no change' | 'not assessed' for neutral ones.
    """

    baseline: float
    latest: float
    absolute: float
    relative: float | None
    direction: str


def change(baseline: float, latest: float, polarity: str) -> Change:
    """Arithmetic change from ``baseline`` to ``latest``, with a polarity-aware direction.

    Why separate from ``trend``: a two-point difference carries no test of chance (ONS and
    Fingertips both caution against reading it as a trend), so it only says *which way*
    the number moved. A missing value on either side gives 'not assessed' rather than a guess.
    """
    _check_polarity(polarity)
    b, v = float(baseline), float(latest)
    if math.isnan(b) or math.isnan(v):
        return Change(b, v, math.nan, None, "not assessed")
    absolute = v - b
    relative = None if b == 0 or not math.isfinite(b) else absolute / abs(b)
    if absolute == 0:
        direction = "no change"
    elif polarity == "neutral":
        direction = "increased" if absolute > 0 else "decreased"
    else:
        direction = "improved" if (absolute > 0) == (polarity == "higher_is_better") else "worsened"
    return Change(b, v, absolute, relative, direction)


# --------------------------------------------------------------------------------------- trend
@dataclass(frozen=True)
class Trend:
    """A recent linear trend (units of the indicator per year).

    ``verdict``: 'improving' | 'worsening' | 'no significant change' for judged indicators,
    'increasing' | 'decreasing' | 'no significant change' for neutral ones, or
    'too few points'. ``intercept`` is on the raw-year scale (value at year 0), so
    ``intercept + slope * year`` reproduces the fitted line.
    """

    n_points: int
    first_year: float
    last_year: float
    slope: float | None
    slope_lci: float | None
    slope_uci: float | None
    p_value: float | None
    verdict: str
    intercept: float | None


def trend(years, values, polarity: str, max_points: int = DEFAULT_MAX_POINTS,
          alpha: float = 0.05) -> Trend:
    """Recent trend by OLS of value on year over the last ``max_points`` non-missing points.

    Method (OHID Fingertips recent-trend practice, adapted as described in the module doc):
    drop missing points, sort by year, keep the most recent ``max_points`` (default five),
    fit ``value ~ year`` by ordinary least squares (statsmodels) and take the
    ``1 - alpha`` confidence interval of the slope. The trend is 'improving'/'worsening'
    (or 'increasing'/'decreasing' for neutral indicators) only when that interval excludes
    zero. With exactly two points the straight-line slope is reported but no interval and
    verdict 'too few points'; with fewer than two, or when all points share one year,
    there is no slope at all.
    """
    _check_polarity(polarity)
    _check_options(max_points, alpha)
    x, y = _recent_points(years, values, max_points)
    n = int(x.size)
    first, last = (float(x[0]), float(x[-1])) if n else (math.nan, math.nan)
    if n < 2 or first == last:
        return Trend(n, first, last, None, None, None, None, TOO_FEW, None)
    if n == 2:
        slope = float((y[1] - y[0]) / (x[1] - x[0]))
        return Trend(n, first, last, slope, None, None, None, TOO_FEW, float(y[0] - slope * x[0]))
    if np.all(y == y[0]):
        # No variation at all: the slope is exactly 0 and its interval [0, 0]; statsmodels
        # would return rounding noise (~1e-16) that must never be read as a direction.
        return Trend(n, first, last, 0.0, 0.0, 0.0, None, NO_SIGNIFICANT_CHANGE, float(y[0]))
    result, x_mean, y_mean = _fit(x, y)
    const_c, slope = (float(p) for p in result.params)
    lci, uci = (float(c) for c in np.asarray(result.conf_int(alpha))[1])
    return Trend(
        n_points=n,
        first_year=first,
        last_year=last,
        slope=slope,
        slope_lci=lci,
        slope_uci=uci,
        p_value=_finite_or_none(float(np.asarray(result.pvalues)[1])),
        verdict=_verdict(slope, lci, uci, polarity),
        intercept=y_mean + const_c - slope * x_mean,
    )


# --------------------------------------------------------------------------------------- projection
@dataclass(frozen=True)
class Projection:
    """A straight-line projection to ``year``.

    ``pi_lower``/``pi_upper``: the prediction interval for one future observation (what to
    expect the published figure to be); ``ci_lower``/``ci_upper``: the narrower interval for
    the fitted mean. ``n_points`` is the number of points the line was fitted to.
    """

    year: float
    value: float | None
    pi_lower: float | None
    pi_upper: float | None
    ci_lower: float | None
    ci_upper: float | None
    n_points: int


def project(years, values, target_year: float, max_points: int = DEFAULT_MAX_POINTS,
            alpha: float = 0.05) -> Projection:
    """Project the recent linear trend to ``target_year`` with its prediction interval.

    Why a prediction interval: a reader asking "where will this be in 2030?" wants the range
    a future published value may fall in, which includes year-to-year scatter; the mean's
    confidence interval alone would overstate certainty. Same OLS fit as ``trend`` on the last
    ``max_points`` points; intervals from statsmodels ``get_prediction(...).summary_frame``
    (``obs_ci_*`` = prediction interval, ``mean_ci_*`` = mean CI). Needs three points; with
    exactly two the value is the straight line through them and the intervals are None.
    Extrapolating far beyond the data is the caller's judgement: the interval widens with
    distance but assumes the line continues.
    """
    _check_options(max_points, alpha)
    target = float(target_year)
    if not math.isfinite(target):
        raise ValueError(f"target_year must be a finite number, got {target_year!r}")
    x, y = _recent_points(years, values, max_points)
    n = int(x.size)
    if n < 2 or x[0] == x[-1]:
        return Projection(target, None, None, None, None, None, n)
    if n == 2:
        slope = (y[1] - y[0]) / (x[1] - x[0])
        return Projection(target, float(y[0] + slope * (target - x[0])), None, None, None, None, n)
    result, x_mean, y_mean = _fit(x, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame = result.get_prediction(np.array([[1.0, target - x_mean]])).summary_frame(alpha=alpha)
    row = frame.iloc[0] + y_mean  # back from the centred value scale
    return Projection(
        year=target,
        value=float(row["mean"]),
        pi_lower=float(row["obs_ci_lower"]),
        pi_upper=float(row["obs_ci_upper"]),
        ci_lower=float(row["mean_ci_lower"]),
        ci_upper=float(row["mean_ci_upper"]),
        n_points=n,
    )


# --------------------------------------------------------------------------------------- many
def trend_many(years: np.ndarray, values: np.ndarray, polarity: str | np.ndarray,
               max_points: int = DEFAULT_MAX_POINTS, alpha: float = 0.05) -> pd.DataFrame:
    """``trend`` for many series at once, by closed-form OLS on arrays (no loop over series).

    Why: the map and league tables need a trend for every area × indicator; thousands of
    statsmodels fits would take seconds, the closed form takes milliseconds and gives the
    same numbers (tested against ``trend`` to 1e-9).

    ``years`` has shape (T,) and is shared by all rows; ``values`` has shape (N, T) with NaN
    for missing. Per row: keep the last ``max_points`` non-missing points, then with
    ``dx = x - mean(x)``: ``Sxx = Σdx²``, ``slope = Σdx·(y - ȳ) / Sxx``,
    ``s² = RSS / (n - 2)``, ``SE = sqrt(s² / Sxx)``, CI = slope ± t(1 - alpha/2, n - 2)·SE
    (scipy), verdict as in ``trend``. ``polarity`` is one string or an array of length N.

    Returns a DataFrame indexed 0..N-1 with columns ``n_points`` (int), ``slope``,
    ``slope_lci``, ``slope_uci`` (float, NaN where ``trend`` gives None) and ``verdict``.
    """
    _check_options(max_points, alpha)
    x_axis = np.asarray(years, dtype=float).ravel()
    y_all = np.asarray(values, dtype=float)
    if y_all.ndim == 1:
        y_all = y_all[None, :]
    if y_all.ndim != 2 or y_all.shape[1] != x_axis.size:
        raise ValueError(f"values must have shape (N, {x_axis.size}), got {np.shape(values)}")
    n_series = y_all.shape[0]
    pol = np.asarray(polarity, dtype=object)
    if pol.ndim == 0:
        pol = np.full(n_series, pol.item(), dtype=object)
    if pol.shape != (n_series,):
        raise ValueError(f"polarity must be one string or an array of length {n_series}")
    for p in set(pol.tolist()):
        _check_polarity(p)

    # Shared axis in time order (stable, like trend), missing years count as missing points.
    order = np.argsort(x_axis, kind="stable")
    x_axis, y_all = x_axis[order], y_all[:, order]
    present = np.isfinite(y_all) & np.isfinite(x_axis)[None, :]
    # Rank of each present point counted from the latest: keep ranks 1..max_points.
    rank_from_end = np.cumsum(present[:, ::-1], axis=1)[:, ::-1]
    keep = present & (rank_from_end <= max_points)

    w = keep.astype(float)
    xs = np.where(keep, x_axis[None, :], 0.0)
    ys = np.where(keep, y_all, 0.0)
    n = keep.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_mean = xs.sum(axis=1) / n
        y_mean = ys.sum(axis=1) / n
        dx = (xs - x_mean[:, None]) * w
        dy = (ys - y_mean[:, None]) * w
        sxx = (dx * dx).sum(axis=1)
        slope = (dx * dy).sum(axis=1) / sxx
        resid = (dy - slope[:, None] * dx) * w
        rss = (resid * resid).sum(axis=1)
        dof = n - 2.0
        se = np.sqrt(rss / dof / sxx)
    has_slope = (n >= 2) & (sxx > 0)
    has_ci = has_slope & (n >= MIN_POINTS_FOR_CI)
    # A series with no variation has slope exactly 0 and interval [0, 0] (as in ``trend``),
    # not whatever rounding leaves in ȳ.
    flat = np.where(keep, y_all, np.inf).min(axis=1) == np.where(keep, y_all, -np.inf).max(axis=1)
    slope = np.where(has_slope, np.where(flat, 0.0, slope), np.nan)
    se = np.where(flat, 0.0, se)
    t_crit = np.full(n_series, np.nan)
    if has_ci.any():
        t_crit[has_ci] = stats.t.ppf(1.0 - alpha / 2.0, dof[has_ci])
    half = t_crit * np.where(has_ci, se, np.nan)
    lci, uci = slope - half, slope + half

    rising, falling = has_ci & (lci > 0), has_ci & (uci < 0)
    neutral = pol == "neutral"
    higher = pol == "higher_is_better"
    verdict = np.select(
        [~has_ci, rising & neutral, falling & neutral, rising & higher, falling & higher,
         rising, falling],
        [TOO_FEW, "increasing", "decreasing", "improving", "worsening", "worsening", "improving"],
        default=NO_SIGNIFICANT_CHANGE,
    )
    return pd.DataFrame({
        "n_points": n.astype(int),
        "slope": slope,
        "slope_lci": lci,
        "slope_uci": uci,
        "verdict": verdict.astype(object),
    })


# --------------------------------------------------------------------------------------- flags
def worse_and_worsening(significance: str, verdict: str) -> bool:
    """Fingertips' "worse and worsening" flag: significantly worse than the benchmark now
    (``significance == 'worse'``) *and* a significantly worsening recent trend.

    Why a function: pages highlight exactly these cells, and the rule must be one definition,
    not a condition repeated in several places.
    """
    return significance == "worse" and verdict == "worsening"
