"""A plan read from a published outcomes framework: its source is cited in every output, and the
framework's objectives that nothing in the snapshot measures are kept and said to be not measured.

On the committed snapshot, with the shipped ASCOF example (Leeds) and a plan that cites nothing.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from indicators import plan_model, plan_report, plans, query

ROOT = Path(__file__).resolve().parents[2]
ASCOF = ROOT / "plans" / "examples" / "leeds-ascof-2023-24.yaml"
UNCITED = ROOT / "plans" / "examples" / "cambridge-housing-illustrative.yaml"
URL = ("https://www.gov.uk/government/publications/adult-social-care-outcomes-framework-handbook-of-definitions/"
       "the-adult-social-care-outcomes-framework-2023-to-2024-handbook-of-definitions")
# The handbook's six objectives, word for word.
OBJECTIVES = [
    "Quality of life: people's quality of life is maximised by the support and services which they access, given "
    "their needs and aspirations, while ensuring that public resources are allocated efficiently.",
    "Independence: people are enabled by adult social care to maintain their independence and, where appropriate, "
    "regain it.",
    "Empowerment - information and advice: individuals, their families and unpaid carers are empowered by access to "
    "good quality information and advice to have choice and control over the care they access.",
    "Safety: people have access to care and support that is safe, and which is appropriate to their needs.",
    "Social connections: people are enabled by adult social care to maintain and, where appropriate, regain their "
    "connections to their own home, family and community.",
    "Continuity and quality of care: people receive quality care, underpinned by a sustainable and high-quality care "
    "market and an adequate supply of appropriately qualified and trained staff.",
]
NOT_MEASURED = OBJECTIVES[3:]


def _evaluate(ctx: query.Context, path: Path) -> plans.Evaluation:
    plan = plan_model.load_plan(path.read_bytes(), path.name, set(ctx.catalogue.ids()), set(ctx.names.index))
    return plans.evaluate(ctx, plan)


@pytest.fixture(scope="module")
def ctx() -> query.Context:
    return query.context()


@pytest.fixture(scope="module")
def ev(ctx: query.Context) -> plans.Evaluation:
    return _evaluate(ctx, ASCOF)


@pytest.fixture(scope="module")
def html(ev: plans.Evaluation) -> str:
    return plan_report.to_html(ev)


def test_the_example_transcribes_the_six_objectives_word_for_word_and_names_its_source():
    plan = plan_model.load_plan(ASCOF.read_bytes(), ASCOF.name)
    assert [o.title for o in plan.objectives] == OBJECTIVES
    assert plan.source is not None
    assert plan.source.publisher == "Department of Health and Social Care"
    assert plan.source.url == URL and str(plan.source.published) == "2023-12-21"
    assert "not ASCOF's" in (plan.source.note or "")
    for o in plan.objectives:  # every target is labelled as the example's own, not the framework's
        assert o.not_measured or "example's own" in (o.note or "")


def test_every_measured_objective_evaluates_to_a_judged_or_explained_status(ev: plans.Evaluation):
    measured = [o for o in ev.objectives if o.not_measured is None]
    assert [o.title for o in measured] == OBJECTIVES[:3]
    statuses = [t.status for o in measured for t in o.targets]
    assert statuses and set(statuses) <= set(plans.STATUSES)
    assert {"met", "too few points"} <= set(statuses)  # 2022/23 beats 2018/19; carers' survey is biennial
    assert all(t.baseline_period == "2018/19" for o in measured for t in o.targets)
    assert [o.title for o in ev.objectives if o.not_measured is not None] == NOT_MEASURED
    assert "workforce turnover" in ev.objectives[5].not_measured  # the context measure is named, with the reason


def test_the_html_report_cites_the_source_as_a_link_and_keeps_every_objective(ev: plans.Evaluation, html: str):
    assert f'<a href="{URL}">{URL}</a>' in html
    assert "Department of Health and Social Care, 21 December 2023." in html
    assert "Objectives from" in html
    assert "targets and weights are this example's own reading, not the source's" in html  # the banner
    for title in OBJECTIVES:
        assert plan_report._esc(title) in html
    assert html.count('class="objective not-measured"') == len(NOT_MEASURED)
    assert html.count(f"<strong>{plans.NOT_MEASURED_WORDS}.</strong>") == len(NOT_MEASURED)
    assert "3 not measured in the snapshot" in html
    assert plan_report._esc(ev.objectives[0].note) in html


def test_the_csv_cites_the_source_on_every_row_and_has_a_row_per_objective_not_measured(ev: plans.Evaluation):
    rows = pd.read_csv(io.StringIO(plan_report.to_csv(ev)))
    citation = ev.plan.source.citation()
    assert citation.endswith(URL) and "Department of Health and Social Care" in citation
    assert (rows["plan_source"] == citation).all() and (rows["plan_source_url"] == URL).all()
    assert rows["plan_source_note"].str.contains("not ASCOF's").all()
    assert list(dict.fromkeys(rows["objective"])) == OBJECTIVES  # every objective, in order
    unmeasured = rows.loc[rows["status"] == plans.NOT_MEASURED]
    assert list(unmeasured["objective"]) == NOT_MEASURED
    assert unmeasured["reason"].str.startswith(plans.NOT_MEASURED_WORDS).all()
    assert unmeasured["indicator_id"].isna().all()


def test_the_json_cites_the_source_and_lists_every_objective(ev: plans.Evaluation):
    data = json.loads(plan_report.to_json(ev))
    src = data["source"]
    assert src["url"] == URL and src["publisher"] == "Department of Health and Social Care"
    assert src["published"] == "2023-12-21" and src["citation"] == ev.plan.source.citation()
    assert [o["title"] for o in data["objectives"]] == OBJECTIVES
    assert [o["title"] for o in data["objectives"] if not o["measured"]] == NOT_MEASURED
    assert all(o["not_measured"] and o["weight"] is None for o in data["objectives"] if not o["measured"])
    assert {t["plan_source"] for t in data["targets"]} == {ev.plan.source.citation()}


def test_a_plan_that_cites_nothing_has_no_source_columns_and_the_invented_plan_banner(ctx: query.Context):
    ev = _evaluate(ctx, UNCITED)
    rows = pd.read_csv(io.StringIO(plan_report.to_csv(ev)))
    assert not {"plan_source", "plan_source_url", "plan_source_note", "objective_note"} & set(rows.columns)
    assert json.loads(plan_report.to_json(ev))["source"] is None
    html = plan_report.to_html(ev)
    assert "Objectives from" not in html and "This example plan was invented" in html


def test_a_source_url_is_escaped_in_the_report_even_when_odd(ctx: query.Context):
    doc = yaml.safe_load(ASCOF.read_text(encoding="utf-8"))
    doc["source"]["url"] = 'https://a.example/x"><script>alert(1)</script>'
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()
    plan = plan_model.load_plan(body, "odd.yaml", set(ctx.catalogue.ids()), set(ctx.names.index))
    html = plan_report.to_html(plans.evaluate(ctx, plan))
    assert "<script>alert(1)</script>" not in html
    assert 'href="https://a.example/x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
