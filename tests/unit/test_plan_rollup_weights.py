"""A plan's roll-up weighted by its residents' priorities instead of the plan's own objective weights:
checked against a hand-worked case, the refusal below the minimum, the report's words, and the command
line's --weights option (one line and a non-zero exit when there are too few responses).

The hand-worked plan (objective weights sum to 1):
  A economy          0.3   targets: met (immediate), off track (medium)
  B economy          0.2   target:  on track (immediate)
  C public services  0.4   targets: at risk (immediate), met (medium)
  D environment      0.1   target:  met (long)
Residents rate the economy themes 7 and the public-service themes 3, so each resident's economy share
is 7 / (7 + 3) = 0.70 and so is the place's. The plan puts 0.9 on the two pillars; residents split it
0.63 / 0.27. Within a pillar the plan's ratio stands: A = 0.3/0.5 · 0.63 = 0.378, B = 0.252,
C = 0.27; D keeps 0.1. A target weighs its objective's weight over its number of targets:
  A: 0.189, 0.189   B: 0.252   C: 0.135, 0.135   D: 0.1
Overall met or on track: (0.189 + 0.252 + 0.135 + 0.1) / 1 = 0.676 (plan's own: 0.15 + 0.2 + 0.2 + 0.1 = 0.65).
Immediate: (0.189 + 0.252) / (0.189 + 0.252 + 0.135) = 0.765625 (own: 0.35 / 0.55).
Medium: 0.135 / (0.189 + 0.135) = 0.416667 (own: 0.2 / 0.35).
By pillar the shares are the same either way (the split moves weight between pillars, not within them).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from indicators import plan_report, plan_weights, plans
from indicators.plan_model import Plan
from indicators.priorities import MIN_RESPONSES, PrioritiesError, THEMES
from indicators.priorities.weights import ECONOMY, SERVICES, community_weights

ROOT = Path(__file__).resolve().parents[2]
CODE = "E08000035"


def target(objective: str, pillar: str, weight: float, status: str, horizon: str) -> plans.TargetResult:
    return plans.TargetResult(
        objective=objective, pillar=pillar, weight=weight, indicator_id="employment-rate", indicator="Employment",
        unit="%", polarity="higher_is_better", horizon=horizon, target_year=2027, target_type="reach",
        target_text="reach 80%", target_value=80.0, baseline_period="2022", baseline_value=75.0,
        latest_period="2023", latest_value=76.0, trend=None, projected_value=None, projection_low=None,
        projection_high=None, status=status, reason="hand-made", source="ONS", source_date=None, source_url=None)


OBJECTIVES = [("A", "economy", 0.3, [("met", "immediate"), ("off track", "medium")]),
              ("B", "economy", 0.2, [("on track", "immediate")]),
              ("C", "public_services", 0.4, [("at risk", "immediate"), ("met", "medium")]),
              ("D", "environment", 0.1, [("met", "long")])]


def hand_evaluation() -> plans.Evaluation:
    plan = Plan.model_validate({
        "title": "Hand-worked plan", "illustrative": True, "place": {"code": CODE}, "published": "2024-06-01",
        "baseline": 2022, "objectives": [
            {"title": t, "pillar": p, "weight": w, "indicators": ["employment-rate"],
             "targets": [{"horizon": "immediate", "year": 2025, "reach": 80.0}]} for t, p, w, _ in OBJECTIVES]})
    objectives = [plans.ObjectiveResult(t, p, w, [target(t, p, w, s, h) for s, h in ts], "", None)
                  for t, p, w, ts in OBJECTIVES]
    place = plans.Place("Leeds", [CODE], "ltla", False, "E12000003", [], "no neighbours")
    ev = plans.Evaluation(plan, place, objectives, pd.DataFrame(), pd.DataFrame(), "", "2026-11-30T00:00:00+00:00",
                          {"created_at": "2026-11-30", "source": "test", "attribution": []})
    return plans.reweight(ev, plan_weights.PLAN)


def responses(n: int, economy: int = 7, services: int = 3, areacd: str = CODE) -> pd.DataFrame:
    ratings = {**{t: economy for t in ECONOMY}, **{t: services for t in SERVICES}, "environment": 5}
    return pd.DataFrame([{"areacd": areacd, "created_at": pd.Timestamp(f"2026-03-{1 + i % 28:02d}", tz="UTC"),
                          **ratings} for i in range(n)], columns=["areacd", "created_at", *THEMES])


def residents_weights(n: int = MIN_RESPONSES) -> plan_weights.RollupWeights:
    return plan_weights.residents(community_weights(responses(n), CODE), "Leeds")


def shares(frame: pd.DataFrame, by: str) -> dict[str, float]:
    return dict(zip(frame[by], frame["share_met_or_on_track"]))


def test_the_plans_own_weights_roll_up_as_before():
    ev = hand_evaluation()
    assert ev.overall == pytest.approx(0.65)
    assert shares(ev.by_horizon, "horizon") == pytest.approx({"immediate": 0.35 / 0.55, "medium": 0.2 / 0.35,
                                                               "long": 1.0})
    assert ev.weights_text == "Roll-up weighted by the plan's own objective weights."


def test_residents_weights_give_the_hand_worked_roll_up():
    w = residents_weights()
    assert w.economy == pytest.approx(0.70)
    assert w.objective_weights([p for _, p, _, _ in OBJECTIVES], [x for _, _, x, _ in OBJECTIVES]) == \
        pytest.approx([0.378, 0.252, 0.27, 0.1])
    own = hand_evaluation()
    ev = plans.reweight(own, w)
    assert ev.overall == pytest.approx(0.676)
    assert shares(ev.by_horizon, "horizon") == pytest.approx({"immediate": 0.765625, "medium": 0.135 / 0.324,
                                                               "long": 1.0})
    assert shares(ev.by_pillar, "pillar") == pytest.approx(shares(own.by_pillar, "pillar"))
    assert ev.objectives is own.objectives  # nothing evaluated again
    assert ev.weights_text == (
        f"Scored with Leeds residents' priorities, n = {MIN_RESPONSES}, 1 March 2026 to 28 March 2026: 70% of the "
        "weight on economic objectives and 30% on public-service ones, instead of the plan's own split; "
        "environment objectives keep their weight.")


def test_below_the_minimum_the_refusal_says_how_many_more_are_needed():
    with pytest.raises(PrioritiesError) as exc:
        residents_weights(MIN_RESPONSES - 1)
    assert str(exc.value) == (f"Leeds ({CODE}) has {MIN_RESPONSES - 1} residents' responses; community weights "
                              f"need at least {MIN_RESPONSES}, so 1 more is needed")
    with pytest.raises(PrioritiesError, match=f"has 0 residents' responses; .* so {MIN_RESPONSES} more are needed"):
        plan_weights.residents(community_weights(responses(0), CODE), "Leeds")


def test_a_plan_with_one_pillar_only_keeps_its_own_weights_and_says_why():
    w = residents_weights()
    assert w.objective_weights(["economy", "environment"], [0.6, 0.4]) == pytest.approx([0.6, 0.4])
    assert "the residents' split moves nothing" in w.describe(["economy", "environment"])


def test_every_export_states_the_weights_used():
    ev = plans.reweight(hand_evaluation(), residents_weights())
    data = json.loads(plan_report.to_json(ev))
    assert data["weights"]["source"] == "residents" and data["weights"]["n"] == MIN_RESPONSES
    assert (data["weights"]["first"], data["weights"]["last"]) == ("2026-03-01", "2026-03-28")
    assert data["weights"]["economy"] == pytest.approx(0.7)
    assert data["overall_share_met_or_on_track"] == pytest.approx(0.676)
    assert set(ev.rows()["rollup_weights"]) == {ev.weights_text}
    page = plan_report.to_html(ev)
    assert "Scored with Leeds residents&#x27; priorities, n = 30" in page
    assert "Overall, a weighted 68% of the targets that could be judged are met or on track." in page


# ------------------------------------------------------------------ the command line

PLAN_FILE = ROOT / "plans" / "examples" / "greater-manchester-illustrative.yaml"
GM = "E47000001"


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {"GOOD_GROWTH_DATABASE_URL": url, "PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "indicators", "evaluate", str(PLAN_FILE), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)


def test_cli_refuses_residents_weights_with_too_few_responses_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'none' / 'priorities.db'}"
    done = run_cli(url, "--weights", "residents", "--format", "json")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: Greater Manchester ({GM}) has 0 residents' responses; community weights need at least "
        f"{MIN_RESPONSES}, so {MIN_RESPONSES} more are needed"]
    assert not (tmp_path / "none").exists()  # asking made no database


def test_cli_rolls_up_with_residents_weights_from_the_database(tmp_path):
    from tests.app.test_priorities import seed

    url = f"sqlite:///{tmp_path / 'priorities.db'}"
    seed(url, GM, MIN_RESPONSES)
    done = run_cli(url, "--weights", "residents", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["weights"]["source"] == "residents" and data["weights"]["n"] == MIN_RESPONSES
    assert data["weights"]["economy"] == pytest.approx(0.67)  # 8 / (8 + 4), to a whole per cent
    assert data["weights"]["text"].startswith(f"Scored with Greater Manchester residents' priorities, n = "
                                              f"{MIN_RESPONSES}")


def test_residents_weights_skip_objectives_the_snapshot_does_not_measure():
    """A framework's objective with no measure here has no weight: the residents' split goes to the
    measured objectives only, and nothing becomes NaN (the ASCOF example has three such objectives)."""
    from indicators import query
    from indicators.plan_model import load_plan

    path = ROOT / "plans" / "examples" / "leeds-ascof-2023-24.yaml"
    ctx = query.context()
    plan = load_plan(path.read_bytes(), path.name, set(ctx.catalogue.ids()), set(ctx.names.index))
    own = plans.evaluate(ctx, plan)
    mixed = plans.reweight(own, plan_weights.RollupWeights(0.7, "Leeds", 40))
    assert any(o.weight is None for o in own.objectives)
    # every ASCOF objective is a public-service one: the residents' split has nothing to move
    assert "the plan's own objective weights stand" in mixed.weights_text
    assert mixed.overall == pytest.approx(own.overall)
    assert mixed.by_pillar["share_met_or_on_track"].notna().all()
