"""Comparing a value with a benchmark: confidence limits at 95% and 99.8% by the CI's own method.

Why a module of its own: publishers give only a 95% interval, and Fingertips-style profiles also
test at 99.8%. Stretching the 95% interval symmetrically (value ± 3.09·SE with SE = width/3.92)
is wrong for the skewed intervals most public-health figures carry (Wilson score intervals for
proportions, Byar's and Dobson's intervals for counts, rates and directly standardised rates):
the long side is too short and the short side too long, and the error always flatters the place.
Here the 99.8% limits are rebuilt by the interval's own method from what the published 95% limits
reveal (the effective sample size behind a Wilson interval, the count behind a Byar or Dobson
interval). Which method applies is declared per indicator in catalogue.yaml (`ci_method`), not
guessed here. All functions are vectorised over numpy arrays.

References: OHID (formerly PHE) *Public Health Technical Guidance: Confidence intervals* (Wilson
score method, Byar's method, Dobson's method); Wilson EB (1927) J Am Stat Assoc 22:209–212;
Breslow NE, Day NE (1987) *Statistical methods in cancer research* II (Byar's approximation);
Dobson AJ, Kuulasmaa K, Eberle E, Scherer J (1991) Stat Med 10:457–462.
"""
from __future__ import annotations

from statistics import NormalDist
from typing import get_args

import numpy as np

from .catalogue import CiMethod

Z95 = NormalDist().inv_cdf(0.975)  # 1.959964
Z998 = NormalDist().inv_cdf(0.999)  # 3.090232
CI_METHODS: tuple[str, ...] = get_args(CiMethod)
# What each method is called where a reader sees it (profile table, CLI output).
METHOD_LABELS = {"wilson": "exact Wilson", "byar": "Byar", "dobson": "Dobson", "log": "log-scale",
                 "logit": "logit-scale", "normal": "normal approx"}
NOT_COMPARED = "not compared"
# Counts recovered from an interval are searched between these bounds; past the upper one the
# interval is symmetric to published precision and the normal scaling is what remains.
_COUNT_RANGE = (1.0, 1e8)


# ---------------------------------------------------------------- verdicts

def significance(lci: np.ndarray, uci: np.ndarray, benchmark: np.ndarray | float, sign: np.ndarray | int
                 ) -> np.ndarray:
    """better / similar / worse than a benchmark by whether the CI excludes it; 'not compared'
    without a CI or without a benchmark value.

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
    out[np.isnan(lo) | np.isnan(hi) | np.isnan(b)] = NOT_COMPARED
    return out


def expected_false_flags(n_compared: int, confidence: float = 0.95) -> float:
    """How many of n comparisons would come out better or worse by chance alone if the place
    truly matched the benchmark on every one: n × (1 − confidence)."""
    return n_compared * (1.0 - confidence)


def chance_note(n_compared: int) -> str:
    """The sentence that goes under a better/similar/worse tally, so a reader can weigh it."""
    if n_compared <= 0:
        return "No indicator could be compared: none has both a confidence interval and a benchmark value."
    at95, at998 = expected_false_flags(n_compared, 0.95), expected_false_flags(n_compared, 0.998)
    return (f"At 95% confidence, about {at95:.0f} of {n_compared} comparisons would differ by chance alone "
            f"even if the place matched the benchmark on all of them (about {at998:.1f} at 99.8%)."
            if at95 >= 0.5 else
            f"At 95% confidence, fewer than one of {n_compared} comparisons would differ by chance alone "
            f"(expected {at95:.2f}; {at998:.3f} at 99.8%).")


# ---------------------------------------------------------------- the methods themselves

def wilson_interval(p: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion p (0–1) from n trials (OHID technical guidance):
    (2np + z² ± z·√(z² + 4npq)) / (2(n + z²))."""
    p, n = np.asarray(p, float), np.asarray(n, float)
    with np.errstate(all="ignore"):
        root = z * np.sqrt(z * z + 4 * n * p * (1 - p))
        denom = 2 * (n + z * z)
        return (2 * n * p + z * z - root) / denom, (2 * n * p + z * z + root) / denom


def wilson_counts(lci: np.ndarray, uci: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """The proportion p = O/n and the (effective) sample size n behind a published Wilson interval.

    Both Wilson limits x solve the score equation n·(x − p)² = z²·x(1 − x), so
    (U − p)/(p − L) = √(U(1 − U)/(L(1 − L))) gives p, and then n = z²·L(1 − L)/(p − L)².
    Why from both limits rather than from the width around the published value: on the NCMP the
    published value is not always O/n (Stockton-on-Tees, year 6 obese 2024: 25.0% shown, while the
    limits 23.367–26.862 are exactly Wilson's for 592/2361 = 25.07%); from both limits the whole
    counts come back and the published 95% interval is reproduced exactly. NaN where the limits
    cannot be a Wilson interval (no width, or touching 0 or 1).
    """
    lo, hi = np.asarray(lci, float), np.asarray(uci, float)
    with np.errstate(all="ignore"):
        r = np.sqrt(hi * (1 - hi) / (lo * (1 - lo)))
        p = (hi + lo * r) / (1 + r)
        n = z * z * lo * (1 - lo) / (p - lo) ** 2
    ok = (lo > 0) & (hi < 1) & (hi > lo) & np.isfinite(n) & (n > 0)
    return np.where(ok, p, np.nan), np.where(ok, n, np.nan)


def byar_limits(count: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Byar's approximation to the exact Poisson limits of an observed count O:
    lower O·(1 − 1/(9O) − z/(3√O))³, upper (O+1)·(1 − 1/(9(O+1)) + z/(3√(O+1)))³.
    The lower limit is floored at zero (it can go negative for tiny counts at 99.8%)."""
    o = np.asarray(count, float)
    with np.errstate(all="ignore"):
        lower = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
        upper = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * np.sqrt(o + 1))) ** 3
    return np.where(o > 0, np.maximum(lower, 0.0), 0.0), upper


def _solve_decreasing(f, target: np.ndarray, lo: float, hi: float, iterations: int = 80) -> np.ndarray:
    """x in [lo, hi] with f(x) = target for a decreasing f, by bisection on log x, all elements at
    once; clamped to the ends where the target lies outside f's range there."""
    target = np.asarray(target, float)
    a, b = np.full(target.shape, np.log(lo)), np.full(target.shape, np.log(hi))
    for _ in range(iterations):
        mid = (a + b) / 2
        too_small = f(np.exp(mid)) > target  # f still above target: x must grow
        a, b = np.where(too_small, mid, a), np.where(too_small, b, mid)
    return np.exp((a + b) / 2)


def byar_count(lci: np.ndarray, uci: np.ndarray, z: float = Z95) -> np.ndarray:
    """The count O behind a Byar interval on a rate: the rate's multiplier cancels in the ratio
    upper/lower = U(O)/L(O), which falls steadily as O grows, so O is found by bisection."""
    with np.errstate(all="ignore"):
        ratio = np.asarray(uci, float) / np.asarray(lci, float)

    def r(o: np.ndarray) -> np.ndarray:
        lower, upper = byar_limits(o, z)
        with np.errstate(all="ignore"):
            return upper / lower
    ok = (ratio > 1) & np.isfinite(ratio)
    return np.where(ok, _solve_decreasing(r, np.where(ok, ratio, 2.0), *_COUNT_RANGE), np.nan)


def dobson_count(value: np.ndarray, lci: np.ndarray, uci: np.ndarray, z: float = Z95) -> np.ndarray:
    """The count O behind a Dobson interval on a directly standardised rate.

    Dobson's limits are DSR + k·(L(O) − O) and DSR + k·(U(O) − O) with L, U Byar's limits and
    k = √var(DSR)/√O, so the asymmetry (upper − DSR)/(DSR − lower) = (U(O) − O)/(O − L(O)) depends
    on O alone. An interval symmetric to published precision gives the largest count searched.
    """
    v = np.asarray(value, float)
    with np.errstate(all="ignore"):
        skew = (np.asarray(uci, float) - v) / (v - np.asarray(lci, float))

    def g(o: np.ndarray) -> np.ndarray:
        lower, upper = byar_limits(o, z)
        with np.errstate(all="ignore"):
            return (upper - o) / (o - lower)
    ok = (skew > 0) & np.isfinite(skew)
    return np.where(ok, _solve_decreasing(g, np.where(ok, skew, 1.0), *_COUNT_RANGE), np.nan)


# ---------------------------------------------------------------- 95% → another level

def _scale_sides(value, lci, uci, lo_ratio, hi_ratio):
    """Stretch each side of the published interval by its own ratio: the 95% limits are
    reproduced exactly, and only the method's shape decides how far each side moves."""
    return value - (value - lci) * lo_ratio, value + (uci - value) * hi_ratio


def _normal(value, lci, uci, z):
    return _scale_sides(value, lci, uci, z / Z95, z / Z95)


def _log(value, lci, uci, z):
    with np.errstate(all="ignore"):
        lo = np.exp(np.log(value) - (np.log(value) - np.log(lci)) * z / Z95)
        hi = np.exp(np.log(value) + (np.log(uci) - np.log(value)) * z / Z95)
    return lo, hi


def _logit(value, lci, uci, z, scale):
    def logit(x):
        x = x / scale
        return np.log(x / (1 - x))

    def expit(y):
        return scale / (1 + np.exp(-y))
    with np.errstate(all="ignore"):
        lv = logit(value)
        return expit(lv - (lv - logit(lci)) * z / Z95), expit(lv + (logit(uci) - lv) * z / Z95)


def _wilson(value, lci, uci, z, scale):
    p, n = wilson_counts(lci / scale, uci / scale)
    lo, hi = wilson_interval(p, n, z)
    return lo * scale, hi * scale


def _count_based(value, lci, uci, z, count):
    """Byar and Dobson share this step: each side moves by the ratio of Byar's distances at the
    new level to those at 95% for the recovered count (for a crude rate this is exactly Byar's
    interval times the rate's multiplier; for a DSR it is Dobson's)."""
    l95, u95 = byar_limits(count, Z95)
    lz, uz = byar_limits(count, z)
    with np.errstate(all="ignore"):
        return _scale_sides(value, lci, uci, (count - lz) / (count - l95), (uz - count) / (u95 - count))


def limits(value: np.ndarray, lci: np.ndarray, uci: np.ndarray, method: np.ndarray | str, z: float = Z998,
           scale: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Limits at the normal quantile z (default 99.8%) from a published 95% interval, per row by
    its declared method; returns (lower, upper, method used).

    `scale` is what a whole proportion is in the value's unit (100 for %), for wilson and logit.
    A row whose interval the method cannot read (a zero-width interval, a proportion at 0 or 100%,
    a non-positive rate on the log scale) falls back to the normal scaling and says so in the
    method used; rows without a CI come back NaN with method None.
    """
    v, lo95, hi95 = (np.asarray(x, float) for x in (value, lci, uci))
    shape = v.shape
    m = np.broadcast_to(np.asarray(method, dtype=object), shape)
    sc = np.broadcast_to(np.asarray(scale, float), shape)
    unknown = set(m[m != None].tolist()) - set(CI_METHODS)  # noqa: E711 (elementwise)
    if unknown:
        raise ValueError(f"unknown CI method(s) {sorted(unknown)}; use one of {', '.join(CI_METHODS)}")
    lo, hi = np.full(shape, np.nan), np.full(shape, np.nan)
    used = np.full(shape, None, dtype=object)
    have = np.isfinite(v) & np.isfinite(lo95) & np.isfinite(hi95) & (lo95 <= v) & (v <= hi95)
    for name in CI_METHODS:
        rows = have & (m == name)
        if not rows.any() or name == "normal":
            continue
        a, b, c, s = v[rows], lo95[rows], hi95[rows], sc[rows]
        if name == "wilson":
            x, y = _wilson(a, b, c, z, s)
        elif name == "logit":
            x, y = _logit(a, b, c, z, s)
        elif name == "log":
            x, y = _log(a, b, c, z)
        elif name == "byar":
            x, y = _count_based(a, b, c, z, byar_count(b, c))
        else:
            x, y = _count_based(a, b, c, z, dobson_count(a, b, c))
        good = np.isfinite(x) & np.isfinite(y) & (x <= b + 1e-9 * np.abs(b)) & (y >= c - 1e-9 * np.abs(c)) \
            if z >= Z95 else np.isfinite(x) & np.isfinite(y)
        idx = np.flatnonzero(rows)
        lo[idx[good]], hi[idx[good]] = x[good], y[good]
        used[idx[good]] = name
    rest = have & (used == None)  # noqa: E711 (elementwise)
    lo[rest], hi[rest] = _normal(v[rest], lo95[rest], hi95[rest], z)
    used[rest] = "normal"
    return lo, hi, used


def recovered_95(value: np.ndarray, lci: np.ndarray, uci: np.ndarray, method: np.ndarray | str,
                 scale: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The 95% interval rebuilt from what was recovered (Wilson's p and n): the round trip that shows
    the recovery is exact; the scaled methods reproduce the 95% limits by construction."""
    v, lo95, hi95 = (np.asarray(x, float) for x in (value, lci, uci))
    sc = np.broadcast_to(np.asarray(scale, float), v.shape)
    m = np.broadcast_to(np.asarray(method, dtype=object), v.shape)
    lo, hi = lo95.copy(), hi95.copy()
    w = m == "wilson"
    lo[w], hi[w] = _wilson(v[w], lo95[w], hi95[w], Z95, sc[w])
    return lo, hi


def derived_998(value: np.ndarray, lci: np.ndarray, uci: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """99.8% limits from a 95% CI assuming normality: SE = (uci − lci)/3.92, value ± 3.09·SE.

    The symmetric approximation, kept for intervals the publisher built symmetrically and as the
    baseline the exact methods are measured against; `limits` is what the product uses.
    """
    se = (np.asarray(uci, float) - np.asarray(lci, float)) / (2 * Z95)
    v = np.asarray(value, float)
    return v - Z998 * se, v + Z998 * se
