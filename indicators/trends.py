"""Change over time: how far an indicator has moved, whether the move is real, and where it is heading.

Why this module: "is this place getting better?" is the question a reader asks first, and the
honest answer has three parts that must not be blurred together.

* ``change`` — the plain arithmetic between two periods (baseline → latest), with a direction
  that respects polarity. It says nothing about chance.
* ``trend`` / ``trend_many`` — a *recent trend* by the rules of the OHID Fingertips trend
  markers (Public Health Technical Guidance, "Fingertips trend markers"):

  - only **non-overlapping** periods count. Rolling or pooled periods (2011–13, 2012–14, …)
    share years, so neighbouring points are correlated and a regression through all of them
    finds "trends" in pure noise (a no-trend series of 3-year rolling means is flagged about
    a fifth of the time). Working back from the latest period, a point is kept only when its
    period ends before the next kept one starts; the length comes from ``period_start`` /
    ``period_end`` or the ISO duration in the period code.
  - at least **five** such points (``MIN_POINTS``); the most recent five are used.
  - **weighted least squares** where every kept point has a published 95% CI: the standard
    error is the CI width / 3.92 and the weight its inverse variance, so a precise estimate
    counts for more than a noisy one (Fingertips weights by the published variance where no
    numerator and denominator are available). Without CIs it is ordinary least squares. The
    residual variance is estimated from the data (weights act relatively), so extra
    year-to-year variation beyond the sampling error widens the interval rather than being
    ignored.
  - **real terms** for money (£) series: values and CIs are deflated by a GDP deflator (the
    ratio of GDP per head at current prices to GDP per head in chained volume measures, both
    in the snapshot) to prices of the deflator's latest year. Periods outside the deflator's
    years are left out of a money trend (the result says so for recent ones); where no
    deflator can be built the trend is nominal and says that instead.
  - "improving" / "worsening" only when the 95% CI of the slope excludes zero.
* ``project`` — the same line extrapolated, with the **predictive distribution** at the target
  year (a t distribution on n − 2 degrees of freedom around the projected value, with the
  standard error of a single new observation), from which ``reach_probability`` and
  ``truncated_interval`` give the chance of reaching a value and a 95% prediction interval cut
  to the values the indicator can take (``feasible_bounds``).

Years come from ``period_to_year``: decimal years from the period start date, so financial
years (April), academic years (September) and pooled 3-year periods sit in the right place on
one time axis rather than being treated as equally spaced labels.

Everything here is pure: numbers in, numbers out; no I/O, no streamlit.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "POLARITIES",
    "Change",
    "Deflator",
    "Projection",
    "Trend",
    "change",
    "feasible_bounds",
    "gdp_deflator",
    "non_overlapping",
    "period_length_years",
    "period_to_year",
    "project",
    "reach_probability",
    "trend",
    "trend_many",
    "truncated_interval",
    "worse_and_worsening",
]

POLARITIES: tuple[str, ...] = ("higher_is_better", "lower_is_better", "neutral")
# Fingertips' "recent trend" window: the most recent five data points.
DEFAULT_MAX_POINTS = 5
# Fingertips: no trend is called from fewer than five non-overlapping points.
MIN_POINTS = 5
# Fewest points for a slope with a confidence interval (n - 2 >= 1 residual degree of freedom).
MIN_POINTS_FOR_CI = 3
# A 95% CI spans 2 × 1.96 standard errors.
CI_WIDTH_IN_SE = 3.92
# Periods may touch: a financial year ending 31 March and the next starting 1 April differ by
# rounding in decimal years (leap years); about a week of slack absorbs that.
OVERLAP_SLACK_YEARS = 0.02
DAYS_PER_YEAR = 365.2425

TOO_FEW = "too few points"
NO_SIGNIFICANT_CHANGE = "no significant change"

# The two snapshot series whose ratio is the GDP deflator, and the areas tried in order.
GDP_CURRENT = "gross-domestic-product-per-head-at-current-market-price"
GDP_VOLUME = "gross-domestic-product-per-head-in-chained-volume-measure"
DEFLATOR_AREAS = ("K02000001", "E92000001", "K03000001")


# --------------------------------------------------------------------------------------- helpers
def _check_polarity(polarity: str) -> None:
    if polarity not in POLARITIES:
        raise ValueError(f"unknown polarity {polarity!r}; expected one of {', '.join(POLARITIES)}")


def _check_options(max_points: int, alpha: float) -> None:
    if int(max_points) != max_points or max_points < 2:
        raise ValueError(f"max_points must be an integer >= 2, got {max_points!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")


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


def _as_array(v, size: int, name: str, fill: float = np.nan) -> np.ndarray:
    if v is None:
        return np.full(size, fill)
    a = np.asarray(v, dtype=float).ravel()
    if a.size == 1:
        return np.full(size, float(a[0]))
    if a.size != size:
        raise ValueError(f"{name} must have one value per point ({size}), got {a.size}")
    return a


# --------------------------------------------------------------------------------------- periods
_DURATION = re.compile(r"/P(\d+)([YMWD])$")
_UNIT_YEARS = {"Y": 1.0, "M": 1.0 / 12.0, "W": 7.0 / DAYS_PER_YEAR, "D": 1.0 / DAYS_PER_YEAR}


def period_length_years(starts=None, ends=None, codes=None) -> np.ndarray:
    """Length of each period in years: from ``period_end - period_start`` (inclusive) where both are
    known, else from the ISO 8601 duration in the period code (``2011-01-01/P3Y`` → 3), else 0 (a
    point in time, such as a survey reference date, which overlaps nothing).

    Why: rolling and pooled periods must be thinned to non-overlapping ones before a trend test,
    and only the period's length says which ones overlap.
    """
    n = max(len(x) for x in (starts, ends, codes) if x is not None) if any(
        x is not None for x in (starts, ends, codes)) else 0
    out = np.full(n, np.nan)
    if starts is not None and ends is not None:
        s = pd.to_datetime(pd.Series(np.asarray(starts, dtype=object)), errors="coerce")
        e = pd.to_datetime(pd.Series(np.asarray(ends, dtype=object)), errors="coerce")
        days = (e - s).dt.days.to_numpy(dtype=float, na_value=np.nan)
        out = np.where(np.isfinite(days) & (days >= 0), (days + 1.0) / DAYS_PER_YEAR, np.nan)
        out = np.where(days == 0, 0.0, out)  # start == end: an instant
    if codes is not None:
        from_code = np.array([_code_years(c) for c in np.asarray(codes, dtype=object)], dtype=float)
        out = np.where(np.isnan(out), from_code, out)
    return np.where(np.isnan(out), 0.0, out)


def _code_years(code: object) -> float:
    text = str(code)
    if re.fullmatch(r"\d{4}", text):  # a bare year code is that calendar year
        return 1.0
    m = _DURATION.search(text)
    return float(m.group(1)) * _UNIT_YEARS[m.group(2)] if m else np.nan


def non_overlapping(years, length) -> np.ndarray:
    """Boolean mask of the points kept when thinning to non-overlapping periods.

    Working back from the latest point (the most recent data matter most), a point is kept when
    its period ``[year, year + length)`` ends on or before the start of the last point kept; so
    3-year rolling periods keep every third, annual periods keep all. Missing years are never kept.
    """
    x = np.asarray(years, dtype=float).ravel()
    ln = _as_array(length, x.size, "length", 0.0)
    keep = np.zeros(x.size, dtype=bool)
    order = np.argsort(x, kind="stable")[::-1]
    next_start = np.inf
    for i in order:
        if np.isfinite(x[i]) and x[i] + ln[i] <= next_start + OVERLAP_SLACK_YEARS and x[i] < next_start:
            keep[i] = True
            next_start = x[i]
    return keep


def _thin_rows(x_axis: np.ndarray, present: np.ndarray, length: np.ndarray) -> np.ndarray:
    """``non_overlapping`` for many rows on one sorted axis: a loop over the T periods, arrays over rows."""
    keep = np.zeros_like(present)
    next_start = np.full(present.shape[0], np.inf)
    for j in range(x_axis.size - 1, -1, -1):
        ok = present[:, j] & (x_axis[j] + length <= next_start + OVERLAP_SLACK_YEARS) & (x_axis[j] < next_start)
        keep[:, j] = ok
        next_start = np.where(ok, x_axis[j], next_start)
    return keep


# --------------------------------------------------------------------------------------- real terms
@dataclass(frozen=True)
class Deflator:
    """A GDP deflator by calendar year, as an index equal to 1 in ``base_year``.

    ``factor(mid)`` multiplies a nominal £ value whose period is centred on decimal year ``mid``
    to put it in ``base_year`` prices: the index is placed at the middle of each calendar year and
    interpolated linearly between them (so a financial year takes three quarters of one year and a
    quarter of the next); outside the years covered it is NaN, never extrapolated.
    """

    years: np.ndarray
    index: np.ndarray
    base_year: int
    source: str

    def factor(self, mid_years) -> np.ndarray:
        mid = np.asarray(mid_years, dtype=float)
        inside = (mid >= self.years[0]) & (mid <= self.years[-1] + 1.0)
        value = np.interp(mid, self.years + 0.5, self.index)
        return np.where(inside, 1.0 / value, np.nan)

    @property
    def last_year(self) -> int:
        return int(self.years[-1])


def gdp_deflator(observations: pd.DataFrame) -> Deflator | None:
    """The GDP deflator implied by the snapshot: GDP per head at current prices ÷ GDP per head in
    chained volume measures, for the UK (else England), rebased to its latest year.

    Why from the snapshot: the product ships one snapshot and fetches nothing else; the two ONS
    series give the economy-wide deflator ONS itself publishes as their ratio. None when either
    series is missing (then £ trends are nominal and say so).
    """
    rows = observations.loc[observations["indicator_id"].isin([GDP_CURRENT, GDP_VOLUME])
                            & observations["value"].notna()]
    for area in DEFLATOR_AREAS:
        part = rows.loc[rows["areacd"] == area]
        if part.empty:
            continue
        year = pd.to_datetime(part["period_start"]).dt.year
        table = part.assign(year=year).pivot_table(index="year", columns="indicator_id", values="value",
                                                   aggfunc="first")
        if GDP_CURRENT not in table or GDP_VOLUME not in table:
            continue
        table = table.dropna()
        table = table.loc[table[GDP_VOLUME] > 0]
        if len(table) < 2:
            continue
        index = (table[GDP_CURRENT] / table[GDP_VOLUME]).to_numpy(dtype=float)
        years = table.index.to_numpy(dtype=float)
        index = index / index[-1]
        name = str(part["areanm"].iloc[0]) if "areanm" in part else area
        return Deflator(years, index, int(years[-1]), f"GDP deflator ({name}, current ÷ chained-volume GDP per head)")
    return None


def is_money(unit: str | None) -> bool:
    """Money series (£, £ million) are trended in real terms."""
    return str(unit or "").strip().startswith("£")


# --------------------------------------------------------------------------------------- bounds
def feasible_bounds(unit: str | None, values=None) -> tuple[float, float]:
    """The values an indicator can take, for cutting projections and intervals.

    Percentages lie in 0–100 and scores "out of N" in 0–N; counts, rates, money, years and other
    sizes are never negative. A "net" measure (net additions, net migration) may be negative.
    Observed values outside a bound (a published negative rate, a share above 100) widen it:
    the data win over the rule.
    """
    u = str(unit or "").strip().lower()
    lo, hi = 0.0, math.inf
    if "net" in u.split() or u.startswith("net"):
        lo = -math.inf
    if u in ("%", "per cent", "percent", "percentage"):
        hi = 100.0
    m = re.search(r"out of (\d+(?:\.\d+)?)", u)
    if m:
        hi = float(m.group(1))
    if values is not None:
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if v.size:
            lo = min(lo, float(v.min()))
            hi = max(hi, float(v.max()))
    return lo, hi


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


# --------------------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class _Fit:
    """A weighted least-squares line, weights normalised to mean 1 (all 1: ordinary least squares)."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    x_mean: float
    y_mean: float
    sxx: float
    slope: float
    s2: float
    dof: int

    @property
    def n(self) -> int:
        return int(self.x.size)

    def predict(self, x0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(value, SE of the fitted mean, SE of one new observation of average weight) at ``x0``."""
        x0 = np.asarray(x0, dtype=float)
        value = self.y_mean + self.slope * (x0 - self.x_mean)
        var_mean = self.s2 * (1.0 / self.w.sum() + (x0 - self.x_mean) ** 2 / self.sxx)
        return value, np.sqrt(var_mean), np.sqrt(var_mean + self.s2)


def _weights(lci: np.ndarray, uci: np.ndarray) -> np.ndarray | None:
    """Inverse-variance weights from 95% CIs (SE = width / 3.92), normalised to mean 1; None unless
    every point has a CI of positive width (a mix of weighted and unweighted points has no common scale)."""
    width = uci - lci
    if width.size == 0 or not np.all(np.isfinite(width) & (width > 0)):
        return None
    w = 1.0 / (width / CI_WIDTH_IN_SE) ** 2
    return w / w.mean()


def _points(years, values, lci=None, uci=None, length=None, max_points: int = DEFAULT_MAX_POINTS
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """The points a trend is fitted to, in time order: (x, y, weights, weighted).

    Drop missing points (a suppressed value is unknown, not zero or an average; the regression
    simply has fewer points), thin to non-overlapping periods working back from the latest, keep
    the last ``max_points``, and weight by the published CIs when every kept point has one.
    """
    x = np.asarray(years, dtype=float).ravel()
    y = np.asarray(values, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"years and values differ in length: {x.shape[0]} vs {y.shape[0]}")
    lo, hi = _as_array(lci, x.size, "lci"), _as_array(uci, x.size, "uci")
    ln = _as_array(length, x.size, "length", 0.0)
    present = np.isfinite(x) & np.isfinite(y)
    x, y, lo, hi, ln = x[present], y[present], lo[present], hi[present], ln[present]
    keep = non_overlapping(x, ln)
    x, y, lo, hi = x[keep], y[keep], lo[keep], hi[keep]
    order = np.argsort(x, kind="stable")[-max_points:]
    x, y, lo, hi = x[order], y[order], lo[order], hi[order]
    w = _weights(lo, hi)
    return x, y, (np.ones_like(x) if w is None else w), w is not None


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> _Fit:
    """Closed-form weighted least squares of y on x, centred on the weighted means.

    Why closed form and centred: raw years (~2020) make the design ill-conditioned, and the same
    arithmetic runs row-wise in ``trend_many``, so one formula serves both (checked against
    statsmodels WLS in the tests). s² = Σw·r² / (n − 2), Var(slope) = s² / Σw·(x − x̄)².
    """
    x_mean = float(np.sum(w * x) / np.sum(w))
    y_mean = float(np.sum(w * y) / np.sum(w))
    dx, dy = x - x_mean, y - y_mean
    sxx = float(np.sum(w * dx * dx))
    slope = float(np.sum(w * dx * dy) / sxx)
    if np.all(y == y[0]):
        slope = 0.0  # no variation: exactly flat, not rounding noise
    resid = dy - slope * dx
    dof = int(x.size - 2)
    s2 = float(np.sum(w * resid * resid) / dof) if dof > 0 else math.nan
    return _Fit(x, y, w, x_mean, y_mean, sxx, slope, s2, dof)


def _real(x, y, lci, uci, length, deflator: Deflator | None):
    """Deflate a money series to the deflator's base-year prices; points it does not cover become missing."""
    x = np.asarray(x, dtype=float).ravel()
    ln = _as_array(length, x.size, "length", 0.0)
    f = deflator.factor(x + ln / 2.0)  # type: ignore[union-attr]
    y = np.asarray(y, dtype=float).ravel() * f
    lci = None if lci is None else _as_array(lci, x.size, "lci") * f
    uci = None if uci is None else _as_array(uci, x.size, "uci") * f
    # only periods after the deflator's last year matter: earlier ones are older than any recent window
    return y, lci, uci, int(np.sum(~np.isfinite(f) & (x > deflator.last_year)))  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------- trend
@dataclass(frozen=True)
class Trend:
    """A recent linear trend (units of the indicator per year; real terms for money when stated).

    ``verdict``: 'improving' | 'worsening' | 'no significant change' for judged indicators,
    'increasing' | 'decreasing' | 'no significant change' for neutral ones, or
    'too few points' (fewer than five non-overlapping points). ``intercept`` is on the raw-year
    scale (value at year 0), so ``intercept + slope * year`` reproduces the fitted line.
    ``weighted``: fitted by inverse-variance weights from the CIs; ``real_terms``: True when a
    money series was deflated, False when it had to stay nominal, None for other units.
    ``note`` says in words anything a reader must know (nominal money, periods left out).
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
    weighted: bool = False
    real_terms: bool | None = None
    note: str = ""


def _money_note(money: bool, deflator: Deflator | None, dropped: int) -> tuple[bool | None, str]:
    if not money:
        return None, ""
    if deflator is None:
        return False, "in cash terms: no GDP deflator in the snapshot to put it in real terms"
    note = f"in real terms ({deflator.base_year} prices, {deflator.source})"
    if dropped:
        note += f"; {dropped} period(s) after {deflator.last_year} left out until the deflator covers them"
    return True, note


def trend(years, values, polarity: str, max_points: int = DEFAULT_MAX_POINTS, alpha: float = 0.05, *,
          lci=None, uci=None, length=None, money: bool = False, deflator: Deflator | None = None) -> Trend:
    """Recent trend by Fingertips' rules over the last ``max_points`` non-overlapping points.

    Drop missing points; for money (``money=True``) deflate with ``deflator`` (nominal if None);
    thin to non-overlapping periods (``length`` in years, one value or one per point); keep the
    latest ``max_points``; fit by weighted least squares with inverse-variance weights from
    ``lci``/``uci`` when every kept point has them, else OLS; take the ``1 - alpha`` CI of the
    slope from t(n − 2). A direction is called only with at least ``MIN_POINTS`` (five) points and
    a CI excluding zero; with three or four the slope and its CI are reported but the verdict is
    'too few points'; with two the straight-line slope without an interval; fewer, no slope.
    """
    _check_polarity(polarity)
    _check_options(max_points, alpha)
    real, note = _money_note(money, deflator, 0)
    if money and deflator is not None:
        values, lci, uci, dropped = _real(years, values, lci, uci, length, deflator)
        real, note = _money_note(money, deflator, dropped)
    x, y, w, weighted = _points(years, values, lci, uci, length, max_points)
    n = int(x.size)
    first, last = (float(x[0]), float(x[-1])) if n else (math.nan, math.nan)
    extra = dict(weighted=weighted and n >= MIN_POINTS_FOR_CI, real_terms=real, note=note)
    if n < 2 or first == last:
        return Trend(n, first, last, None, None, None, None, TOO_FEW, None, **extra)
    if n == 2:
        slope = float((y[1] - y[0]) / (x[1] - x[0]))
        return Trend(n, first, last, slope, None, None, None, TOO_FEW, float(y[0] - slope * x[0]),
                     **{**extra, "weighted": False})
    f = _fit(x, y, w)
    se = math.sqrt(max(f.s2, 0.0) / f.sxx)
    half = float(stats.t.ppf(1.0 - alpha / 2.0, f.dof)) * se
    lo, hi = f.slope - half, f.slope + half
    p = 2.0 * float(stats.t.sf(abs(f.slope) / se, f.dof)) if se > 0 else None
    verdict = _verdict(f.slope, lo, hi, polarity) if n >= MIN_POINTS else TOO_FEW
    return Trend(n, first, last, f.slope, lo, hi, p, verdict, f.y_mean - f.slope * f.x_mean, **extra)


# --------------------------------------------------------------------------------------- projection
@dataclass(frozen=True)
class Projection:
    """A straight-line projection to ``year`` and its predictive distribution.

    ``pi_lower``/``pi_upper``: the prediction interval for one future observation (what to
    expect the published figure to be); ``ci_lower``/``ci_upper``: the narrower interval for
    the fitted mean. ``se`` and ``df``: the predictive distribution is ``value + se · t(df)``,
    which ``reach_probability`` and ``truncated_interval`` use. ``n_points`` is the number of
    non-overlapping points the line was fitted to, ``slope`` its slope per year.
    """

    year: float
    value: float | None
    pi_lower: float | None
    pi_upper: float | None
    ci_lower: float | None
    ci_upper: float | None
    n_points: int
    se: float | None = None
    df: int | None = None
    slope: float | None = None
    weighted: bool = False
    last_year: float | None = None  # the last fitted point: the projection extrapolates beyond it


def _drift_variance(f: _Fit, x0) -> np.ndarray:
    """Variance a random walk with drift adds by ``x0``: the chance that the line itself moves.

    From the year-on-year changes of the fitted points, d_i = Δy / Δx with variance σ_d² per unit of
    the typical spacing s: Var = σ_d²·s·h·(1 + h / m) for h years beyond the last point and m changes
    (the drift method's forecast variance, Hyndman & Athanasopoulos, *Forecasting: principles and
    practice*, §5.5). Why: a straight line fitted to five points assumes the trend carries on
    unchanged; held-out checks on the snapshot show trends bend, and the line's own interval then
    covers too few published values (about 83% of nominal 95%).
    """
    h = np.maximum(np.asarray(x0, dtype=float) - f.x[-1], 0.0)
    steps = np.diff(f.x)
    d = np.diff(f.y) / steps
    if d.size < 2:
        return np.zeros_like(h)
    var_d = float(np.var(d, ddof=1)) * float(steps.mean())
    return var_d * h * (1.0 + h / d.size)


def _damped(f: _Fit, x0, value, damping: float):
    """The centre with the slope beyond the last fitted point damped by ``damping`` (1: the straight line).

    The level is the fitted line at the last point; only the extrapolated part, slope × years beyond
    it, is multiplied by ``damping`` (a damped trend, Gardner & McKenzie 1985, in its simplest form).
    Why: held-out checks on the snapshot show recent trends carry on only in part.
    """
    if damping == 1.0:
        return value
    h = np.maximum(np.asarray(x0, dtype=float) - f.x[-1], 0.0)
    return value - (1.0 - damping) * f.slope * h


def project(years, values, target_year: float, max_points: int = DEFAULT_MAX_POINTS,
            alpha: float = 0.05, *, lci=None, uci=None, length=None, trend_change: bool = False,
            damping: float = 1.0, scale: float = 1.0) -> Projection:
    """Project the recent linear trend to ``target_year`` with its prediction interval.

    Why a prediction interval: a reader asking "where will this be in 2030?" wants the range
    a future published value may fall in, which includes year-to-year scatter; the mean's
    confidence interval alone would overstate certainty. Same points and fit as ``trend``
    (non-overlapping, weighted by CIs where present). The new observation is given the average
    weight of the fitted points. Needs three points for an interval; with exactly two the value is
    the straight line through them and everything else is None. With ``trend_change`` the
    prediction variance also carries ``_drift_variance`` (the line itself may move), which is what
    plan statuses use; without it the interval is the textbook one and assumes the line continues.
    ``damping`` (see ``_damped``) and ``scale`` (a factor on the predictive standard error) are the
    empirical calibration plan statuses apply (``plans.projection``); the defaults leave the line
    and its interval as fitted. ``slope`` stays the fitted slope, so its sign is the trend's.
    """
    _check_options(max_points, alpha)
    target = float(target_year)
    if not math.isfinite(target):
        raise ValueError(f"target_year must be a finite number, got {target_year!r}")
    x, y, w, weighted = _points(years, values, lci, uci, length, max_points)
    n = int(x.size)
    if n < 2 or x[0] == x[-1]:
        return Projection(target, None, None, None, None, None, n)
    if n == 2:
        slope = float((y[1] - y[0]) / (x[1] - x[0]))
        return Projection(target, float(y[0] + slope * (target - x[0])), None, None, None, None, n, slope=slope,
                          last_year=float(x[-1]))
    f = _fit(x, y, w)
    value, se_mean, se_obs = (float(v) for v in f.predict(target))
    if trend_change:
        se_obs = math.sqrt(se_obs ** 2 + float(_drift_variance(f, target)))
    value = float(_damped(f, target, value, damping))
    se_mean, se_obs = scale * se_mean, scale * se_obs
    t = float(stats.t.ppf(1.0 - alpha / 2.0, f.dof))
    return Projection(target, value, value - t * se_obs, value + t * se_obs, value - t * se_mean,
                      value + t * se_mean, n, se_obs, f.dof, f.slope, weighted, float(x[-1]))


def project_path(years, values, to_years, max_points: int = DEFAULT_MAX_POINTS, alpha: float = 0.05, *,
                 lci=None, uci=None, length=None, bounds: tuple[float, float] = (-math.inf, math.inf),
                 trend_change: bool = False, damping: float = 1.0, scale: float = 1.0) -> pd.DataFrame:
    """The projection at several years at once (for drawing the band): columns year, value,
    pi_lower, pi_upper, the value clipped and the interval truncated to ``bounds``. Empty when
    fewer than three points."""
    x, y, w, _ = _points(years, values, lci, uci, length, max_points)
    if x.size < MIN_POINTS_FOR_CI or x[0] == x[-1]:
        return pd.DataFrame(columns=["year", "value", "pi_lower", "pi_upper"])
    f = _fit(x, y, w)
    at = np.asarray(to_years, dtype=float)
    value, _, se = f.predict(at)
    if trend_change:
        se = np.sqrt(se ** 2 + _drift_variance(f, at))
    value, se = _damped(f, at, value, damping), scale * se
    lo, hi = truncated_interval(value, se, f.dof, bounds, alpha)
    return pd.DataFrame({"year": at, "value": np.clip(value, *bounds), "pi_lower": lo, "pi_upper": hi})


def fit_span(years, values, max_points: int = DEFAULT_MAX_POINTS, *, lci=None, uci=None, length=None) -> list[float]:
    """The first and last year of the points a trend or projection is fitted to (empty when none)."""
    x, _, _, _ = _points(years, values, lci, uci, length, max_points)
    return [float(x[0]), float(x[-1])] if x.size else []


# --------------------------------------------------------------------------------------- predictive
def _cdf(v, value, se, df):
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.asarray(v, dtype=float) - value) / se
    return np.where(se > 0, stats.t.cdf(z, df), np.where(np.asarray(v) >= value, 1.0, 0.0))


def reach_probability(value: float, se: float, df: int, goal: float, direction: int,
                      bounds: tuple[float, float] = (-math.inf, math.inf)) -> float:
    """Chance that the value at the target year is at or beyond ``goal`` in ``direction`` (+1: at or
    above, −1: at or below), from the predictive t distribution cut to ``bounds`` (the feasible values,
    so no probability is spent on a negative rate or a share above 100%).
    """
    lo, hi = bounds
    f_lo, f_hi = float(_cdf(lo, value, se, df)), float(_cdf(hi, value, se, df))
    mass = f_hi - f_lo
    if mass <= 0:  # the whole distribution lies beyond a bound: it sits at that bound
        edge = lo if value < lo else hi
        return 1.0 if direction * (edge - goal) >= 0 else 0.0
    g = min(max(goal, lo), hi)
    f_g = float(_cdf(g, value, se, df))
    p = (f_hi - f_g) / mass if direction > 0 else (f_g - f_lo) / mass
    if direction > 0 and goal > hi or direction < 0 and goal < lo:
        p = 0.0
    return float(min(max(p, 0.0), 1.0))


def truncated_interval(value, se, df, bounds: tuple[float, float] = (-math.inf, math.inf),
                       alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """The central ``1 - alpha`` interval of the predictive t distribution cut to ``bounds``.

    Why quantiles of the cut distribution, not a clipped interval: the interval then agrees with
    ``reach_probability`` (a target at its edge has a 2.5% or 97.5% chance), and it never claims
    impossible values. Works element-wise on arrays.
    """
    value, se = np.asarray(value, dtype=float), np.asarray(se, dtype=float)
    lo, hi = bounds
    f_lo, f_hi = _cdf(lo, value, se, df), _cdf(hi, value, se, df)
    mass = f_hi - f_lo

    def q(p: float) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = value + se * stats.t.ppf(np.clip(f_lo + p * mass, 1e-300, 1 - 1e-16), df)
        out = np.where(se > 0, out, value)
        return np.clip(out, lo, hi)

    return q(alpha / 2.0), q(1.0 - alpha / 2.0)


# --------------------------------------------------------------------------------------- many
def trend_many(years: np.ndarray, values: np.ndarray, polarity: str | np.ndarray,
               max_points: int = DEFAULT_MAX_POINTS, alpha: float = 0.05, *, lci: np.ndarray | None = None,
               uci: np.ndarray | None = None, length: float | np.ndarray | None = None,
               money: bool | np.ndarray = False, deflator: Deflator | None = None) -> pd.DataFrame:
    """``trend`` for many series at once, by closed-form weighted least squares on arrays.

    Why: the profile and the map need a trend for ~100 indicators or every area at once; the
    closed form takes milliseconds and gives the same numbers as ``trend`` (tested to 1e-9).

    ``years`` has shape (T,) and is shared by all rows; ``values`` (and ``lci``/``uci`` if given)
    have shape (N, T) with NaN for missing. ``length`` is each row's period length in years (one
    number or N), ``money`` whether each row is in £ (deflated with ``deflator``), ``polarity``
    one string or N. Per row, as in ``trend``: deflate money, thin to non-overlapping periods
    (the only loop is over the T periods), keep the last ``max_points``, weights from the CIs
    when every kept point has one (normalised to mean 1), then with weighted means
    ``Sxx = Σw·dx²``, ``slope = Σw·dx·dy / Sxx``, ``s² = Σw·r² / (n − 2)``,
    ``SE = sqrt(s² / Sxx)``, CI = slope ± t(1 − alpha/2, n − 2)·SE.

    Returns a DataFrame indexed 0..N-1 with columns ``n_points`` (int), ``slope``,
    ``slope_lci``, ``slope_uci`` (float, NaN where ``trend`` gives None), ``verdict``,
    ``weighted`` (bool) and ``real_terms`` (True/False for money rows, None otherwise).
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
    lo_all = np.full_like(y_all, np.nan) if lci is None else np.asarray(lci, dtype=float).reshape(y_all.shape)
    hi_all = np.full_like(y_all, np.nan) if uci is None else np.asarray(uci, dtype=float).reshape(y_all.shape)
    ln = _as_array(length, n_series, "length", 0.0)
    cash = np.asarray(money, dtype=bool)
    cash = np.full(n_series, bool(cash)) if cash.ndim == 0 else cash
    if cash.shape != (n_series,):
        raise ValueError(f"money must be one flag or an array of length {n_series}")

    # Shared axis in time order (stable, like trend); missing years count as missing points.
    order = np.argsort(x_axis, kind="stable")
    x_axis, y_all, lo_all, hi_all = x_axis[order], y_all[:, order], lo_all[:, order], hi_all[:, order]
    if deflator is not None and cash.any():
        factor = deflator.factor(x_axis[None, :] + ln[:, None] / 2.0)
        factor = np.where(cash[:, None], factor, 1.0)
        y_all, lo_all, hi_all = y_all * factor, lo_all * factor, hi_all * factor
    present = np.isfinite(y_all) & np.isfinite(x_axis)[None, :]
    thinned = _thin_rows(x_axis, present, ln)
    # Rank of each kept point counted from the latest: keep ranks 1..max_points.
    rank_from_end = np.cumsum(thinned[:, ::-1], axis=1)[:, ::-1]
    keep = thinned & (rank_from_end <= max_points)
    n = keep.sum(axis=1)

    width = hi_all - lo_all
    has_ci = np.isfinite(width) & (width > 0)
    weighted = (n >= MIN_POINTS_FOR_CI) & np.all(has_ci | ~keep, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw_w = np.where(keep & weighted[:, None], 1.0 / (width / CI_WIDTH_IN_SE) ** 2, 1.0)
        raw_w = np.where(keep, raw_w, 0.0)
        w = raw_w / (raw_w.sum(axis=1) / n)[:, None]
        w = np.where(keep, w, 0.0)
        xs = np.where(keep, x_axis[None, :], 0.0)
        ys = np.where(keep, y_all, 0.0)
        sw = w.sum(axis=1)
        x_mean = (w * xs).sum(axis=1) / sw
        y_mean = (w * ys).sum(axis=1) / sw
        dx = np.where(keep, xs - x_mean[:, None], 0.0)
        dy = np.where(keep, ys - y_mean[:, None], 0.0)
        sxx = (w * dx * dx).sum(axis=1)
        slope = (w * dx * dy).sum(axis=1) / sxx
        resid = dy - slope[:, None] * dx
        rss = (w * resid * resid).sum(axis=1)
        dof = n - 2.0
        se = np.sqrt(rss / dof / sxx)
    has_slope = (n >= 2) & (sxx > 0)
    has_ci_row = has_slope & (n >= MIN_POINTS_FOR_CI)
    # A series with no variation has slope exactly 0 and interval [0, 0] (as in ``trend``).
    flat = np.where(keep, y_all, np.inf).min(axis=1) == np.where(keep, y_all, -np.inf).max(axis=1)
    slope = np.where(has_slope, np.where(flat, 0.0, slope), np.nan)
    se = np.where(flat, 0.0, se)
    t_crit = np.full(n_series, np.nan)
    if has_ci_row.any():
        t_crit[has_ci_row] = stats.t.ppf(1.0 - alpha / 2.0, dof[has_ci_row])
    half = t_crit * np.where(has_ci_row, se, np.nan)
    lci_s, uci_s = slope - half, slope + half

    judged = has_ci_row & (n >= MIN_POINTS)
    rising, falling = judged & (lci_s > 0), judged & (uci_s < 0)
    neutral = pol == "neutral"
    higher = pol == "higher_is_better"
    verdict = np.select(
        [~judged, rising & neutral, falling & neutral, rising & higher, falling & higher, rising, falling],
        [TOO_FEW, "increasing", "decreasing", "improving", "worsening", "worsening", "improving"],
        default=NO_SIGNIFICANT_CHANGE,
    )
    real = np.where(cash, deflator is not None, None).astype(object)
    return pd.DataFrame({
        "n_points": n.astype(int),
        "slope": slope,
        "slope_lci": lci_s,
        "slope_uci": uci_s,
        "verdict": verdict.astype(object),
        "weighted": weighted & has_ci_row,
        "real_terms": real,
    })


# --------------------------------------------------------------------------------------- flags
def worse_and_worsening(significance: str, verdict: str) -> bool:
    """Fingertips' "worse and worsening" flag: significantly worse than the benchmark now
    (``significance == 'worse'``) *and* a significantly worsening recent trend.

    Why a function: pages highlight exactly these cells, and the rule must be one definition,
    not a condition repeated in several places.
    """
    return significance == "worse" and verdict == "worsening"
