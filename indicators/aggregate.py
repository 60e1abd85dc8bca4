"""Aggregation of district values to higher levels and to custom places (a list of district codes).

Rules (DESIGN §4): use the value ONS publishes for the place where one exists; otherwise a
population-weighted mean for rates and shares, a sum for counts; medians, ratios and
per-dwelling rates cannot be combined honestly, so they are refused with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import query
from .errors import NotAggregableError, UnknownAreaError

POPULATION = "population-count"
# Shares of the population that turn the total into a rate's own denominator (DESIGN §4).
DENOMINATOR_SHARES = {
    "population": [],
    "children": [("percentage-of-the-population-aged-0-to-15", False)],
    "working_age": [("percentage-of-the-population-aged-16-to-64", False)],
    "older": [("percentage-of-the-population-aged-65", False)],
    "adults": [("percentage-of-the-population-aged-0-to-15", True)],  # everyone but children
}


DENOMINATOR_WORDS = {"population": "population", "children": "population aged 0 to 15",
                     "working_age": "population aged 16 to 64", "adults": "population aged 16 and over",
                     "older": "population aged 65 and over"}


@dataclass(frozen=True)
class Aggregate:
    value: float | None
    lci: float | None
    uci: float | None
    method: str  # published | population-weighted mean | sum | not available
    members: int
    members_with_data: int
    population_period: str | None
    note: str


def _member_values(ctx: query.Context, indicator: str, period_code: str, members: list[str]) -> pd.DataFrame:
    m = query.matrix(ctx, "ltla", period_code, [indicator], members)
    return pd.DataFrame({"value": m.value[:, 0], "lci": m.lci[:, 0], "uci": m.uci[:, 0]}, index=m.areas)


def _population_column(ctx: query.Context, indicator: str, members: list[str], year: int) -> tuple[pd.Series, str]:
    p = query.periods(ctx, indicator, "ltla")
    years = pd.to_datetime(p["period_start"].astype(str)).dt.year.to_numpy()
    idx = np.flatnonzero(years <= year)
    code = str(p["period_code"].iloc[idx[-1] if len(idx) else 0])
    m = query.matrix(ctx, "ltla", code, [indicator], members)
    return pd.Series(m.value[:, 0], index=m.areas), code


def population_weights(ctx: query.Context, members: list[str], period_start: pd.Timestamp | str,
                       denominator: str = "population") -> tuple[pd.Series, str | None]:
    """Each district's mid-year population in the rate's denominator group (children, working age...)
    for the period's year, or the nearest earlier year published."""
    if query.periods(ctx, POPULATION, "ltla").empty:
        return pd.Series(np.nan, index=members), None
    year = pd.Timestamp(str(period_start)).year
    weights, code = _population_column(ctx, POPULATION, members, year)
    for share_id, complement in DENOMINATOR_SHARES[denominator]:
        share, _ = _population_column(ctx, share_id, members, year)
        weights = weights * ((100 - share) if complement else share) / 100
    return weights, code


def aggregate(ctx: query.Context, indicator: str, members: list[str], period: query.Period = "latest",
              target: str | None = None) -> Aggregate:
    """The indicator's value for a place made of `members` (district codes) in one period."""
    ind = ctx.catalogue.get(indicator)
    unknown = [c for c in members if c not in ctx.names.index]
    if unknown:
        raise UnknownAreaError(f"unknown district code(s): {', '.join(unknown)}")
    code = query.resolve_period(ctx, indicator, "ltla", period)
    if target and code:
        published = query.value_at(ctx, indicator, target, code)
        if published is not None:
            rows = ctx.area_rows(target)
            hit = rows.loc[(rows["indicator_id"].astype(str) == indicator) & (rows["period_code"].astype(str) == code)]
            lci, uci = (float(hit[c].iloc[0]) if len(hit) and pd.notna(hit[c].iloc[0]) else None for c in ("lci", "uci"))
            return Aggregate(published, lci, uci, "published", len(members), len(members), None,
                             f"Published by the source for {query.area_name(ctx, target)}.")
    if ind.aggregation == "not_aggregable":
        reason = ind.note or "it is a median, ratio or rate whose denominator is not population"
        raise NotAggregableError(f"{ind.label} cannot be aggregated across areas: {reason}")
    if code is None:
        return Aggregate(None, None, None, "not available", len(members), 0, None, "No district data for this period.")
    vals = _member_values(ctx, indicator, code, members)
    have = vals["value"].notna()
    if not have.all():
        missing = ", ".join(vals.index[~have][:10])
        return Aggregate(None, None, None, "not available", len(members), int(have.sum()), None,
                         f"Not shown: no value for {int((~have).sum())} of {len(members)} districts ({missing}).")
    se = (vals["uci"] - vals["lci"]) / (2 * 1.959963984540054)
    with_ci = se.notna().all()
    if ind.aggregation == "count":
        value = float(vals["value"].sum())
        half = 1.959963984540054 * float(np.sqrt((se ** 2).sum())) if with_ci else None
        return Aggregate(value, value - half if half is not None else None, value + half if half is not None else None,
                         "sum", len(members), len(members), None, "Sum of the districts' values.")
    start = query.periods(ctx, indicator, "ltla").set_index("period_code").loc[code, "period_start"]
    pop, pop_code = population_weights(ctx, members, start, ind.denominator or "population")
    if pop.isna().any():
        missing = ", ".join(pop.index[pop.isna()][:10])
        return Aggregate(None, None, None, "not available", len(members), len(members), pop_code,
                         f"Not shown: no population estimate for {missing}.")
    w = pop / pop.sum()
    value = float((w * vals["value"]).sum())
    half = 1.959963984540054 * float(np.sqrt(((w * se) ** 2).sum())) if with_ci else None
    return Aggregate(value, value - half if half is not None else None, value + half if half is not None else None,
                     "population-weighted mean", len(members), len(members), pop_code,
                     f"Mean of the districts weighted by their {DENOMINATOR_WORDS[ind.denominator or 'population']} "
                     f"(mid-year {pop_code})" + ("; the CI assumes independent district estimates." if with_ci else "."))


def members_of(ctx: query.Context, target: str) -> list[str]:
    """Current districts inside a combined authority, upper-tier authority, region or nation."""
    districts = query.current_areas(ctx, "ltla")
    for col in ("parent_combined_authority", "parent_utla", "parent_region", "parent_country"):
        hit = districts.loc[districts[col].astype(str) == target, "areacd"]
        if len(hit):
            return hit.tolist()
    raise UnknownAreaError(f"'{target}' has no districts in the area hierarchy")


def agreement(ctx: query.Context, levels: tuple[str, ...] = ("combined_authority", "region"),
              tolerance: float = 0.01) -> pd.DataFrame:
    """For every rate indicator and every CA/region with a published latest value, does the
    population-weighted aggregate of its districts agree with it within `tolerance` (relative),
    or within half a unit of the published rounding (a value published as 4.3 may be 4.25–4.35)?"""
    rows = []
    decimals = dict(zip(ctx.snapshot.catalogue["indicator_id"].astype(str), ctx.snapshot.catalogue["decimal_places"]))
    rates = ctx.cat.loc[ctx.cat["aggregation"] == "rate", "id"]
    for ind in rates:
        code = query.resolve_period(ctx, ind, "ltla", "latest")
        if code is None:
            continue
        for level in levels:
            published = query.values(ctx, ind, level, code)
            published = published.loc[published["value"].notna()]
            for target, pub in zip(published["areacd"], published["value"]):
                try:
                    members = members_of(ctx, target)
                except UnknownAreaError:
                    continue
                agg = aggregate(ctx, ind, members, code)
                if agg.value is None:
                    continue
                rel = abs(agg.value - pub) / abs(pub) if pub else abs(agg.value - pub)
                dp = decimals.get(ind)
                rounding = 0.5 * 10 ** -int(dp) if dp is not None and pd.notna(dp) else 0.0
                rows.append({"indicator_id": ind, "level": level, "areacd": target, "period": code,
                             "published": pub, "aggregate": agg.value, "relative_difference": rel,
                             "within_tolerance": rel <= tolerance or abs(agg.value - pub) <= rounding + 1e-9})
    return pd.DataFrame(rows)
