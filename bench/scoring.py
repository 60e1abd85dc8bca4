"""Benchmark: the scoring engine on the committed snapshot.

Prints, after the snapshot is loaded: scoring every district on every indicator (target ≤ 50 ms),
1,000-draw rank intervals for every district over every source of uncertainty (≤ 2 s), and one place's full profile with trends and
a difference-in-differences on six headline indicators (≤ 200 ms).

    python bench/scoring.py
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indicators import profile, query, scoring  # noqa: E402

HEADLINE = ["gross-value-added-per-hour-worked", "gross-median-weekly-pay", "employment-rate",
            "male-healthy-life-expectancy", "gcses-in-english-and-maths",
            "children-in-relative-poverty-before-housing-costs"]


def timed(fn, repeat: int = 7) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, result


def main() -> None:
    t = time.perf_counter()
    ctx = query.context()
    print(f"load snapshot and build query context: {(time.perf_counter() - t) * 1000:8.0f} ms (once per snapshot)")
    cat = ctx.cat.loc[ctx.cat["scored"]]
    ids = cat["id"].tolist()
    t = time.perf_counter()
    m = query.matrix(ctx, "ltla", "latest", ids)
    print(f"build the district × indicator matrix:  {(time.perf_counter() - t) * 1000:8.0f} ms (cached per level/period)")
    sign = cat["sign"].to_numpy()
    w = cat["weight"].to_numpy(float)
    pillars = list(scoring.SCORED_PILLARS)
    pillar_index = np.array([pillars.index(p) for p in cat["pillar"]])
    applicable = scoring._applicable(m.areas, [n.split(",") for n in cat["nations"]], ~np.isnan(m.value).all(0))
    value = np.where(applicable, m.value, np.nan)

    def score_all():
        z = scoring.standardise(value, sign)
        pill = {p: scoring.pillar_scores(z[:, pillar_index == i], w[pillar_index == i],
                                         applicable[:, pillar_index == i])[0] for i, p in enumerate(pillars)}
        overall = scoring.combine_pillars(pill, scoring.DEFAULT_WEIGHTS)
        return scoring.ranks(overall)

    ms, r = timed(score_all)
    print(f"score {value.shape[0]} districts on {value.shape[1]} indicators:      {ms:8.1f} ms   (target ≤ 50 ms)")
    pw = np.array([scoring.DEFAULT_WEIGHTS.get(p, 0) for p in pillars])
    lci, uci = np.where(applicable, m.lci, np.nan), np.where(applicable, m.uci, np.nan)
    ms, _ = timed(lambda: scoring.rank_intervals(value, lci, uci, sign, w, pillar_index, applicable, pw, draws=1000),
                  repeat=3)
    print(f"1,000-draw rank intervals, every district: {ms:8.1f} ms   (target ≤ 2000 ms)")
    ms, _ = timed(lambda: scoring.score_places(ctx), repeat=3)
    print(f"score_places end to end (incl. change, quadrant, intervals): {ms:8.1f} ms")
    profile.profile(ctx, "E06000001")  # warm the per-area split once
    ms, prof = timed(lambda: profile.profile(ctx, "E06000002", did_since="2019", did_indicators=HEADLINE))
    print(f"one place's profile ({len(prof)} indicators, trends, DiD on {len(HEADLINE)}): {ms:8.1f} ms   (target ≤ 200 ms)")
    ms, prof = timed(lambda: profile.profile(ctx, "E06000002", did_since="2019"), repeat=3)
    print(f"one place's profile with DiD on every scored indicator: {ms:8.1f} ms")


if __name__ == "__main__":
    main()
