"""What a prevention model takes from the snapshot: the place's name and each affected population.

Kept apart from the arithmetic so that evaluate.py stays pure (arrays in, arrays out) and tests can
value a model with hand-made populations.
"""
from __future__ import annotations

import re

from .. import query
from .evaluate import ResolvedPopulation
from .model import PreventionModel, model_error

# The people an indicator's unit is per: '%' is per 100 people, 'Rate per 100,000 population' per 100,000.
_PER = re.compile(r"per\s+([\d,]+)", re.IGNORECASE)
# The catalogue's denominators as the snapshot counts them: the population times these age shares.
POPULATION = "population-count"
DENOMINATOR_SHARES: dict[str, list[str]] = {
    "population": [],
    "adults": ["percentage-of-the-population-aged-16-to-64", "percentage-of-the-population-aged-65"],
    "working_age": ["percentage-of-the-population-aged-16-to-64"],
    "older": ["percentage-of-the-population-aged-65"],
    "children": ["percentage-of-the-population-aged-0-to-15"],
}


def scale_of(unit: str) -> float | None:
    """People per unit of the indicator, read from its unit text; None when the unit does not say."""
    if unit.strip() == "%":
        return 100.0
    m = _PER.search(unit)
    return float(m.group(1).replace(",", "")) if m else None


def resolve(ctx: query.Context, model: PreventionModel) -> tuple[str, list[ResolvedPopulation], list[float]]:
    """The place's name, each intervention's affected population and scale; refusals name the field."""
    if model.place.code not in ctx.names.index:
        raise model_error(model, ("place", "code"), f"unknown area code '{model.place.code}'")
    name = query.area_name(ctx, model.place.code)
    known = set(ctx.catalogue.ids())
    pops: list[ResolvedPopulation] = []
    scales: list[float] = []
    for i, iv in enumerate(model.interventions):
        if iv.indicator not in known:
            raise model_error(model, ("interventions", i, "indicator"), f"unknown indicator '{iv.indicator}'")
        ind = ctx.catalogue.get(iv.indicator)
        if ind.kind != "outcome" or ind.polarity == "neutral":
            raise model_error(model, ("interventions", i, "indicator"),
                              f"'{iv.indicator}' is not an outcome with a better direction (kind {ind.kind}, "
                              f"polarity {ind.polarity})")
        scale = iv.scale if iv.scale is not None else scale_of(ind.unit)
        if scale is None:
            raise model_error(model, ("interventions", i, "scale"),
                              f"the unit of '{iv.indicator}' ({ind.unit}) does not say how many people it is "
                              "per; give 'scale'")
        scales.append(float(scale))
        pops.append(_population(ctx, model, i, name))
    return name, pops, scales


def _population(ctx: query.Context, model: PreventionModel, i: int, place_name: str) -> ResolvedPopulation:
    p = model.interventions[i].population
    if p.count is not None:
        return ResolvedPopulation(float(p.count), str(p.source))
    indicator, shares = p.indicator, p.share_indicators
    if p.from_denominator:
        outcome = ctx.catalogue.get(model.interventions[i].indicator)
        if outcome.denominator not in DENOMINATOR_SHARES:
            raise model_error(model, ("interventions", i, "population", "from_denominator"),
                              f"'{outcome.id}' has no denominator of people in the catalogue "
                              f"({outcome.denominator or 'none'}); give 'indicator' or 'count'")
        indicator, shares = POPULATION, DENOMINATOR_SHARES[outcome.denominator] or None
    assert indicator is not None
    count, text = _latest(ctx, model, i, indicator, place_name)
    source = f"snapshot: {text}"
    if shares:
        parts = [_latest(ctx, model, i, ind, place_name) for ind in shares]
        pct = sum(v for v, _ in parts)
        if not 0 < pct <= 100:
            raise model_error(model, ("interventions", i, "population", "share_indicators"),
                              f"the shares add up to {pct:g}%, not a share of the population")
        count *= pct / 100
        source += " × (" + " + ".join(t for _, t in parts) + ")"
    if p.share < 1:
        count *= p.share
        source += f" × {p.share:g} ({p.share_source})"
    return ResolvedPopulation(count, source)


def _latest(ctx: query.Context, model: PreventionModel, i: int, indicator: str, place_name: str) -> tuple[float, str]:
    """The place's latest published value of an indicator, and a line saying which it is."""
    if indicator not in set(ctx.catalogue.ids()):
        raise model_error(model, ("interventions", i, "population"), f"unknown indicator '{indicator}'")
    s = query.series(ctx, model.place.code, indicator)
    s = s.loc[s["value"].notna()]
    if s.empty:
        raise model_error(model, ("interventions", i, "population"),
                          f"no value of '{indicator}' for {place_name} in the snapshot")
    last = s.iloc[-1]
    ind = ctx.catalogue.get(indicator)
    unit = "%" if ind.unit.strip() == "%" else ""
    return float(last["value"]), f"{ind.label} ({indicator}), {place_name}, {last['period_label']}: " \
                                 f"{float(last['value']):,.6g}{unit}"
