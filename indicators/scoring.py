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
QUADRANTS = {
    (True, True): "good growth",
    (True, False): "growth without outcomes",
    (False, True): "outcomes without growth",
    (False, False): "neither",
}


# ---------------------------------------------------------------- standardisation

def standardise(values: np.ndarray, sign: np.ndarray, robust: bool = False) -> np.ndarray:
    """Polarity-adjusted z-scores per column (indicator), among the areas with data.

    z = s·(x − mean)/sd with s = +1 (higher is better) or −1 (lower is better), using the
    population standard deviation of the areas with data; robust: s·(x − median)/(1.4826·MAD),
    the MAD scaled to match the SD under normality (ONS composite-index practice). Columns with
    fewer than two values, no spread, or a neutral sign (0) come back all-NaN: they cannot be scored.
    In robust mode a column where half or more of the areas share one value has a MAD of zero and
    is therefore not standardised either.
    Works on any leading axes: values (..., n, k), sign (k,).
    """
    x = np.asarray(values, dtype=float)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if robust:
            centre = np.nanmedian(x, axis=-2, keepdims=True)
            spread = 1.4826 * np.nanmedian(np.abs(x - centre), axis=-2, keepdims=True)
        else:
            centre = np.nanmean(x, axis=-2, keepdims=True)
            spread = np.nanstd(x, axis=-2, keepdims=True)
        count = np.sum(~np.isnan(x), axis=-2, keepdims=True)
        # "no spread" allows for rounding: [0.1, 0.1, 0.1] has an SD of ~1e-17, not 0
        flat = ~(spread > 1e-12 * np.maximum(1.0, np.abs(centre)))
        bad = (count < 2) | flat | (np.asarray(sign) == 0)
        z = np.asarray(sign, dtype=float) * (x - centre) / np.where(bad, np.nan, spread)
    return np.where(bad, np.nan, z)


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


def rank_intervals(value: np.ndarray, lci: np.ndarray, uci: np.ndarray, sign: np.ndarray, weights: np.ndarray,
                   pillar_index: np.ndarray, applicable: np.ndarray, pillar_weights: np.ndarray, *,
                   draws: int = 1000, seed: int = 20261125, concentration: float = 100.0, robust: bool = False,
                   coverage_rule: float = COVERAGE_RULE, chunk: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """5th and 95th percentile of each area's rank over Monte Carlo draws.

    Each draw (i) samples every value within its CI, x ~ Normal(value, SE) with SE = (uci − lci)/3.92
    (values without a CI stay fixed: we never invent uncertainty); (ii) samples pillar weights from a
    Dirichlet centred on the user's weights, Dir(concentration·w); (iii) re-standardises, re-scores and
    re-ranks. The approach follows the uncertainty analysis of composite indicators (OECD/JRC Handbook
    on Constructing Composite Indicators, 2008, §6). Returns (rank_5th, rank_95th) per area, NaN where
    the area has no overall score. pillar_index (k,) gives each indicator's pillar column in
    pillar_weights (P,), or −1 for unscored indicators.
    """
    rng = np.random.default_rng(seed)
    value = np.asarray(value, float)
    se = np.nan_to_num((np.asarray(uci, float) - np.asarray(lci, float)) / (2 * Z95), nan=0.0)
    se = np.where((se > 0) & ~np.isnan(value), se, 0.0)
    n, _ = value.shape
    P = len(pillar_weights)
    base_w = np.asarray(pillar_weights, float)
    active = base_w > 0
    # Columns without any CI never vary: standardise them once and add their fixed share per pillar.
    varies = (se > 0).any(axis=0)
    z_point = standardise(value, sign, robust=robust)
    have = ~np.isnan(z_point) & applicable
    w_app = np.where(applicable, np.asarray(weights, float), 0.0)
    w_have = np.where(have, w_app, 0.0)
    fixed_num = np.zeros((n, P))
    got = np.zeros((n, P))
    ok = np.zeros((n, P), dtype=bool)
    for p in range(P):
        cols = pillar_index == p
        total = w_app[:, cols].sum(axis=1)
        got[:, p] = w_have[:, cols].sum(axis=1)
        with np.errstate(all="ignore"):
            ok[:, p] = (got[:, p] > 0) & (got[:, p] / np.where(total > 0, total, np.nan) >= coverage_rule - 1e-12)
        fixed = cols & ~varies
        fixed_num[:, p] = (np.nan_to_num(z_point[:, fixed]) * w_have[:, fixed]).sum(axis=1)
    var_idx = np.flatnonzero(varies)
    valid = ok[:, active].all(axis=1)
    samples = []
    for start in range(0, draws, chunk):
        d = min(chunk, draws - start)
        x = value[:, var_idx][None] + rng.standard_normal((d, n, len(var_idx))) * se[:, var_idx][None]
        z = np.nan_to_num(standardise(x, sign[var_idx], robust=robust)) * w_have[:, var_idx][None]
        num = np.repeat(fixed_num[None], d, axis=0)
        for p in range(P):
            cols = pillar_index[var_idx] == p
            if cols.any():
                num[..., p] += z[..., cols].sum(axis=-1)
        with np.errstate(all="ignore"):
            pill = num / np.where(got > 0, got, np.nan)[None]
        w = np.zeros((d, P))
        w[:, active] = rng.dirichlet(concentration * base_w[active] / base_w[active].sum(), size=d)
        overall = np.einsum("dnp,dp->dn", np.nan_to_num(pill[..., active]), w[:, active])
        overall[:, ~valid] = np.nan
        samples.append(overall)
    overall = np.concatenate(samples)  # (draws, n)
    r = np.full(overall.shape, np.nan)
    sub = overall[:, valid]
    # rank 1 = best; tied areas share the best rank, as in `ranks`
    r[:, valid] = min_rank(-sub) if sub.size else sub
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo = np.nanpercentile(r, 5, axis=0, method="lower") if valid.any() else np.full(n, np.nan)
        hi = np.nanpercentile(r, 95, axis=0, method="higher") if valid.any() else np.full(n, np.nan)
    lo[~valid], hi[~valid] = np.nan, np.nan
    return lo, hi


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

