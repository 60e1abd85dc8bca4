"""Good growth: change over one common window, with its own uncertainty, and each place's quadrant.

Why a window common to every indicator: comparing claimant counts since their 2020 peak with
pay since 2019 and travel times since 2014 mixes recoveries, trends and noise. Every indicator
here is measured between periods about `gap` years apart that end in the same year or the
year before, and no period touching the pandemic (March 2020 to December 2021) is ever a
baseline. Changes are annualised, £ and size-dependent measures are compared as percentage
(log) changes in real terms, and the quadrant is read from simulation over both ends' CIs:
a place whose 90% interval crosses an axis is "no clear difference".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import query
from .scoring import (COVERAGE_RULE, QUADRANTS, Z95, correlated_normals, draw_weights, nan_percentiles,
                      pillar_scores, reference_params)

PANDEMIC = (pd.Timestamp("2020-03-01"), pd.Timestamp("2021-12-31"))
GAP_YEARS = 5
# Days either side of "exactly gap years before the latest period" a baseline may start.
BASE_TOLERANCE_DAYS = 200
NOMINAL_GDP = "gross-domestic-product-per-head-at-current-market-price"
REAL_GDP = "gross-domestic-product-per-head-in-chained-volume-measure"
NO_CLEAR = "no clear difference"
QUADRANT_LABELS = (*QUADRANTS.values(), NO_CLEAR)


@dataclass(frozen=True)
class Window:
    """The change window: each indicator's period starting in `end_year` or the year before,
    against its period starting about `gap` years earlier."""

    end_year: int
    gap: int = GAP_YEARS

    @property
    def label(self) -> str:
        """E.g. "5 years to 2022–23 (from 2017–18)": end periods start in 2022 or 2023, baselines five years before."""
        return (f"{self.gap} years to {self.end_year - 1}–{str(self.end_year)[2:]} "
                f"(from {self.end_year - self.gap - 1}–{str(self.end_year - self.gap)[2:]})")


@dataclass(frozen=True)
class Ends:
    """Per indicator: the two periods, the years between them, and how the change is measured."""

    end: list[str | None]
    base: list[str | None]
    years: np.ndarray  # (k,) NaN where the indicator has no change in the window
    log: np.ndarray  # (k,) bool: percentage (log) change
    deflate: np.ndarray  # (k,) log of the price rise between the two periods (0 if not deflated)


@dataclass(frozen=True)
class Periods:
    """An indicator's well-covered periods at a level (see query.LATEST_MIN_COVERAGE), oldest first."""

    code: np.ndarray  # str
    start: np.ndarray  # datetime64[D]
    year: np.ndarray  # int
    pandemic: np.ndarray  # bool: overlaps March 2020 – December 2021, so never a baseline


def period_table(ctx: query.Context, indicator: str, level: str) -> Periods:
    """Periods with their start dates and whether they touch the pandemic, cached per context."""
    key = ("period_table", indicator, level)
    if key not in ctx._cache:
        p = query.periods(ctx, indicator, level)
        if p.empty:
            ctx._cache[key] = Periods(np.array([], object), np.array([], "datetime64[D]"), np.array([], int),
                                      np.array([], bool))
        else:
            p = p.loc[p["areas"] >= query.LATEST_MIN_COVERAGE * p["areas"].max()]
            rows = ctx.slice(indicator, level)
            ends = rows.assign(period_code=rows["period_code"].astype(str)).groupby("period_code")["period_end"].first()
            start = pd.to_datetime(p["period_start"].astype(str))
            end = pd.to_datetime(p["period_code"].map(ends).astype(str), errors="coerce")
            ctx._cache[key] = Periods(p["period_code"].to_numpy(object), start.to_numpy().astype("datetime64[D]"),
                                      start.dt.year.to_numpy(int), overlaps_pandemic(start, end))
    return ctx._cache[key]


def overlaps_pandemic(start: pd.Series, end: pd.Series) -> np.ndarray:
    """Whether a period [start, end] overlaps March 2020 – December 2021 (end unknown → the start year)."""
    end = end.fillna(start + pd.offsets.YearEnd(0))
    return ((start <= PANDEMIC[1]) & (end >= PANDEMIC[0])).to_numpy()


def deflator(ctx: query.Context) -> pd.Series:
    """UK GDP deflator by year: GDP per head at current prices ÷ in chained volume (the snapshot's own series)."""
    key = ("deflator",)
    if key not in ctx._cache:
        try:
            nominal = query.series(ctx, query.UK, NOMINAL_GDP)
            real = query.series(ctx, query.UK, REAL_GDP)
        except Exception:  # a snapshot without the GDP series: £ changes are left out rather than guessed
            ctx._cache[key] = pd.Series(dtype=float)
        else:
            years = lambda s: pd.to_datetime(s["period_start"].astype(str)).dt.year  # noqa: E731
            n = pd.Series(nominal["value"].to_numpy(float), index=years(nominal))
            r = pd.Series(real["value"].to_numpy(float), index=years(real))
            ctx._cache[key] = (n / r).dropna().groupby(level=0).first()
    return ctx._cache[key]


def measured_as_log(cat: pd.DataFrame) -> np.ndarray:
    """£ and size-dependent (count) measures change by percentage, so rich or big places are not favoured."""
    return (cat["unit"].astype(str).str.contains("£") | (cat["aggregation"] == "count")).to_numpy()


def needs_deflating(cat: pd.DataFrame) -> np.ndarray:
    """£ at current prices: everything in £ except chained-volume (already real) series."""
    return (cat["unit"].astype(str).str.contains("£") & ~cat["id"].str.contains("chained-volume")).to_numpy()


def window_ends(ctx: query.Context, cat: pd.DataFrame, level: str, window: Window) -> Ends:
    """Each indicator's two periods in the window; an indicator without both drops out of change.

    End: the latest period starting in the window's end year or the year before (for £ at current
    prices, one with a deflator). Baseline: the period starting nearest to `gap` years before that,
    within BASE_TOLERANCE_DAYS, never one that overlaps the pandemic."""
    log, real = measured_as_log(cat), needs_deflating(cat)
    prices = deflator(ctx)
    priced = np.asarray(prices.index, int)
    k = len(cat)
    end_codes: list[str | None] = [None] * k
    base_codes: list[str | None] = [None] * k
    years = np.full(k, np.nan)
    deflate = np.zeros(k)
    tol = np.timedelta64(BASE_TOLERANCE_DAYS, "D")
    for j, ind in enumerate(cat["id"]):
        p = period_table(ctx, ind, level)
        ok = (p.year >= window.end_year - 1) & (p.year <= window.end_year)
        if real[j]:
            ok &= np.isin(p.year, priced)
        if not ok.any():
            continue
        last = np.flatnonzero(ok)[-1]
        target = (pd.Timestamp(p.start[last]) - pd.DateOffset(years=window.gap)).to_datetime64().astype("datetime64[D]")
        gap = np.abs(p.start - target)
        cand = (gap <= tol) & ~p.pandemic
        if real[j]:
            cand &= np.isin(p.year, priced)
        if not cand.any():
            continue
        base = np.flatnonzero(cand)[np.argmin(gap[cand])]
        end_codes[j], base_codes[j] = str(p.code[last]), str(p.code[base])
        years[j] = (p.start[last] - p.start[base]).astype(int) / 365.25
        if real[j]:
            deflate[j] = np.log(prices[p.year[last]] / prices[p.year[base]])
    return Ends(end_codes, base_codes, years, log, deflate)


def choose_window(ctx: query.Context, cat: pd.DataFrame, level: str, gap: int = GAP_YEARS) -> Window:
    """The latest end year at which the most scored weight has a change (ties go to the later year)."""
    key = ("window", level, tuple(cat["id"]), tuple(cat["weight"]), gap)
    if key in ctx._cache:
        return ctx._cache[key]
    best, best_cover = None, -1.0
    years = [period_table(ctx, i, level).year for i in cat["id"]]
    top = max((int(y.max()) for y in years if len(y)), default=None)
    if top is None:
        return Window(pd.Timestamp.now().year, gap)
    w = cat["weight"].to_numpy(float)
    for year in range(top, top - 6, -1):
        ends = window_ends(ctx, cat, level, Window(year, gap))
        cover = float(w[~np.isnan(ends.years)].sum())
        if cover > best_cover + 1e-9:
            best, best_cover = year, cover
    ctx._cache[key] = Window(best, gap)
    return ctx._cache[key]


def indicator_changes(end: query.Matrix, base: np.ndarray, base_lci: np.ndarray, base_uci: np.ndarray,
                      ends: Ends) -> tuple[np.ndarray, np.ndarray]:
    """Annualised change per area and indicator, and its standard error.

    Level measures: (x₁ − x₀)/years. Log measures: 100·(ln x₁ − ln x₀ − ln(P₁/P₀))/years, a % a year
    in real terms where P is the deflator. var(change) = se₁² + se₀² (independent samples), with
    se = (uci − lci)/3.92 and, on the log scale, se/x. A value without a CI contributes no variance.
    """
    x1, x0 = end.value, base
    se1 = np.nan_to_num((end.uci - end.lci) / (2 * Z95), nan=0.0)
    se0 = np.nan_to_num((base_uci - base_lci) / (2 * Z95), nan=0.0)
    years = ends.years[None, :]
    with np.errstate(all="ignore"):
        pos = (x1 > 0) & (x0 > 0)
        log_change = np.where(pos, 100 * (np.log(x1) - np.log(x0) - ends.deflate[None, :]), np.nan)
        log_se = 100 * np.sqrt((se1 / x1) ** 2 + (se0 / x0) ** 2)
        delta = np.where(ends.log[None, :], log_change, x1 - x0) / years
        se = np.where(ends.log[None, :], log_se, np.sqrt(se1 ** 2 + se0 ** 2)) / years
    return delta, np.where(np.isnan(delta), np.nan, np.abs(se))


@dataclass(frozen=True)
class Quadrants:
    economy: np.ndarray
    economy_lo: np.ndarray
    economy_hi: np.ndarray
    services: np.ndarray
    services_lo: np.ndarray
    services_hi: np.ndarray
    quadrant: np.ndarray
    probability: np.ndarray  # of the stated quadrant; for "no clear difference" of the likeliest one
    probabilities: dict[str, np.ndarray]


def standardised_changes(delta: np.ndarray, level: np.ndarray, log: np.ndarray, sign: np.ndarray,
                         reference: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Change relative to the average reference place, in units of the between-place spread of levels.

    c = s·(Δ − mean Δ)/sd(level) per year, the mean winsorised over the reference areas and the
    spread that of the latest level (of 100·ln level for log measures), so one point is "moved
    one standard deviation of the places' spread a year faster than the average place".
    Returns (c, scale, centre).
    """
    with np.errstate(all="ignore"):
        lev = np.where(log[None, :], 100 * np.log(np.where(level > 0, level, np.nan)), level)
    ones = np.ones(delta.shape[1])
    _, _, _, scale = reference_params(lev, ones, reference)
    _, _, centre, _ = reference_params(delta, ones, reference)
    with np.errstate(all="ignore"):
        c = np.asarray(sign, float) * (delta - centre) / scale
    return c, scale[0], centre[0]


def quadrants(c: np.ndarray, c_se: np.ndarray, weights: np.ndarray, pillar_of: np.ndarray, applicable: np.ndarray,
              *, family: np.ndarray | None = None, draws: int = 1000, seed: int = 20261125,
              coverage_rule: float = COVERAGE_RULE, within_concentration: float | None = 10.0,
              chunk: int = 250) -> Quadrants:
    """Economy and public-services change per place, 90% intervals and quadrant probabilities.

    Point: the weighted mean of standardised changes in each pillar, under the coverage rule
    among the indicators that have a change. Draws: each change ~ Normal(c, se) (errors of one
    family correlated, `correlated_normals`) and, unless within_concentration is None, the
    within-pillar weights from a Dirichlet (`draw_weights`), so a verdict that rests on one
    indicator's weight is not stated as clear. A place is in a quadrant only when both 90%
    intervals (5th–95th percentile) lie on one side of 0; otherwise "no clear difference".
    """
    rng = np.random.default_rng(seed)
    n, k = c.shape
    names = ("economy", "public_services")
    pidx = np.array([names.index(p) if p in names else -1 for p in pillar_of])
    changeable = applicable & ~np.isnan(c).all(axis=0)[None, :]
    w = np.asarray(weights, float)
    point = {}
    for i, p in enumerate(names):
        cols = pidx == i
        point[p], _ = pillar_scores(c[:, cols], w[cols], changeable[:, cols], coverage_rule)
    # only indicators with a change and a weight in one of the two pillars enter the draws
    keep = changeable.any(axis=0) & (w > 0) & (pidx >= 0)
    c, c_se, w, pidx, changeable = c[:, keep], c_se[:, keep], w[keep], pidx[keep], changeable[:, keep]
    k = int(keep.sum())
    se = np.where(np.isnan(c_se), 0.0, c_se)
    fam = np.full(k, -1) if family is None else np.asarray(family, int)[keep]
    onehot = (pidx[:, None] == np.arange(2)[None, :]).astype(float)
    have = ~np.isnan(c) & changeable
    c0 = np.where(have, c, 0.0)
    samples = np.full((draws, n, 2), np.nan)
    noisy = np.flatnonzero(se.any(axis=0))
    for start in range(0, draws, chunk):
        d = min(chunk, draws - start)
        x = np.repeat(c0[None], d, axis=0)
        if len(noisy):
            x[..., noisy] += correlated_normals(rng, d, n, fam[noisy]) * se[:, noisy][None]
        wd = draw_weights(rng, d, w, pidx, 2, within_concentration) if within_concentration else np.tile(w, (d, 1))
        num = (np.where(have[None], x, 0.0) * wd[:, None, :]) @ onehot
        got = (have[None] * wd[:, None, :]) @ onehot
        with np.errstate(all="ignore"):
            samples[start:start + d] = num / np.where(got > 0, got, np.nan)
    both = np.isfinite(point["economy"]) & np.isfinite(point["public_services"])
    samples[:, ~both] = np.nan
    lo, hi = nan_percentiles(samples, 5, 95)
    probs = {}
    for (pe, ps), label in QUADRANTS.items():
        hit = ((samples[..., 0] > 0) == pe) & ((samples[..., 1] > 0) == ps)
        probs[label] = np.where(both, hit.mean(axis=0), np.nan)
    clear = both & ((lo > 0) | (hi < 0)).all(axis=-1)
    label = np.full(n, None, dtype=object)
    for (pe, ps), name in QUADRANTS.items():  # a clear interval lies wholly on one side: its low end says which
        label[clear & ((lo[:, 0] > 0) == pe) & ((lo[:, 1] > 0) == ps)] = name
    label[both & ~clear] = NO_CLEAR
    stacked = np.stack([probs[q] for q in QUADRANTS.values()], axis=-1)
    prob = np.full(n, np.nan)
    for i, name in enumerate(QUADRANTS.values()):
        prob = np.where(label == name, stacked[:, i], prob)
    with np.errstate(all="ignore"):
        prob = np.where(label == NO_CLEAR, np.nanmax(np.where(both[:, None], stacked, 0.0), axis=-1), prob)
    return Quadrants(point["economy"], lo[:, 0], hi[:, 0], point["public_services"], lo[:, 1], hi[:, 1],
                     label, prob, probs)
