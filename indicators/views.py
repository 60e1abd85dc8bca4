"""Ready-to-draw tables for the dashboard's pages (no Streamlit here).

Why: pages must only ask and draw. Each function answers one page's question with a tidy
frame whose numbers come from the engine's methods, so the same figures appear in the app,
the downloads and the tests.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import geo, query, scoring


def map_view(ctx: query.Context, indicator: str, level: str, period: query.Period = "latest",
             benchmark: str | None = query.ENGLAND) -> tuple[pd.DataFrame, dict]:
    """Every current area of the level with its value, CI, significance vs the benchmark, rank and
    rank interval and percentile; plus facts about the view (period, benchmark value, unit)."""
    ind = ctx.catalogue.get(indicator)
    code = query.resolve_period(ctx, indicator, level, period)
    areas = query.current_areas(ctx, level)[["areacd", "areanm"]].copy()
    if level == "region":  # the devolved nations sit beside England's regions, as on ELS maps
        nations = query.current_areas(ctx, "country")
        areas = pd.concat([areas, nations.loc[nations["areacd"] != query.ENGLAND, ["areacd", "areanm"]]],
                          ignore_index=True)
    info = {"period_code": code, "period_label": None, "benchmark": benchmark, "benchmark_value": None,
            "benchmark_name": query.area_name(ctx, benchmark) if benchmark else None, "unit": ind.unit,
            "label": ind.label, "polarity": ind.polarity, "sign": ind.sign}
    if code is None:
        out = areas.assign(value=np.nan, lci=np.nan, uci=np.nan, status="no data", significance="not tested",
                           rank=np.nan, rank_lo=np.nan, rank_hi=np.nan, percentile=np.nan)
        return out, info
    m = query.matrix(ctx, level, code, [indicator], areas["areacd"].tolist())
    if level == "region":
        nat = query.matrix(ctx, "country", code, [indicator], areas["areacd"].tolist())
        m_value = np.where(np.isnan(m.value[:, 0]), nat.value[:, 0], m.value[:, 0])
        m_lci = np.where(np.isnan(m.value[:, 0]), nat.lci[:, 0], m.lci[:, 0])
        m_uci = np.where(np.isnan(m.value[:, 0]), nat.uci[:, 0], m.uci[:, 0])
    else:
        m_value, m_lci, m_uci = m.value[:, 0], m.lci[:, 0], m.uci[:, 0]
    rows = query.values(ctx, indicator, level, code)
    info["period_label"] = str(rows["period_label"].iloc[0]) if len(rows) else code
    bench = query.value_at(ctx, indicator, benchmark, code) if benchmark else None
    info["benchmark_value"] = bench
    out = areas.assign(value=m_value, lci=m_lci, uci=m_uci)
    status = rows.drop_duplicates("areacd").set_index("areacd")["status"]
    out["status"] = out["areacd"].map(status).fillna("no data").where(out["value"].isna(), "ok")
    out["significance"] = scoring.significance(out["lci"].to_numpy(), out["uci"].to_numpy(),
                                               np.nan if bench is None else bench, ind.sign)
    rank, lo, hi = scoring.indicator_rank_intervals(out["value"].to_numpy(), out["lci"].to_numpy(),
                                                    out["uci"].to_numpy(), ind.sign)
    out["rank"], out["rank_lo"], out["rank_hi"] = rank, lo, hi
    out["percentile"] = scoring.percentile_rank(out[["value"]].to_numpy(), np.array([ind.sign or 1]))[:, 0]
    out["has_boundary"] = geo.has_boundary(ctx, level, out["areacd"].tolist())
    return out.sort_values(["rank", "areanm"]).reset_index(drop=True), info
