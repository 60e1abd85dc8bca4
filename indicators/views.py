"""Ready-to-draw tables for the dashboard's pages (no Streamlit here).

Why: pages must only ask and draw. Each function answers one page's question with a tidy
frame whose numbers come from the engine's methods, so the same figures appear in the app,
the downloads and the tests.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import geo, query, scoring
from .profile import fallback_chain
from .significance import NOT_COMPARED, significance


def sources_text(orgs: object, dates: object) -> str:
    """ "Publisher, released date" for every publisher of an indicator. ELS joins several
    publishers (e.g. ONS and NISRA) and their dates with "|", in the same order."""
    def parts(text: object) -> list[str]:  # None and NaN (a missing catalogue cell) give none
        return [p.strip() for p in str(text).split("|") if p.strip()] if pd.notna(text) else []
    names, when = parts(orgs) or ["publisher not stated"], parts(dates)
    if len(when) == len(names):
        return "; ".join(f"{n}, released {d}" for n, d in zip(names, when))
    released = f", released {', '.join(dict.fromkeys(when))}" if when else ""
    return "; ".join(names) + released


def indicator_labels(ctx: query.Context) -> dict[str, str]:
    """Every indicator's label with its pillar, e.g. 'Median weekly pay (Economy)', as the pickers
    show them. Built once per context: a picker formats all of its options on every page view,
    and a row lookup in the catalogue frame per option cost tens of milliseconds each time."""
    from .catalogue import PILLAR_LABELS

    def make() -> dict[str, str]:
        cat = ctx.cat
        return {str(i): f"{label} ({PILLAR_LABELS.get(pillar, pillar)})"
                for i, label, pillar in zip(cat.index, cat["label"], cat["pillar"])}
    return ctx._cache.setdefault_by(("indicator_labels",), make)


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
                          ignore_index=True).drop_duplicates("areacd")
    info = {"indicator": indicator, "benchmark_asked": benchmark,
            "period_code": code, "period_label": None, "benchmark": benchmark, "benchmark_value": None,
            "benchmark_name": query.area_name(ctx, benchmark) if benchmark else None,
            "benchmark_asked_name": query.area_name(ctx, benchmark) if benchmark else None, "unit": ind.unit,
            "label": ind.label, "polarity": ind.polarity, "sign": ind.sign}
    if code is None:
        out = areas.assign(value=np.nan, lci=np.nan, uci=np.nan, status="no data", significance=NOT_COMPARED,
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
    bench = None
    # some UK-wide sources publish no England figure: the next comparator is used and named
    for fallback in fallback_chain(benchmark) if benchmark else []:
        bench = query.value_at(ctx, indicator, fallback, code)
        if bench is not None:
            info["benchmark"], info["benchmark_name"] = fallback, query.area_name(ctx, fallback)
            break
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


def methods_text() -> str:
    """The Methods page text (indicators/methods.md), shown verbatim in the app."""
    from pathlib import Path
    return (Path(__file__).resolve().parent / "methods.md").read_text(encoding="utf-8")


def place_facts(ctx: query.Context, areacd: str) -> dict:
    """Who the place is: name, levels, parents, neighbours and any code change."""
    rows = ctx.areas.loc[ctx.areas["areacd"] == areacd]
    if rows.empty:
        from .errors import UnknownAreaError
        raise UnknownAreaError(f"unknown area code '{areacd}'")
    first = rows.iloc[0]
    parents = {}
    for col, label in (("parent_utla", "Upper-tier authority"), ("parent_combined_authority", "Combined authority"),
                       ("parent_region", "Region"), ("parent_country", "Country")):
        code = first.get(col)
        if isinstance(code, str) and code and code != areacd:
            parents[label] = f"{query.area_name(ctx, code)} ({code})"
    old = ctx.predecessor.get(areacd)
    notices = []
    if old:
        notices.append(f"This area's code changed from {old} to {areacd}; figures published under the old code "
                       "are shown as its history.")
    merged = ctx.areas.loc[(ctx.areas["successor"] == areacd) & (ctx.areas["areacd"] != old), "areanm"]
    if len(merged):
        names = ", ".join(sorted(set(merged.astype(str))))
        notices.append(f"This area was formed from {names}; their figures before the change are not combined "
                       "into this area's history.")
    return {"areacd": areacd, "areanm": str(first["areanm"]), "levels": sorted(set(rows["level"])),
            "parents": parents, "notices": notices}


def compare_table(ctx: query.Context, codes: list[str], indicators: list[str], level: str = "ltla",
                  custom: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Long table of each place's series for the indicators: place, indicator, period, value.
    `custom` maps a footprint's name to its district codes (aggregated with the engine's rules)."""
    from . import aggregate
    from .errors import NotAggregableError
    labels = {ind: ctx.catalogue.get(ind).label for ind in indicators}
    parts = []  # each place's series of every indicator at once, then indicator by indicator as listed
    for k, code in enumerate(codes):
        s = query.series_many(ctx, code, indicators)
        s = s.loc[s["value"].notna()]
        parts.append(pd.DataFrame({
            "place": query.area_name(ctx, code), "areacd": code, "indicator_id": s["indicator_id"],
            "indicator": s["indicator_id"].map(labels), "period": s["period_label"], "period_code": s["period_code"],
            "period_start": s["period_start"], "value": s["value"], "lci": s["lci"], "uci": s["uci"], "note": "",
            "_place": k}))
    rows = []
    for ind in indicators:
        label = labels[ind]
        for name, members in (custom or {}).items():
            periods = query.periods(ctx, ind, "ltla")
            for code, label_p, start in zip(periods["period_code"], periods["period_label"], periods["period_start"]):
                try:
                    agg = aggregate.aggregate(ctx, ind, members, code)
                except NotAggregableError as exc:
                    rows.append({"place": name, "areacd": None, "indicator_id": ind, "indicator": label,
                                 "period": None, "period_code": None, "period_start": None, "value": None,
                                 "lci": None, "uci": None, "note": str(exc)})
                    break
                if agg.value is not None:
                    rows.append({"place": name, "areacd": None, "indicator_id": ind, "indicator": label,
                                 "period": label_p, "period_code": code, "period_start": start, "value": agg.value,
                                 "lci": agg.lci, "uci": agg.uci, "note": agg.note})
    if rows:
        parts.append(pd.DataFrame(rows).assign(_place=len(codes)))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=COMPARE_COLUMNS)
    order = {ind: k for k, ind in enumerate(dict.fromkeys(indicators))}
    out = pd.concat(parts, ignore_index=True)
    out = out.assign(_ind=out["indicator_id"].map(order)).sort_values(["_ind", "_place"], kind="stable")
    return out[COMPARE_COLUMNS].reset_index(drop=True)


COMPARE_COLUMNS = ["place", "areacd", "indicator_id", "indicator", "period", "period_code", "period_start", "value",
                   "lci", "uci", "note"]


def benchmark_value(ctx: query.Context, indicator: str, benchmark: str | None, period_code: str | None
                    ) -> tuple[str | None, float | None]:
    """The comparator actually used and its value for one period: the chosen one, else the next in
    its fallback chain (some UK-wide sources publish no England figure), else (None, None)."""
    if not benchmark or not period_code:
        return None, None
    for code in fallback_chain(benchmark):
        value = query.value_at(ctx, indicator, code, period_code)
        if value is not None:
            return code, value
    return None, None


def compare_latest(ctx: query.Context, table: pd.DataFrame, benchmarks: dict[str, str | None],
                   levels: dict[str, str]) -> pd.DataFrame:
    """Each place's latest value of each indicator in `table` (from compare_table), tested against its
    benchmark and placed among the areas of its level.

    `benchmarks` maps an area code to its comparator's code (its own nation, region, England...);
    a footprint (no code) is compared with England. Why per place: a Scottish place beside English
    ones is compared with Scotland by default, as on its profile. The verdict is Fingertips' test —
    does the place's 95% CI exclude the benchmark value — so a place without a CI is 'not compared'.
    The rank and its 90% range come from the same draws as the map's ranked table, and only where the
    place's latest period is the level's latest (otherwise a rank would mix periods)."""
    data = table.loc[table["value"].notna()]
    if data.empty:
        return pd.DataFrame(columns=LATEST_COLUMNS)
    ordered = data.sort_values("period_start")
    newest = ordered.groupby("indicator_id")["period_code"].last()
    last = ordered.groupby(["indicator_id", "place"], sort=False).tail(1).copy()
    rows = []
    for r in last.itertuples():
        ind = ctx.catalogue.get(r.indicator_id)
        asked = benchmarks.get(r.areacd) if isinstance(r.areacd, str) else query.ENGLAND
        used, bvalue = benchmark_value(ctx, r.indicator_id, asked, r.period_code)
        rank = lo = hi = n = np.nan
        level = levels.get(r.areacd) if isinstance(r.areacd, str) else None
        if level:
            ranked, info = _rank_table(ctx, r.indicator_id, level)
            hit = ranked.loc[ranked["areacd"] == r.areacd]
            if info["period_code"] == r.period_code and len(hit) and np.isfinite(hit["rank"].iloc[0]):
                rank, lo, hi = (float(hit[c].iloc[0]) for c in ("rank", "rank_lo", "rank_hi"))
                n = float(ranked["rank"].notna().sum())
        rows.append({"place": r.place, "areacd": r.areacd, "indicator_id": r.indicator_id, "indicator": r.indicator,
                     "period": r.period, "value": r.value, "lci": r.lci, "uci": r.uci, "unit": ind.unit,
                     "sign": ind.sign, "benchmark": used, "benchmark_name": query.area_name(ctx, used) if used else None,
                     "benchmark_value": bvalue, "rank": rank, "rank_lo": lo, "rank_hi": hi, "areas_ranked": n,
                     "level": level, "newest_period": r.period_code == newest[r.indicator_id]})
    out = pd.DataFrame(rows, columns=LATEST_COLUMNS)
    out["significance"] = significance(out["lci"].to_numpy(float), out["uci"].to_numpy(float),
                                       out["benchmark_value"].to_numpy(float), out["sign"].to_numpy(int))
    return out


LATEST_COLUMNS = ["place", "areacd", "indicator_id", "indicator", "period", "value", "lci", "uci", "unit", "sign",
                  "benchmark", "benchmark_name", "benchmark_value", "rank", "rank_lo", "rank_hi", "areas_ranked",
                  "level", "newest_period", "significance"]


def _rank_table(ctx: query.Context, indicator: str, level: str) -> tuple[pd.DataFrame, dict]:
    """map_view's ranks for one indicator and level, computed once per context (1,000 draws each)."""
    return ctx._cache.setdefault_by(("compare-ranks", indicator, level),
                                    lambda: map_view(ctx, indicator, level, "latest", None))


def benchmark_series(ctx: query.Context, benchmark: str, indicators: list[str]) -> pd.DataFrame:
    """The benchmark area's own series for each indicator (for a reference line in a chart), in
    compare_table's columns."""
    return compare_table(ctx, [benchmark], indicators)


# Columns of score_places that depend on the pillar weights; every other column (pillar scores,
# change over the window, quadrants and their probabilities) does not.
WEIGHTED_COLUMNS = ["overall", "rank", "rank_lo", "rank_hi", "areas_ranked", "next_areacd", "p_above_next"]


def ranks_for_weights(ctx: query.Context, options: scoring.Options) -> pd.DataFrame:
    """The weight-dependent columns of scoring.score_places, and only those, for one set of pillar
    weights: overall score, rank within its scope, 90% rank interval over the draws, and the chance of
    ranking above the next place.

    Why apart: the good-growth quadrant (change in each pillar over one window) does not depend on the
    pillar weights, and it is the slow part of score_places. A page that lets the reader move the
    weights computes the weight-free part once and this part per weight, with the same draws, seed
    and rules as score_places (its tests compare the two)."""
    ps = scoring.point_scores(ctx, options)
    latest, cat = ps.latest, ps.cat
    overall = scoring.combine_pillars(ps.pillars, options.weight_map)
    overall = np.where(ps.reference, overall, np.nan)
    group, _ = scoring.rank_groups(latest.areas, cat)
    point = scoring.group_min_rank(overall, group)
    lci = np.where(ps.applicable, latest.lci, np.nan)
    uci = np.where(ps.applicable, latest.uci, np.nan)
    samples = scoring.rank_draws(ps.value, lci, uci, ps.sign, ps.weights, ps.pillar_index, ps.applicable,
                                 ps.pillar_weights, draws=options.draws, seed=options.seed, robust=options.robust,
                                 coverage_rule=options.coverage_rule, family=scoring.family_codes(cat), group=group,
                                 reference=ps.reference)
    lo, hi = scoring.interval_of(samples, ps.reference & ~np.isnan(point))
    ranked = ~np.isnan(point)
    counts = pd.Series(group[ranked]).value_counts()
    nxt = scoring._next_place(point, group)
    p_above = np.full(len(point), np.nan)
    has_next = nxt >= 0
    if has_next.any():
        p_above[has_next] = scoring.prob_ranks_above(samples, np.flatnonzero(has_next), nxt[has_next])
    return pd.DataFrame({
        "areacd": latest.areas, "overall": overall, "rank": point,
        "rank_lo": np.fmin(lo, point), "rank_hi": np.fmax(hi, point),
        "areas_ranked": np.where(ranked, pd.Series(group).map(counts).fillna(0).to_numpy(), np.nan),
        "next_areacd": np.where(nxt >= 0, np.asarray(latest.areas)[np.maximum(nxt, 0)], None),
        "p_above_next": p_above})


def reweighted(scores: pd.DataFrame, ranks: pd.DataFrame) -> pd.DataFrame:
    """score_places' table with its weight-dependent columns replaced by `ranks` (ranks_for_weights)."""
    out = scores.drop(columns=WEIGHTED_COLUMNS).merge(ranks, on="areacd", how="left")
    return out.sort_values(["rank_scope", "rank", "areacd"]).reset_index(drop=True)[list(scores.columns)]


_PARENT_COLUMN = {"utla": "parent_utla", "combined_authority": "parent_combined_authority", "region": "parent_region",
                  "country": "parent_country"}


def area_at_level(ctx: query.Context, areacd: str | None, level: str) -> str | None:
    """The area of `level` that is or contains `areacd` (Leeds → West Yorkshire at combined-authority
    level), so a page at a higher level can still point at the reader's place; None where none does."""
    if not areacd:
        return None
    rows = ctx.areas.loc[ctx.areas["areacd"] == areacd]
    if rows.empty:
        return None
    if (rows["level"].astype(str) == level).any():
        return areacd
    col = _PARENT_COLUMN.get(level)
    if col is None or col not in rows.columns:
        return None
    parents = rows[col].dropna().astype(str)
    parents = parents.loc[parents != ""]
    return str(parents.iloc[0]) if len(parents) else None
