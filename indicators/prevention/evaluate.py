"""The prevention model's arithmetic: avoided demand, its discounted value, NPV, BCR, break-even.

Method (HM Treasury, *The Green Book*, 2022): costs and benefits in constant prices of one price
year, discounted at 3.5% a year (1.5% for health effects valued as such, Annex A6), costs uplifted
and benefits trimmed for optimism bias, uncertainty shown by Monte Carlo over the stated ranges and
by one-at-a-time sensitivity (a tornado). Everything is arrays: one row per draw, one column per
year, so 10,000 draws cost a handful of matrix products.

Year y = 0 is the first year of spending; the model values y = 0 … years. In a year the effect is
on, the people whose outcome changes are ``effect × population / scale`` (the indicator is per
``scale`` people), each avoiding ``per_case`` units of each kind of demand at ``unit_cost`` each.

Why beta-PERT for the draws: a council's low / central / high is a judgement of a most likely value
and plausible limits, which is what PERT encodes (mean (low + 4·central + high)/6). A triangular
distribution on the same three numbers puts more weight on the tails, and a uniform ignores the
central value; PERT is the usual choice in cost risk analysis for three-point estimates. Draws are
independent: the file cannot say how assumptions move together, so the interval may be narrower
than one where, say, a bigger effect goes with a larger affected group.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .model import PreventionModel

DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20261130
INTERVAL = (5.0, 95.0)  # a 90% interval, labelled as such wherever shown
PERT_LAMBDA = 4.0
HORIZONS = {"immediate": (0, 2), "medium": (3, 5), "long": (6, 15)}


@dataclass(frozen=True)
class Param:
    """One uncertain assumption: where it is in the file, its three values and its source."""

    key: str          # the file's field path, e.g. interventions[0].effect
    label: str
    low: float
    central: float
    high: float
    source: str
    unit: str = ""
    illustrative: bool = False


@dataclass(frozen=True)
class ResolvedPopulation:
    """The affected population of one intervention, with where it came from."""

    count: float
    source: str


@dataclass
class Result:
    model: PreventionModel
    place_name: str
    summary: pd.DataFrame        # metric, central, mean, lo, hi, unit
    by_horizon: pd.DataFrame     # horizon, demand rows: units and value, central/lo/hi
    who_gains: pd.DataFrame      # who, central, lo, hi (present value of avoided demand)
    tornado: pd.DataFrame        # parameter, low/high values, NPV at each, swing
    assumptions: pd.DataFrame    # every assumption line with its value and source
    yearly: pd.DataFrame         # year, calendar year, discounted benefits, costs, cumulative (central)
    draws: int
    seed: int
    break_even_never: float      # share of draws that never break even within the period
    populations: list[ResolvedPopulation] = field(default_factory=list)

    def metric(self, name: str) -> dict[str, Any]:
        return self.summary.set_index("metric").loc[name].to_dict()


# ---------------------------------------------------------------- discounting

def discount_factors(rate: float, years: int, convention: str = "start_of_year") -> np.ndarray:
    """Green Book discount factors for y = 0 … years: 1/(1+r)^y, year 0 undiscounted; with the mid-year
    convention each year's flows are taken to fall half way through it, 1/(1+r)^(y+0.5)."""
    y = np.arange(years + 1, dtype=float)
    return (1.0 + rate) ** -(y + (0.5 if convention == "mid_year" else 0.0))


# ---------------------------------------------------------------- draws

def pert_draws(low: np.ndarray, central: np.ndarray, high: np.ndarray, n: int,
               rng: np.random.Generator) -> np.ndarray:
    """n × k draws of k beta-PERT variables; a variable with low == high is that constant."""
    low, central, high = (np.asarray(a, dtype=float) for a in (low, central, high))
    span = high - low
    safe = np.where(span > 0, span, 1.0)
    alpha = 1.0 + PERT_LAMBDA * (central - low) / safe
    beta = 1.0 + PERT_LAMBDA * (high - central) / safe
    u = rng.beta(alpha, beta, size=(n, low.size))
    return low + u * span


def pert_mean(low: float, central: float, high: float) -> float:
    return (low + PERT_LAMBDA * central + high) / (PERT_LAMBDA + 2)


# ---------------------------------------------------------------- the model as arrays

@dataclass(frozen=True)
class _Arrays:
    params: list[Param]
    effect_ix: np.ndarray      # per demand item: column of its intervention's effect
    per_case_ix: np.ndarray    # per demand item: its per-case column
    unit_cost_ix: np.ndarray   # per demand item: its unit-cost column
    people_per_unit: np.ndarray  # per demand item: population / scale of its intervention
    benefit_weights: np.ndarray  # demand items × years: on/off × discount factor
    active: np.ndarray           # demand items × years: 1 where the effect is on
    cost_ix: np.ndarray        # per intervention: its annual-cost column
    cost_weights: np.ndarray   # interventions × years: cost on/off × discount factor
    who: np.ndarray            # per demand item
    demand_names: list[str]
    years: int


def _arrays(model: PreventionModel, pops: list[ResolvedPopulation], scales: list[float]) -> _Arrays:
    years = model.years
    d = model.discount
    df = {"standard": discount_factors(d.standard, years, d.convention),
          "health": discount_factors(d.health, years, d.convention)}
    y = np.arange(years + 1)
    params: list[Param] = []
    eff, per, cost_u, ppu, bw, act, who, names = [], [], [], [], [], [], [], []
    cost_ix, cw = [], []

    def add(key: str, label: str, r: Any, unit: str) -> int:
        params.append(Param(key, label, r.low, r.central, r.high, r.source, unit, r.illustrative))
        return len(params) - 1

    for i, iv in enumerate(model.interventions):
        k_eff = add(f"interventions[{i}].effect", f"{iv.name}: effect on {iv.indicator}", iv.effect, "indicator units")
        k_cost = add(f"interventions[{i}].annual_cost", f"{iv.name}: annual cost", iv.annual_cost,
                     f"£ a year, {iv.annual_cost.price_year} prices")
        on = (y >= iv.time_to_effect.start).astype(float)
        cost_years = iv.cost_years if iv.cost_years is not None else years + 1
        cost_ix.append(k_cost)
        cw.append((y < cost_years) * df["standard"])
        for j, dm in enumerate(iv.demand):
            base = f"interventions[{i}].demand[{j}]"
            per.append(add(f"{base}.per_case", f"{iv.name}: {dm.name} avoided per person a year", dm.per_case,
                           "units a year"))
            cost_u.append(add(f"{base}.unit_cost", f"{iv.name}: cost of one {dm.name}", dm.unit_cost,
                              f"£, {dm.unit_cost.price_year} prices"))
            eff.append(k_eff)
            ppu.append(pops[i].count / scales[i])
            bw.append(on * df[dm.discount])
            act.append(on)
            who.append(dm.who_gains)
            names.append(f"{iv.name}: {dm.name}")
    return _Arrays(params, np.array(eff), np.array(per), np.array(cost_u), np.array(ppu), np.array(bw),
                   np.array(act), np.array(cost_ix), np.array(cw), np.array(who), names, years)


def _flows(a: _Arrays, values: np.ndarray, benefit_keep: float, cost_uplift: float) -> dict[str, np.ndarray]:
    """values: n × params → per-row demand units a year, benefits and costs by year (discounted)."""
    units = values[:, a.effect_ix] * a.people_per_unit * values[:, a.per_case_ix] * benefit_keep  # n × items
    amount = units * values[:, a.unit_cost_ix]                                                      # £ a year
    benefits = amount @ a.benefit_weights                                                           # n × years
    costs = (values[:, a.cost_ix] * cost_uplift) @ a.cost_weights                                   # n × years
    return {"units": units, "amount": amount, "benefits": benefits, "costs": costs}


def _break_even(net_by_year: np.ndarray) -> np.ndarray:
    """First year whose cumulative discounted net benefit is ≥ 0 (NaN: never within the period)."""
    cum = np.cumsum(net_by_year, axis=1)
    ok = cum >= 0
    first = ok.argmax(axis=1).astype(float)
    first[~ok.any(axis=1)] = np.nan
    return first


def _metrics(a: _Arrays, f: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    pvb, pvc = f["benefits"].sum(axis=1), f["costs"].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        bcr = np.where(pvc > 0, pvb / np.where(pvc > 0, pvc, 1.0), np.nan)
    return {"pv_benefits": pvb, "pv_costs": pvc, "npv": pvb - pvc, "bcr": bcr,
            "break_even": _break_even(f["benefits"] - f["costs"])}


METRICS = [("pv_benefits", "Present value of avoided demand", "£"),
           ("pv_costs", "Present value of costs (after optimism bias)", "£"),
           ("npv", "Net present value", "£"),
           ("bcr", "Benefit–cost ratio", "ratio"),
           ("break_even", "Break-even year", "year")]


def evaluate(model: PreventionModel, populations: list[ResolvedPopulation], scales: list[float],
             place_name: str = "", draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
             effect_override: dict[int, float] | None = None) -> Result:
    """Value the model: central case, Monte Carlo intervals, tornado, who gains.

    `effect_override` fixes the effect of the named interventions (by position) at one value; the plan
    report uses it to value a target that is met."""
    a = _arrays(model, populations, scales)
    if effect_override:
        params = list(a.params)
        for i, v in effect_override.items():
            k = _effect_column(a, i)
            p = params[k]
            params[k] = Param(p.key, p.label, v, v, v, "the plan's target, if met", p.unit)
        a = replace(a, params=params)
    ob = model.optimism_bias
    keep, uplift = 1.0 - ob.benefits, 1.0 + ob.costs
    low = np.array([p.low for p in a.params])
    central = np.array([p.central for p in a.params])
    high = np.array([p.high for p in a.params])

    rng = np.random.default_rng(seed)
    sample = pert_draws(low, central, high, draws, rng)
    mc = _flows(a, sample, keep, uplift)
    mc_m = _metrics(a, mc)
    point = _flows(a, central[None, :], keep, uplift)
    point_m = _metrics(a, point)

    lo_q, hi_q = INTERVAL
    rows = []
    for key, label, unit in METRICS:
        v = mc_m[key]
        if key == "break_even":
            # a draw that never breaks even counts as later than any year valued
            v = np.where(np.isnan(v), a.years + 1, v)
            qs = np.percentile(v, [lo_q, 50, hi_q], method="inverted_cdf")
            conv = [np.nan if q > a.years else model.start_year + q for q in qs]
            c = point_m[key][0]
            rows.append({"metric": key, "label": label, "unit": unit,
                         "central": np.nan if np.isnan(c) else model.start_year + c,
                         "mean": np.nan, "median": conv[1], "lo": conv[0], "hi": conv[2]})
            continue
        finite = v[np.isfinite(v)]
        qs = np.percentile(finite, [lo_q, 50, hi_q]) if finite.size else [np.nan] * 3
        rows.append({"metric": key, "label": label, "unit": unit, "central": float(point_m[key][0]),
                     "mean": float(finite.mean()) if finite.size else np.nan,
                     "median": qs[1], "lo": qs[0], "hi": qs[2]})
    summary = pd.DataFrame(rows)
    never = float(np.isnan(mc_m["break_even"]).mean())

    by_horizon = _by_horizon(a, mc, point)
    who = _who_gains(a, mc, point)
    tornado = _tornado(a, low, central, high, keep, uplift, float(point_m["npv"][0]))
    assumptions = _assumptions(model, a, populations, scales)
    yearly = pd.DataFrame({"year": np.arange(a.years + 1), "calendar_year": model.start_year + np.arange(a.years + 1),
                           "benefits": point["benefits"][0], "costs": point["costs"][0]})
    yearly["net"] = yearly["benefits"] - yearly["costs"]
    yearly["cumulative_net"] = yearly["net"].cumsum()
    return Result(model, place_name, summary, by_horizon, who, tornado, assumptions, yearly, draws, seed, never,
                  list(populations))


def _effect_column(a: _Arrays, intervention: int) -> int:
    key = f"interventions[{intervention}].effect"
    return next(k for k, p in enumerate(a.params) if p.key == key)


def _interval(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.percentile(x, INTERVAL[0], axis=0), np.percentile(x, INTERVAL[1], axis=0)


def _by_horizon(a: _Arrays, mc: dict[str, np.ndarray], point: dict[str, np.ndarray]) -> pd.DataFrame:
    """Demand avoided (undiscounted units) and its discounted value, per demand kind and horizon."""
    rows = []
    for h, (lo, hi) in [*HORIZONS.items(), ("total", (0, a.years))]:
        cols = np.zeros(a.years + 1)
        cols[lo:min(hi, a.years) + 1] = 1.0
        if lo > a.years:
            continue
        years_on = a.active @ cols                          # items: years the effect is on in this horizon
        weights = a.benefit_weights @ cols                  # items: summed discount factors in the horizon
        u_mc, v_mc = mc["units"] * years_on, mc["amount"] * weights
        u_lo, u_hi = _interval(u_mc)
        v_lo, v_hi = _interval(v_mc)
        u_c, v_c = point["units"][0] * years_on, point["amount"][0] * weights
        for k, name in enumerate(a.demand_names):
            rows.append({"horizon": h, "years": f"{lo}–{min(hi, a.years)}", "demand": name,
                         "units": u_c[k], "units_lo": u_lo[k], "units_hi": u_hi[k],
                         "value": v_c[k], "value_lo": v_lo[k], "value_hi": v_hi[k]})
        tv_lo, tv_hi = _interval(v_mc.sum(axis=1))
        rows.append({"horizon": h, "years": f"{lo}–{min(hi, a.years)}", "demand": "All demand (value only)",
                     "units": np.nan, "units_lo": np.nan, "units_hi": np.nan,
                     "value": float(v_c.sum()), "value_lo": float(tv_lo), "value_hi": float(tv_hi)})
    return pd.DataFrame(rows)


def _who_gains(a: _Arrays, mc: dict[str, np.ndarray], point: dict[str, np.ndarray]) -> pd.DataFrame:
    pv_items_mc = mc["amount"] * a.benefit_weights.sum(axis=1)
    pv_items_c = point["amount"][0] * a.benefit_weights.sum(axis=1)
    rows = []
    for who in ("council", "nhs", "other"):
        mask = a.who == who
        if not mask.any():
            continue
        s = pv_items_mc[:, mask].sum(axis=1)
        rows.append({"who": who, "central": float(pv_items_c[mask].sum()),
                     "lo": float(np.percentile(s, INTERVAL[0])), "hi": float(np.percentile(s, INTERVAL[1]))})
    return pd.DataFrame(rows, columns=["who", "central", "lo", "hi"])


def _tornado(a: _Arrays, low: np.ndarray, central: np.ndarray, high: np.ndarray, keep: float, uplift: float,
             npv_central: float) -> pd.DataFrame:
    """NPV with each assumption at its low, then its high, all others central: 2k rows in one pass."""
    k = len(a.params)
    grid = np.repeat(central[None, :], 2 * k, axis=0)
    grid[np.arange(k), np.arange(k)] = low
    grid[k + np.arange(k), np.arange(k)] = high
    npv = _metrics(a, _flows(a, grid, keep, uplift))["npv"]
    out = pd.DataFrame({"key": [p.key for p in a.params], "parameter": [p.label for p in a.params],
                        "low": low, "central": central, "high": high, "npv_low": npv[:k], "npv_high": npv[k:],
                        "source": [p.source for p in a.params]})
    out["npv_central"] = npv_central
    out["swing"] = (out["npv_high"] - out["npv_low"]).abs()
    return out.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def _assumptions(model: PreventionModel, a: _Arrays, pops: list[ResolvedPopulation],
                 scales: list[float]) -> pd.DataFrame:
    """Every number the result rests on, with its field in the file and its source."""
    rows = [{"field": p.key, "assumption": p.label, "low": p.low, "central": p.central, "high": p.high,
             "unit": p.unit, "source": p.source, "illustrative": p.illustrative} for p in a.params]
    for i, iv in enumerate(model.interventions):
        rows.append({"field": f"interventions[{i}].population", "assumption": f"{iv.name}: people counted",
                     "low": pops[i].count, "central": pops[i].count, "high": pops[i].count, "unit": "people",
                     "source": pops[i].source, "illustrative": False})
        rows.append({"field": f"interventions[{i}].scale", "assumption": f"{iv.name}: indicator is per",
                     "low": scales[i], "central": scales[i], "high": scales[i], "unit": "people",
                     "source": "the file" if iv.scale is not None else "the indicator's unit in the catalogue",
                     "illustrative": False})
        rows.append({"field": f"interventions[{i}].time_to_effect", "assumption": f"{iv.name}: effect starts in year",
                     "low": iv.time_to_effect.start, "central": iv.time_to_effect.start,
                     "high": iv.time_to_effect.start, "unit": f"year (0 = {model.start_year})",
                     "source": f"{iv.time_to_effect.horizon} horizon, stated in the file", "illustrative": False})
        for j, dm in enumerate(iv.demand):
            rows.append({"field": f"interventions[{i}].demand[{j}].who_gains", "assumption":
                         f"{iv.name}: {dm.name} relieves", "low": np.nan, "central": np.nan, "high": np.nan,
                         "unit": dm.who_gains, "source": "stated in the file", "illustrative": False})
        if iv.cost_years is not None:
            rows.append({"field": f"interventions[{i}].cost_years", "assumption": f"{iv.name}: years the cost runs",
                         "low": iv.cost_years, "central": iv.cost_years, "high": iv.cost_years, "unit": "years",
                         "source": "stated in the file", "illustrative": False})
    for fld, label, v, unit in [("start_year", "Year 0, the first year of spending", model.start_year, "year"),
                                ("price_year", "Price year of every amount", model.price_year, "year"),
                                ("years", "Years valued after year 0", model.years, "years")]:
        rows.append({"field": fld, "assumption": label, "low": v, "central": v, "high": v, "unit": unit,
                     "source": "stated in the file", "illustrative": False})
    ob, d = model.optimism_bias, model.discount
    for fld, label, v, src in [
            ("optimism_bias.costs", "Optimism bias: cost uplift", ob.costs, ob.source),
            ("optimism_bias.benefits", "Optimism bias: benefit reduction", ob.benefits, ob.source),
            ("discount.standard", "Discount rate (money)", d.standard,
             "HM Treasury Green Book (2022): 3.5% a year" if d.standard == 0.035 else "stated in the file"),
            ("discount.health", "Discount rate (health effects)", d.health,
             "HM Treasury Green Book (2022), Annex A6: 1.5% a year" if d.health == 0.015 else "stated in the file")]:
        rows.append({"field": fld, "assumption": label, "low": v, "central": v, "high": v, "unit": "share",
                     "source": src, "illustrative": False})
    return pd.DataFrame(rows)
