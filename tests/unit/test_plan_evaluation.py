"""Unit tests for indicators.plans: target evaluation hand-worked on tiny synthetic series.

The real query context is used only for catalogue look-ups (label, unit, polarity, source);
the place's series, the comparator values and the neighbours' values are all replaced by
small hand-made numbers, so every status and target value below can be checked by hand.

The workhorse series (higher is better, %): 2019..2023 = 70, 72, 73, 75, 76
(test_trends' [10, 12, 13, 15, 16] + 60). With x̄ = 2021, ȳ = 73.2, Sxx = 10:
slope = Sxy / Sxx = 15 / 10 = 1.5; fitted 70.2, 71.7, 73.2, 74.7, 76.2;
residuals -0.2, 0.3, -0.2, 0.3, -0.2 → RSS = 0.30, s² = RSS / (n − 2) = 0.1.
Projection to year x0: 73.2 + 1.5·(x0 − 2021), 95% prediction interval half-width
t(0.975, 3)·sqrt(s²·(1 + 1/5 + (x0 − 2021)²/10)) with t(0.975, 3) = 3.182446:
  2026: 80.7 ± 3.182446·sqrt(0.1·3.7) = 80.7 ± 1.935807 → [78.764, 82.636]
  2028: 83.7 ± 3.182446·sqrt(0.1·6.1) = 83.7 ± 2.485570 → [81.214, 86.186]
  2032: 89.7 ± 3.182446·sqrt(0.1·13.3) = 89.7 ± 3.670176 → [86.030, 93.370]
Plan statuses use the projection with ``trend_change``: the prediction variance adds the drift
method's term σ_d²·h·(1 + h/m) for the chance that the line itself bends. Year-on-year changes
2, 1, 2, 1 → σ_d² = 1/3, m = 4; in 2026 (h = 3) that adds (1/3)·3·1.75 = 1.75, so
Var = 0.37 + 1.75 = 2.12, SE = 1.456022 and the 95% interval is 80.7 ± 3.182446·1.456022 =
[76.066, 85.334]; in 2028 (h = 5) Var = 0.61 + (1/3)·5·2.25 = 4.36, SE = 2.088061.
The chance of reaching a value g is P(T₃ ≥ (g − 80.7) / 1.456022): 0.668 for 80, 0.030 for 85.
The plan's baseline is 2022 (value 75) and the latest period 2023 (value 76).

These hand-worked numbers are for the line as fitted: an autouse fixture sets the projection's
calibration to the identity (damping 1, scale 1). The stored calibration (plan_calibration.yaml)
damps the slope beyond the last fitted point by φ and multiplies the predictive SE by k; in 2026
(3 years past 2023) the centre is 76.2 + φ·1.5·3 and the SE k·1.456022, checked separately below,
and the simulations with known truth use it, as the product does.
"""
from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from indicators import plan_report, plans, query, trends
from indicators.plan_model import Plan, PlanError

HIGHER, LOWER, NEUTRAL = "employment-rate", "claimant-count", "average-house-price"
HAND = {2019: 70.0, 2020: 72.0, 2021: 73.0, 2022: 75.0, 2023: 76.0}
# Falling series (%): ȳ = 4.2, Sxy = −3.9 → slope −0.39; fitted 4.98, 4.59, 4.20, 3.81, 3.42;
# residuals .02, .01, −.10, .09, −.02 → RSS = 0.019, s² = 0.0063333.
# 2026: 4.2 − 0.39·5 = 2.25 ± 3.182446·sqrt(0.0063333·3.7) = 2.25 ± 0.487167 → [1.763, 2.737].
FALLING = {2019: 5.0, 2020: 4.6, 2021: 4.1, 2022: 3.9, 2023: 3.4}
T975 = 3.182446305284263


# The calibration the product uses, read before any test replaces it.
STORED = plans.calibration()
IDENTITY = plans.ProjectionCalibration(1.0, 1.0)


@pytest.fixture(scope="module")
def ctx():
    return query.context()


@pytest.fixture(autouse=True)
def as_fitted(monkeypatch):
    """Hand-worked tests check the straight line as fitted; calibrated tests pass ``STORED`` explicitly."""
    monkeypatch.setattr(plans, "calibration", lambda: IDENTITY)


def make_series(values: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame([{"period_code": str(y), "period_label": str(y), "period_start": date(y, 1, 1),
                          "value": float(v), "lci": math.nan, "uci": math.nan} for y, v in values.items()])


def make_plan(indicator: str, target: dict, baseline: int | str = 2022) -> Plan:
    return Plan.model_validate({
        "title": "Synthetic plan", "illustrative": True, "place": {"code": "E06000001"},
        "published": "2024-06-01", "baseline": baseline,
        "objectives": [{"title": "An objective", "pillar": "economy", "weight": 1.0,
                        "indicators": [indicator], "targets": [target]}]})


def make_place(peers: list[str] | None = None) -> plans.Place:
    peers = list(peers or [])
    return plans.Place("Testshire", ["E06000001"], "ltla", False, "E12000001", peers,
                       f"{len(peers)} test neighbours")


def evaluate(ctx, monkeypatch, indicator: str, series: dict[int, float] | pd.DataFrame, target: dict, *,
             peers: dict[str, float] | None = None, comparator=None, why_not: str | None = None,
             baseline: int | str = 2022) -> plans.TargetResult:
    frame = series if isinstance(series, pd.DataFrame) else make_series(series)
    monkeypatch.setattr(plans, "place_series", lambda c, place, ind: (frame, why_not))
    if comparator is not None:
        monkeypatch.setattr(plans, "_comparator_value", comparator)
    if peers is not None:
        latest_code = str(frame["period_code"].iloc[-1])

        def value_at(c, ind, areacd, period_code):
            assert ind == indicator and period_code == latest_code
            return peers.get(areacd)
        monkeypatch.setattr(query, "value_at", value_at)
    plan = make_plan(indicator, target, baseline)
    objective = plan.objectives[0]
    return plans.evaluate_target(ctx, plan, make_place(list(peers or {})), objective, objective.targets[0])


def reach(value: float, year: int = 2026, horizon: str = "immediate") -> dict:
    return {"horizon": horizon, "year": year, "reach": value}


def years_values(series: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([float(y) for y in series]), np.array(list(series.values()))


# ------------------------------------------------------------------ the hand-worked numbers themselves

def test_the_projection_in_the_module_docstring_is_right():
    x, y = years_values(HAND)
    assert stats.t.ppf(0.975, 3) == pytest.approx(T975)
    for year, value, half in ((2026, 80.7, 1.935807), (2028, 83.7, 2.485570), (2032, 89.7, 3.670176)):
        p = trends.project(x, y, year)
        assert p.value == pytest.approx(value)
        assert p.pi_upper - p.value == pytest.approx(half, abs=1e-6)
        assert p.value - p.pi_lower == pytest.approx(half, abs=1e-6)
    x, y = years_values(FALLING)
    p = trends.project(x, y, 2026)
    assert p.value == pytest.approx(2.25)
    assert p.pi_lower == pytest.approx(2.25 - 0.487167, abs=1e-6)
    assert p.pi_upper == pytest.approx(2.25 + 0.487167, abs=1e-6)


# ------------------------------------------------------------------ reach

def t3_chance(goal: float, centre: float, se: float, direction: int = 1) -> float:
    z = (goal - centre) / se
    return float(stats.t.sf(z, 3) if direction > 0 else stats.t.cdf(z, 3))


SE_2026, SE_2028 = math.sqrt(0.37 + 1.75), math.sqrt(0.61 + 3.75)


def test_the_plan_projection_adds_the_chance_that_the_line_bends():
    x, y = years_values(HAND)
    p = trends.project(x, y, 2026, trend_change=True)
    assert p.value == pytest.approx(80.7) and p.se == pytest.approx(SE_2026) and p.df == 3
    assert (p.pi_lower, p.pi_upper) == (pytest.approx(80.7 - T975 * SE_2026), pytest.approx(80.7 + T975 * SE_2026))
    assert trends.project(x, y, 2028, trend_change=True).se == pytest.approx(SE_2028)


def test_reach_met_exactly_when_latest_equals_the_target(ctx, monkeypatch):
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, reach(76.0))
    assert r.status == "met"
    assert r.target_type == "reach" and r.target_value == 76.0
    assert (r.baseline_period, r.baseline_value, r.latest_period, r.latest_value) == ("2022", 75.0, "2023", 76.0)
    assert r.reason == "the latest value (76%, 2023) already meets the target of 76%"
    assert r.within_margin is None  # no CI published
    assert r.projected_value is None and r.probability is None  # no projection once met
    assert r.trend == "improving"  # five points, slope 1.5, 95% CI excludes 0
    assert r.indicator == "Employment rate" and r.unit == "%" and r.polarity == "higher_is_better"
    assert r.source == "Office for National Statistics"
    assert [p["year"] for p in r.series] == [2019.0, 2020.0, 2021.0, 2022.0, 2023.0]


def test_met_within_the_margin_of_error_when_the_latest_ci_straddles_the_target(ctx, monkeypatch):
    frame = make_series(HAND)
    frame["lci"], frame["uci"] = frame["value"] - 1.0, frame["value"] + 1.0
    r = evaluate(ctx, monkeypatch, HIGHER, frame, reach(75.5))
    assert r.status == "met" and r.within_margin is True
    assert r.status_text == "met (within the margin of error)"
    assert "within the margin of error: its 95% confidence interval (75% to 77%) includes the target" in r.reason
    clear = evaluate(ctx, monkeypatch, HIGHER, frame, reach(74.9 + 0.2))  # 75.1 is inside 75–77: still straddles
    assert clear.within_margin is True
    frame["lci"] = frame["value"] - 0.1
    assert evaluate(ctx, monkeypatch, HIGHER, frame, reach(75.5)).within_margin is False


def test_reach_on_track(ctx, monkeypatch):
    # 80 is above the latest 76 and below the central 80.7; chance 0.668 → on track.
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, reach(80.0))
    assert r.status == "on track"
    assert r.projected_value == pytest.approx(80.7)
    # a percentage: the t distribution is cut to 0–100%, which moves the interval's ends a hair inwards
    low, high = trends.truncated_interval(80.7, SE_2026, 3, (0.0, 100.0))
    assert (r.projection_low, r.projection_high) == (pytest.approx(float(low)), pytest.approx(float(high)))
    assert abs(r.projection_low - (80.7 - T975 * SE_2026)) < 1e-3
    assert r.probability == pytest.approx(t3_chance(80.0, 80.7, SE_2026), abs=1e-3) == pytest.approx(0.668, abs=1e-3)
    assert r.reason == ("projected 80.7% in 2026 (95% prediction interval 76.07% to 85.3%), which reaches "
                        "the target of 80%; about 67% likely to reach it by 2026")
    assert r.target_text == "reach 80% by 2026"
    assert r.projection_points == 5


def test_a_target_the_interval_reaches_but_the_projection_misses_is_not_on_track(ctx, monkeypatch):
    # 85 is inside the 2026 interval (top 85.33), as the old rule required, but the central 80.7 misses it
    # and the chance is 3%: off track.
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, reach(85.0))
    assert r.projection_high > 85.0
    assert r.status == "off track" and r.probability == pytest.approx(t3_chance(85.0, 80.7, SE_2026), abs=1e-3)
    assert "falls short of the target of 85%" in r.reason and "reaches" not in r.reason
    assert "about 3% likely to reach it by 2026" in r.reason


def test_at_risk_between_ten_and_fifty_percent(ctx, monkeypatch):
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, reach(82.0))
    assert 0.1 <= r.probability < 0.5 and r.status == "at risk"
    assert "falls short of the target of 82%" in r.reason


def test_the_central_projection_itself_is_on_track_and_a_hair_beyond_is_at_risk(ctx, monkeypatch):
    # An unbounded-above indicator (£, never negative): the cut at zero is negligible, so the chance is 50%.
    r = evaluate(ctx, monkeypatch, NEUTRAL, HAND, reach(80.7))
    assert r.probability == pytest.approx(0.5, abs=1e-3) and r.probability >= 0.5 and r.status == "on track"
    r = evaluate(ctx, monkeypatch, NEUTRAL, HAND, reach(80.7 + 1e-4))
    assert r.probability < 0.5 and r.status == "at risk"


def test_target_year_reached_in_the_data_and_missed_is_off_track_without_projection(ctx, monkeypatch):
    # Data up to 2026 for a 2026 target: judged on the data (76 + … = 79 < 85), not on a projection.
    series = {**HAND, 2024: 77.0, 2025: 78.0, 2026: 79.0}
    r = evaluate(ctx, monkeypatch, HIGHER, series, reach(85.0))
    assert r.status == "off track" and r.projected_value is None
    assert r.reason == ("the target year (2026) has been reached in the data and the latest value (79%, 2026) "
                        "does not meet the target")
    # …and a met target stays met.
    assert evaluate(ctx, monkeypatch, HIGHER, series, reach(79.0)).status == "met"


def test_two_points_are_too_few_to_project_and_never_on_track(ctx, monkeypatch):
    r = evaluate(ctx, monkeypatch, HIGHER, {2021: 74.0, 2022: 75.0, 2023: 76.0}, reach(79.0))
    assert r.status == "too few points" and r.projected_value is None and r.probability is None
    assert r.reason == ("not yet met, and only 3 non-overlapping value(s) to project from; a projection needs 5")


def test_rolling_periods_are_thinned_before_projecting(ctx, monkeypatch):
    # Ten 3-year rolling periods give four non-overlapping ones: too few to project.
    frame = pd.DataFrame([{"period_code": f"{y}-01-01/P3Y", "period_label": f"{y} to {y + 2}",
                           "period_start": date(y, 1, 1), "value": 60.0 + 0.2 * (y - 2012), "lci": math.nan,
                           "uci": math.nan} for y in range(2012, 2022)])
    r = evaluate(ctx, monkeypatch, HIGHER, frame, reach(64.0), baseline=2016)
    assert r.status == "too few points" and "only 4 non-overlapping" in r.reason


# ------------------------------------------------------------------ change

def test_change_absolute_at_risk_and_off_track(ctx, monkeypatch):
    # Baseline 2022 = 75. +10 → 85 by 2028; central 83.7 misses it, chance 0.29 → at risk (the old rule: on track).
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, {"horizon": "medium", "year": 2028, "change": {"by": 10}})
    assert r.target_value == 85.0 and r.status == "at risk"
    assert r.probability == pytest.approx(t3_chance(85.0, 83.7, SE_2028), abs=3e-3)
    assert r.target_text == "change by +10 from the baseline by 2028 (from 75% to 85%)"
    assert r.projected_value == pytest.approx(83.7)
    # +8 → 83 ≤ 83.7 → on track.
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, {"horizon": "medium", "year": 2028, "change": {"by": 8}})
    assert r.target_value == 83.0 and r.status == "on track"


def test_change_percent_met(ctx, monkeypatch):
    # +1% of 75 → 75.75; the latest 76 already meets it.
    target = {"horizon": "immediate", "year": 2026, "change": {"by": 1, "unit": "percent"}}
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, target)
    assert r.target_value == pytest.approx(75.75) and r.status == "met"
    assert r.target_text == "change by +1% from the baseline by 2026 (from 75% to 75.75%)"


def test_change_percent_landing_on_the_latest_value_up_to_rounding_is_met(ctx, monkeypatch):
    # 75 · (1 + 1.3333…/100) = 76 in exact arithmetic; in floats it may be 76.00000000000001.
    by = 100 * (76 / 75 - 1)
    target = {"horizon": "immediate", "year": 2026, "change": {"by": by, "unit": "percent"}}
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, target)
    assert r.target_value == pytest.approx(76.0, abs=1e-9)
    assert r.status == "met"


def test_change_percent_lower_is_better(ctx, monkeypatch):
    # Claimant count baseline 2022 = 3.9; −40% → 2.34. Lower is better: central 2.25 ≤ 2.34 → on track.
    target = {"horizon": "immediate", "year": 2026, "change": {"by": -40, "unit": "percent"}}
    r = evaluate(ctx, monkeypatch, LOWER, FALLING, target)
    assert r.target_value == pytest.approx(2.34) and r.status == "on track"
    assert r.trend == "improving"  # falling, and lower is better


# ------------------------------------------------------------------ close the gap

def test_close_gap_half_of_the_gap_to_england(ctx, monkeypatch):
    # England 80 at the baseline (2022) and 82 at the latest (2023). Gap at baseline = 80 − 75 = 5;
    # closing half leaves 2.5 below England's latest: goal = 82 − 0.5·5 = 79.5. Latest 76 < 79.5;
    # the 2032 interval [86.03, 93.37] reaches it → on track.
    calls = []

    def comparator(c, place, bench, ind, period_code, period_start):
        calls.append((bench, ind, period_code))
        return {"2022": 80.0, "2023": 82.0}[period_code], "England"

    target = {"horizon": "long", "year": 2032, "close_gap": {"share": 0.5, "to": "england"}}
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, target, comparator=comparator)
    assert calls == [("england", HIGHER, "2022"), ("england", HIGHER, "2023")]
    assert r.target_value == pytest.approx(79.5) and r.status == "on track"
    assert r.target_text == "close 50% of the 5% gap to England by 2032 (reach 79.5% against its latest 82%)"


def test_close_gap_met_when_the_place_already_closed_all_of_it(ctx, monkeypatch):
    # Share 1: goal = England's latest = 76 = the place's latest → met.
    def comparator(c, place, bench, ind, period_code, period_start):
        return {"2022": 80.0, "2023": 76.0}[period_code], "England"

    target = {"horizon": "long", "year": 2032, "close_gap": {"share": 1.0}}
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, target, comparator=comparator)
    assert r.target_value == 76.0 and r.status == "met"


def test_close_gap_without_a_comparator_value_is_no_data(ctx, monkeypatch):
    def comparator(c, place, bench, ind, period_code, period_start):
        return (80.0 if period_code == "2022" else None), "England"

    target = {"horizon": "long", "year": 2032, "close_gap": {"share": 0.5}}
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, target, comparator=comparator)
    assert r.status == "no data" and r.target_value is None
    assert r.reason == "no value for England in the baseline and latest periods"


# ------------------------------------------------------------------ position among neighbours

PEERS = {"E06000002": 78.0, "E06000003": 74.0, "E06000004": 70.0}  # the place's latest is 76


def test_position_best(ctx, monkeypatch):
    # Best of 4 (3 neighbours + the place): match the best neighbour, 78. Latest 76 < 78;
    # the 2026 interval tops out at 82.64 → on track.
    target = {"horizon": "immediate", "year": 2026, "position": {"at_least": "best"}}
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, target, peers=PEERS)
    assert r.target_value == 78.0 and r.status == "on track"
    assert r.target_text == ("be in the best of its neighbours by 2026: position 1 of 4 needs about 78% "
                             "(neighbours' values in 2023)")


def test_position_best_lower_is_better(ctx, monkeypatch):
    # Lower is better: neighbours 3.0, 3.6, 4.4 → best is 3.0; latest 3.4 > 3.0 → not met; the 2026
    # interval's bottom 1.763 ≤ 3.0 → on track.
    peers = {"E06000002": 4.4, "E06000003": 3.0, "E06000004": 3.6}
    target = {"horizon": "immediate", "year": 2026, "position": {"at_least": "best"}}
    r = evaluate(ctx, monkeypatch, LOWER, FALLING, target, peers=peers)
    assert r.target_value == 3.0 and r.status == "on track"


def test_position_top_half(ctx, monkeypatch):
    # n = 4, top half → position k = ceil(4/2) = 2: beat two of the three neighbours → match 74.
    # The place's 76 already ranks 2nd (78, 76, 74, 70) → met.
    target = {"horizon": "immediate", "year": 2026, "position": {"at_least": "top_half"}}
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, target, peers=PEERS)
    assert r.target_value == 74.0
    assert r.status == "met"


def test_position_with_fewer_than_three_neighbour_values_is_no_data(ctx, monkeypatch):
    peers = {"E06000002": 78.0, "E06000003": None, "E06000004": 70.0}
    target = {"horizon": "immediate", "year": 2026, "position": {"at_least": "best"}}
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, target, peers=peers)
    assert r.status == "no data" and r.target_value is None
    assert r.reason == "fewer than three of 3 test neighbours have a value for 2023"


def test_position_on_a_neutral_indicator_is_no_data(ctx, monkeypatch):
    target = {"horizon": "immediate", "year": 2026, "position": {"at_least": "best"}}
    r = evaluate(ctx, monkeypatch, NEUTRAL, HAND, target, peers=PEERS)
    assert r.status == "no data"
    assert r.reason == "a position target needs an indicator where higher or lower is better"


# ------------------------------------------------------------------ polarity

def test_lower_is_better_flips_met(ctx, monkeypatch):
    # Latest 3.4 against a target of 3.5: met when lower is better…
    r = evaluate(ctx, monkeypatch, LOWER, FALLING, reach(3.5))
    assert r.status == "met"
    # …but when higher is better the falling line slopes away from it: never on track, here off track.
    r = evaluate(ctx, monkeypatch, HIGHER, FALLING, reach(3.95))
    assert r.status == "off track" and "slopes away from the target" in r.reason
    assert r.trend == "worsening"


def test_lower_is_better_reads_the_chance_below_the_target(ctx, monkeypatch):
    # 2026: central 2.25, SE 0.358376 (drift term included). 2.5 → 76% → on track; 2.0 → 27% → at risk.
    x, y = years_values(FALLING)
    p = trends.project(x, y, 2026, trend_change=True)
    on = evaluate(ctx, monkeypatch, LOWER, FALLING, reach(2.5))
    assert on.status == "on track" and on.probability == pytest.approx(t3_chance(2.5, 2.25, p.se, -1), abs=3e-3)
    risk = evaluate(ctx, monkeypatch, LOWER, FALLING, reach(2.0))
    assert risk.status == "at risk" and risk.probability == pytest.approx(t3_chance(2.0, 2.25, p.se, -1), abs=3e-3)
    assert evaluate(ctx, monkeypatch, LOWER, FALLING, reach(1.0)).status == "off track"


def test_the_interval_and_the_chance_respect_feasible_bounds(ctx, monkeypatch):
    # A percentage falling towards zero: the interval is cut at 0%, and "reach 0.05%" is judged on the cut
    # distribution.
    series = {2019: 2.0, 2020: 1.6, 2021: 1.1, 2022: 0.9, 2023: 0.4}
    r = evaluate(ctx, monkeypatch, LOWER, series, {"horizon": "medium", "year": 2028, "reach": 0.05})
    assert r.projection_low >= 0.0 and r.projected_value >= 0.0
    assert all(p["low"] >= 0.0 for p in r.projection_path)


def test_lower_is_better_met_exactly(ctx, monkeypatch):
    assert evaluate(ctx, monkeypatch, LOWER, FALLING, reach(3.4)).status == "met"


def test_neutral_indicator_takes_its_direction_from_the_target(ctx, monkeypatch):
    # Neutral: a target below the baseline (75) means "go down"; the rising line slopes away → off track.
    r = evaluate(ctx, monkeypatch, NEUTRAL, HAND, reach(74.0))
    assert r.status == "off track"
    # A target above the baseline means "go up": 76 ≥ 75.5 → met.
    assert evaluate(ctx, monkeypatch, NEUTRAL, HAND, reach(75.5)).status == "met"


# ------------------------------------------------------------------ too early, no data, refusals

def test_too_early_when_nothing_is_published_after_the_baseline(ctx, monkeypatch):
    series = {2018: 69.0, 2019: 70.0, 2020: 72.0, 2021: 73.0, 2022: 75.0}
    r = evaluate(ctx, monkeypatch, HIGHER, series, reach(90.0))
    assert r.status == "too early"
    assert r.reason == "no data published since the baseline (2022)"
    assert r.baseline_period == r.latest_period == "2022"


def test_a_target_already_met_at_the_baseline_is_refused_naming_the_field(ctx, monkeypatch):
    with pytest.raises(PlanError, match=r"field 'objectives\[0\]\.targets\[0\]\.reach'.*already met at the baseline: "
                                        r"Employment rate was 75% in 2022"):
        evaluate(ctx, monkeypatch, HIGHER, {2021: 73.0, 2022: 75.0}, reach(70.0))
    with pytest.raises(PlanError, match="already met at the baseline"):  # the builder's old default, "reach 0"
        evaluate(ctx, monkeypatch, HIGHER, HAND, reach(0.0))


def test_no_data_with_the_reason_from_the_series(ctx, monkeypatch):
    empty = pd.DataFrame(columns=["period_code", "period_label", "period_start", "value", "lci", "uci"])
    why = "Median weekly pay cannot be aggregated across areas"
    r = evaluate(ctx, monkeypatch, HIGHER, empty, reach(80.0), why_not=why)
    assert r.status == "no data" and r.reason == why
    assert r.target_text == "reach 80% by 2026" and r.latest_value is None and r.series == []


def test_no_data_without_a_reason_names_the_place(ctx, monkeypatch):
    empty = pd.DataFrame(columns=["period_code", "period_label", "period_start", "value", "lci", "uci"])
    r = evaluate(ctx, monkeypatch, HIGHER, empty, reach(80.0))
    assert r.status == "no data" and r.reason == "no published values for Testshire"


def test_a_baseline_before_the_series_is_refused_not_replaced_by_its_first_value(ctx, monkeypatch):
    series = {2023: 70.0, 2024: 71.5, 2025: 73.5}
    target = {"horizon": "immediate", "year": 2026, "change": {"by": 3}}
    with pytest.raises(PlanError, match=r"field 'baseline': the baseline \(2022\) is before the first period "
                                        r"published \(2023\) for Employment rate"):
        evaluate(ctx, monkeypatch, HIGHER, series, target)


# ------------------------------------------------------------------ baselines

def _fy_series() -> pd.DataFrame:
    return pd.DataFrame([{"period_code": f"{y}-04-01/P1Y", "period_label": f"{y}/{str(y + 1)[2:]}",
                          "period_start": date(y, 4, 1), "value": 50.0 + y - 2015, "lci": math.nan, "uci": math.nan}
                         for y in range(2015, 2025)])


@pytest.mark.parametrize("baseline, label, rule", [
    ("2021-04-01/P1Y", "2021/22", "the period 2021-04-01/P1Y itself"),
    (2022, "2022/23", "the period containing 1 July 2022, the middle of the baseline year"),
    ("2022", "2022/23", "the period containing 1 July 2022"),
    ("2022-04-01", "2022/23", "the period containing 1 April 2022"),
    ("2022-03-31", "2021/22", "the period containing 31 March 2022"),
    ("2022-01-01/P1Y", "2022/23", "the middle of the baseline period 2022-01-01/P1Y"),
])
def test_a_baseline_resolves_to_each_indicators_own_periods_by_one_rule(baseline, label, rule):
    row, words = plans.resolve_baseline(_fy_series(), baseline)
    assert row["period_label"] == label
    assert rule in words and words.startswith(label)


def test_a_baseline_between_point_in_time_periods_takes_the_latest_before_it():
    pay = pd.DataFrame([{"period_code": f"{y}-04-19", "period_label": f"19 Apr {y}", "period_start": date(y, 4, 19),
                         "value": 500.0 + y} for y in range(2018, 2025)])
    row, words = plans.resolve_baseline(pay, 2022)
    assert row["period_label"] == "19 Apr 2022" and "latest period starting on or before 1 July 2022" in words


def test_rolling_periods_containing_the_baseline_take_the_one_centred_nearest():
    hle = pd.DataFrame([{"period_code": f"{y}-01-01/P3Y", "period_label": f"{y} to {y + 2}",
                         "period_start": date(y, 1, 1), "value": 60.0} for y in range(2011, 2023)])
    row, _ = plans.resolve_baseline(hle, 2022)
    assert row["period_label"] == "2021 to 2023"


def test_leeds_median_pay_is_judged_from_its_2022_value_not_the_first_in_the_series(ctx):
    """The README's period-code baseline used to fall back to the series' first value (2008, £384)."""
    plan = make_plan("gross-median-weekly-pay", {"horizon": "medium", "year": 2028,
                                                 "change": {"by": 10, "unit": "percent"}}, baseline="2022-04-01/P1Y")
    plan = plan.model_copy(update={"place": plan.place.model_copy(update={"code": "E08000035"})})
    place = plans.resolve_place(ctx, plan)
    o = plan.objectives[0]
    r = plans.evaluate_target(ctx, plan, place, o, o.targets[0])
    assert r.baseline_period_code.startswith("2022")
    assert r.baseline_value == pytest.approx(536.4) and r.target_value == pytest.approx(590.04)
    assert "2022" in r.baseline_rule


def test_a_period_code_baseline_is_matched_exactly(ctx, monkeypatch):
    frame = make_series(HAND)
    frame["period_code"] = [f"{y}-01-01/P1Y" for y in HAND]
    r = evaluate(ctx, monkeypatch, HIGHER, frame, reach(80.0), baseline="2021-01-01/P1Y")
    assert (r.baseline_period, r.baseline_value) == ("2021", 73.0)
    assert r.baseline_rule == "2021, the period 2021-01-01/P1Y itself"
    # A year given as a string is a year: the period containing its 1 July.
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, reach(80.0), baseline="2021")
    assert (r.baseline_period, r.baseline_value) == ("2021", 73.0)


# ------------------------------------------------------------------ the stored calibration

def test_the_stored_calibration_damps_the_trend_beyond_the_last_point_and_widens_the_spread():
    phi, k = STORED.damping, STORED.scale
    assert 0.5 <= phi < 1.0 and 1.0 < k <= 2.0
    x, y = years_values(HAND)
    p = plans.projection(x, y, 2026, calibrated=STORED)
    # the fitted level at 2023 is 76.2; only the 3 years beyond it are damped
    assert p.value == pytest.approx(76.2 + phi * 1.5 * 3)
    assert p.se == pytest.approx(k * SE_2026) and p.df == 3
    assert p.slope == pytest.approx(1.5) and p.last_year == 2023.0  # the trend's own slope and sign
    # inside the data the line is untouched
    assert plans.projection(x, y, 2023, calibrated=STORED).value == pytest.approx(76.2)


def test_the_evaluation_uses_the_stored_calibration(ctx, monkeypatch):
    monkeypatch.setattr(plans, "calibration", lambda: STORED)
    phi, k = STORED.damping, STORED.scale
    centre, se = 76.2 + phi * 4.5, k * SE_2026
    r = evaluate(ctx, monkeypatch, HIGHER, HAND, reach(80.0))
    assert r.projected_value == pytest.approx(centre)
    assert r.probability == pytest.approx(t3_chance(80.0, centre, se), abs=1e-3)
    # 80 against an undamped 80.7 was on track; damped, the centre misses it
    assert centre < 80.0 and r.status == "at risk" and "falls short of the target of 80%" in r.reason
    assert r.projection_path[-1]["value"] == pytest.approx(centre)


# ------------------------------------------------------------------ simulations with known truth

def _status(x: np.ndarray, y: np.ndarray, goal: float, year: float, direction: int = 1) -> str:
    proj = plans.projection(x, y, year, calibrated=STORED)  # as the product projects
    if proj.n_points < plans.MIN_PROJECTION_POINTS or proj.se is None:
        return "too few points"
    return plans.judge(proj, goal, direction, (-math.inf, math.inf)).status


def test_simulated_flat_series_with_the_target_three_sd_away_is_rarely_on_track():
    # No trend, noise SD 1, target 3 SD above the level two years after the last of ten values.
    rng = np.random.default_rng(21)
    x = np.arange(2014.0, 2024.0)
    statuses = [_status(x, 50.0 + rng.normal(0.0, 1.0, x.size), 53.0, 2026.0) for _ in range(2000)]
    share = statuses.count("on track") / len(statuses)
    assert share <= 0.05, share


def test_simulated_trend_that_reaches_the_target_exactly_is_on_track_about_half_the_time():
    rng = np.random.default_rng(22)
    x = np.arange(2014.0, 2024.0)
    truth = 50.0 + 0.8 * (x - 2014.0)
    goal = 50.0 + 0.8 * (2027.0 - 2014.0)
    statuses = [_status(x, truth + rng.normal(0.0, 1.0, x.size), goal, 2027.0) for _ in range(2000)]
    share = statuses.count("on track") / len(statuses)
    assert 0.35 <= share <= 0.65, share


def test_simulated_two_point_series_are_never_on_track():
    rng = np.random.default_rng(23)
    x = np.array([2022.0, 2023.0])
    statuses = {_status(x, 50.0 + np.array([0.0, 2.0]) + rng.normal(0.0, 0.1, 2), 52.5, 2026.0) for _ in range(200)}
    assert statuses == {"too few points"}


# ------------------------------------------------------------------ roll-ups and summary

ROWS = pd.DataFrame([
    {"horizon": "immediate", "pillar": "economy", "status": "met", "weight": 0.2},
    {"horizon": "immediate", "pillar": "economy", "status": "off track", "weight": 0.1},
    {"horizon": "immediate", "pillar": "public_services", "status": "on track", "weight": 0.3},
    {"horizon": "immediate", "pillar": "public_services", "status": "no data", "weight": 0.1},
    {"horizon": "medium", "pillar": "economy", "status": "too early", "weight": 0.15},
    {"horizon": "long", "pillar": "environment", "status": "off track", "weight": 0.15},
])


def test_rollup_by_horizon_counts_and_weighted_share():
    out = plans._rollup(ROWS, "horizon", ["immediate", "medium", "long"]).set_index("horizon")
    assert list(out.index) == ["immediate", "medium", "long"]
    imm = out.loc["immediate"]
    assert (imm["targets"], imm["met"], imm["on track"], imm["off track"], imm["too early"], imm["no data"]) == \
        (4, 1, 1, 1, 0, 1)
    # Judged: met 0.2 + off 0.1 + on 0.3 = 0.6 (no data is left out); good = 0.2 + 0.3 = 0.5 → 5/6.
    assert imm["share_met_or_on_track"] == pytest.approx(5 / 6)
    assert out.loc["medium", "too early"] == 1 and pd.isna(out.loc["medium", "share_met_or_on_track"])
    assert out.loc["long", "off track"] == 1 and out.loc["long", "share_met_or_on_track"] == 0.0


def test_rollup_by_pillar_skips_empty_groups_and_keeps_the_order():
    out = plans._rollup(ROWS.loc[ROWS["pillar"] != "environment"], "pillar",
                        ["economy", "public_services", "environment"])
    assert list(out["pillar"]) == ["economy", "public_services"]
    eco, pub = out.set_index("pillar").loc["economy"], out.set_index("pillar").loc["public_services"]
    # Economy: met 0.2, off 0.1 judged; too early not judged → 0.2 / 0.3 = 2/3.
    assert eco["targets"] == 3 and eco["share_met_or_on_track"] == pytest.approx(2 / 3)
    # Public services: on track 0.3 judged, no data not → 1.0.
    assert pub["targets"] == 2 and pub["share_met_or_on_track"] == 1.0
    assert set(plans.STATUSES) <= set(out.columns)


def by_pillar(**shares) -> pd.DataFrame:
    return pd.DataFrame([{"pillar": p, "share_met_or_on_track": s} for p, s in shares.items()])


def test_summary_moving_together():
    # 0.6 − 0.5 = 0.1 < 0.15 → together.
    assert plans._summary(by_pillar(economy=0.6, public_services=0.5)) == (
        "Economic and public-service targets are moving together: 60% of economic targets and 50% of "
        "public-service targets are met or on track.")
    assert plans._summary(by_pillar(economy=0.5, public_services=0.64)).startswith("Economic and public-service "
                                                                                     "targets are moving together")


def test_summary_economy_leading():
    assert plans._summary(by_pillar(economy=0.8, public_services=0.5)) == (
        "The plan's economic targets are doing better: 80% of economic targets and 50% of public-service "
        "targets are met or on track.")


def test_summary_public_services_leading():
    assert plans._summary(by_pillar(economy=0.2, public_services=0.9)).startswith(
        "The plan's public-service targets are doing better: 20% of economic targets and 90%")


@pytest.mark.parametrize("frame", [
    by_pillar(economy=0.5),
    by_pillar(economy=0.5, public_services=math.nan),
    pd.DataFrame(),
], ids=["no public services", "public services not judged", "nothing"])
def test_summary_without_both_pillars(frame):
    assert plans._summary(frame) == ("Not enough targets could be judged in both the economy and public "
                                     "services to compare them.")


def test_json_report_is_valid_json_when_a_horizon_has_nothing_judged(ctx):
    plan = make_plan(HIGHER, reach(80.0))
    # One horizon judged (share 1.0), one not (share None → NaN once the column is float).
    rows = pd.DataFrame([{"horizon": "immediate", "pillar": "economy", "status": "met", "weight": 0.5},
                         {"horizon": "medium", "pillar": "public_services", "status": "too early", "weight": 0.5}])
    by_h = plans._rollup(rows, "horizon", ["immediate", "medium", "long"])
    by_p = plans._rollup(rows, "pillar", ["economy", "public_services", "environment"])
    ev = plans.Evaluation(plan, make_place(), [], by_h, by_p, plans._summary(by_p), "2026-01-01T00:00:00+00:00",
                          {"created_at": "x", "source": "y", "attribution": []})

    def refuse_constant(name):
        raise ValueError(f"not JSON: {name}")

    data = json.loads(plan_report.to_json(ev), parse_constant=refuse_constant)
    assert [h["share_met_or_on_track"] for h in data["by_horizon"]] == [1.0, None]
    assert [p["share_met_or_on_track"] for p in data["by_pillar"]] == [1.0, None]


# ------------------------------------------------------------------ a footprint's series

FYLDE = ["E06000009", "E07000119", "E07000128"]


@pytest.mark.parametrize("indicator", ["employment-rate", "active-businesses", "4g-coverage",
                                       "aged-10-to-11-years-obese", "claimant-count"])
def test_a_footprint_series_is_the_per_period_aggregate_of_every_period(ctx, indicator):
    from indicators import aggregate
    fast = aggregate.aggregate_series(ctx, indicator, FYLDE)
    p = query.periods(ctx, indicator, "ltla")
    slow = [(str(code), aggregate.aggregate(ctx, indicator, FYLDE, code)) for code in p["period_code"]]
    slow = [(code, a) for code, a in slow if a.value is not None]
    assert len(fast) == len(slow) > 0
    assert fast["period_code"].tolist() == [code for code, _ in slow]
    nan = lambda v: math.nan if v is None else v  # noqa: E731
    assert fast["value"].to_numpy() == pytest.approx([a.value for _, a in slow], rel=1e-12)
    assert fast["lci"].to_numpy() == pytest.approx([nan(a.lci) for _, a in slow], rel=1e-12, nan_ok=True)
    assert fast["uci"].to_numpy() == pytest.approx([nan(a.uci) for _, a in slow], rel=1e-12, nan_ok=True)


def test_summary_names_how_many_judged_targets_each_share_rests_on():
    frame = plans._rollup(ROWS, "pillar", ["economy", "public_services", "environment"])
    text = plans._summary(frame)
    # economy: met 0.2 of judged 0.3; public services: on track 0.3 of judged 0.3 (the no-data target is not judged)
    assert text == ("The plan's public-service targets are doing better: 67% of economic targets and 100% of "
                    "public-service targets are met or on track (weighted shares of the targets that could be "
                    "judged: 2 economic, 1 public-service).")


# ------------------------------------------------------------------ the example plans

@pytest.mark.parametrize("name", ["cambridge-housing-illustrative", "fylde-coast-footprint-illustrative",
                                  "greater-manchester-illustrative", "leeds-ascof-2023-24"])
def test_no_example_target_is_on_track_while_its_central_projection_misses(ctx, monkeypatch, name):
    from pathlib import Path

    from indicators.plan_model import load_plan
    monkeypatch.setattr(plans, "calibration", lambda: STORED)  # as the product evaluates
    path = Path(__file__).resolve().parents[2] / "plans" / "examples" / f"{name}.yaml"
    ev = plans.evaluate(ctx, load_plan(path.read_bytes(), str(path), set(ctx.catalogue.ids()), set(ctx.names.index)))
    for t in (t for o in ev.objectives for t in o.targets):
        if t.projected_value is None:
            assert "reaches" not in t.reason
            continue
        sign = {"higher_is_better": 1, "lower_is_better": -1}.get(t.polarity) or (
            1 if t.target_value >= t.baseline_value else -1)
        reaches = sign * (t.projected_value - t.target_value) >= -1e-9
        assert ("which reaches the target" in t.reason) == reaches, t.reason
        if t.status == "on track":
            assert reaches and t.probability >= 0.5, t.reason
