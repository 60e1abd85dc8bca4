"""Vega-Lite specs, written as data, of the charts that change with the chosen place or places:
the good-growth quadrant, the rank intervals and the compare page's small multiples.

Why not Altair: building an Altair chart, copying it into layers and validating it against the
Vega-Lite schema costs 50-150 ms of server CPU per chart, and these charts differ for every place,
so each new place paid it again (over half the server's CPU for a first view of good growth). A spec
is a plain dict that costs microseconds. Its tables go in the spec's "datasets" as DataFrames, with
only the columns the chart reads; Streamlit turns each into Arrow, as it did for Altair's charts.
tests/unit/test_charts.py validates every spec against the Vega-Lite schema that Altair ships."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

Spec = dict[str, Any]
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
CHOSEN_RED = "#d50000"
OTHER_BLUE = "#31688e"
QUADRANT_LABELS = ("Good growth", "Growth without outcomes", "Outcomes without growth", "Neither")


def _q(field: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "type": "quantitative", **extra}


def _n(field: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "type": "nominal", **extra}


def quadrant(scores: pd.DataFrame, place: str | None, colours: dict[str, str], width: int, height: int) -> Spec:
    """Every place by change in its economy (across) and in its public services (up), coloured by its
    reading; the chosen place bigger, ringed and named, with its 90% ranges as a red cross."""
    d = scores.dropna(subset=["economy_change", "public_services_change"])
    # symmetric axes about the average place, 5% beyond the farthest point (1 when nothing is drawn)
    span = (float(np.nanmax(np.abs(d[["economy_change", "public_services_change"]].to_numpy()))) * 1.05
            if len(d) else 0.0) or 1.0
    scale = {"domain": [-span, span], "clamp": True}
    points = d[["areacd", "areanm", "quadrant", "quadrant_probability", "rank", "economy_change",
                "public_services_change"]].assign(chosen=np.where(d["areacd"] == place, "Chosen place", "Other places"))
    xy = {"x": _q("economy_change"), "y": _q("public_services_change")}
    x, y = span * 0.62, span * 0.93  # each quadrant's name near its outer corner
    labels = [{"x": lx, "y": ly, "t": t} for (lx, ly), t in zip(((x, y), (x, -y), (-x, y), (-x, -y)), QUADRANT_LABELS)]
    layers: list[Spec] = [
        {"data": {"values": [{"v": 0}]}, "mark": {"type": "rule", "color": "black"}, "encoding": {"x": _q("v")}},
        {"data": {"values": [{"v": 0}]}, "mark": {"type": "rule", "color": "black"}, "encoding": {"y": _q("v")}},
        {"data": {"name": "places"}, "mark": {"type": "circle", "opacity": 0.8}, "encoding": {
            "x": _q("economy_change", scale=scale,
                    title="Economy: change compared with the average place (0 = average)"),
            "y": _q("public_services_change", scale=scale,
                    title="Public services: change compared with the average place"),
            "color": _n("quadrant", title="Reading", scale={"domain": list(colours), "range": list(colours.values())}),
            "size": {"condition": {"test": "datum.chosen === 'Chosen place'", "value": 260}, "value": 45},
            "tooltip": [_n("areanm"), _n("quadrant", title="Reading"),
                        _q("quadrant_probability", format=".0%", title="Chance of this reading"),
                        _q("rank", title="Overall rank")]}},
        {"data": {"values": labels}, "mark": {"type": "text", "fontWeight": "bold", "color": "#333"},
         "encoding": {"x": _q("x"), "y": _q("y"), "text": _n("t")}},
    ]
    datasets: dict[str, pd.DataFrame] = {"places": points}
    chosen = d.loc[d["areacd"] == place]
    cross = ["economy_change_lo", "economy_change_hi", "public_services_change_lo", "public_services_change_hi"]
    if len(chosen):
        datasets["chosen"] = chosen[["areanm", "economy_change", "public_services_change", *cross]]
        red = {"type": "rule", "color": CHOSEN_RED, "strokeWidth": 2}
        if chosen[cross].notna().all(axis=None):  # its 90% intervals, as a cross
            layers += [
                {"data": {"name": "chosen"}, "mark": red, "encoding": {
                    "x": _q("economy_change_lo", scale=scale), "x2": {"field": "economy_change_hi"},
                    "y": _q("public_services_change")}},
                {"data": {"name": "chosen"}, "mark": red, "encoding": {
                    "y": _q("public_services_change_lo", scale=scale), "y2": {"field": "public_services_change_hi"},
                    "x": _q("economy_change")}}]
        layers += [  # a red ring and the name, so the chosen place stands out whatever its quadrant
            {"data": {"name": "chosen"}, "mark": {"type": "point", "shape": "circle", "filled": False, "size": 420,
                                                  "strokeWidth": 2.5, "color": CHOSEN_RED}, "encoding": xy},
            {"data": {"name": "chosen"}, "mark": {"type": "text", "dy": -18, "fontWeight": "bold", "fontSize": 13,
                                                  "color": CHOSEN_RED}, "encoding": {**xy, "text": _n("areanm")}}]
    return {"$schema": SCHEMA, "datasets": datasets, "layer": layers, "height": height, "width": width}


def rank_intervals(picks: pd.DataFrame, place: str | None, scope: str, width: int) -> Spec:
    """Each picked place's rank (a dot) and the range holding it in 90% of the draws (a line), best
    first; the chosen place's line red. Every name is drawn, never thinned."""
    data = picks[["areacd", "areanm", "rank", "rank_lo", "rank_hi", "p_above_next"]].assign(
        who=np.where(picks["areacd"] == place, "Chosen place", "Other places"))
    y = _n("areanm", sort={"field": "rank"}, title=None,
           axis={"labelOverlap": False, "labelLimit": 280, "labelFontSize": 12})
    return {"$schema": SCHEMA, "datasets": {"ranks": data}, "data": {"name": "ranks"},
            "height": 24 * len(data) + 40, "width": width, "layer": [
                {"mark": {"type": "rule", "strokeWidth": 4}, "encoding": {
                    "y": y, "x": _q("rank_lo", title=f"Rank in {scope} (1 = best); line = 90% interval over 1,000 draws"),
                    "x2": {"field": "rank_hi"},
                    "color": _n("who", scale={"domain": ["Chosen place", "Other places"],
                                              "range": [CHOSEN_RED, OTHER_BLUE]},
                                legend={"title": None, "orient": "top"})}},
                {"mark": {"type": "point", "filled": True, "color": "black", "size": 40}, "encoding": {
                    "y": y, "x": _q("rank"),
                    "tooltip": [_n("areanm", title="Place"), _q("rank", title="Rank"),
                                _q("rank_lo", title="90% range from"), _q("rank_hi", title="to"),
                                _q("p_above_next", format=".0%", title="Chance it ranks above the next place")]}}]}


def small_multiples(series: pd.DataFrame, places: list[str], width: int, height: int) -> Spec:
    """One panel per indicator, each with its own scale: a line per place (`kind` "place") with its
    95% intervals as bars, and the benchmark (`kind` "benchmark") dashed.

    Bars and the benchmark line are left out of the accessibility tree (aria false): a panel without
    them would expose an empty, unnamed graphic, and the page's table states every interval and verdict."""
    colour = _n("place", title="Place", scale={"domain": places, "scheme": "tableau10"},
                legend={"orient": "top", "columns": 3, "labelLimit": 220})
    x = {"field": "period_start", "type": "temporal", "title": "Period start"}
    layers = [
        {"transform": [{"filter": "datum.kind === 'place' && datum.lci !== null"}],
         "mark": {"type": "rule", "strokeWidth": 1.5, "opacity": 0.7, "aria": False},
         "encoding": {"x": x, "y": _q("lci"), "y2": {"field": "uci"}, "color": colour}},
        {"transform": [{"filter": "datum.kind === 'place'"}],
         "mark": {"type": "line", "point": True, "invalid": "break-paths-show-path-domains"},
         "encoding": {"x": x, "y": _q("value", title=None, scale={"zero": False}), "color": colour,
                      "tooltip": [_n("place", title="Place"), _n("period", title="Period"),
                                  _q("value", format=",.1f", title="Value"),
                                  _q("lci", format=",.1f", title="Lower 95% CI"),
                                  _q("uci", format=",.1f", title="Upper 95% CI")]}},
        {"transform": [{"filter": "datum.kind === 'benchmark'"}],
         "mark": {"type": "line", "color": "black", "strokeDash": [5, 3], "strokeWidth": 2, "aria": False},
         "encoding": {"x": x, "y": _q("value"),
                      "tooltip": [_n("place", title="Benchmark"), _n("period", title="Period"),
                                  _q("value", format=",.1f", title="Value")]}},
    ]
    columns = ["indicator", "place", "period", "period_start", "value", "lci", "uci", "kind"]
    return {"$schema": SCHEMA, "datasets": {"series": series[columns]}, "data": {"name": "series"},
            "facet": _n("indicator", title=None, header={"labelFontSize": 13, "labelLimit": 320}), "columns": 2,
            "spec": {"layer": layers, "width": width, "height": height},
            "resolve": {"scale": {"y": "independent"}}}
