"""A plan objective linked to a prevention model: the plan report values each target if it is met, and
a name in a plan never becomes a path outside the shipped examples (or, from the CLI, the plan's folder)."""
from __future__ import annotations

import html
import io
import json
import shutil
from pathlib import Path

import pandas as pd
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


# ------------------------------------------------------------------ the same value in the CSV and the JSON

LINKED_EXAMPLE = ROOT / "plans" / "examples" / "leeds-prevention-linked-illustrative.yaml"
UNLINKED_EXAMPLE = ROOT / "plans" / "examples" / "cambridge-housing-illustrative.yaml"


def _evaluate(ctx, path: Path, body: bytes | None = None):
    body = path.read_bytes() if body is None else body
    plan = load_plan(body, path.name, set(ctx.catalogue.ids()), set(ctx.names.index))
    return link.attach(ctx, plans.evaluate(ctx, plan))


@pytest.fixture(scope="module")
def linked(ctx):
    return _evaluate(ctx, LINKED_EXAMPLE)


def test_the_example_plan_links_a_shipped_model_on_each_public_service_objective(linked):
    names = [o.prevention_model for o in linked.plan.objectives]
    assert names[0] is None and all(n in link.example_names() for n in names[1:])


def test_the_csv_carries_the_value_if_met_beside_each_linked_targets_status(linked):
    frame = pd.read_csv(io.StringIO(plan_report.to_csv(linked)))
    assert set(link.FIELDS) <= set(frame.columns) and "status" in frame.columns
    unlinked, linked_rows = frame.iloc[0], frame.iloc[1:]
    assert unlinked[list(link.FIELDS)].isna().all()  # the employment objective links no model
    assert linked_rows["prevention_warning"].isna().all()
    assert (linked_rows["prevention_value_lci"] <= linked_rows["prevention_value_if_met"]).all()
    assert (linked_rows["prevention_value_if_met"] <= linked_rows["prevention_value_uci"]).all()
    assert (linked_rows["prevention_npv_lci"] <= linked_rows["prevention_npv_if_met"]).all()
    assert (linked_rows["prevention_npv_if_met"] <= linked_rows["prevention_npv_uci"]).all()
    values = [linked.prevention[(oi, ti)] for oi in (1, 2) for ti in range(len(linked.objectives[oi].targets))]
    assert linked_rows["prevention_npv_if_met"].tolist() == pytest.approx([v.npv for v in values])
    assert linked_rows["prevention_model"].tolist() == [v.model for v in values]


def test_the_json_carries_the_same_fields_as_the_csv(linked):
    doc = json.loads(plan_report.to_json(linked))
    rows = doc["targets"]
    assert rows[0]["prevention_model"] is None
    for (oi, ti), row in zip(((1, 0), (1, 1), (2, 0)), rows[1:]):
        assert {k: row[k] for k in link.FIELDS} == pytest.approx(linked.prevention[(oi, ti)].fields())


def test_the_html_shows_the_same_sentence(linked):
    page = plan_report.to_html(linked)
    for v in linked.prevention.values():
        assert html.escape(v.text[1:], quote=True) in page


def test_a_plan_without_links_has_no_prevention_columns(ctx):
    ev = _evaluate(ctx, UNLINKED_EXAMPLE)
    assert ev.prevention == {}
    assert not any(c.startswith("prevention") for c in plan_report.to_csv(ev).splitlines()[0].split(","))
    doc = json.loads(plan_report.to_json(ev))
    assert not any(k.startswith("prevention") for row in doc["targets"] for k in row)
    assert "If met" not in plan_report.to_html(ev)


def test_a_model_that_cannot_be_used_leaves_the_figures_empty_with_a_warning(ctx):
    body = LINKED_EXAMPLE.read_bytes().replace(b"leeds-cardiovascular-prevention-illustrative.prevention.yaml",
                                               b"nowhere.prevention.yaml")
    ev = _evaluate(ctx, LINKED_EXAMPLE, body)
    f = ev.prevention[(2, 0)].fields()
    assert f["prevention_model"] == "nowhere.prevention.yaml" and "could not be used" in f["prevention_warning"]
    assert all(f[k] is None for k in link.FIELDS if k.endswith(("_if_met", "_lci", "_uci")) and k != "prevention_if_met")
    assert f["prevention_if_met"].startswith("not valued by the prevention model nowhere.prevention.yaml")
    assert ev.prevention[(1, 0)].warning is None  # the other objective's model still values its targets


def test_reports_work_out_the_links_when_the_caller_has_not(ctx):
    plan = load_plan(LINKED_EXAMPLE.read_bytes(), LINKED_EXAMPLE.name, set(ctx.catalogue.ids()), set(ctx.names.index))
    ev = plans.evaluate(ctx, plan)
    assert ev.prevention is None
    assert "prevention_npv_if_met" in plan_report.to_csv(ev).splitlines()[0]


@pytest.mark.parametrize("fmt", ["csv", "json", "html"])
def test_the_cli_gives_the_value_in_every_format(tmp_path, fmt):
    out = tmp_path / f"r.{fmt}"
    assert main(["evaluate", str(LINKED_EXAMPLE), "--format", fmt, "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "leeds-stop-smoking-illustrative.prevention.yaml" in text and "net present value" in text
    if fmt != "html":
        assert "prevention_npv_if_met" in text
