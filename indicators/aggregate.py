"""Aggregation of district values to higher levels and to custom places (a list of district codes).

Rules (DESIGN §4): use the value ONS publishes for the place where one exists; otherwise a
mean weighted by the rate's own denominator (people of an age group, or land area for shares
of area such as mobile coverage), a sum for counts; medians, ratios and per-dwelling rates
cannot be combined honestly, so they are refused with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import query
from .errors import NotAggregableError, UnknownAreaError

POPULATION = "population-count"
# Residents per km² of land (ONS Standard Area Measurements): population ÷ density is each
# district's land area, the denominator of shares of area.
DENSITY = "population-density"
# Shares of the population that turn the total into a rate's own denominator (DESIGN §4).
DENOMINATOR_SHARES = {
    "population": [],
    "children": [("percentage-of-the-population-aged-0-to-15", False)],
    "working_age": [("percentage-of-the-population-aged-16-to-64", False)],
    "older": [("percentage-of-the-population-aged-65", False)],
    "adults": [("percentage-of-the-population-aged-0-to-15", True)],  # everyone but children
    "area": [],  # population ÷ density, below
}


DENOMINATOR_WORDS = {"population": "population", "children": "population aged 0 to 15",
                     "working_age": "population aged 16 to 64", "adults": "population aged 16 and over",
                     "older": "population aged 65 and over", "area": "land area"}


@dataclass(frozen=True)
class Aggregate:
    value: float | None
    lci: float | None
    uci: float | None
    method: str  # published | population-weighted mean | area-weighted mean | sum | not available
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
    for the period's year, or the nearest earlier year published; for `area`, its land area in km²."""
    if query.periods(ctx, POPULATION, "ltla").empty:
        return pd.Series(np.nan, index=members), None
    year = pd.Timestamp(str(period_start)).year
    weights, code = _population_column(ctx, POPULATION, members, year)
    for share_id, complement in DENOMINATOR_SHARES[denominator]:
        share, _ = _population_column(ctx, share_id, members, year)
        weights = weights * ((100 - share) if complement else share) / 100
    if denominator == "area":
        density, _ = _population_column(ctx, DENSITY, members, year)
        weights = weights / density.where(density > 0)
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
                     "area-weighted mean" if ind.denominator == "area" else "population-weighted mean",
                     len(members), len(members), pop_code,
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


LEFT_OUT_REASONS = {
    "hierarchy": "no districts in the area hierarchy (the area is not built from current districts)",
    "district_missing": "a member district has no value for the period (suppressed or not published)",
    "population_missing": "a member district has no population estimate for the weights",
}


def agreement(ctx: query.Context, levels: tuple[str, ...] = ("combined_authority", "region"),
              tolerance: float = 0.01) -> pd.DataFrame:
    """Do district aggregates reproduce the values the source publishes for combined authorities
    and regions? One row per published value (latest district period, every rate and count
    indicator): compared rows say whether the aggregate is within `tolerance` (relative) —
    `strict` — or only within half a unit of the published rounding (a value published as 4.3
    may be 4.25–4.35) — `rounding_only`; rows left out say why (`reason`, one of
    LEFT_OUT_REASONS, and `note`). Why every published value gets a row: an agreement rate that
    silently drops the values it cannot reproduce overstates how well aggregation works."""
    rows = []
    decimals = dict(zip(ctx.snapshot.catalogue["indicator_id"].astype(str), ctx.snapshot.catalogue["decimal_places"]))
    aggregable = ctx.cat.loc[ctx.cat["aggregation"].isin(["rate", "count"]) & ~ctx.cat["derived"], ["id", "aggregation"]]
    for ind, how in zip(aggregable["id"], aggregable["aggregation"]):
        code = query.resolve_period(ctx, ind, "ltla", "latest")
        if code is None:
            continue
        dp = decimals.get(ind)
        rounding = 0.5 * 10 ** -int(dp) if dp is not None and pd.notna(dp) else 0.0
        for level in levels:
            published = query.values(ctx, ind, level, code)
            published = published.loc[published["value"].notna()]
            for target, pub in zip(published["areacd"], published["value"]):
                row = {"indicator_id": ind, "aggregation": how, "level": level, "areacd": target, "period": code,
                       "published": pub, "aggregate": np.nan, "relative_difference": np.nan, "compared": False,
                       "strict": False, "rounding_only": False, "within_tolerance": False, "reason": "", "note": ""}
                try:
                    members = members_of(ctx, target)
                except UnknownAreaError as exc:
                    rows.append({**row, "reason": "hierarchy", "note": str(exc)})
                    continue
                agg = aggregate(ctx, ind, members, code)
                if agg.value is None:
                    reason = "population_missing" if "population" in agg.note else "district_missing"
                    rows.append({**row, "reason": reason, "note": agg.note})
                    continue
                diff = abs(agg.value - pub)
                rel = diff / abs(pub) if pub else diff
                strict = bool(rel <= tolerance)
                by_rounding = bool(not strict and diff <= rounding + 1e-9)
                rows.append({**row, "aggregate": agg.value, "relative_difference": rel, "compared": True,
                             "strict": strict, "rounding_only": by_rounding, "within_tolerance": strict or by_rounding})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class AgreementSummary:
    """The agreement table in the figures methods.md reports (DESIGN §4: n compared / n published
    and a strict 1% rate, the rounding allowance shown apart)."""

    published: int
    compared: int
    strict: int
    rounding_only: int
    left_out: pd.DataFrame  # reason, values, indicators, example

    @property
    def strict_rate(self) -> float:
        return self.strict / self.compared if self.compared else float("nan")

    @property
    def with_rounding_rate(self) -> float:
        return (self.strict + self.rounding_only) / self.compared if self.compared else float("nan")

    def lines(self) -> list[str]:
        out = [f"compared {self.compared} of {self.published} published values "
               f"({self.compared / max(self.published, 1):.1%}); {self.published - self.compared} left out",
               f"within 1% of the published value: {self.strict} of {self.compared} ({self.strict_rate:.1%})",
               f"within the published rounding only: {self.rounding_only} more "
               f"({self.rounding_only / max(self.compared, 1):.1%}); with them {self.with_rounding_rate:.1%}"]
        for r in self.left_out.itertuples():
            out.append(f"left out, {r.reason}: {r.values} values of {r.indicators} indicator(s) — "
                       f"{LEFT_OUT_REASONS.get(r.reason, r.reason)}; e.g. {r.example}")
        return out


def summarise(table: pd.DataFrame) -> AgreementSummary:
    compared = table.loc[table["compared"]]
    gone = table.loc[~table["compared"]]
    left = (gone.groupby("reason").agg(values=("areacd", "size"), indicators=("indicator_id", "nunique"),
                                       example=("note", "first"))
            .sort_values("values", ascending=False).reset_index())
    return AgreementSummary(published=len(table), compared=len(compared), strict=int(compared["strict"].sum()),
                            rounding_only=int(compared["rounding_only"].sum()), left_out=left)
