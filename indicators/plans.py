"""Evaluate a growth plan: every target against the data, the trend, and what similar places did.

For each target: the baseline (the period resolved from the plan's baseline by one rule, named in
every output), the latest value and period, the recent trend, and a projection to the target year
with its predictive distribution. The status says what those numbers say:

- **met**: the latest value already meets the target (marked *within the margin of error* when
  the latest value's 95% CI straddles the target);
- **on track**: not met yet, at least a 50% chance of reaching it by the target year, the central
  projection reaches it, and the trend does not point away from it;
- **at risk**: a 10–50% chance (or 50%+ while the trend points away);
- **off track**: under a 10% chance, or the target year is in the data and was missed;
- **too early**: no data published since the baseline;
- **too few points**: fewer than five non-overlapping points to project from;
- **no data**: no usable series (or the indicator cannot be aggregated for a custom footprint).

The chance comes from the projection's t distribution at the target year, cut to the values the
indicator can take (0–100 for a percentage, never negative for a count or rate). A plan whose
own target is already met at the baseline, or whose baseline precedes an indicator's series, is
refused with its file, line and field.

Each objective also gets a counterfactual line: the place since the plan was published against a
synthetic control built from its statistical neighbours, with placebo-in-space inference (see
`counterfactual`), so a reader can tell a rising tide from the plan's own effect. Roll-ups by
horizon and pillar show whether economic and public-service targets move together; they weight
objectives by the plan's own weights or, as an alternative, by the place's residents' priorities
(`plan_weights`).
"""
from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from . import aggregate, deprivation, query, similar_places, trends
from . import counterfactual as cf
from . import neighbours as nb
from .errors import NotAggregableError
from .plan_model import Objective, Plan, Target, plan_error
from .plan_weights import PLAN as PLAN_WEIGHTS
from .plan_weights import RollupWeights

STATUSES = ("met", "on track", "at risk", "off track", "too early", "too few points", "no data")
# What an objective with no measure in the snapshot shows where a target would show its status: it is not
# a target status (no roll-up counts it), but its row in the CSV and JSON says it is there and why.
NOT_MEASURED = "not measured"
NOT_MEASURED_WORDS = "Not measured in the snapshot"
# Statuses that judge progress (the others say why progress cannot be judged).
JUDGED = ("met", "on track", "at risk", "off track")
# On track needs at least an even chance; under one in ten is off track; in between, at risk.
ON_TRACK_PROBABILITY = 0.5
OFF_TRACK_PROBABILITY = 0.1
# A projection is a trend: Fingertips' rule of five non-overlapping points applies to it too.
MIN_PROJECTION_POINTS = trends.MIN_POINTS
# The line is fitted to the most recent non-overlapping points, as many as the trend window.
PROJECTION_POINTS = trends.DEFAULT_MAX_POINTS
LEVEL_ORDER = ("ltla", "utla", "combined_authority", "region", "country", "uk")
# Damping and scale of the projection, estimated from the snapshot by plan_calibration.estimate.
CALIBRATION_FILE = Path(__file__).with_name("plan_calibration.yaml")


@dataclass(frozen=True)
class ProjectionCalibration:
    """How far a recent trend is carried on (``damping``) and how wide its predictive spread is (``scale``).

    Why: a straight line through five points, carried years ahead, overshoots on real data (trends
    bend back), and its spread is too narrow for the tails; both are measured on earlier data than
    any check of them (see ``plan_calibration.estimate`` and methods.md, "Plan statuses").
    Identity (1, 1) leaves the fitted line and its interval as they are.
    """

    damping: float = 1.0
    scale: float = 1.0


@functools.lru_cache(maxsize=1)
def calibration() -> ProjectionCalibration:
    """The calibration checked in beside this module (computed by code, never typed by hand)."""
    data = yaml.safe_load(CALIBRATION_FILE.read_text(encoding="utf-8"))
    return ProjectionCalibration(float(data["damping"]), float(data["scale"]))


def projection(years, values, target_year: float, *, lci=None, uci=None, length=None,
               calibrated: ProjectionCalibration | None = None) -> trends.Projection:
    """The projection a plan status is read from: the recent trend with its trend-change widening,
    damped and scaled by the snapshot's calibration (``calibrated`` overrides it, for checks)."""
    c = calibrated or calibration()
    return trends.project(years, values, float(target_year), PROJECTION_POINTS, lci=lci, uci=uci, length=length,
                          trend_change=True, damping=c.damping, scale=c.scale)


@dataclass
class Place:
    name: str
    codes: list[str]  # one code, or the districts of a custom footprint
    level: str
    custom: bool
    region: str | None
    peers: list[str]
    peer_label: str


@dataclass
class TargetResult:
    objective: str
    pillar: str
    weight: float
    indicator_id: str
    indicator: str
    unit: str
    polarity: str
    horizon: str
    target_year: int
    target_type: str
    target_text: str
    target_value: float | None
    baseline_period: str | None
    baseline_value: float | None
    latest_period: str | None
    latest_value: float | None
    trend: str | None
    projected_value: float | None
    projection_low: float | None
    projection_high: float | None
    status: str
    reason: str
    source: str
    source_date: str | None
    source_url: str | None
    series: list[dict[str, Any]] = field(default_factory=list)
    baseline_period_code: str | None = None
    baseline_rule: str | None = None
    probability: float | None = None
    within_margin: bool | None = None
    trend_note: str | None = None
    projection_points: int | None = None
    # for drawing: the fitted line over its points and the projection band to the target year
    fit_path: list[dict[str, float]] = field(default_factory=list)
    projection_path: list[dict[str, float]] = field(default_factory=list)

    @property
    def status_text(self) -> str:
        """The status as written for a reader: 'met (within the margin of error)' where it applies."""
        if self.status == "met" and self.within_margin:
            return "met (within the margin of error)"
        return self.status


@dataclass
class ObjectiveResult:
    title: str
    pillar: str
    weight: float | None  # None for an objective not measured here
    targets: list[TargetResult]
    counterfactual: str
    did: dict[str, Any] | None
    synthetic: dict[str, Any] | None = None
    note: str | None = None
    # why no indicator in the snapshot measures it (the plan's own words); None when it is measured
    not_measured: str | None = None

    @property
    def not_measured_text(self) -> str | None:
        """The words every report shows in place of an unmeasured objective's targets."""
        return None if self.not_measured is None else f"{NOT_MEASURED_WORDS}. {self.not_measured}"

    def counterfactual_fields(self) -> dict[str, Any]:
        """The synthetic-control comparison as flat fields (the same in CSV rows and JSON)."""
        sc = self.synthetic or {}
        return {f"counterfactual_{k}": sc.get(k) for k in COUNTERFACTUAL_FIELDS}


# What each objective reports of its comparison with similar places (see counterfactual.SyntheticControl).
COUNTERFACTUAL_FIELDS = ("verdict", "estimate", "lci", "uci", "p_value", "pre_rmspe", "pre_fit_ratio", "pre_fit_ok",
                         "n_donors", "pre_periods", "post_periods", "did_estimate", "did_p_value")


@dataclass
class Evaluation:
    plan: Plan
    place: Place
    objectives: list[ObjectiveResult]
    by_horizon: pd.DataFrame
    by_pillar: pd.DataFrame
    summary: str
    evaluated_at: str
    snapshot: dict[str, Any]
    # (objective, target) → the value of meeting the target by a linked prevention model; None until
    # prevention.link.attach has worked them out, {} when no objective links a model
    prevention: dict[tuple[int, int], Any] | None = None
    # which weights the roll-ups used, and the weighted share of every judged target met or on track
    weights: RollupWeights = PLAN_WEIGHTS
    overall: float | None = None

    @property
    def weights_text(self) -> str:
        return self.weights.describe(_weighted_pillars(self.objectives))

    def rows(self) -> pd.DataFrame:
        """One row per target, and one per objective not measured here (status 'not measured', the reason in
        'reason'), so a spreadsheet never loses an objective: the same content for CSV, JSON and the HTML
        report. Only a plan that links a prevention model has its columns (empty on targets of objectives that
        link none); only a plan that cites a source, or notes an objective, has those columns."""
        drawn = ("series", "fit_path", "projection_path")
        blank = {f.name: None for f in fields(TargetResult) if f.name not in drawn}
        cited = source_fields(self.plan)
        noted = any(o.note for o in self.objectives)
        recs = []
        for oi, o in enumerate(self.objectives):
            extra = {**({"objective_note": o.note} if noted else {}), **cited}
            if o.not_measured is not None:
                r = {**blank, "objective": o.title, "pillar": o.pillar, "status": NOT_MEASURED,
                     "reason": o.not_measured_text, "counterfactual": None, **o.counterfactual_fields()}
                recs.append({"plan": self.plan.title, "place": self.place.name, **r, **extra})
            for ti, t in enumerate(o.targets):
                r = asdict(t)
                for name in drawn:
                    r.pop(name)
                r["counterfactual"] = o.counterfactual
                r.update(o.counterfactual_fields())
                if self.prevention and (oi, ti) in self.prevention:
                    r.update(self.prevention[(oi, ti)].fields())
                r["rollup_weights"] = self.weights_text
                recs.append({"plan": self.plan.title, "place": self.place.name, **r, **extra})
        return pd.DataFrame(recs)

    def to_json(self) -> dict[str, Any]:
        rows = self.rows().replace({np.nan: None})
        return {
            "plan": self.plan.title, "illustrative": self.plan.illustrative, "source": source_json(self.plan),
            "place": self.place.name,
            "place_codes": self.place.codes, "published": self.plan.published.isoformat(),
            "baseline": str(self.plan.baseline), "evaluated_at": self.evaluated_at, "summary": self.summary,
            "similar_places": self.place.peer_label, "peer_codes": self.place.peers,
            "snapshot": self.snapshot,
            "weights": {**self.weights.as_dict(), "text": self.weights_text},
            "overall_share_met_or_on_track": self.overall,
            "by_horizon": self.by_horizon.astype(object).where(self.by_horizon.notna(), None).to_dict(orient="records"),
            "by_pillar": self.by_pillar.astype(object).where(self.by_pillar.notna(), None).to_dict(orient="records"),
            "targets": rows.to_dict(orient="records"),
            "objectives": [{"title": o.title, "pillar": o.pillar, "weight": o.weight, "note": o.note,
                            "measured": o.not_measured is None, "not_measured": o.not_measured,
                            "counterfactual": o.counterfactual or None,
                            "counterfactual_weights": (o.synthetic or {}).get("weights"), **o.counterfactual_fields()}
                           for o in self.objectives],
        }


def source_fields(plan: Plan) -> dict[str, Any]:
    """The plan's cited source as flat CSV columns (none when it cites none): the citation in one line, its
    address on its own (a spreadsheet can follow it) and what the plan takes from it."""
    src = plan.source
    if src is None:
        return {}
    return {"plan_source": src.citation(), "plan_source_url": src.url, "plan_source_note": src.note}


def source_json(plan: Plan) -> dict[str, Any] | None:
    """The plan's cited source for the JSON report: its fields as written, and the one-line citation."""
    src = plan.source
    return None if src is None else {**src.model_dump(mode="json"), "citation": src.citation()}


# ---------------------------------------------------------------- the place

def resolve_place(ctx: query.Context, plan: Plan) -> Place:
    p = plan.place
    if p.code:
        levels = set(ctx.areas.loc[ctx.areas["areacd"] == p.code, "level"])
        level = next((lv for lv in LEVEL_ORDER if lv in levels), next(iter(levels), "ltla"))
        name = query.area_name(ctx, p.code)
        codes, custom = [p.code], False
    else:
        level, name, codes, custom = "ltla", str(p.name), list(p.districts or []), True
    region = query.parent_region(ctx, codes[0])
    peers, label = _peers(ctx, plan, codes, custom)
    return Place(name, codes, level, custom, region, peers, label)


def _peers(ctx: query.Context, plan: Plan, codes: list[str], custom: bool) -> tuple[list[str], str]:
    n = plan.neighbours
    if n.areas:
        return list(n.areas), f"{len(n.areas)} chosen comparator areas"
    kind = n.set or "global"
    if kind == nb.RURAL_URBAN:
        return _rural_urban_peers(ctx, codes, custom)
    if not custom:
        try:
            return nb.neighbour_set(ctx.neighbours, codes[0], kind), f"ONS {kind} statistical neighbours"
        except (nb.UnknownAreaError, ValueError):
            return [], f"no ONS {kind} neighbours published for this area"
    peers = _footprint_peers(ctx, codes, kind)
    return peers, f"the {len(peers)} districts most often among the members' ONS {kind} neighbours"


def _footprint_peers(ctx: query.Context, codes: list[str], kind: str) -> list[str]:
    """A footprint has no peers of its own: take the districts most often among its members' peers."""
    counts: Counter[str] = Counter()
    for c in codes:
        try:
            counts.update(nb.neighbour_set(ctx.neighbours, c, kind))
        except (nb.UnknownAreaError, ValueError):
            continue
    return [c for c, _ in counts.most_common() if c not in codes][:20]


def _rural_urban_peers(ctx: query.Context, codes: list[str], custom: bool) -> tuple[list[str], str]:
    """Districts of the same 2021 rural–urban class in the same nation, named with their class.

    The first 20, as with the ONS sets: the place's ONS global neighbours of its class come first
    (see neighbours.rural_urban_neighbours), so a large class (170 urban districts) gives its most
    similar members and the synthetic control keeps a pool of the usual size."""
    tables = deprivation.tables(ctx.snapshot.path)
    found = [deprivation.rural_urban_class(tables.rural_urban, code) for code in codes] if tables else []
    named = sorted({c["label"] for c in found if c})
    if not named:
        return [], ("no rural–urban class for this area: the 2021 classification covers districts and unitary "
                    "authorities of England and Wales only")
    if custom:
        peers = _footprint_peers(ctx, codes, nb.RURAL_URBAN)
        return peers, (f"the {len(peers)} districts most often among the members' peers of the same 2021 "
                       f"rural–urban class ({'; '.join(named)})")
    try:
        everyone = nb.neighbour_set(ctx.neighbours, codes[0], nb.RURAL_URBAN, n=10_000)
    except nb.UnknownAreaError:
        return [], f"no other district of its 2021 rural–urban class ({named[0]}) in its nation"
    peers = everyone[:20]
    if len(peers) == len(everyone):
        return peers, f"the {len(peers)} other districts of its 2021 rural–urban class ({named[0]})"
    return peers, (f"{len(peers)} of the {len(everyone)} other districts of its 2021 rural–urban class "
                   f"({named[0]}), its ONS global neighbours first")


def place_series(ctx: query.Context, place: Place, indicator: str) -> tuple[pd.DataFrame, str | None]:
    """The place's series for an indicator (aggregated for a footprint), or a reason it has none.

    Cached in the context: every target and the counterfactual of an objective ask for it again.
    """
    key = ("place_series", tuple(place.codes), place.level, place.custom, indicator)
    if key not in ctx._cache:
        ctx._cache[key] = _place_series(ctx, place, indicator)
    series, why = ctx._cache[key]
    return series.copy(), why


def _place_series(ctx: query.Context, place: Place, indicator: str) -> tuple[pd.DataFrame, str | None]:
    if not place.custom:
        s = query.series(ctx, place.codes[0], indicator, place.level)
        return s.loc[s["value"].notna()].reset_index(drop=True), None
    try:
        rows = aggregate.aggregate_series(ctx, indicator, place.codes)
    except NotAggregableError as exc:
        return pd.DataFrame(columns=query.VALUE_COLUMNS), str(exc)
    if rows.empty:
        return pd.DataFrame(columns=query.VALUE_COLUMNS), "no period has a value for every district"
    return rows, None


def _comparator_value(ctx: query.Context, place: Place, plan_benchmark: str, indicator: str, period_code: str,
                      period_start: Any) -> tuple[float | None, str]:
    """The benchmark's value for one period, and its name."""
    if plan_benchmark == "neighbours":
        vals = [query.value_at(ctx, indicator, c, period_code) for c in place.peers]
        have = [v for v in vals if v is not None]
        return (float(np.mean(have)) if have else None), f"the mean of {place.peer_label}"
    code = {"england": query.ENGLAND, "region": place.region}.get(plan_benchmark, plan_benchmark)
    if not code:
        return None, "the region"
    return query.value_at(ctx, indicator, code, period_code), query.area_name(ctx, code)


# ---------------------------------------------------------------- targets

class BaselineError(ValueError):
    """The plan's baseline cannot be placed on an indicator's series."""


def _baseline_date(baseline: int | str) -> tuple[pd.Timestamp, str]:
    """The date a baseline stands for, and how it was read.

    A year stands for its middle (1 July), so it picks the financial year starting in it, the academic
    year ending in it and the calendar year itself; a date stands for itself; a date with a duration
    (2022-04-01/P1Y) for the middle of that period.
    """
    text = str(baseline)
    if text.isdigit():
        return pd.Timestamp(int(text), 7, 1), f"1 July {text}, the middle of the baseline year"
    start_text, _, duration = text.partition("/")
    start = pd.Timestamp(start_text)
    if not duration:
        return start, f"{start.day} {start:%B %Y}"
    length = float(trends.period_length_years(codes=[text])[0])
    mid = start + pd.Timedelta(days=length * trends.DAYS_PER_YEAR / 2.0)
    return mid.normalize(), f"{mid.day} {mid:%B %Y}, the middle of the baseline period {text}"


def resolve_baseline(series: pd.DataFrame, baseline: int | str) -> tuple[pd.Series, str]:
    """The row of ``series`` that stands for the plan's baseline, and the rule that chose it, in words.

    One rule for every indicator: a period whose code is exactly the baseline; else the period
    containing the baseline's date (``_baseline_date``), the one centred nearest it when rolling
    periods overlap; else the nearest period starting on or before it. A baseline earlier than the
    series' first period raises ``BaselineError`` rather than quietly using a later value.
    """
    codes = series["period_code"].astype(str)
    exact = series.loc[codes == str(baseline)]
    if len(exact):
        row = exact.iloc[-1]
        return row, f"{row['period_label']}, the period {baseline} itself"
    when, words = _baseline_date(baseline)
    start = pd.to_datetime(series["period_start"].astype(str))
    length = trends.period_length_years(codes=codes.to_numpy())
    end = start + pd.to_timedelta(np.maximum(length * trends.DAYS_PER_YEAR - 1.0, 0.0), unit="D")
    inside = (start <= when) & (when <= end)
    if inside.any():
        centre = start + (end - start) / 2
        distance = (centre - when).abs().where(inside)
        row = series.loc[distance.idxmin()]
        return row, f"{row['period_label']}, the period containing {words}"
    before = series.loc[start <= when]
    if len(before):
        row = before.iloc[-1]
        return row, f"{row['period_label']}, the latest period starting on or before {words}"
    first = series.iloc[0]
    raise BaselineError(f"the baseline ({baseline}) is before the first period published ({first['period_label']})")


def _fmt(v: float | None, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.2f}".rstrip("0").rstrip(".")
    return f"{text}%" if unit == "%" else (f"£{text}" if unit.startswith("£") and unit != "£ million" else text)


def likelihood(p: float) -> str:
    """A probability in words a council can quote: 'about 30% likely'."""
    if p < 0.01:
        return "less than 1% likely"
    if p > 0.99:
        return "more than 99% likely"
    return f"about {p:.0%} likely"


def _where(plan: Plan, objective: Objective, target: Target) -> tuple[int, int]:
    oi = next(i for i, o in enumerate(plan.objectives) if o is objective)
    ti = next(i for i, t in enumerate(objective.targets) if t is target)
    return oi, ti


def evaluate_target(ctx: query.Context, plan: Plan, place: Place, objective: Objective, target: Target) -> TargetResult:
    return _evaluate_target(ctx, plan, place, objective, target)


def _evaluate_target(ctx: query.Context, plan: Plan, place: Place, objective: Objective,
                     target: Target) -> TargetResult:
    ind_id = target.indicator or objective.indicators[0]
    ind = ctx.catalogue.get(ind_id)
    meta = ctx.snapshot.catalogue.set_index("indicator_id").loc[ind_id]
    series, why_not = place_series(ctx, place, ind_id)
    chart_years = trends.period_to_year(series["period_start"]) if len(series) else []
    chart = [{"label": str(label), "year": float(year), "value": float(value)}
             for label, year, value in zip(series["period_label"], chart_years, series["value"])]
    result = dict(
        objective=objective.title, pillar=objective.pillar, weight=objective.weight, indicator_id=ind_id,
        indicator=ind.label, unit=ind.unit, polarity=ind.polarity, horizon=target.horizon,
        target_year=target.year, target_type=target.kind, target_text="", target_value=None,
        baseline_period=None, baseline_value=None, latest_period=None, latest_value=None, trend=None,
        projected_value=None, projection_low=None, projection_high=None, status="no data", reason="",
        source=str(meta["source_org"]), source_date=str(meta["source_date_text"]) if pd.notna(meta["source_date_text"]) else None,
        source_url=str(meta["source_url"]) if pd.notna(meta["source_url"]) else None, series=chart)
    if series.empty:
        result["reason"] = why_not or f"no published values for {place.name}"
        result["target_text"] = _describe(target, ind.unit)
        return TargetResult(**result)
    oi, ti = _where(plan, objective, target)
    try:
        base, rule = resolve_baseline(series, plan.baseline)
    except BaselineError as exc:
        raise plan_error(plan, ("baseline",), f"{exc} for {ind.label} ({ind_id}) in {place.name}; "
                                              "choose a baseline the data cover") from exc
    last = series.iloc[-1]
    result.update(latest_period=str(last["period_label"]), latest_value=float(last["value"]),
                  baseline_period=str(base["period_label"]), baseline_value=float(base["value"]),
                  baseline_period_code=str(base["period_code"]), baseline_rule=rule)
    goal, text, problem = _target_value(ctx, plan, place, target, ind_id, ind.unit, ind.polarity, series, base, last)
    result.update(target_value=goal, target_text=text)
    if goal is None:
        result["reason"] = problem or "the target value could not be computed"
        return TargetResult(**result)
    b = float(base["value"])
    direction = ind.sign or (1 if goal >= b else -1)
    if target.kind in ("reach", "change") and direction * (b - goal) >= -1e-9:
        raise plan_error(plan, ("objectives", oi, "targets", ti, target.kind),
                         f"the target ({text}) is already met at the baseline: {ind.label} was "
                         f"{_fmt(b, ind.unit)} in {base['period_label']} for {place.name}; set a target beyond the "
                         "baseline")
    years = trends.period_to_year(series["period_start"])
    values = series["value"].to_numpy(dtype=float)
    lci, uci = (series[c].to_numpy(dtype=float) if c in series else None for c in ("lci", "uci"))
    length = trends.period_length_years(codes=series["period_code"].astype(str).to_numpy())
    tr = trends.trend(years, values, ind.polarity, lci=lci, uci=uci, length=length,
                      money=trends.is_money(ind.unit), deflator=_deflator(ctx))
    result.update(trend=tr.verdict, trend_note=tr.note or None)
    latest = float(last["value"])
    if pd.Timestamp(str(last["period_start"])) <= pd.Timestamp(str(base["period_start"])):
        result.update(status="too early", reason=f"no data published since the baseline ({base['period_label']})")
        return TargetResult(**result)
    if direction * (latest - goal) >= -1e-9:
        lo, hi = (float(last[c]) if c in last and pd.notna(last[c]) else None for c in ("lci", "uci"))
        margin = lo is not None and hi is not None and lo <= goal <= hi
        reason = (f"the latest value ({_fmt(latest, ind.unit)}, {last['period_label']}) already meets the target of "
                  f"{_fmt(goal, ind.unit)}")
        if margin:
            reason += (f", but within the margin of error: its 95% confidence interval ({_fmt(lo, ind.unit)} to "
                       f"{_fmt(hi, ind.unit)}) includes the target")
        result.update(status="met", within_margin=margin if lo is not None and hi is not None else None,
                      reason=reason)
        return TargetResult(**result)
    if pd.Timestamp(str(last["period_start"])).year >= target.year:
        result.update(status="off track", reason=f"the target year ({target.year}) has been reached in the data and the "
                                                 f"latest value ({_fmt(latest, ind.unit)}, "
                                                 f"{last['period_label']}) does not meet the target")
        return TargetResult(**result)
    proj = projection(years, values, float(target.year), lci=lci, uci=uci, length=length)
    result["projection_points"] = proj.n_points
    if proj.n_points < MIN_PROJECTION_POINTS or proj.value is None or proj.se is None:
        result.update(status="too few points",
                      reason=f"not yet met, and only {proj.n_points} non-overlapping value(s) to project from; a "
                             f"projection needs {MIN_PROJECTION_POINTS}")
        return TargetResult(**result)
    bounds = trends.feasible_bounds(ind.unit, values)
    j = judge(proj, goal, direction, bounds)
    status, p, central, low, high, reaches, away = (j.status, j.probability, j.central, j.low, j.high, j.reaches,
                                                     j.away)
    reason = (f"projected {_fmt(central, ind.unit)} in {target.year} (95% prediction interval {_fmt(low, ind.unit)} "
              f"to {_fmt(high, ind.unit)}), which {'reaches' if reaches else 'falls short of'} the target of "
              f"{_fmt(goal, ind.unit)}; {likelihood(p)} to reach it by {target.year}")
    if away:
        reason += "; the fitted line slopes away from the target"
    if trends.is_money(ind.unit):
        reason += "; projected in cash terms, as the target is"
    fit_args = dict(lci=lci, uci=uci, length=length, bounds=bounds, trend_change=True)
    c = calibration()
    path = trends.project_path(years, values, np.linspace(np.nanmax(years), target.year, 25), PROJECTION_POINTS,
                               damping=c.damping, scale=c.scale, **fit_args)
    fit = trends.project_path(years, values, trends.fit_span(years, values, PROJECTION_POINTS, lci=lci, uci=uci,
                                                             length=length), PROJECTION_POINTS, **fit_args)
    result.update(status=status, reason=reason, probability=p, projected_value=central, projection_low=low,
                  projection_high=high,
                  projection_path=[{"year": float(r.year), "value": float(r.value), "low": float(r.pi_lower),
                                    "high": float(r.pi_upper)} for r in path.itertuples()],
                  fit_path=[{"year": float(r.year), "value": float(r.value)} for r in fit.itertuples()])
    return TargetResult(**result)


@dataclass(frozen=True)
class Judgement:
    """A not-yet-met target read against a projection: the status and the numbers behind it."""

    status: str
    probability: float
    central: float
    low: float
    high: float
    reaches: bool
    away: bool


def judge(proj: trends.Projection, goal: float, direction: int, bounds: tuple[float, float]) -> Judgement:
    """Status of a target not yet met, from the projection's predictive distribution cut to ``bounds``.

    On track: at least an even chance, the central projection reaches the target, and the line does
    not slope away from it (a lucky latest value never makes a falling series "on track" for a rise).
    At risk: 10–50% (or 50%+ without the other two). Off track: under 10%.
    """
    assert proj.value is not None and proj.se is not None and proj.df is not None
    central = float(np.clip(proj.value, *bounds))
    low, high = (float(v) for v in trends.truncated_interval(proj.value, proj.se, proj.df, bounds))
    p = trends.reach_probability(proj.value, proj.se, proj.df, goal, direction, bounds)
    reaches = direction * (central - goal) >= -1e-9
    away = proj.slope is not None and direction * proj.slope < 0
    if p >= ON_TRACK_PROBABILITY and reaches and not away:
        status = "on track"
    elif p >= OFF_TRACK_PROBABILITY:
        status = "at risk"
    else:
        status = "off track"
    return Judgement(status, p, central, low, high, reaches, away)


def _deflator(ctx: query.Context) -> trends.Deflator | None:
    key = ("gdp_deflator",)
    if key not in ctx._cache:
        ctx._cache[key] = trends.gdp_deflator(ctx.snapshot.observations)
    return ctx._cache[key]


def _describe(t: Target, unit: str) -> str:
    if t.reach is not None:
        return f"reach {_fmt(t.reach, unit)} by {t.year}"
    if t.change is not None:
        amount = f"{t.change.by:+g}%" if t.change.unit == "percent" else f"{t.change.by:+,g}"
        return f"change by {amount} from the baseline by {t.year}"
    if t.close_gap is not None:
        return f"close {t.close_gap.share:.0%} of the gap to {t.close_gap.to} by {t.year}"
    assert t.position is not None
    return f"be in the {t.position.at_least.replace('_', ' ')} of its neighbours by {t.year}"


def _target_value(ctx: query.Context, plan: Plan, place: Place, target: Target, ind_id: str, unit: str,
                  polarity: str, series: pd.DataFrame, base: pd.Series, last: pd.Series
                  ) -> tuple[float | None, str, str | None]:
    b = float(base["value"])
    text = _describe(target, unit)
    if target.reach is not None:
        return target.reach, text, None
    if target.change is not None:
        goal = b + target.change.by if target.change.unit == "absolute" else b * (1 + target.change.by / 100)
        return goal, f"{text} (from {_fmt(b, unit)} to {_fmt(goal, unit)})", None
    if target.close_gap is not None:
        g = target.close_gap
        bench_base, name = _comparator_value(ctx, place, g.to, ind_id, str(base["period_code"]), base["period_start"])
        bench_last, _ = _comparator_value(ctx, place, g.to, ind_id, str(last["period_code"]), last["period_start"])
        if bench_base is None or bench_last is None:
            return None, text, f"no value for {name} in the baseline and latest periods"
        gap = bench_base - b
        goal = bench_last - (1 - g.share) * gap
        return goal, (f"close {g.share:.0%} of the {_fmt(abs(gap), unit)} gap to {name} by {target.year} "
                      f"(reach {_fmt(goal, unit)} against its latest {_fmt(bench_last, unit)})"), None
    assert target.position is not None
    sign = {"higher_is_better": 1, "lower_is_better": -1}.get(polarity)
    if sign is None:
        return None, text, "a position target needs an indicator where higher or lower is better"
    code = str(last["period_code"])
    peer_vals = sorted((v for v in (query.value_at(ctx, ind_id, c, code) for c in place.peers) if v is not None),
                       key=lambda v: -sign * v)
    if len(peer_vals) < 3:
        return None, text, f"fewer than three of {place.peer_label} have a value for {last['period_label']}"
    n = len(peer_vals) + 1
    places_needed = {"best": 1, "top_three": 3, "top_quarter": math.ceil(n / 4), "top_half": math.ceil(n / 2)}
    k = places_needed[target.position.at_least]
    # Position k of n means at most k−1 neighbours ahead: match the k-th best neighbour (ties share a place).
    goal = peer_vals[min(k, len(peer_vals)) - 1]
    return goal, (f"{text}: position {k} of {n} needs about {_fmt(goal, unit)} "
                  f"(neighbours' values in {last['period_label']})"), None


# ---------------------------------------------------------------- the plan

def evaluate(ctx: query.Context, plan: Plan, weights: RollupWeights = PLAN_WEIGHTS) -> Evaluation:
    """Every target's status and the roll-ups, weighted by the plan's own objective weights or (``weights``)
    by its residents' priorities."""
    place = resolve_place(ctx, plan)
    objectives = []
    for o in plan.objectives:
        if not o.measured:  # kept, with its reason; nothing to evaluate or compare
            objectives.append(ObjectiveResult(o.title, o.pillar, None, [], "", None, None, o.note, o.not_measured))
            continue
        results = [evaluate_target(ctx, plan, place, o, t) for t in o.targets]
        line, did, synthetic = _counterfactual(ctx, plan, place, o)
        objectives.append(ObjectiveResult(o.title, o.pillar, o.weight, results, line, did, synthetic, o.note))
    snap = ctx.snapshot.manifest
    ev = Evaluation(plan, place, objectives, pd.DataFrame(), pd.DataFrame(), "",
                    datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    {"created_at": snap["created_at"], "source": snap.get("source_note") or snap["source_base_url"],
                     "attribution": snap.get("attribution", [])})
    return reweight(ev, weights)


def reweight(ev: Evaluation, weights: RollupWeights) -> Evaluation:
    """The same evaluation rolled up with other weights: only the roll-ups, the overall share and the
    summary change (no target is evaluated again, so a page can switch weights at no cost)."""
    share = weights.objective_weights(_weighted_pillars(ev.objectives), [o.weight or 0.0 for o in ev.objectives])
    rows = pd.DataFrame([{"horizon": t.horizon, "pillar": t.pillar, "status": t.status, "weight": w / len(o.targets)}
                         for o, w in zip(ev.objectives, share) for t in o.targets],
                        columns=["horizon", "pillar", "status", "weight"])
    by_h = _rollup(rows, "horizon", ["immediate", "medium", "long"])
    by_p = _rollup(rows, "pillar", ["economy", "public_services", "environment"])
    overall = _rollup(rows.assign(all="all"), "all", ["all"])
    share_all = overall["share_met_or_on_track"].iloc[0] if len(overall) else None
    return replace(ev, by_horizon=by_h, by_pillar=by_p, summary=_summary(by_p), weights=weights,
                   overall=None if share_all is None or pd.isna(share_all) else float(share_all))


def _weighted_pillars(objectives) -> list[str]:
    """Each objective's pillar, or 'none' for one the snapshot does not measure (it has no weight, so it
    neither receives a pillar's share nor makes a pillar count as present)."""
    return [o.pillar if o.weight else "none" for o in objectives]


def _rollup(rows: pd.DataFrame, by: str, order: list[str]) -> pd.DataFrame:
    """Counts of each status and the weighted share met or on track, among targets that could be judged."""
    out = []
    for key in order:
        part = rows.loc[rows[by] == key]
        if part.empty:
            continue
        counts = part["status"].value_counts()
        judged = part.loc[part["status"].isin(JUDGED)]
        good = judged.loc[judged["status"].isin(["met", "on track"]), "weight"].sum()
        share = float(good / judged["weight"].sum()) if len(judged) else None
        out.append({by: key, "targets": len(part), **{s: int(counts.get(s, 0)) for s in STATUSES},
                    "share_met_or_on_track": share})
    return pd.DataFrame(out)


def _summary(by_pillar: pd.DataFrame) -> str:
    shares = dict(zip(by_pillar.get("pillar", []), by_pillar.get("share_met_or_on_track", [])))
    e, s = shares.get("economy"), shares.get("public_services")
    if e is None or s is None or pd.isna(e) or pd.isna(s):
        return "Not enough targets could be judged in both the economy and public services to compare them."
    gap = e - s
    both = f"{e:.0%} of economic targets and {s:.0%} of public-service targets are met or on track"
    if set(JUDGED) <= set(by_pillar.columns):  # name how few targets a share may rest on
        judged = dict(zip(by_pillar["pillar"], by_pillar[list(JUDGED)].sum(axis=1).astype(int)))
        n_e, n_s = judged.get("economy", 0), judged.get("public_services", 0)
        both += (f" (weighted shares of the targets that could be judged: {n_e} economic, "
                 f"{n_s} public-service)")
    if abs(gap) < 0.15:
        return f"Economic and public-service targets are moving together: {both}."
    lead = "economic" if gap > 0 else "public-service"
    return f"The plan's {lead} targets are doing better: {both}."


def _counterfactual(ctx: query.Context, plan: Plan, place: Place, o: Objective
                    ) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
    """One line per objective: since the plan was published, did the place do better than similar places?

    The headline is a synthetic control from the comparison pool with placebo-in-space
    inference (see `counterfactual`); the difference-in-differences follows as a secondary
    figure with placebo inference too. A footprint's own districts never sit in its pool.
    Returns (line, DiD fields, synthetic-control fields).
    """
    donors = [c for c in place.peers if c not in set(place.codes)]
    if not donors:
        return f"No comparison with similar places: {place.peer_label}.", None, None
    ind_id = o.indicators[0]
    ind = ctx.catalogue.get(ind_id)
    series, why = place_series(ctx, place, ind_id)
    if series.empty:
        return f"No comparison with similar places for {ind.label}: {why or 'no data'}.", None, None
    peer_level = "ltla" if place.custom else place.level
    peers = similar_places.comparison_panel(ctx, donors, ind_id, peer_level)
    ends = (ctx.slice(ind_id, peer_level)[["period_start", "period_end"]].drop_duplicates("period_start")
            .set_index("period_start")["period_end"])
    code = "__place__"
    own = pd.DataFrame({"areacd": code, "period_start": series["period_start"].to_numpy(),
                        "period_end": series["period_start"].map(ends).fillna(series["period_start"]).to_numpy(),
                        "value": series["value"].to_numpy(dtype=float)})
    panel = pd.concat([own, peers], ignore_index=True)
    start = pd.Timestamp(plan.published)
    sc = cf.synthetic_control(panel, code, donors, start, ind.polarity)
    # The DiD comes from the same placebo fits (one pass, not two).
    did = {"estimate": sc.did_estimate, "lci": sc.did_lci, "uci": sc.did_uci, "p_value": sc.did_p_value,
           "pre_periods": sc.pre_periods, "post_periods": sc.post_periods, "n_areas": sc.n_donors + 1}
    return _counterfactual_line(ind.label, ind.unit, plan, place, sc), did, asdict(sc)


def _counterfactual_line(label: str, unit: str, plan: Plan, place: Place, sc: cf.SyntheticControl) -> str:
    if sc.estimate is None:
        return f"{label}: {sc.note}"
    fit = "passes" if sc.pre_fit_ok else "fails"
    did = (f" A difference-in-differences against the same places gives {_signed(sc.did_estimate, unit)} "
           f"(placebo p = {sc.did_p_value:.2f})." if sc.did_estimate is not None and sc.did_p_value is not None else "")
    return (f"{label}: since {plan.published:%B %Y}, {place.name} is {_signed(sc.estimate, unit)} against a "
            f"weighted mix of {place.peer_label} that matched it before (90% placebo range "
            f"{_signed(sc.lci, unit)} to {_signed(sc.uci, unit)}; placebo p = {sc.p_value:.2f}; "
            f"fit before the plan {fit}): {sc.verdict}.{did}")


def _signed(v: float | None, unit: str) -> str:
    if v is None:
        return "n/a"
    text = _fmt(abs(v), unit)
    return ("+" if v >= 0 else "−") + text
