"""Benchmark: how much of each verdict survives a change that should not matter, on the committed snapshot.

Prints, for districts:
  - leave-one-indicator-out: among places with a clear quadrant, the share whose quadrant changes when any
    single indicator is left out (target ≤ 5% for every indicator), and the share moving to another quadrant;
  - the share of places read as "no clear difference";
  - 99.8% flags that differ from the exact method: the old symmetric stretch's and the product's own;
  - how often a no-trend series is called improving or worsening (independent, rolling, AR(1) ρ = 0.6);
  - places whose rank under robust scaling falls outside their own 90% interval;
  - the 90% rank-interval width by source of uncertainty (CIs / weights / scaling / coverage / all);
  - timings: 1,000-draw rank intervals for every district, and one place's profile.

    python bench/integrity.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indicators import change, profile, query, scoring  # noqa: E402

LEVEL = "ltla"
PROFILE_PLACES = ["E06000002", "E08000035", "E07000112", "W06000015", "S12000036"]


def change_inputs(ctx: query.Context, options: scoring.Options):
    """Standardised changes and their SEs exactly as score_places builds them."""
    ps = scoring.point_scores(ctx, options)
    cat, ids = ps.cat, ps.cat["id"].tolist()
    window = change.choose_window(ctx, cat, LEVEL, options.baseline_gap_years)
    ends = change.window_ends(ctx, cat, LEVEL, window)
    end_m, base_v, base_l, base_u = scoring._window_matrices(ctx, LEVEL, ids, ps.latest.areas, ends)
    delta, se = change.indicator_changes(end_m, base_v, base_l, base_u, ends)
    delta = np.where(ps.applicable, delta, np.nan)
    c, scale, _ = change.standardised_changes(delta, end_m.value, ends.log, ps.sign, ps.reference)
    return ps, c, se / scale[None, :], window


def leave_one_out(ctx: query.Context) -> None:
    options = scoring.Options(level=LEVEL)
    ps, c, c_se, window = change_inputs(ctx, options)
    pillar_of = ps.cat["pillar"].to_numpy()
    family = scoring.family_codes(ps.cat)
    kw = dict(family=family, draws=options.draws, seed=options.seed, coverage_rule=options.coverage_rule)
    base = change.quadrants(c, c_se, ps.weights, pillar_of, ps.applicable, **kw)
    placed = base.quadrant != None  # noqa: E711 (object array)
    clear = placed & (base.quadrant != change.NO_CLEAR)
    print(f"change window: {window.label}")
    print(f"places with a reading: {placed.sum()}; 'no clear difference': {(base.quadrant == change.NO_CLEAR).sum()} "
          f"({(base.quadrant[placed] == change.NO_CLEAR).mean():.1%}); clear quadrant: {clear.sum()}")
    movers = [j for j in range(c.shape[1])
              if ps.weights[j] > 0 and pillar_of[j] in ("economy", "public_services") and not np.isnan(c[:, j]).all()]
    rows = []
    for j in movers:
        w = ps.weights.copy()
        w[j] = 0.0
        q = change.quadrants(c, c_se, w, pillar_of, ps.applicable, **kw)
        changed = clear & (q.quadrant != base.quadrant)
        flipped = changed & (q.quadrant != change.NO_CLEAR)
        rows.append((ps.cat["id"].iloc[j], changed.sum() / max(clear.sum(), 1), flipped.sum() / max(clear.sum(), 1)))
    rows.sort(key=lambda r: -r[1])
    worst = rows[0][1] if rows else 0.0
    print(f"leave one indicator out ({len(rows)} indicators with a change): worst {worst:.1%} of clear places change "
          f"reading (target ≤ 5%); {sum(r[1] > 0.05 for r in rows)} indicators above 5%")
    for ind, share, flip in rows[:8]:
        print(f"  {ind[:60]:60s} changes {share:6.1%}   to another quadrant {flip:6.1%}")


def flags_998(ctx: query.Context) -> None:
    """Districts vs England, every period, for each indicator whose CI method is declared: how many
    99.8% flags the old symmetric stretch (value ± 3.09·SE) gives differently from the exact method,
    and how many the product's own limits (significance.limits, as the profile uses) do (target 0)."""
    from indicators import significance as sg
    print("99.8% flags vs the exact method (districts vs England, all periods):")
    for entry in (i for i in ctx.catalogue.indicators if i.ci_method in ("wilson", "byar", "dobson")):
        rows = ctx.slice(entry.id, LEVEL)
        rows = rows.loc[rows["value"].notna() & rows["lci"].notna()]
        eng = ctx.area_indicator(query.ENGLAND, entry.id)
        eng = eng.loc[eng["value"].notna()].drop_duplicates("period_code").set_index("period_code")["value"]
        bench = rows["period_code"].map(eng).to_numpy(float)
        v, lo, hi = (rows[c].to_numpy(float) for c in ("value", "lci", "uci"))
        scale = 100 if entry.unit == "%" else 1
        exact_lo, exact_hi, method = sg.limits(v, lo, hi, entry.ci_method, scale=scale)
        exact = sg.significance(exact_lo, exact_hi, bench, entry.sign)
        old = sg.significance(*sg.derived_998(v, lo, hi), bench, entry.sign)
        recovered = np.asarray(method) == entry.ci_method  # rows whose counts could be recovered
        compared = (exact != sg.NOT_COMPARED) & recovered
        prof_lo, prof_hi, _ = sg.limits(v, lo, hi, ctx.cat.set_index("id").loc[entry.id, "ci_method"], scale=scale)
        product = sg.significance(prof_lo, prof_hi, bench, entry.sign)
        n = int(compared.sum())
        old_diff = int((old[compared] != exact[compared]).sum())
        ours = int((product[compared] != exact[compared]).sum())
        print(f"  {entry.id:<48} {n:6d} compared   old symmetric method differs {old_diff:5d} "
              f"({old_diff / max(n, 1):5.1%})   product differs {ours} (target 0)")


def false_trends(draws: int = 20_000) -> None:
    """How often a series with no trend at all is called improving or worsening (nominal 5%)."""
    from indicators import trends
    rng = np.random.default_rng(2026)
    years = np.arange(2005.0, 2022.0)

    def rate(values: np.ndarray, x: np.ndarray, length: float) -> float:
        got = trends.trend_many(x, values, "higher_is_better", length=length)
        return float(got["verdict"].isin(["improving", "worsening"]).mean())

    independent = rng.standard_normal((draws, years.size))
    noise = rng.standard_normal((draws, years.size + 2))
    rolling = (noise[:, :-2] + noise[:, 1:-1] + noise[:, 2:]) / 3.0
    ar = np.empty((draws, years.size))
    ar[:, 0] = rng.standard_normal(draws)
    for t in range(1, years.size):  # AR(1), rho 0.6, stationary variance 1
        ar[:, t] = 0.6 * ar[:, t - 1] + np.sqrt(1 - 0.6 ** 2) * rng.standard_normal(draws)
    print(f"false trend rate with no true trend ({draws:,} simulated series, nominal 5%):")
    print(f"  independent annual values              {rate(independent, years, 1.0):6.1%}")
    print(f"  rolling 3-year means, thinned          {rate(rolling, years, 3.0):6.1%}")
    print(f"  rolling 3-year means, old (overlapping) {rate(rolling, years, 0.0):6.1%}")
    print(f"  AR(1) rho = 0.6 annual values          {rate(ar, years, 1.0):6.1%}")


def rank_inputs(ctx: query.Context) -> dict:
    """What every rank-interval run here needs, built once: point scores, CIs, families, nation groups."""
    ps = scoring.point_scores(ctx, scoring.Options(level=LEVEL))
    group, _ = scoring.rank_groups(ps.latest.areas, ps.cat)
    return {"ps": ps, "lci": np.where(ps.applicable, ps.latest.lci, np.nan),
            "uci": np.where(ps.applicable, ps.latest.uci, np.nan), "family": scoring.family_codes(ps.cat),
            "group": group}


def width_by_source(inputs: dict) -> None:
    ps, lci, uci, family, group = (inputs[k] for k in ("ps", "lci", "uci", "family", "group"))
    print("mean 90% rank-interval width (places), by source varied:")
    for label, sources in [("CIs only", ("ci",)), ("weights only", ("weights",)), ("scaling only", ("scaling",)),
                           ("coverage rule only", ("coverage",)), ("all", scoring.SOURCES)]:
        lo, hi = scoring.rank_intervals(ps.value, lci, uci, ps.sign, ps.weights, ps.pillar_index, ps.applicable,
                                        ps.pillar_weights, sources=sources, family=family, group=group,
                                        reference=ps.reference)
        print(f"  {label:20s} {np.nanmean(hi - lo):6.1f}   median {np.nanmedian(hi - lo):6.1f}")


def scaling_switch(ctx: query.Context) -> None:
    """Places whose robust-scaling rank falls outside their own published (mean/SD) 90% interval."""
    base = scoring.score_places(ctx, scoring.Options(level=LEVEL))
    robust = scoring.score_places(ctx, scoring.Options(level=LEVEL, robust=True)).set_index("areacd")["rank"]
    both = base.dropna(subset=["rank"]).assign(robust_rank=lambda d: d["areacd"].map(robust)).dropna(
        subset=["robust_rank"])
    outside = ((both["robust_rank"] < both["rank_lo"]) | (both["robust_rank"] > both["rank_hi"])).sum()
    print(f"switching to robust scaling: {outside} of {len(both)} places rank outside their own 90% interval")


def timings(ctx: query.Context, inputs: dict) -> None:
    ps, lci, uci, family, group = (inputs[k] for k in ("ps", "lci", "uci", "family", "group"))
    times = []
    for _ in range(3):
        t = time.perf_counter()
        scoring.rank_intervals(ps.value, lci, uci, ps.sign, ps.weights, ps.pillar_index, ps.applicable,
                               ps.pillar_weights, draws=1000, family=family, group=group, reference=ps.reference)
        times.append(time.perf_counter() - t)
    print(f"1,000-draw rank intervals, {len(ps.value)} districts: {min(times) * 1000:8.0f} ms best of 3 "
          f"(target ≤ 2000 ms)")
    t = time.perf_counter()
    scoring.score_places(ctx, scoring.Options(level=LEVEL))
    print(f"score_places end to end (ranks and quadrant draws): {(time.perf_counter() - t) * 1000:8.0f} ms")
    profile.profile(ctx, "E06000001")  # warm the per-area split
    t = time.perf_counter()
    profile.profile(ctx, "E06000002")
    print(f"one place's profile: {(time.perf_counter() - t) * 1000:8.0f} ms")


def main() -> None:
    ctx = query.context()
    leave_one_out(ctx)
    flags_998(ctx)
    false_trends()
    scaling_switch(ctx)
    inputs = rank_inputs(ctx)
    width_by_source(inputs)
    timings(ctx, inputs)


if __name__ == "__main__":
    main()
