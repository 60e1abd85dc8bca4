"""A plan may compare its place with districts of the same 2021 rural–urban class ("similar rural
districts"): the file says `neighbours: {set: rural_urban}`, the evaluation draws its peers from that
class on the committed snapshot, and the report names the class."""
from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest
import yaml

from indicators import deprivation, plan_report, plans, query
from indicators import neighbours as nb
from indicators.plan_model import Neighbours, PlanError, load_plan

ROOT = Path(__file__).resolve().parents[2]
NORTH_DEVON = "E07000043"  # "Majority rural: majority further from a major town or city", 16 English districts
LEEDS = "E08000035"        # "Urban: majority nearer to a major town or city", 170 English districts
PLAN = """\
title: Rural peers (test)
illustrative: true
place: {{code: {code}}}
published: 2020-06-01
baseline: 2019
benchmark: neighbours
neighbours:
  set: rural_urban
objectives:
  - title: Household income
    pillar: economy
    weight: 1.0
    indicators: [gross-disposable-household-income]
    targets:
      - horizon: medium
        year: 2025
        change: {{by: 10, unit: percent}}
      - horizon: medium
        year: 2025
        position: {{among: neighbours, at_least: top_half}}
"""


@pytest.fixture(scope="module")
def ctx():
    return query.context()


@pytest.fixture(scope="module")
def classes():
    t = deprivation.tables()
    assert t is not None, "the committed snapshot carries the 2021 rural-urban classification"
    return t.rural_urban.set_index("areacd")["ruc21_code"]


def _evaluate(ctx, text: str) -> plans.Evaluation:
    plan = load_plan(text.encode(), "rural.yaml", set(ctx.catalogue.ids()), set(ctx.names.index))
    return plans.evaluate(ctx, plan)


@pytest.fixture(scope="module")
def north_devon(ctx):
    return _evaluate(ctx, PLAN.format(code=NORTH_DEVON))


def test_the_plan_file_uses_the_same_peer_kinds_as_the_rest_of_the_product():
    kinds = typing.get_args(typing.get_args(Neighbours.model_fields["set"].annotation)[0])
    assert kinds == nb.NEIGHBOUR_KINDS


def test_the_shipped_schema_lets_an_editor_choose_rural_urban_peers():
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed in this environment")
    schema = json.loads((ROOT / "plans" / "plan.schema.json").read_text(encoding="utf-8"))
    data = json.loads(json.dumps(yaml.safe_load(PLAN.format(code=NORTH_DEVON)), default=str))
    jsonschema.validators.validator_for(schema)(schema).validate(data)


def test_the_peers_are_every_other_district_of_a_small_class(north_devon, classes):
    mine = classes[NORTH_DEVON]
    same = {c for c, k in classes.items() if k == mine and c[0] == "E" and c != NORTH_DEVON}
    assert len(same) == 15
    assert set(north_devon.place.peers) == same and len(north_devon.place.peers) == 15


def test_a_large_class_gives_its_twenty_most_similar_members(ctx, classes):
    ev = _evaluate(ctx, PLAN.format(code=LEEDS))
    peers = ev.place.peers
    assert len(peers) == 20 and LEEDS not in peers
    assert all(classes[p] == classes[LEEDS] and p[0] == "E" for p in peers)
    ons = nb.neighbour_set(ctx.neighbours, LEEDS, "global")
    ons_same_class = [p for p in ons if classes.get(p) == classes[LEEDS] and p[0] == "E"]  # its own nation only
    assert peers[:len(ons_same_class)] == ons_same_class  # the ONS global neighbours of the class come first
    assert "20 of the 169 other districts" in ev.place.peer_label


def test_the_report_names_the_class(north_devon):
    name = "Majority rural: Majority further from a major town or city"
    assert name in north_devon.place.peer_label and "2021 rural–urban class" in north_devon.place.peer_label
    assert name in plan_report.to_html(north_devon)
    assert json.loads(plan_report.to_json(north_devon))["similar_places"] == north_devon.place.peer_label
    assert name in north_devon.objectives[0].counterfactual  # "a weighted mix of the 15 other districts of …"


def test_comparisons_with_neighbours_use_the_rural_urban_peers(ctx, north_devon):
    """The position target ranks the place among its class (position 8 of 16 = the 8th best of its 15
    peers' latest values), not among its ONS neighbours."""
    position = north_devon.objectives[0].targets[1]
    rows = ctx.slice("gross-disposable-household-income", "ltla")
    latest = rows.loc[rows["period_start"] == rows.loc[rows["areacd"] == NORTH_DEVON, "period_start"].max()]
    values = latest.loc[latest["areacd"].isin(north_devon.place.peers), "value"].sort_values(ascending=False)
    assert len(values) == 15
    assert position.target_value == pytest.approx(values.iloc[7])
    assert "position 8 of 16" in position.target_text
    ons = nb.neighbour_set(ctx.neighbours, NORTH_DEVON, "global")
    assert set(ons) != set(north_devon.place.peers)


def test_a_place_without_a_class_has_no_peers_and_says_why(ctx):
    ev = _evaluate(ctx, PLAN.format(code="E10000008").replace("benchmark: neighbours", "benchmark: england")
                   .replace("      - horizon: medium\n        year: 2025\n        position: {among: neighbours, "
                            "at_least: top_half}\n", ""))
    assert ev.place.peers == [] and "classification covers districts" in ev.place.peer_label
    assert "No comparison with similar places" in ev.objectives[0].counterfactual


def test_a_footprint_takes_peers_from_its_members_classes(ctx, classes):
    members = ["E06000009", "E07000119", "E07000128"]  # Blackpool, Fylde, Wyre
    text = PLAN.replace("place: {{code: {code}}}", "place: {name: Fylde coast, districts: [" + ", ".join(members)
                        + "]}").replace("{{", "{").replace("}}", "}")
    ev = _evaluate(ctx, text)
    assert ev.place.peers and not set(ev.place.peers) & set(members)
    assert {classes[p] for p in ev.place.peers} <= {classes[m] for m in members}


def test_an_unknown_peer_set_is_one_line_naming_the_file_line_and_field():
    with pytest.raises(PlanError) as info:
        load_plan(PLAN.format(code=NORTH_DEVON).replace("set: rural_urban", "set: rural").encode(), "plans/mine.yaml")
    err = info.value
    assert (err.source, err.line, err.field) == ("plans/mine.yaml", 8, "neighbours.set")
    assert "rural_urban" in err.message and "\n" not in str(err)
