"""A plan objective linked to a prevention model: the plan report values each target if it is met, and
a name in a plan never becomes a path outside the shipped examples (or, from the CLI, the plan's folder)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indicators import plan_report, plans, query
from indicators.__main__ import main
from indicators.plan_model import PlanError, load_plan
from indicators.prevention import link
from indicators.prevention.model import PreventionError

ROOT = Path(__file__).resolve().parents[2]
SMOKING = "leeds-stop-smoking-illustrative.prevention.yaml"
PLAN = f"""\
title: Smoke-free Leeds (test)
illustrative: true
place: {{code: E08000035}}
published: 2024-06-01
baseline: 2022
objectives:
  - title: Fewer adults smoke
    pillar: public_services
    weight: 1.0
    indicators: [cigarette-smokers]
    prevention_model: {SMOKING}
    targets:
      - horizon: immediate
        year: 2026
        reach: 9
"""


@pytest.fixture(scope="module")
def ctx():
    return query.context()


@pytest.fixture(scope="module")
def evaluation(ctx):
    plan = load_plan(PLAN.encode(), "plan.yaml", set(ctx.catalogue.ids()), set(ctx.names.index))
    return plans.evaluate(ctx, plan)


def test_the_report_values_a_met_target_beside_its_status(ctx, evaluation):
    values = link.values_if_met(ctx, evaluation)
    v = values[(0, 0)]
    t = evaluation.objectives[0].targets[0]
    assert v.pv_benefits is not None and v.lo <= v.pv_benefits <= v.hi
    assert "if this target is met" in v.text and SMOKING in v.text
    page = plan_report.to_html(evaluation)
    assert "If this target is met" in page and t.status in page


def test_the_value_if_met_is_the_model_with_the_targets_improvement(ctx, evaluation):
    """The target's improvement (baseline − 9 points of smoking) in place of the model's effect: value
    scales with the improvement, so it equals the model's central per-point value times the improvement."""
    from indicators.prevention import run
    t = evaluation.objectives[0].targets[0]
    improvement = t.baseline_value - 9
    r = run.value(ctx, (ROOT / "plans/examples/prevention" / SMOKING).read_bytes(), SMOKING, draws=200)
    per_point = r.metric("pv_benefits")["central"] / r.model.interventions[0].effect.central
    assert link.values_if_met(ctx, evaluation)[(0, 0)].pv_benefits == pytest.approx(per_point * improvement)


def test_a_path_in_a_plan_is_refused_by_the_schema():
    with pytest.raises(PlanError, match="prevention_model"):
        load_plan(PLAN.replace(SMOKING, f"../../etc/{SMOKING}").encode(), "plan.yaml")
    with pytest.raises(PreventionError):
        link.find_model("../secret.prevention.yaml")


def test_an_unknown_model_is_said_not_raised(ctx):
    plan = load_plan(PLAN.replace(SMOKING, "nowhere.prevention.yaml").encode(), "plan.yaml")
    ev = plans.evaluate(ctx, plan)
    v = link.values_if_met(ctx, ev)[(0, 0)]
    assert "could not be used" in v.text and v.pv_benefits is None


def test_from_the_cli_a_model_beside_the_plan_is_found(tmp_path):
    shutil.copy(ROOT / "plans/examples/prevention" / SMOKING, tmp_path / "mine.prevention.yaml")
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.replace(SMOKING, "mine.prevention.yaml"), encoding="utf-8")
    out = tmp_path / "r.html"
    assert main(["evaluate", str(plan), "--format", "html", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "If this target is met" in page and "mine.prevention.yaml" in page and "could not be used" not in page
