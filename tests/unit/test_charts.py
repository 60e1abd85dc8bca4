"""The hand-written Vega-Lite specs (app_pages/charts.py): valid against the schema Altair ships, and
drawing what the pages say they draw (the chosen place marked, every place's reading, the benchmark)."""
from __future__ import annotations

import functools

import jsonschema
import numpy as np
import pandas as pd
import pytest
from altair.vegalite.v6.schema import core

from app_pages import charts

COLOURS = {"good growth": "#009E73", "growth without outcomes": "#E69F00", "outcomes without growth": "#56B4E9",
           "neither": "#CC79A7", "no clear difference": "#BBBBBB"}


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(core.load_schema())


def _valid(spec: dict) -> None:
    """Schema-check the spec as the browser receives it: each dataset as rows (nulls for NaN)."""
    as_sent = {**spec, "datasets": {name: frame.astype(object).where(frame.notna(), None).to_dict("records")
                                    for name, frame in spec["datasets"].items()}}
    error = jsonschema.exceptions.best_match(_validator().iter_errors(_json_safe(as_sent)))
    assert error is None, f"{list(error.absolute_path)}: {error.message[:300]}"


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _scores(n: int = 12, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    econ, serv = rng.normal(0, 0.1, n), rng.normal(0, 0.1, n)
    quadrants = list(COLOURS)
    frame = pd.DataFrame({
        "areacd": [f"E0800{i:04d}" for i in range(n)], "areanm": [f"Place {i}" for i in range(n)],
        "quadrant": [quadrants[i % 5] for i in range(n)], "quadrant_probability": rng.uniform(0.3, 1, n),
        "rank": np.arange(1, n + 1, dtype=float), "rank_lo": np.maximum(1, np.arange(1, n + 1) - 2.0),
        "rank_hi": np.arange(1, n + 1) + 2.0, "p_above_next": rng.uniform(0.5, 1, n),
        "economy_change": econ, "public_services_change": serv,
        "economy_change_lo": econ - 0.05, "economy_change_hi": econ + 0.05,
        "public_services_change_lo": serv - 0.05, "public_services_change_hi": serv + 0.05,
        "unused": "not sent"})
    frame.loc[1, ["economy_change_lo", "economy_change_hi"]] = np.nan  # a place without an interval
    frame.loc[2, "economy_change"] = np.nan  # a place without a baseline: not drawn
    return frame


def _marks(spec: dict) -> list[tuple[str, str | None]]:
    return [(layer["mark"]["type"], layer.get("data", {}).get("name")) for layer in spec["layer"]]


def test_quadrant_marks_the_chosen_place_with_its_cross_ring_and_name():
    spec = charts.quadrant(_scores(), "E08000003", COLOURS, 640, 520)
    _valid(spec)
    assert _marks(spec) == [("rule", None), ("rule", None), ("circle", "places"), ("text", None),
                            ("rule", "chosen"), ("rule", "chosen"), ("point", "chosen"), ("text", "chosen")]
    places = spec["datasets"]["places"]
    assert "E08000002" not in set(places["areacd"]), "a place with no change was drawn"
    assert (places["chosen"] == "Chosen place").sum() == 1
    assert "unused" not in places, "columns the chart does not read are sent to every browser"
    assert spec["datasets"]["chosen"]["areanm"].tolist() == ["Place 3"]
    colour = spec["layer"][2]["encoding"]["color"]
    assert colour["scale"] == {"domain": list(COLOURS), "range": list(COLOURS.values())}
    domain = spec["layer"][2]["encoding"]["x"]["scale"]["domain"]
    biggest = np.nanmax(np.abs(_scores()[["economy_change", "public_services_change"]].to_numpy()))
    assert domain == pytest.approx([-biggest * 1.05, biggest * 1.05]), "the axes are symmetric about the average"


def test_quadrant_without_an_interval_or_a_place_leaves_the_cross_out():
    no_interval = charts.quadrant(_scores(), "E08000001", COLOURS, 640, 520)
    _valid(no_interval)
    assert _marks(no_interval)[4:] == [("point", "chosen"), ("text", "chosen")]
    none = charts.quadrant(_scores(), None, COLOURS, 640, 520)
    _valid(none)
    assert len(none["layer"]) == 4 and "chosen" not in none["datasets"]
    assert (none["datasets"]["places"]["chosen"] == "Other places").all()


def test_rank_intervals_draw_each_pick_in_rank_order_with_the_chosen_one_red():
    picks = _scores().iloc[[0, 1, 2, 10]]
    spec = charts.rank_intervals(picks, "E08000010", "England", 640)
    _valid(spec)
    data = spec["datasets"]["ranks"]
    assert data.loc[data["areacd"] == "E08000010", "who"].tolist() == ["Chosen place"]
    assert spec["height"] == 24 * 4 + 40
    rule, dot = spec["layer"]
    assert rule["encoding"]["y"]["sort"] == {"field": "rank"} and rule["encoding"]["y"]["axis"]["labelOverlap"] is False
    assert rule["encoding"]["color"]["scale"]["range"][0] == charts.CHOSEN_RED
    assert "in England" in rule["encoding"]["x"]["title"]
    assert [t["field"] for t in dot["encoding"]["tooltip"]] == ["areanm", "rank", "rank_lo", "rank_hi", "p_above_next"]


def test_small_multiples_give_each_indicator_a_panel_with_places_intervals_and_the_benchmark():
    rows = []
    for place, kind in (("Leeds", "place"), ("Birmingham", "place"), ("England (benchmark)", "benchmark")):
        for year in (2021, 2022, 2023):
            for indicator in ("Healthy life expectancy", "Median pay"):
                rows.append({"indicator": indicator, "place": place, "period": str(year),
                             "period_start": pd.Timestamp(f"{year}-01-01"), "value": float(year - 2000),
                             "lci": np.nan if kind == "benchmark" else year - 2001.0,
                             "uci": np.nan if kind == "benchmark" else year - 1999.0, "kind": kind, "extra": 1})
    spec = charts.small_multiples(pd.DataFrame(rows), ["Leeds", "Birmingham"], 330, 220)
    _valid(spec)
    assert spec["facet"]["field"] == "indicator" and spec["columns"] == 2
    assert spec["resolve"] == {"scale": {"y": "independent"}}
    bars, lines, bench = spec["spec"]["layer"]
    assert bars["mark"]["aria"] is False and bench["mark"]["aria"] is False, "decorative marks stay out of the a11y tree"
    assert lines["encoding"]["color"]["scale"]["domain"] == ["Leeds", "Birmingham"]
    assert bench["mark"]["strokeDash"] == [5, 3]
    assert "extra" not in spec["datasets"]["series"]
