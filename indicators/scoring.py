"""Scoring: standardise, combine into pillars, test against benchmarks, rank with honest uncertainty.

Every method is a pure, vectorised function of arrays (areas × indicators), so it can be
checked by hand on tiny inputs; `score_places` wires them to the snapshot. Methods follow
DESIGN §4 and, where it is silent, OHID Fingertips and ONS practice (cited per function).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import math

import numpy as np
import pandas as pd

from . import query
from .catalogue import SCORED_PILLARS
from .errors import IndicatorError

Z95, Z998 = 1.959963984540054, 3.090232306167813
DEFAULT_WEIGHTS = {"economy": 0.5, "public_services": 0.5}
COVERAGE_RULE = 0.6
# Winsorising percentiles of the reference areas (the outlier rule, Methods §2).
WINSOR = (2.5, 97.5)
# Sources of uncertainty a rank interval draws over (Methods §5).
SOURCES = ("ci", "weights", "scaling", "coverage")
# Correlation between the sampling errors of indicators from one survey or construct (a family).
FAMILY_RHO = 0.5
# The coverage rule drawn uniformly from this range when the rule itself is a source of uncertainty.
COVERAGE_RANGE = (0.5, 0.7)
# Within-pillar weights: Dirichlet with α = WITHIN_CONCENTRATION × (indicators in the pillar) × weight share,
# so an indicator's weight varies by about ±30% of itself.
WITHIN_CONCENTRATION = 10.0
QUADRANTS = {
    (True, True): "good growth",
    (True, False): "growth without outcomes",
    (False, True): "outcomes without growth",
    (False, False): "neither",
}


# ---------------------------------------------------------------- standardisation

def reference_params(values: np.ndarray, sign: np.ndarray, reference: np.ndarray | None = None,
                     robust: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The reference distribution of each column: winsorising bounds, centre and spread.

    The reference areas are those that can be ranked (`reference`, default: every area with a
    value). Outlier rule (OECD/JRC Handbook §5, winsorisation): each column is clipped to its
    reference areas' 2.5th and 97.5th percentiles, taken as the nearest observed values outward
    (so fewer than 41 areas are never clipped); centre and spread come from the clipped reference
    values: mean and population SD, or median and 1.4826·MAD (robust). Works on any leading
    axes: values (..., n, k); reference (n,) or (..., n, k). Returns arrays shaped (..., 1, k).
    """
    x = np.asarray(values, dtype=float)
    ref = np.ones(x.shape[-2], bool) if reference is None else np.asarray(reference, bool)
    if ref.ndim == 1:
        ref = ref[:, None]
    xr = np.where(ref, x, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo = np.nanpercentile(xr, WINSOR[0], axis=-2, keepdims=True, method="lower")
        hi = np.nanpercentile(xr, WINSOR[1], axis=-2, keepdims=True, method="higher")
        # A bound at the reference's own extreme clips nothing there, so it clips nothing anywhere:
        # small samples are left alone, and a redrawn value may pass the published extreme.
        lo = np.where(lo <= np.nanmin(xr, axis=-2, keepdims=True), -np.inf, lo)
        hi = np.where(hi >= np.nanmax(xr, axis=-2, keepdims=True), np.inf, hi)
        clipped = np.clip(xr, lo, hi)
        if robust:
            centre = np.nanmedian(clipped, axis=-2, keepdims=True)
            spread = 1.4826 * np.nanmedian(np.abs(clipped - centre), axis=-2, keepdims=True)
        else:
            centre = np.nanmean(clipped, axis=-2, keepdims=True)
            spread = np.nanstd(clipped, axis=-2, keepdims=True)
        count = np.sum(~np.isnan(xr), axis=-2, keepdims=True)
        # "no spread" allows for rounding: [0.1, 0.1, 0.1] has an SD of ~1e-17, not 0
        flat = ~(spread > 1e-12 * np.maximum(1.0, np.abs(centre)))
        bad = (count < 2) | flat | (np.asarray(sign) == 0)
    return lo, hi, centre, np.where(bad, np.nan, spread)


def apply_params(values: np.ndarray, sign: np.ndarray, params: tuple[np.ndarray, ...]) -> np.ndarray:
    """z = s·(clip(x, lo, hi) − centre)/spread with a reference distribution's parameters."""
    lo, hi, centre, spread = params
    with np.errstate(all="ignore"):
        return np.asarray(sign, dtype=float) * (np.clip(np.asarray(values, float), lo, hi) - centre) / spread


def standardise(values: np.ndarray, sign: np.ndarray, robust: bool = False,
                reference: np.ndarray | None = None) -> np.ndarray:
    """Polarity-adjusted z-scores per column (indicator) against the reference areas.

    z = s·(x̃ − mean)/sd with s = +1 (higher is better) or −1 (lower is better), x̃ the value
    winsorised at the reference areas' 2.5th/97.5th percentiles, mean and population SD over
    the reference areas (`reference_params`). Areas outside the reference (those that cannot be
    ranked, such as the City of London) still get a z, but never move anyone else's.
    robust: s·(x̃ − median)/(1.4826·MAD), the MAD scaled to match the SD under normality.
    Columns with fewer than two reference values, no spread, or a neutral sign (0) come back
    all-NaN: they cannot be scored. In robust mode a column where half or more of the areas share
    one value has a MAD of zero and is therefore not standardised either.
    Works on any leading axes: values (..., n, k), sign (k,).
    """
    return apply_params(values, sign, reference_params(values, sign, reference, robust))


def percentile_rank(values: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """Share of areas (0–100) doing no better than this one, polarity-adjusted; NaN where no value."""
    adjusted = pd.DataFrame(np.asarray(values, dtype=float) * np.where(np.asarray(sign) == 0, np.nan, sign))
    return adjusted.rank(axis=0, pct=True, method="max").to_numpy() * 100


# ---------------------------------------------------------------- pillars

def pillar_scores(z: np.ndarray, weights: np.ndarray, applicable: np.ndarray,
                  coverage_rule: float = COVERAGE_RULE) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean of an area's standardised indicators in one pillar, and the weight coverage.

    coverage = (weight of indicators with a score) / (weight of indicators that apply to the area);
    the score is reported only where coverage ≥ the rule (default 60%, as in DESIGN §4). A NULL
    input lowers coverage; it never becomes a zero. z (..., n, k); weights (k,); applicable (n, k) bool.
    """
    w = np.where(applicable, np.asarray(weights, dtype=float), 0.0)
    have = ~np.isnan(z) & applicable
    w_have = np.where(have, w, 0.0)
    total = w.sum(axis=-1)
    got = w_have.sum(axis=-1)
    with np.errstate(all="ignore"):
        coverage = np.where(total > 0, got / total, np.nan)
        score = np.where(have, z, 0.0)
        score = (score * w_have).sum(axis=-1) / np.where(got > 0, got, np.nan)
    score = np.where((coverage >= coverage_rule - 1e-12) & (got > 0), score, np.nan)
    return score, coverage


def combine_pillars(pillars: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Overall score: the weighted mean of pillar scores; NULL if any weighted pillar is NULL."""
    used = {p: w for p, w in weights.items() if w > 0}
    total = sum(used.values())
    if total <= 0:
        raise IndicatorError("pillar weights must include at least one positive weight")
    return sum(pillars[p] * (w / total) for p, w in used.items())


# ---------------------------------------------------------------- significance

def derived_998(value: np.ndarray, lci: np.ndarray, uci: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """99.8% limits from a 95% CI assuming normality: SE = (uci − lci)/3.92, value ± 3.09·SE.

    Fingertips tests at 95% and 99.8%; where a publisher gives only a 95% CI we derive the
    99.8% interval this way and say so. Asymmetric published CIs are approximated.
    """
    se = (np.asarray(uci, float) - np.asarray(lci, float)) / (2 * Z95)
    v = np.asarray(value, float)
    return v - Z998 * se, v + Z998 * se


def significance(lci: np.ndarray, uci: np.ndarray, benchmark: np.ndarray | float, sign: np.ndarray | int
                 ) -> np.ndarray:
    """better / similar / worse than a benchmark by whether the CI excludes it; 'not tested' without a CI.

    Polarity-aware (Fingertips' comparison against a benchmark): for lower-is-better a CI wholly
    below the benchmark is better. Neutral indicators read 'higher' / 'similar' / 'lower'.
    """
    lo, hi = np.asarray(lci, float), np.asarray(uci, float)
    b = np.broadcast_to(np.asarray(benchmark, float), np.broadcast_shapes(lo.shape, np.shape(benchmark)))
    s = np.broadcast_to(np.asarray(sign), lo.shape)
    above, below = lo > b, hi < b
    out = np.full(lo.shape, "similar", dtype=object)
    out[above & (s > 0)] = "better"
    out[above & (s < 0)] = "worse"
    out[below & (s > 0)] = "worse"
    out[below & (s < 0)] = "better"
    out[above & (s == 0)] = "higher"
    out[below & (s == 0)] = "lower"
    out[np.isnan(lo) | np.isnan(hi) | np.isnan(b)] = "not tested"
    return out


# ---------------------------------------------------------------- quadrant

def quadrant(economy_change: np.ndarray, services_change: np.ndarray) -> np.ndarray:
    """good growth / growth without outcomes / outcomes without growth / neither, from the signs
    of the standardised pillar changes (above or below the average place's change)."""
    e, s = np.asarray(economy_change, float), np.asarray(services_change, float)
    out = np.full(e.shape, None, dtype=object)
    ok = ~np.isnan(e) & ~np.isnan(s)
    for (pe, ps), label in QUADRANTS.items():
        out[ok & ((e > 0) == pe) & ((s > 0) == ps)] = label
    return out


def zscore_1d(x: np.ndarray) -> np.ndarray:
    return standardise(np.asarray(x, float)[:, None], np.array([1]))[:, 0]


# ---------------------------------------------------------------- ranks

def ranks(score: np.ndarray) -> np.ndarray:
    """Rank 1 = highest score; ties share the best rank; NaN stays NaN."""
    return pd.Series(score).rank(ascending=False, method="min").to_numpy()


def rankable(value: np.ndarray, sign: np.ndarray, weights: np.ndarray, pillar_index: np.ndarray,
             applicable: np.ndarray, pillar_weights: np.ndarray, coverage_rule: float = COVERAGE_RULE,
             robust: bool = False) -> np.ndarray:
    """Areas that get an overall score: every positively weighted pillar meets the coverage rule.

    Coverage depends only on which values exist, not on what they are, so this is known before
    standardising; these areas form the reference distribution of every indicator.
    """
    x = np.asarray(value, float)
    scorable = ~np.isnan(reference_params(x, sign, robust=robust)[3][0])
    have = ~np.isnan(x) & applicable & scorable[None, :]
    ok = np.ones(x.shape[0], bool)
    for p, pw in enumerate(pillar_weights):
        if pw <= 0:
            continue
        cols = pillar_index == p
        w = np.where(applicable[:, cols], np.asarray(weights, float)[cols], 0.0)
        total, got = w.sum(axis=1), np.where(have[:, cols], w, 0.0).sum(axis=1)
        with np.errstate(all="ignore"):
            ok &= (got > 0) & (got / np.where(total > 0, total, np.nan) >= coverage_rule - 1e-12)
    return ok


def correlated_normals(rng: np.random.Generator, d: int, n: int, family: np.ndarray | None,
                       rho: float = FAMILY_RHO) -> np.ndarray:
    """Standard normal draws (d, n, k) whose columns in one family correlate at ρ within an area.

    ε = √ρ·g_family + √(1−ρ)·u: one shared normal per family per area per draw, mixed with
    independent noise. Columns with family −1 are independent.
    """
    fam = np.asarray(family, int)
    k = len(fam)
    u = rng.standard_normal((d, n, k))
    if (fam >= 0).any():
        codes, inv = np.unique(fam[fam >= 0], return_inverse=True)
        g = rng.standard_normal((d, n, len(codes)))
        shared = np.zeros((d, n, k))
        shared[..., fam >= 0] = g[..., inv]
        u = np.where(fam >= 0, np.sqrt(rho) * shared + np.sqrt(1 - rho) * u, u)
    return u


def draw_weights(rng: np.random.Generator, d: int, weights: np.ndarray, pillar_index: np.ndarray, n_pillars: int,
                 concentration: float = WITHIN_CONCENTRATION) -> np.ndarray:
    """Within-pillar indicator weights (d, k) from a Dirichlet centred on the nominal weights.

    α = concentration × (weighted indicators in the pillar) × nominal share; each pillar keeps its
    total, indicators of weight 0 stay at 0. Follows the weights step of the OECD/JRC uncertainty
    analysis (Handbook §6; Saisana, Saltelli & Tarantola 2005).
    """
    w = np.asarray(weights, float)
    out = np.tile(w, (d, 1))
    for p in range(n_pillars):
        cols = np.flatnonzero((pillar_index == p) & (w > 0))
        if len(cols) < 2:
            continue
        share = w[cols] / w[cols].sum()
        out[:, cols] = rng.dirichlet(concentration * len(cols) * share, size=d) * w[cols].sum()
    return out


def group_min_rank(score: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Rank (1 = highest) within each group along the last axis; NaN scores stay NaN and rank nobody.
    score (..., n); group (n,) labels."""
    s = np.asarray(score, float)
    codes, g = np.unique(np.asarray(group).ravel(), return_inverse=True)
    g = g.reshape(-1)
    span = np.nanmax(np.abs(s)) if np.isfinite(s).any() else 1.0
    span = max(float(span), 1.0) * 4
    # Order by (group, −score): each group occupies its own band of width 4·span, NaN at the band's end.
    key = g * span + np.where(np.isnan(s), span * 0.75, np.clip(-s, -span / 4, span / 4) + span * 0.25)
    r = min_rank(key)
    before = np.cumsum(np.r_[0, np.bincount(g, minlength=len(codes))])[:-1][g]
    return np.where(np.isnan(s), np.nan, r - before)


def rank_draws(value: np.ndarray, lci: np.ndarray, uci: np.ndarray, sign: np.ndarray, weights: np.ndarray,
               pillar_index: np.ndarray, applicable: np.ndarray, pillar_weights: np.ndarray, *,
               draws: int = 1000, seed: int = 20261125, concentration: float = 100.0, robust: bool = False,
               coverage_rule: float = COVERAGE_RULE, sources: tuple[str, ...] = SOURCES,
               family: np.ndarray | None = None, group: np.ndarray | None = None,
               reference: np.ndarray | None = None, rho: float = FAMILY_RHO,
               within_concentration: float = WITHIN_CONCENTRATION, chunk: int = 125) -> np.ndarray:
    """Each area's rank (1 = best, within its group) in each of `draws` re-scorings: (draws, n).

    Each draw varies the sources named in `sources` (OECD/JRC Handbook §6, uncertainty analysis):
      "ci"       values redrawn within their 95% CIs, x ~ Normal(value, (uci − lci)/3.92), errors of one
                 family (same survey or construct) correlated at ρ; values without a CI stay fixed;
      "weights"  pillar weights ~ Dirichlet(concentration·w) and within-pillar weights (`draw_weights`);
      "scaling"  mean/SD or median/MAD standardisation, each with probability ½;
      "coverage" the coverage rule ~ Uniform(50%, 70%): areas near the rule drop in and out.
    The reference distribution's parameters (winsorising bounds, centre, spread) come from the
    published values of the reference areas, so a draw moves areas, not the yardstick. An area not
    scored in a draw has NaN there. Vectorised over chunks of draws; no loop over areas.
    """
    rng = np.random.default_rng(seed)
    value = np.asarray(value, float)
    n, k = value.shape
    sign = np.asarray(sign)
    pillar_index = np.asarray(pillar_index)
    P = len(pillar_weights)
    base_w = np.asarray(pillar_weights, float)
    active = base_w > 0
    se = np.nan_to_num((np.asarray(uci, float) - np.asarray(lci, float)) / (2 * Z95), nan=0.0)
    se = np.where((se > 0) & ~np.isnan(value) & ("ci" in sources), se, 0.0)
    fam = np.full(k, -1) if family is None else np.asarray(family, int)
    grp = np.zeros(n, int) if group is None else np.asarray(group)
    ref = rankable(value, sign, weights, pillar_index, applicable, base_w, coverage_rule, robust) \
        if reference is None else np.asarray(reference, bool)
    methods = [reference_params(value, sign, ref, robust=False), reference_params(value, sign, ref, robust=True)]
    params = [np.stack([m[i][0] for m in methods]) for i in range(4)]  # each (2, k)
    onehot = (pillar_index[:, None] == np.arange(P)[None, :]).astype(float)  # (k, P)
    app_w = applicable.astype(float)
    out = np.full((draws, n), np.nan)
    for start in range(0, draws, chunk):
        d = min(chunk, draws - start)
        x = value[None] + correlated_normals(rng, d, n, fam, rho) * se[None] if se.any() else value[None]
        if "scaling" in sources:
            m = (rng.random(d) < 0.5).astype(int)
        else:
            m = np.full(d, int(robust))
        lo, hi, centre, spread = (p[m][:, None, :] for p in params)  # (d, 1, k)
        with np.errstate(all="ignore"):
            z = sign * (np.clip(x, lo, hi) - centre) / spread
        have = ~np.isnan(z) & applicable[None]
        z = np.where(have, z, 0.0)
        if "weights" in sources:
            w = draw_weights(rng, d, weights, pillar_index, P, within_concentration)
            pw = np.zeros((d, P))
            pw[:, active] = rng.dirichlet(concentration * base_w[active] / base_w[active].sum(), size=d)
        else:
            w = np.tile(np.asarray(weights, float), (d, 1))
            pw = np.tile(np.where(active, base_w / base_w[active].sum(), 0.0), (d, 1))
        W = w[:, :, None] * onehot[None]  # (d, k, P)
        num = np.einsum("dnk,dkp->dnp", z, W)
        got = np.einsum("dnk,dkp->dnp", have.astype(float), W)
        total = np.einsum("nk,dkp->dnp", app_w, W)
        with np.errstate(all="ignore"):
            pill = num / np.where(got > 0, got, np.nan)
            cov = got / np.where(total > 0, total, np.nan)
        rule = rng.uniform(*COVERAGE_RANGE, size=d) if "coverage" in sources else np.full(d, coverage_rule)
        ok = ((cov >= rule[:, None, None] - 1e-12) & (got > 0))[..., active].all(axis=-1)
        overall = np.einsum("dnp,dp->dn", np.nan_to_num(pill[..., active]), pw[:, active])
        overall[~ok] = np.nan
        out[start:start + d] = group_min_rank(overall, grp)
    return out


def rank_intervals(value: np.ndarray, lci: np.ndarray, uci: np.ndarray, sign: np.ndarray, weights: np.ndarray,
                   pillar_index: np.ndarray, applicable: np.ndarray, pillar_weights: np.ndarray, *,
                   draws: int = 1000, seed: int = 20261125, concentration: float = 100.0, robust: bool = False,
                   coverage_rule: float = COVERAGE_RULE, sources: tuple[str, ...] = SOURCES,
                   family: np.ndarray | None = None, group: np.ndarray | None = None,
                   reference: np.ndarray | None = None, chunk: int = 125) -> tuple[np.ndarray, np.ndarray]:
    """90% rank interval: the 5th and 95th percentile of each area's rank over `rank_draws`.

    Returns (rank_5th, rank_95th) per area, NaN where the area has no overall score under the
    published coverage rule. pillar_index (k,) gives each indicator's pillar column in
    pillar_weights (P,), or −1 for unscored indicators.
    """
    r = rank_draws(value, lci, uci, sign, weights, pillar_index, applicable, pillar_weights, draws=draws, seed=seed,
                   concentration=concentration, robust=robust, coverage_rule=coverage_rule, sources=sources,
                   family=family, group=group, reference=reference, chunk=chunk)
    valid = rankable(value, sign, weights, pillar_index, applicable, np.asarray(pillar_weights, float), coverage_rule,
                     robust) if reference is None else np.asarray(reference, bool)
    return interval_of(r, valid)


def interval_of(rank_samples: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """5th and 95th percentile of ranks over draws (a 90% interval), NaN for areas not `valid`."""
    n = rank_samples.shape[1]
    lo, hi = np.full(n, np.nan), np.full(n, np.nan)
    seen = valid & ~np.isnan(rank_samples).all(axis=0)
    if seen.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lo[seen] = np.nanpercentile(rank_samples[:, seen], 5, axis=0, method="lower")
            hi[seen] = np.nanpercentile(rank_samples[:, seen], 95, axis=0, method="higher")
    return lo, hi


def prob_ranks_above(rank_samples: np.ndarray, a: int | np.ndarray, b: int | np.ndarray) -> np.ndarray:
    """Probability that area a ranks above (better than) area b, over the draws where both are ranked.

    Ties count half. This, not whether two rank intervals overlap, is how two places are told
    apart: intervals can overlap while one place is ahead in 95% of draws.
    """
    ra, rb = rank_samples[:, a], rank_samples[:, b]
    both = ~np.isnan(ra) & ~np.isnan(rb)
    with np.errstate(all="ignore"):
        wins = np.where(both, (ra < rb) + 0.5 * (ra == rb), 0.0).sum(axis=0)
        return wins / np.where(both.sum(axis=0) > 0, both.sum(axis=0), np.nan)


def min_rank(a: np.ndarray) -> np.ndarray:
    """1-based ranks along the last axis, ties sharing the lowest rank (scipy's rankdata
    method="min", for arrays without NaN). Why not scipy: importing scipy.stats costs the server
    about 70 MB, and the landing page needs nothing else from it."""
    a = np.asarray(a, float)
    order = np.argsort(a, axis=-1, kind="stable")
    ordered = np.take_along_axis(a, order, axis=-1)
    position = np.broadcast_to(np.arange(a.shape[-1]), a.shape)
    starts = np.ones(a.shape, bool)
    starts[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    first = np.maximum.accumulate(np.where(starts, position, 0), axis=-1)
    ranks = np.empty(a.shape, float)
    np.put_along_axis(ranks, order, first + 1.0, axis=-1)
    return ranks


def indicator_rank_intervals(value: np.ndarray, lci: np.ndarray, uci: np.ndarray, sign: int, *, draws: int = 1000,
                             seed: int = 20261125) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank (1 = best) of each area on one indicator, with the 5th–95th percentile rank over draws
    of values within their 95% CIs (values without a CI held fixed). Neutral indicators rank
    highest first. The interval is widened to include the point rank, as for composite scores."""
    v = np.asarray(value, float)
    s = sign or 1
    ok = ~np.isnan(v)
    point = np.full(v.shape, np.nan)
    lo, hi = point.copy(), point.copy()
    if not ok.any():
        return point, lo, hi
    point[ok] = min_rank(-s * v[ok])
    se = np.nan_to_num((np.asarray(uci, float) - np.asarray(lci, float)) / (2 * Z95), nan=0.0)[ok]
    rng = np.random.default_rng(seed)
    x = v[ok][None, :] + rng.standard_normal((draws, int(ok.sum()))) * np.clip(se, 0, None)[None, :]
    r = min_rank(-s * x)
    lo[ok] = np.fmin(np.percentile(r, 5, axis=0, method="lower"), point[ok])
    hi[ok] = np.fmax(np.percentile(r, 95, axis=0, method="higher"), point[ok])
    return point, lo, hi


# ---------------------------------------------------------------- the whole picture

@dataclass(frozen=True)
class Options:
    level: str = "ltla"
    period: query.Period = "latest"
    weights: tuple[tuple[str, float], ...] = tuple(DEFAULT_WEIGHTS.items())
    robust: bool = False
    benchmark: str = query.ENGLAND
    baseline_gap_years: int = 5
    draws: int = 1000
    seed: int = 20261125
    coverage_rule: float = COVERAGE_RULE

    @property
    def weight_map(self) -> dict[str, float]:
        return dict(self.weights)


def parse_weights(text: str | None) -> dict[str, float]:
    """'economy=0.5,public_services=0.5' → dict, checked against the scored pillars."""
    if not text:
        return dict(DEFAULT_WEIGHTS)
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, raw = part.partition("=")
        name = name.strip()
        if name not in SCORED_PILLARS:
            raise IndicatorError(f"unknown pillar '{name}' in weights; use {', '.join(SCORED_PILLARS)}")
        try:
            out[name] = float(raw)
        except ValueError as exc:
            raise IndicatorError(f"weight for {name} is not a number: {raw!r}") from exc
        if not math.isfinite(out[name]):
            raise IndicatorError(f"weight for {name} must be a finite number, not {raw.strip()!r}")
        if out[name] < 0:
            raise IndicatorError(f"weight for {name} is negative")
    if sum(out.values()) <= 0:
        raise IndicatorError("weights must include at least one positive weight")
    return out


def _applicable(areas: pd.Index, nations: list[list[str]], has_data: np.ndarray) -> np.ndarray:
    """Whether each indicator applies to each area: its nation is comparable and the level has data."""
    area_nation = np.array([query.nation_of(a) or "" for a in areas])
    allowed = np.array([[a in ns for ns in nations] for a in np.unique(area_nation)])
    lookup = {nat: i for i, nat in enumerate(np.unique(area_nation))}
    return allowed[[lookup[a] for a in area_nation]] & has_data[None, :]


def baseline_periods(ctx: query.Context, ids: list[str], level: str, latest_codes: list[str | None],
                     gap_years: int) -> list[str | None]:
    """For each indicator, the period about `gap_years` before its latest (or the earliest ≥ 2 years before)."""
    out: list[str | None] = []
    for ind, latest in zip(ids, latest_codes):
        p = query.periods(ctx, ind, level)
        if latest is None or p.empty:
            out.append(None)
            continue
        well = p.loc[p["areas"] >= query.LATEST_MIN_COVERAGE * p["areas"].max()]
        start_year = pd.to_datetime(well["period_start"].astype(str)).dt.year.to_numpy()
        latest_year = int(pd.to_datetime(str(p.loc[p["period_code"] == latest, "period_start"].iloc[0])).year)
        target = latest_year - gap_years
        candidates = well.loc[start_year <= target]
        if len(candidates):
            out.append(str(candidates["period_code"].iloc[-1]))
        else:
            earliest = well.loc[start_year <= latest_year - 2]
            out.append(str(earliest["period_code"].iloc[0]) if len(earliest) else None)
    return out


def score_places(ctx: query.Context, options: Options = Options()) -> pd.DataFrame:
    """One row per area of the level: pillar scores and coverage, overall score, rank with its
    5–95% interval, standardised pillar changes since the baseline and the good-growth quadrant."""
    level = query.require_level(options.level)
    weights = options.weight_map
    cat = ctx.cat
    scored = cat.loc[cat["scored"]]
    ids = scored["id"].tolist()
    latest = query.matrix(ctx, level, options.period, ids)
    if latest.value.size == 0 or np.isnan(latest.value).all():
        raise IndicatorError(f"no scored indicator has data at level '{level}'")
    sign = scored["sign"].to_numpy()
    w_ind = scored["weight"].to_numpy(dtype=float)
    nations = [n.split(",") for n in scored["nations"]]
    has_data = ~np.isnan(latest.value).all(axis=0)
    applicable = _applicable(latest.areas, nations, has_data)
    comparable = applicable  # values outside an indicator's comparable nations are not standardised with it
    value = np.where(comparable, latest.value, np.nan)
    z = standardise(value, sign, robust=options.robust)

    pillar_names = list(SCORED_PILLARS)
    pillar_of = scored["pillar"].to_numpy()
    pillar_index = np.array([pillar_names.index(p) for p in pillar_of])
    out = pd.DataFrame({"areacd": latest.areas, "areanm": [str(ctx.names.get(a, a)) for a in latest.areas]})
    pillars: dict[str, np.ndarray] = {}
    for p in pillar_names:
        cols = pillar_of == p
        pillars[p], coverage = pillar_scores(z[:, cols], w_ind[cols], applicable[:, cols], options.coverage_rule)
        out[p] = pillars[p]
        out[f"{p}_coverage"] = coverage
    out["overall"] = combine_pillars(pillars, weights)
    out["rank"] = ranks(out["overall"].to_numpy())
    pillar_weights = np.array([weights.get(p, 0.0) for p in pillar_names])
    lo, hi = rank_intervals(value, np.where(comparable, latest.lci, np.nan), np.where(comparable, latest.uci, np.nan),
                            sign, w_ind, pillar_index, applicable, pillar_weights, draws=options.draws,
                            seed=options.seed, robust=options.robust, coverage_rule=options.coverage_rule)
    point = out["rank"].to_numpy()
    out["rank_lo"] = np.fmin(lo, point)  # the interval always shows the point rank (see Methods)
    out["rank_hi"] = np.fmax(hi, point)
    out["areas_ranked"] = int(np.sum(~np.isnan(point)))

    bench = np.array([query.value_at(ctx, ind, options.benchmark, code) if code else None
                      for ind, code in zip(ids, latest.period_code)], dtype=float)
    sig = significance(np.where(comparable, latest.lci, np.nan), np.where(comparable, latest.uci, np.nan),
                       bench[None, :], sign[None, :])
    out["better_than_benchmark"] = (sig == "better").sum(axis=1)
    out["similar_to_benchmark"] = (sig == "similar").sum(axis=1)
    out["worse_than_benchmark"] = (sig == "worse").sum(axis=1)
    out["benchmark"] = options.benchmark

    base_codes = baseline_periods(ctx, ids, level, latest.period_code, options.baseline_gap_years)
    changes = _pillar_changes(ctx, level, ids, latest, base_codes, sign, w_ind, pillar_of, applicable, options)
    for p in ("economy", "public_services"):
        out[f"{p}_change"] = changes[p]
    out["quadrant"] = quadrant(changes["economy"], changes["public_services"])
    out["periods_latest"] = _period_span(ctx, ids, level, latest.period_code, ~np.isnan(value))
    out["periods_baseline"] = _period_span(ctx, ids, level, base_codes, ~np.isnan(value))
    return out.loc[out[[*pillar_names]].notna().any(axis=1)].sort_values(["rank", "areacd"]).reset_index(drop=True)


def _period_span(ctx: query.Context, ids: list[str], level: str, codes: list[str | None],
                 used: np.ndarray) -> list[str]:
    """Per area, the earliest and latest of the periods its scores draw on, by date."""
    info = []
    for ind, code in zip(ids, codes):
        p = query.periods(ctx, ind, level)
        hit = p.loc[p["period_code"] == code] if code else p.iloc[0:0]
        info.append((str(hit["period_start"].iloc[0]), str(hit["period_label"].iloc[0])) if len(hit) else None)
    spans = []
    for row in used:
        present = sorted({info[j] for j in np.flatnonzero(row) if info[j] is not None})
        if not present:
            spans.append("")
        elif present[0] == present[-1]:
            spans.append(present[0][1])
        else:
            spans.append(f"{present[0][1]} to {present[-1][1]}")
    return spans


def _pillar_changes(ctx: query.Context, level: str, ids: list[str], latest: query.Matrix,
                    base_codes: list[str | None], sign: np.ndarray, w_ind: np.ndarray, pillar_of: np.ndarray,
                    applicable: np.ndarray, options: Options) -> dict[str, np.ndarray]:
    """Standardised change in each pillar between each indicator's baseline and latest period."""
    base = np.full_like(latest.value, np.nan)
    for j, (ind, code) in enumerate(zip(ids, base_codes)):
        if code is None or code == latest.period_code[j]:
            continue
        col = query.matrix(ctx, level, code, [ind], list(latest.areas))
        base[:, j] = col.value[:, 0]
    delta = np.where(applicable, latest.value - base, np.nan)
    z = standardise(delta, sign, robust=options.robust)
    # Only indicators with a baseline can show change; coverage is judged among those.
    changeable = applicable & ~np.isnan(z).all(axis=0)[None, :]
    out = {}
    for p in ("economy", "public_services"):
        cols = pillar_of == p
        score, _ = pillar_scores(z[:, cols], w_ind[cols], changeable[:, cols], options.coverage_rule)
        out[p] = zscore_1d(score)
    return out

