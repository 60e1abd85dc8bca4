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
    for the period's year, or the nearest earlier year published; for `area`, its land area in km².

    Cached per (members, year, denominator) in the context: a footprint's series asks for the
    same year's weights for every period in it, and the weights depend on the year alone.
    """
    year = pd.Timestamp(str(period_start)).year
    key = ("population_weights", tuple(members), year, denominator)
    hit = ctx._cache.get(key)
    if hit is None:
        hit = ctx._cache[key] = _population_weights(ctx, members, year, denominator)
    weights, code = hit
    return weights.copy(), code


def _population_weights(ctx: query.Context, members: list[str], year: int, denominator: str
                        ) -> tuple[pd.Series, str | None]:
    if query.periods(ctx, POPULATION, "ltla").empty:
        return pd.Series(np.nan, index=members), None
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


def _panel(ctx: query.Context, indicator: str, members: list[str]
           ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The members' values of one indicator in every district period at once: (periods, value,
    lci, uci), the arrays members × periods, NaN where missing. Own code first, then the code a
    member replaced, as ``query.matrix`` reads one period. Cached in the context."""
    key = ("member_panel", indicator, tuple(members))
    hit = ctx._cache.get(key)
    if hit is not None:
        return hit
    p = query.periods(ctx, indicator, "ltla")
    shape = (len(members), len(p))
    value, lci, uci = (np.full(shape, np.nan) for _ in range(3))
    if len(p):
        rows = ctx.slice(indicator, "ltla")
        col = pd.Index(p["period_code"].astype(str)).get_indexer(rows["period_code"].astype(str))
        index = pd.Index(members)
        successor_of = {old: new for new, old in ctx.predecessor.items()}
        own = rows["areacd"].astype(str)
        for lookup in (own, own.map(successor_of).fillna("")):
            pos = index.get_indexer(lookup)
            ok = (pos >= 0) & (col >= 0) & rows["value"].notna().to_numpy()
            ok[ok] = np.isnan(value[pos[ok], col[ok]])
            for out, name in ((value, "value"), (lci, "lci"), (uci, "uci")):
                out[pos[ok], col[ok]] = rows[name].to_numpy(dtype=float)[ok]
    ctx._cache[key] = (p, value, lci, uci)
    return p, value, lci, uci


def _column_for_years(ctx: query.Context, indicator: str, members: list[str], years: np.ndarray) -> np.ndarray:
    """``_population_column`` for many years: members × years, each year's latest period starting in or
    before it (else the first period)."""
    p, value, _, _ = _panel(ctx, indicator, members)
    if p.empty:
        return np.full((len(members), len(years)), np.nan)
    starts = pd.to_datetime(p["period_start"].astype(str)).dt.year.to_numpy()
    pick = np.maximum(np.searchsorted(starts, years, side="right") - 1, 0)
    return value[:, pick]


def _weights_for_years(ctx: query.Context, members: list[str], years: np.ndarray, denominator: str) -> np.ndarray:
    """``population_weights`` for many years at once (members × years), normalised to sum to 1."""
    if query.periods(ctx, POPULATION, "ltla").empty:
        return np.full((len(members), len(years)), np.nan)
    weights = _column_for_years(ctx, POPULATION, members, years)
    for share_id, complement in DENOMINATOR_SHARES[denominator]:
        share = _column_for_years(ctx, share_id, members, years)
        weights = weights * ((100 - share) if complement else share) / 100
    if denominator == "area":
        density = _column_for_years(ctx, DENSITY, members, years)
        weights = weights / np.where(density > 0, density, np.nan)
    return weights / weights.sum(axis=0)


def aggregate_series(ctx: query.Context, indicator: str, members: list[str]) -> pd.DataFrame:
    """``aggregate`` for every district period of the indicator at once: one row per period in which
    every member has a value (and, for a rate, a population weight), with columns period_code,
    period_label, period_start, value, lci, uci, in time order.

    Why: a footprint's plan needs the whole series of several indicators; one ``aggregate`` call
    per period re-read the districts' values and population weights period by period (most of a
    footprint plan's evaluation time). Here the members' values for all periods, and those of the
    population series behind the weights, are read once each. The numbers are the same as
    ``aggregate``'s, period by period (tested).
    """
    ind = ctx.catalogue.get(indicator)
    unknown = [c for c in members if c not in ctx.names.index]
    if unknown:
        raise UnknownAreaError(f"unknown district code(s): {', '.join(unknown)}")
    if ind.aggregation == "not_aggregable":
        reason = ind.note or "it is a median, ratio or rate whose denominator is not population"
        raise NotAggregableError(f"{ind.label} cannot be aggregated across areas: {reason}")
    p, value, lci, uci = _panel(ctx, indicator, members)
    if p.empty:
        return pd.DataFrame(columns=["period_code", "period_label", "period_start", "value", "lci", "uci"])
    complete = ~np.isnan(value).any(axis=0)
    se = (uci - lci) / (2 * 1.959963984540054)
    with_ci = ~np.isnan(se).any(axis=0)
    if ind.aggregation == "count":
        total = value.sum(axis=0)
        half = 1.959963984540054 * np.sqrt((se ** 2).sum(axis=0))
    else:
        years = pd.to_datetime(p["period_start"].astype(str)).dt.year.to_numpy()
        w = _weights_for_years(ctx, members, years, ind.denominator or "population")
        complete &= ~np.isnan(w).any(axis=0)
        total = (w * value).sum(axis=0)
        half = 1.959963984540054 * np.sqrt(((w * se) ** 2).sum(axis=0))
    half = np.where(with_ci, half, np.nan)
    out = pd.DataFrame({"period_code": p["period_code"].astype(str).to_numpy(),
                        "period_label": p["period_label"].to_numpy(), "period_start": p["period_start"].to_numpy(),
                        "value": total, "lci": total - half, "uci": total + half})
    return out.loc[complete].reset_index(drop=True)


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
