"""One place, every indicator: the data behind a Fingertips-style spine chart.

Why one function: the place profile, the plan report and the benchmark all need the same
per-indicator facts (value and CI, benchmark, significance at 95% and 99.8%, trend,
"worse and worsening", neighbours' mean, change since a baseline), computed the same way.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import counterfactual as cf
from . import neighbours as nb
from . import query, significance, similar_places, trends
from .errors import IndicatorError

SPARK_POINTS = 10
# Benchmark on the place's statistical neighbours: their mean, period by period, rather than an area.
NEIGHBOURS = "neighbours"
QUINTILE_LABELS = {1: "best fifth", 2: "second fifth", 3: "middle fifth", 4: "fourth fifth", 5: "worst fifth"}


def default_benchmark(areacd: str) -> str:
    """A place is compared with its own nation by default: England for English places, Scotland,
    Wales or Northern Ireland for theirs (their figures are often not comparable with England's)."""
    return query.COUNTRY_CODES.get(query.nation_of(areacd) or "E", query.ENGLAND)


def fallback_chain(benchmark: str) -> list[str]:
    """The comparators tried, in order, when the chosen one publishes no figure for an indicator:
    a region falls back to England, a nation to the UK. Every row says which one it used."""
    if benchmark == NEIGHBOURS or benchmark == query.UK:
        return [benchmark]
    if benchmark in query.COUNTRY_CODES.values():
        return [benchmark, query.UK]
    if benchmark.startswith("E12"):
        return [benchmark, query.ENGLAND, query.UK]
    return [benchmark]


@dataclass(frozen=True)
class PlaceContext:
    areacd: str
    areanm: str
    level: str
    benchmark: str
    benchmark_name: str
    region: str | None
    peers: list[str]
    peer_kind: str


def place_context(ctx: query.Context, areacd: str, level: str = "ltla", benchmark: str | None = None,
                  peer_kind: str = "global", peers: list[str] | None = None) -> PlaceContext:
    name = query.area_name(ctx, areacd)
    benchmark = benchmark or default_benchmark(areacd)
    if peers is None:
        try:
            peers = nb.neighbour_set(ctx.neighbours, areacd, peer_kind)
        except (nb.UnknownAreaError, ValueError):
            peers = []
    if benchmark == NEIGHBOURS:
        if not peers:
            raise IndicatorError(f"{name} ({areacd}) has no published statistical neighbours to compare with; "
                                 "choose England or its region instead")
        bench_name = f"its {len(peers)} statistical neighbours (mean)"
    else:
        bench_name = query.area_name(ctx, benchmark)
    return PlaceContext(areacd, name, level, benchmark, bench_name, query.parent_region(ctx, areacd), peers, peer_kind)


def profile(ctx: query.Context, areacd: str, level: str = "ltla", benchmark: str | None = None,
            peer_kind: str = "global", peers: list[str] | None = None, did_since: str | None = None,
            did_indicators: list[str] | None = None) -> pd.DataFrame:
    """One row per catalogue indicator with data for the place at the level.

    Columns: identity (indicator_id, label, pillar, theme, polarity, unit), the latest value with its
    CI and status, the 99.8% limits rebuilt by the CI's own method (`limits_method` names it), the
    benchmark's value, code and name (`benchmark_used`, `benchmark_name`: a named fallback where the
    chosen comparator has no figure, e.g. the UK for England), significance at 95% and 99.8%, the
    percentile and quintile among comparable areas, the z-score, the recent trend and the
    "worse and worsening" flag, change
    since the first period, the neighbours' mean, a sparkline series and, when `did_since` is
    given, the difference-in-differences against the neighbours for `did_indicators` (default: all scored).
    Vectorised over indicators: the page and the plan report call it on every interaction.
    """
    place = place_context(ctx, areacd, level, benchmark, peer_kind, peers)
    benchmark = place.benchmark
    rows = _place_rows(ctx, areacd, level)
    if rows.empty:
        return pd.DataFrame()
    cat = ctx.cat.set_index("id")
    present = set(rows["indicator_id"])
    ids = [i for i in ctx.cat["id"] if i in present]
    latest_codes = {i: query.latest_period(ctx, i, level) for i in ids}
    rows["is_latest"] = rows["period_code"] == rows["indicator_id"].map(latest_codes)
    # the row to show: the latest well-covered period if the place has it, else its most recent
    shown = (rows.sort_values(["indicator_id", "is_latest", "period_start"])
             .groupby("indicator_id", sort=False).tail(1).set_index("indicator_id").loc[ids])
    first = rows.groupby("indicator_id", sort=False).head(1).set_index("indicator_id").loc[ids]
    sign = cat.loc[ids, "sign"].to_numpy()
    polarity = cat.loc[ids, "polarity"].to_numpy()

    # trends by Fingertips' rules, all indicators at once on a shared time axis
    tr = _trends(ctx, rows, ids, polarity, cat.loc[ids, "unit"].to_numpy())

    region = _lookup(ctx, place.region, ids, shown["period_code"]) if place.region else np.full(len(ids), np.nan)
    value, lci, uci = (shown[c].to_numpy(dtype=float) for c in ("value", "lci", "uci"))
    nations = [set(str(n).split(",")) for n in cat.loc[ids, "nations"]]
    dist = _distribution(ctx, level, ids, shown, place.peers, value, sign, nations)
    bench, bench_used, bench_name = _benchmarks(ctx, place, ids, shown["period_code"], dist["neighbour_mean"])
    # A total (people, £ million) grows with the size of the place: set beside England's or a larger
    # area's total it says nothing, so totals are never compared (their per-head forms are).
    total = (cat.loc[ids, "aggregation"] == "count").to_numpy()
    bench[total], bench_used[total], bench_name[total] = np.nan, None, None
    sig95 = significance.significance(lci, uci, bench, sign)
    method = cat.loc[ids, "ci_method"].where(cat.loc[ids, "ci_method"].notna(), "normal").to_numpy(dtype=object)
    lo998, hi998, used = significance.limits(value, lci, uci, method, significance.Z998, scale=100.0)
    sig998 = significance.significance(lo998, hi998, bench, sign)
    spark = rows.groupby("indicator_id", sort=False).tail(SPARK_POINTS).groupby("indicator_id", sort=False)
    spark_values = spark["value"].apply(list)
    spark_labels = spark["period_label"].apply(list)
    changes = [trends.change(b, v, p) for b, v, p in zip(first["value"].to_numpy(float), value, polarity)]
    out = pd.DataFrame({
        "indicator_id": ids, "label": cat.loc[ids, "label"].to_numpy(), "pillar": cat.loc[ids, "pillar"].to_numpy(),
        "theme": cat.loc[ids, "theme"].to_numpy(), "polarity": polarity, "unit": cat.loc[ids, "unit"].to_numpy(),
        "scored": cat.loc[ids, "scored"].to_numpy(),
        "period_code": shown["period_code"].to_numpy(), "period_label": shown["period_label"].to_numpy(),
        "is_latest_period": shown["is_latest"].to_numpy(),
        "value": value, "lci": lci, "uci": uci, "lci_998": lo998, "uci_998": hi998,
        "limits_method": [significance.METHOD_LABELS.get(u) for u in used],
        "status": shown["status"].to_numpy(),
        "benchmark_value": bench, "benchmark_used": bench_used, "benchmark_name": bench_name,
        "significance_95": sig95, "significance_998": sig998, "region_value": region,
        **dist,
        "trend": tr["verdict"].to_numpy(), "trend_points": tr["n_points"].to_numpy(), "slope": tr["slope"].to_numpy(),
        "slope_lci": tr["slope_lci"].to_numpy(), "slope_uci": tr["slope_uci"].to_numpy(),
        "trend_real_terms": tr["real_terms"].to_numpy(),
        "baseline_label": first["period_label"].to_numpy(),
        "change": [c.absolute for c in changes], "change_relative": [c.relative for c in changes],
        "change_direction": [c.direction for c in changes],
        "spark_values": spark_values.loc[ids].to_numpy(), "spark_labels": spark_labels.loc[ids].to_numpy(),
    })
    out["worse_and_worsening"] = [trends.worse_and_worsening(s_, t) for s_, t in zip(out["significance_95"], out["trend"])]
    if did_since is not None and len(out):
        out = _with_did(ctx, out, place, did_since, did_indicators)
    return out


def _trends(ctx: query.Context, rows: pd.DataFrame, ids: list[str], polarity: np.ndarray,
            units: np.ndarray) -> pd.DataFrame:
    """One recent trend per indicator (``trends.trend_many``): values, CIs and period lengths on one grid,
    money deflated by the snapshot's GDP deflator."""
    axis = np.sort(rows["year"].unique())
    pos = {i: k for k, i in enumerate(ids)}
    r, c = rows["indicator_id"].map(pos).to_numpy(), np.searchsorted(axis, rows["year"].to_numpy())
    grids = {}
    for col in ("value", "lci", "uci"):
        grid = np.full((len(ids), len(axis)), np.nan)
        grid[r, c] = rows[col].to_numpy(dtype=float)
        grids[col] = grid
    # each distinct period measured once (a place has a few hundred rows but a few dozen periods)
    periods = rows[["period_start", "period_end", "period_code"]]
    distinct = periods.drop_duplicates()
    years = trends.period_length_years(distinct["period_start"], distinct["period_end"], distinct["period_code"])
    lengths = periods.merge(distinct.assign(_years=years), how="left", on=list(periods.columns))["_years"]
    length = lengths.groupby(rows["indicator_id"].to_numpy()).median().reindex(ids).fillna(0.0).to_numpy()
    money = np.array([trends.is_money(u) for u in units], dtype=bool)
    return trends.trend_many(axis, grids["value"], polarity, lci=grids["lci"], uci=grids["uci"], length=length,
                             money=money, deflator=gdp_deflator(ctx))


def gdp_deflator(ctx: query.Context) -> trends.Deflator | None:
    """The snapshot's GDP deflator, built once per context."""
    key = ("gdp_deflator",)
    if key not in ctx._cache:
        ctx._cache[key] = trends.gdp_deflator(ctx.snapshot.observations)
    return ctx._cache[key]


def _place_rows(ctx: query.Context, areacd: str, level: str) -> pd.DataFrame:
    """The place's rows with values at the level, back-years under a predecessor code included."""
    parts = [ctx.area_rows(areacd)]
    if areacd in ctx.predecessor:
        parts.append(ctx.area_rows(ctx.predecessor[areacd]))
    rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    rows = rows.loc[(rows["level"] == level) & rows["value"].notna()]
    cols = ["indicator_id", "period_code", "period_label", "status"]
    rows = rows.reindex(columns=[*cols, "period_start", "period_end", "value", "lci", "uci"])
    rows = rows.astype({c: str for c in cols})
    rows = rows.drop_duplicates(["indicator_id", "period_code"]).sort_values(["indicator_id", "period_start"])
    rows["year"] = trends.period_to_year(rows["period_start"])
    return rows.reset_index(drop=True)


def _benchmarks(ctx: query.Context, place: PlaceContext, ids: list[str], codes: pd.Series,
                neighbour_mean: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per indicator: the benchmark value, the code of the comparator that gave it and its name.

    The chosen comparator first; where it has no figure for the period, the next in
    `fallback_chain`, named on the row; where none has one, NaN (the row is still shown, 'not compared').
    """
    n = len(ids)
    value, used, name = np.full(n, np.nan), np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    if place.benchmark == NEIGHBOURS:  # their mean for the same period as the place's value
        have = ~np.isnan(neighbour_mean)
        value[have], used[have], name[have] = neighbour_mean[have], NEIGHBOURS, place.benchmark_name
        return value, used, name
    for code in fallback_chain(place.benchmark):
        missing = np.isnan(value)
        if not missing.any():
            break
        found = _lookup(ctx, code, ids, codes)
        take = missing & ~np.isnan(found)
        value[take], used[take], name[take] = found[take], code, query.area_name(ctx, code)
    return value, used, name


def _lookup(ctx: query.Context, areacd: str, ids: list[str], codes: pd.Series) -> np.ndarray:
    """Values of one comparator area for each (indicator, period) pair; NaN where it has none."""
    table = _values_by_period(ctx, areacd)
    return np.array([table.get((i, c), np.nan) for i, c in zip(ids, codes)], dtype=float)


def _values_by_period(ctx: query.Context, areacd: str) -> dict[tuple[str, str], float]:
    """Every published value of one area by (indicator, period code). Kept per context: the
    comparators (England, the UK, the nations and regions) are the same few for every place, and
    indexing all of England's rows again took tens of milliseconds per profile."""
    def make() -> dict[tuple[str, str], float]:
        rows = ctx.area_rows(areacd)
        rows = rows.loc[rows["value"].notna()]
        return dict(zip(zip(rows["indicator_id"].astype(str), rows["period_code"].astype(str)), rows["value"]))
    return ctx._cache.setdefault_by(("values_by_period", areacd), make)


def quintile(percentile: np.ndarray) -> np.ndarray:
    """Fifth among areas from the polarity-aware percentile (share of areas doing no better):
    1 = best fifth (above the 80th percentile) … 5 = worst fifth; NaN where there is no percentile.
    A position, not a test: it says nothing about whether the difference is more than chance."""
    pct = np.asarray(percentile, float)
    with np.errstate(invalid="ignore"):
        q = np.clip(1 + np.floor((100 - pct) / 20), 1, 5)
    return np.where(np.isnan(pct), np.nan, q)


def _distribution(ctx: query.Context, level: str, ids: list[str], shown: pd.DataFrame, peers: list[str],
                  value: np.ndarray, sign: np.ndarray, nations: list[set[str]] | None = None) -> dict[str, np.ndarray]:
    """Where the place sits among the current areas of the level whose figures are comparable
    with it (the indicator's nations), and its neighbours' mean."""
    m = query.matrix(ctx, level, "latest")
    cols = [m.ids.index(i) for i in ids]
    vals = m.value[:, cols].copy()
    stale = ~shown["is_latest"].to_numpy()
    for j in np.flatnonzero(stale):  # the place's own latest is older: compare with that period instead
        other = query.matrix(ctx, level, str(shown["period_code"].iloc[j]), [ids[j]], list(m.areas))
        vals[:, j] = other.value[:, 0]
    if nations is not None:
        letters, which = np.unique([query.nation_of(str(a)) or "" for a in m.areas], return_inverse=True)
        comparable = np.array([[letter in ns for ns in nations] for letter in letters])  # (nations, indicators)
        vals = np.where(comparable[which], vals, np.nan)
    peer_rows = m.areas.get_indexer(peers) if peers else np.array([], dtype=int)
    peer_vals = vals[peer_rows[peer_rows >= 0]]
    n = np.sum(~np.isnan(vals), axis=0)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, sd = np.nanmean(vals, axis=0), np.nanstd(vals, axis=0)
        adj = vals * sign
        pct = np.where((n >= 2) & (sign != 0), np.sum(adj <= value * sign, axis=0) / np.maximum(n, 1) * 100, np.nan)
        z = np.where((sd > 0) & (sign != 0), sign * (value - mean) / sd, np.nan)
        q25, q50, q75 = np.nanpercentile(vals, [25, 50, 75], axis=0)
        out = {
            "neighbour_mean": np.nanmean(peer_vals, axis=0) if len(peer_vals) else np.full(len(ids), np.nan),
            "neighbours_with_data": np.sum(~np.isnan(peer_vals), axis=0) if len(peer_vals) else np.zeros(len(ids), int),
            "areas_compared": n, "percentile": pct, "quintile": quintile(pct), "z": z,
            "area_min": np.nanmin(vals, axis=0), "area_max": np.nanmax(vals, axis=0), "area_p25": q25,
            "area_median": q50, "area_p75": q75,
        }
    return out


def _f(v: object) -> float | None:
    return None if v is None or pd.isna(v) else float(v)  # type: ignore[arg-type]


def _with_did(ctx: query.Context, out: pd.DataFrame, place: PlaceContext, since: str,
              indicators: list[str] | None) -> pd.DataFrame:
    """Add the comparison with similar places since `since` for `indicators` (default: all scored).

    `counterfactual_*` columns: the synthetic control, the headline (estimate, 90% placebo
    range, permutation p-value, pre-period fit ratio, verdict, note). `did_*` columns: the
    difference-in-differences line beside it, with placebo inference too.
    """
    wanted = indicators if indicators is not None else out.loc[out["scored"], "indicator_id"].tolist()
    present = set(out["indicator_id"])
    start = _as_date(since)
    did, synth = {}, {}
    for ind in wanted:
        if ind not in present:
            continue
        panel = similar_places.comparison_panel(ctx, [place.areacd, *place.peers], ind, place.level)
        polarity = ctx.catalogue.get(ind).polarity
        did[ind] = nb.difference_in_differences(panel, place.areacd, place.peers, start, polarity)
        synth[ind] = cf.synthetic_control(panel, place.areacd, place.peers, start, polarity)
    out = out.copy()
    ids = out["indicator_id"]
    for name in ("estimate", "lci", "uci", "p_value", "verdict", "note"):
        out[f"did_{name}"] = ids.map(lambda i: getattr(did[i], name) if i in did else None)
    for name in ("estimate", "lci", "uci", "p_value", "pre_fit_ratio", "verdict", "note"):
        out[f"counterfactual_{name}"] = ids.map(lambda i: getattr(synth[i], name) if i in synth else None)
    return out


def did_for(ctx: query.Context, place: PlaceContext, indicator: str, since: str) -> nb.DiD:
    """The place against its neighbours on one indicator since `since` (a date or year).

    The difference-in-differences with placebo inference; pooled periods that span `since`
    count as neither before nor after (their period ends come from the snapshot).
    """
    panel = similar_places.comparison_panel(ctx, [place.areacd, *place.peers], indicator, place.level)
    polarity = ctx.catalogue.get(indicator).polarity
    return nb.difference_in_differences(panel, place.areacd, place.peers, _as_date(since), polarity)


def _as_date(since: str | int) -> pd.Timestamp:
    text = str(since)
    return pd.Timestamp(f"{text}-01-01") if text.isdigit() else pd.Timestamp(text)
