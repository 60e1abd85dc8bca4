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
        # A column without reference values has no bounds (NaN would poison any arithmetic downstream).
        lo = np.where(np.isnan(lo) | (lo <= np.nanmin(xr, axis=-2, keepdims=True)), -np.inf, lo)
        hi = np.where(np.isnan(hi) | (hi >= np.nanmax(xr, axis=-2, keepdims=True)), np.inf, hi)
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
# The comparison with a benchmark and its confidence limits live in `significance`; re-exported
# here because scoring has always been where callers find them.
from .significance import derived_998, significance  # noqa: E402,F401


# ---------------------------------------------------------------- ranks

def ranks(score: np.ndarray) -> np.ndarray:
    """Rank 1 = highest score; ties share the best rank; NaN stays NaN."""
    return pd.Series(score).rank(ascending=False, method="min").to_numpy()


def rankable(value: np.ndarray, sign: np.ndarray, weights: np.ndarray, pillar_index: np.ndarray,
             applicable: np.ndarray, pillar_weights: np.ndarray, coverage_rule: float = COVERAGE_RULE,
             robust: bool = False) -> np.ndarray:
    """Areas that get an overall score: every positively weighted pillar meets the coverage rule.

    Coverage depends only on which values exist, not on what they are, so this is known before
    standardising; these areas form the reference distribution of every indicator. An indicator
    counts only if it can be standardised among them (two values with some spread), which can in
    turn change who is rankable: repeated until the set is stable (in practice once or twice).
    """
    x = np.asarray(value, float)
    ref = np.ones(x.shape[0], bool)
    for _ in range(10):
        scorable = ~np.isnan(reference_params(x, sign, ref, robust=robust)[3][0])
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
        if (ok == ref).all():
            break
        ref = ok
    return ok


def correlated_normals(rng: np.random.Generator, d: int, n: int, family: np.ndarray | None,
                       rho: float = FAMILY_RHO) -> np.ndarray:
    """Standard normal draws (d, n, k) whose columns in one family correlate at ρ within an area.

    ε = √ρ·g_family + √(1−ρ)·u: one shared normal per family per area per draw, mixed with
    independent noise. Columns with family −1 are independent. Single precision: these are
    perturbations of published values, and halving the memory traffic halves the time.
    """
    fam = np.asarray(family, int)
    k = len(fam)
    u = rng.standard_normal((d, n, k), dtype=np.float32)
    if (fam >= 0).any():
        codes, inv = np.unique(fam[fam >= 0], return_inverse=True)
        g = rng.standard_normal((d, n, len(codes)), dtype=np.float32)
        cols = np.flatnonzero(fam >= 0)
        u[..., cols] = np.float32(np.sqrt(rho)) * g[..., inv] + np.float32(np.sqrt(1 - rho)) * u[..., cols]
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
    P = len(pillar_weights)
    # Indicators of weight 0 or in an unweighted pillar move no score and no coverage: leave them out.
    pillar_index = np.asarray(pillar_index)
    used = (np.asarray(weights, float) > 0) & (pillar_index >= 0)
    used[used] &= np.asarray(pillar_weights, float)[pillar_index[used]] > 0
    if reference is None:
        reference = rankable(value, sign, weights, pillar_index, applicable, np.asarray(pillar_weights, float),
                             coverage_rule, robust)
    value, lci, uci, sign = value[:, used], np.asarray(lci, float)[:, used], np.asarray(uci, float)[:, used], \
        np.asarray(sign)[used]
    weights, pillar_index, applicable = np.asarray(weights, float)[used], pillar_index[used], applicable[:, used]
    family = None if family is None else np.asarray(family, int)[used]
    k = int(used.sum())
    base_w = np.asarray(pillar_weights, float)
    active = base_w > 0
    se = np.nan_to_num((np.asarray(uci, float) - np.asarray(lci, float)) / (2 * Z95), nan=0.0)
    se = np.where((se > 0) & ~np.isnan(value) & ("ci" in sources), se, 0.0)
    fam = np.full(k, -1) if family is None else np.asarray(family, int)
    grp = np.zeros(n, int) if group is None else np.asarray(group)
    ref = np.asarray(reference, bool)
    # Per scaling method (0 mean/SD, 1 median/MAD): z = a·clip(x, lo, hi) + b, and the areas it applies to.
    # A missing value is filled with the centre, so its z is 0 and the weight arithmetic needs no mask.
    a_m, b_m, lo_m, hi_m, base_m, have_m = [], [], [], [], [], []
    for robust_m in (False, True):
        lo, hi, centre, spread = (p[0] for p in reference_params(value, sign, ref, robust=robust_m))
        ok = ~np.isnan(spread)
        with np.errstate(all="ignore"):
            a = np.where(ok, sign / spread, 0.0)
        a_m.append(a)
        b_m.append(np.where(ok, -a * centre, 0.0))
        lo_m.append(lo)
        hi_m.append(hi)
        base_m.append(np.where(np.isnan(value), np.where(ok, centre, 0.0)[None, :], value))
        have_m.append(~np.isnan(value) & applicable & ok[None, :])
    a_m, b_m, lo_m, hi_m = (np.stack(v).astype(np.float32) for v in (a_m, b_m, lo_m, hi_m))
    base_m = np.stack(base_m).astype(np.float32)
    have_m = np.stack(have_m)
    onehot = (pillar_index[:, None] == np.arange(P)[None, :]).astype(float)  # (k, P)
    # (k, n·P) matrices, so the weight each area has per pillar is one BLAS product with the drawn weights
    have_p = [(h[..., None] * onehot).transpose(1, 0, 2).reshape(k, n * P) for h in have_m]
    app_p = (applicable[..., None] * onehot).transpose(1, 0, 2).reshape(k, n * P)
    noisy = np.flatnonzero(se.any(axis=0))  # only columns with a CI somewhere are redrawn
    se_noisy = se[:, noisy].astype(np.float32)
    out = np.full((draws, n), np.nan)
    for start in range(0, draws, chunk):
        d = min(chunk, draws - start)
        m = (rng.random(d) < 0.5).astype(int) if "scaling" in sources else np.full(d, int(robust))
        x = base_m[m]  # (d, n, k) float32, a copy
        if len(noisy):
            x[..., noisy] += correlated_normals(rng, d, n, fam[noisy], rho) * se_noisy[None]
        np.clip(x, lo_m[m][:, None, :], hi_m[m][:, None, :], out=x)
        x *= a_m[m][:, None, :]
        x += b_m[m][:, None, :]  # x is now z, 0 where the area has no value
        if "weights" in sources:
            w = draw_weights(rng, d, weights, pillar_index, P, within_concentration)
            pw = np.zeros((d, P))
            pw[:, active] = rng.dirichlet(concentration * base_w[active] / base_w[active].sum(), size=d)
        else:
            w = np.tile(np.asarray(weights, float), (d, 1))
            pw = np.tile(np.where(active, base_w / base_w[active].sum(), 0.0), (d, 1))
        W = (w[:, :, None] * onehot[None]).astype(np.float32)  # (d, k, P)
        num = np.matmul(x, W)  # batched (n, k) @ (k, P): the weighted sums of z per pillar
        got = np.empty((d, n, P))
        for method in (0, 1):  # weight each area has, per pillar, under each method's scorable columns
            sel = m == method
            if sel.any():
                got[sel] = (w[sel] @ have_p[method]).reshape(-1, n, P)
        total = (w @ app_p).reshape(d, n, P)
        with np.errstate(all="ignore"):
            pill = num / np.where(got > 0, got, np.nan)
            cov = got / np.where(total > 0, total, np.nan)
        rule = rng.uniform(*COVERAGE_RANGE, size=d) if "coverage" in sources else np.full(d, coverage_rule)
        # Only reference areas are ranked: a stricter rule drops places near it, a laxer one adds none
        # (a place below the published rule has no place in the reference distribution).
        ok = ((cov >= rule[:, None, None] - 1e-12) & (got > 0))[..., active].all(axis=-1) & ref[None, :]
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
    lo, hi = nan_percentiles(rank_samples, 5, 95)
    return np.where(valid, lo, np.nan), np.where(valid, hi, np.nan)


def nan_percentiles(samples: np.ndarray, q_lo: float, q_hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower q_lo and upper q_hi percentiles along axis 0 ignoring NaN, taken outward as observed
    values (numpy's "lower" / "higher"). One sort instead of np.nanpercentile's loop per column."""
    s = np.sort(samples, axis=0)  # NaN sorts last
    count = (~np.isnan(samples)).sum(axis=0)
    last = np.maximum(count - 1, 0)
    i_lo = np.floor(q_lo / 100 * last + 1e-9).astype(int)
    i_hi = np.ceil(q_hi / 100 * last - 1e-9).astype(int)
    lo = np.take_along_axis(s, i_lo[None], axis=0)[0]
    hi = np.take_along_axis(s, i_hi[None], axis=0)[0]
    return np.where(count > 0, lo, np.nan), np.where(count > 0, hi, np.nan)


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

NATION_NAMES = {"E": "England", "N": "Northern Ireland", "S": "Scotland", "W": "Wales"}
UK_NATIONS = frozenset(NATION_NAMES)


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
    drop: tuple[str, ...] = ()
    scope: str = "nation"  # "nation": rank within each nation; "uk": UK-comparable indicators only, one table
    change_end_year: int | None = None  # None: the year at which most scored weight has a change

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


def parse_drop(text: str | None) -> tuple[str, ...]:
    """'id1,id2' → ('id1', 'id2'); blanks ignored (checked against the catalogue by `scored_catalogue`)."""
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def _applicable(areas: pd.Index, nations: list[list[str]], has_data: np.ndarray) -> np.ndarray:
    """Whether each indicator applies to each area: its nation is comparable and the level has data."""
    area_nation = np.array([query.nation_of(a) or "" for a in areas])
    allowed = np.array([[a in ns for ns in nations] for a in np.unique(area_nation)])
    lookup = {nat: i for i, nat in enumerate(np.unique(area_nation))}
    return allowed[[lookup[a] for a in area_nation]] & has_data[None, :]


def family_codes(cat: pd.DataFrame) -> np.ndarray:
    """An integer per family of overlapping measures (same survey or construct), −1 for none.

    Reads the catalogue's `family` column where it exists; without it every indicator stands alone."""
    fam = cat["family"] if "family" in cat.columns else pd.Series([None] * len(cat), index=cat.index)
    fam = fam.where(fam.notna() & (fam.astype(str) != ""), None)
    codes = pd.factorize(fam, use_na_sentinel=True)[0]
    return np.asarray(codes, int)


def scored_catalogue(ctx: query.Context, options: Options) -> pd.DataFrame:
    """The indicators that score places under these options: the catalogue's scored ones, less any
    dropped, and, for a UK-wide table, only those comparable across all four nations."""
    cat = ctx.cat
    if options.baseline_gap_years < 1:
        raise IndicatorError(f"the change window must span at least 1 year, not {options.baseline_gap_years}")
    if options.draws < 20:
        raise IndicatorError(f"at least 20 draws are needed for a 90% interval, not {options.draws}")
    unknown = [i for i in options.drop if i not in set(cat["id"])]
    if unknown:
        raise IndicatorError(f"cannot drop unknown indicator(s): {', '.join(unknown)} (see `python -m indicators "
                             "catalogue` for ids)")
    if options.scope not in ("nation", "uk"):
        raise IndicatorError(f"unknown rank scope '{options.scope}'; use 'nation' or 'uk'")
    scored = cat.loc[cat["scored"].astype(bool) & ~cat["id"].isin(options.drop)]
    if options.scope == "uk":
        scored = scored.loc[[UK_NATIONS <= set(n.split(",")) for n in scored["nations"]]]
    if scored.empty:
        raise IndicatorError("no scored indicator is left to score with")
    return scored


@dataclass(frozen=True)
class PointScores:
    """Everything the point scoring of one level knows, shared by score_places and weights_table."""

    cat: pd.DataFrame
    latest: query.Matrix
    value: np.ndarray
    applicable: np.ndarray
    sign: np.ndarray
    weights: np.ndarray
    pillar_index: np.ndarray
    pillar_weights: np.ndarray
    reference: np.ndarray
    z: np.ndarray
    pillars: dict[str, np.ndarray]
    coverage: dict[str, np.ndarray]


def point_scores(ctx: query.Context, options: Options) -> PointScores:
    """Standardise against the rankable areas and combine into pillar and overall scores."""
    level = query.require_level(options.level)
    scored = scored_catalogue(ctx, options)
    ids = scored["id"].tolist()
    latest = query.matrix(ctx, level, options.period, ids)
    if latest.value.size == 0 or np.isnan(latest.value).all():
        raise IndicatorError(f"no scored indicator has data at level '{level}'")
    sign = scored["sign"].to_numpy()
    w_ind = scored["weight"].to_numpy(dtype=float)
    nations = [n.split(",") for n in scored["nations"]]
    has_data = ~np.isnan(latest.value).all(axis=0)
    applicable = _applicable(latest.areas, nations, has_data)
    value = np.where(applicable, latest.value, np.nan)  # outside its comparable nations a value is not used
    pillar_names = list(SCORED_PILLARS)
    pillar_index = np.array([pillar_names.index(p) for p in scored["pillar"]])
    weights = options.weight_map
    pillar_weights = np.array([weights.get(p, 0.0) for p in pillar_names])
    reference = rankable(value, sign, w_ind, pillar_index, applicable, pillar_weights, options.coverage_rule,
                         options.robust)
    z = standardise(value, sign, robust=options.robust, reference=reference)
    pillars, coverage = {}, {}
    for i, p in enumerate(pillar_names):
        cols = pillar_index == i
        pillars[p], coverage[p] = pillar_scores(z[:, cols], w_ind[cols], applicable[:, cols], options.coverage_rule)
    return PointScores(scored, latest, value, applicable, sign, w_ind, pillar_index, pillar_weights, reference, z,
                       pillars, coverage)


def effective_weights(z: np.ndarray, pillar: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each indicator's share of its pillar's variance: corr(zᵢ, pillar)² normalised to sum to 1.

    Paruolo, Saisana & Saltelli (2013), "Ratings and rankings: voodoo or science?": a nominal weight
    is not an indicator's importance; the squared correlation with the composite is its main
    effect. Over `rows` (the ranked areas), pairwise complete; NaN where an indicator has < 3 areas.
    """
    zz, pp = z[rows], pillar[rows][:, None]
    ok = ~np.isnan(zz) & ~np.isnan(pp)
    cnt = ok.sum(axis=0)
    with np.errstate(all="ignore"):
        zm = np.where(ok, zz, 0).sum(axis=0) / cnt
        pm = np.where(ok, pp, 0).sum(axis=0) / cnt
        dz, dp = np.where(ok, zz - zm, 0), np.where(ok, pp - pm, 0)
        r = (dz * dp).sum(axis=0) / np.sqrt((dz ** 2).sum(axis=0) * (dp ** 2).sum(axis=0))
    r2 = np.where(cnt >= 3, np.nan_to_num(r) ** 2, np.nan)
    total = np.nansum(r2)
    return r2 / total if total > 0 else r2


def weights_table(ctx: query.Context, options: Options = Options()) -> pd.DataFrame:
    """Nominal and effective weight of every scored indicator at a level, as shares of its pillar, and
    their ratio (effective ÷ nominal; well below 1 means the indicator barely moves any score)."""
    ps = point_scores(ctx, options)
    rows = []
    for i, p in enumerate(SCORED_PILLARS):
        cols = np.flatnonzero(ps.pillar_index == i)
        if not len(cols):
            continue
        w = ps.weights[cols]
        eff = effective_weights(ps.z[:, cols], ps.pillars[p], ps.reference)
        for j, nominal, effective in zip(cols, w / w.sum() if w.sum() > 0 else w, eff):
            rows.append({"id": ps.cat["id"].iloc[j], "label": ps.cat["label"].iloc[j], "pillar": p,
                         "nominal_weight": float(nominal), "effective_weight": float(effective)})
    out = pd.DataFrame(rows, columns=["id", "label", "pillar", "nominal_weight", "effective_weight"])
    with np.errstate(all="ignore"):
        out["ratio"] = out["effective_weight"] / out["nominal_weight"].where(out["nominal_weight"] > 0)
    return out


def rank_groups(areas: pd.Index, cat: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each area's ranking group and its label (`rank_scope`): one UK-wide group only when every
    scored indicator is comparable across all four nations, otherwise one group per nation."""
    uk_wide = all(UK_NATIONS <= set(n.split(",")) for n in cat["nations"])
    nation = np.array([query.nation_of(a) or "" for a in areas])
    if uk_wide:
        return np.zeros(len(areas), int), np.full(len(areas), "UK", dtype=object)
    codes, group = np.unique(nation, return_inverse=True)
    return group, np.array([NATION_NAMES.get(c, "other") for c in nation], dtype=object)


def score_places(ctx: query.Context, options: Options = Options()) -> pd.DataFrame:
    """One row per area of the level: pillar scores and coverage, overall score, rank within its
    `rank_scope` with a 90% interval, the probability of ranking above the next place, and change
    over one common window with each place's good-growth quadrant and its probability."""
    ps = point_scores(ctx, options)
    level, latest, cat = ps.latest.level, ps.latest, ps.cat
    ids = cat["id"].tolist()
    out = pd.DataFrame({"areacd": latest.areas, "areanm": [str(ctx.names.get(a, a)) for a in latest.areas]})
    for p in SCORED_PILLARS:
        out[p] = ps.pillars[p]
        out[f"{p}_coverage"] = ps.coverage[p]
    overall = combine_pillars(ps.pillars, options.weight_map)
    overall = np.where(ps.reference, overall, np.nan)
    out["overall"] = overall
    group, scope = rank_groups(latest.areas, cat)
    point = group_min_rank(overall, group)
    out["rank"] = point
    out["rank_scope"] = scope
    lci = np.where(ps.applicable, latest.lci, np.nan)
    uci = np.where(ps.applicable, latest.uci, np.nan)
    family = family_codes(cat)
    samples = rank_draws(ps.value, lci, uci, ps.sign, ps.weights, ps.pillar_index, ps.applicable, ps.pillar_weights,
                         draws=options.draws, seed=options.seed, robust=options.robust,
                         coverage_rule=options.coverage_rule, family=family, group=group, reference=ps.reference)
    lo, hi = interval_of(samples, ps.reference & ~np.isnan(point))
    out["rank_lo"] = np.fmin(lo, point)  # the interval always shows the point rank (see Methods)
    out["rank_hi"] = np.fmax(hi, point)
    ranked = ~np.isnan(point)
    counts = pd.Series(group[ranked]).value_counts()
    out["areas_ranked"] = np.where(ranked, pd.Series(group).map(counts).fillna(0).to_numpy(), np.nan)
    nxt = _next_place(point, group)
    out["next_areacd"] = np.where(nxt >= 0, np.asarray(latest.areas)[np.maximum(nxt, 0)], None)
    p_above = np.full(len(point), np.nan)
    has_next = nxt >= 0
    if has_next.any():
        p_above[has_next] = prob_ranks_above(samples, np.flatnonzero(has_next), nxt[has_next])
    out["p_above_next"] = p_above

    bench = np.array([query.value_at(ctx, ind, options.benchmark, code) if code else None
                      for ind, code in zip(ids, latest.period_code)], dtype=float)
    sig = significance(lci, uci, bench[None, :], ps.sign[None, :])
    out["better_than_benchmark"] = (sig == "better").sum(axis=1)
    out["similar_to_benchmark"] = (sig == "similar").sum(axis=1)
    out["worse_than_benchmark"] = (sig == "worse").sum(axis=1)
    out["benchmark"] = options.benchmark

    from . import change  # noqa: PLC0415 (change imports scoring's primitives)
    end_year = options.change_end_year or (int(options.period) if str(options.period).isdigit() else None)
    window = (change.Window(end_year, options.baseline_gap_years) if end_year  # a chosen year ends the window too
              else change.choose_window(ctx, cat, level, options.baseline_gap_years))
    ends = change.window_ends(ctx, cat, level, window)
    end_m, base_v, base_lci, base_uci = _window_matrices(ctx, level, ids, latest.areas, ends)
    delta, se = change.indicator_changes(end_m, base_v, base_lci, base_uci, ends)
    delta = np.where(ps.applicable, delta, np.nan)
    c, scale, _ = change.standardised_changes(delta, end_m.value, ends.log, ps.sign, ps.reference)
    q = change.quadrants(c, se / scale[None, :], ps.weights, cat["pillar"].to_numpy(), ps.applicable,
                         family=family, draws=options.draws, seed=options.seed, coverage_rule=options.coverage_rule)
    out["economy_change"], out["economy_change_lo"], out["economy_change_hi"] = q.economy, q.economy_lo, q.economy_hi
    out["public_services_change"] = q.services
    out["public_services_change_lo"], out["public_services_change_hi"] = q.services_lo, q.services_hi
    out["quadrant"] = q.quadrant
    out["quadrant_probability"] = q.probability
    for name, pr in q.probabilities.items():
        out["p_" + name.replace(" ", "_")] = pr
    out["change_window"] = window.label
    used = ~np.isnan(ps.value)
    out["periods_latest"] = _period_span(ctx, ids, level, latest.period_code, used)
    changed = ~np.isnan(delta)
    out["periods_change_end"] = _period_span(ctx, ids, level, ends.end, changed)
    out["periods_baseline"] = _period_span(ctx, ids, level, ends.base, changed)
    keep = out[[*SCORED_PILLARS]].notna().any(axis=1)
    return out.loc[keep].sort_values(["rank_scope", "rank", "areacd"]).reset_index(drop=True)


def _next_place(point: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Index of the area ranked just below each ranked area in its group (−1 for the last or unranked)."""
    order = np.lexsort((point, group))
    order = order[~np.isnan(point[order])]
    nxt = np.full(len(point), -1)
    same = group[order][1:] == group[order][:-1]
    nxt[order[:-1][same]] = order[1:][same]
    return nxt


def _window_matrices(ctx: query.Context, level: str, ids: list[str], areas: pd.Index, ends) -> tuple:
    """Values at each indicator's window end, and value and CI at its baseline, for the same areas."""
    n, k = len(areas), len(ids)
    end_v, end_l, end_u, base_v, base_l, base_u = (np.full((n, k), np.nan) for _ in range(6))
    for j, (ind, e, b) in enumerate(zip(ids, ends.end, ends.base)):
        if e is None or b is None:
            continue
        m = query.matrix(ctx, level, e, [ind], list(areas))
        end_v[:, j], end_l[:, j], end_u[:, j] = m.value[:, 0], m.lci[:, 0], m.uci[:, 0]
        m = query.matrix(ctx, level, b, [ind], list(areas))
        base_v[:, j], base_l[:, j], base_u[:, j] = m.value[:, 0], m.lci[:, 0], m.uci[:, 0]
    end_m = query.Matrix(level, areas, list(ids), end_v, end_l, end_u, list(ends.end), [None] * k)
    return end_m, base_v, base_l, base_u


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
