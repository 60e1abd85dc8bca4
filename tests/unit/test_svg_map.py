"""The server-drawn SVG map: geometry once per level, text always escaped, zoom kept inside the drawing."""
from __future__ import annotations

import re

import numpy as np

from app_pages import svg_map
from indicators import query

LEEDS = "E08000035"


def _shape():
    return svg_map.outlines(query.context(), "ltla")


def test_every_district_is_one_closed_path_in_relative_moves():
    shape = _shape()
    assert len(shape.codes) > 350 and len(set(shape.codes)) == len(shape.codes)
    assert all(re.fullmatch(r"(M\d+ \d+l(-?\d+ -?\d+ ?)+z)+", d) for d in shape.paths)
    assert shape.width == svg_map.WIDTH and shape.height > shape.width  # the UK is taller than wide
    assert svg_map.outlines(query.context(), "ltla") is shape  # built once


def test_leeds_sits_in_northern_england_on_the_drawing():
    shape = _shape()
    x, y = shape.centres[shape.codes.index(LEEDS)]
    assert 0.4 < x / shape.width < 0.7 and 0.6 < y / shape.height < 0.75


def test_labels_and_links_are_escaped():
    shape = _shape()
    n = len(shape.codes)
    hostile = '<script>alert(1)</script> "quoted" & <img src=x onerror=alert(1)>'
    drawing = svg_map.svg(shape, ["#123456"] * n, [hostile] * n, ['/profile?place=X"><script>'] * n, hostile)
    assert "<script>" not in drawing and "<img" not in drawing
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &amp;" in drawing
    assert 'href="/profile?place=X&quot;&gt;&lt;script&gt;"' in drawing
    assert "\n" not in drawing


def test_an_area_without_a_page_is_drawn_without_a_link():
    shape = _shape()
    n = len(shape.codes)
    links = [None] * n
    drawing = svg_map.svg(shape, ["#123456"] * n, ["x"] * n, links, "alt")
    assert "<a " not in drawing and drawing.count("<path ") == sum(1 for d in shape.paths if d)


def test_the_chosen_place_is_outlined_and_zoom_centres_on_it_inside_the_drawing():
    shape = _shape()
    n = len(shape.codes)
    drawing = svg_map.svg(shape, ["#123456"] * n, ["x"] * n, [None] * n, "alt", chosen=LEEDS, zoom=4)
    assert drawing.count(f'stroke="{svg_map.CHOSEN_STROKE}"') == 1
    x, y, w, h = map(float, re.search(r'viewBox="([^"]+)"', drawing).group(1).split())
    assert (w, h) == (round(shape.width / 4), round(shape.height / 4))
    cx, cy = shape.centres[shape.codes.index(LEEDS)]
    assert abs(x + w / 2 - cx) < 1 and abs(y + h / 2 - cy) < 1
    # near an edge the window stays inside the drawing
    corner = svg_map.view_box(shape, 8, np.array([0.0, 0.0]))
    assert corner.split()[:2] == ["0", "0"]
    assert svg_map.view_box(shape, 1, None) == f"0 0 {shape.width} {shape.height}"


def test_the_histogram_counts_every_value_once_and_marks_benchmark_and_place():
    from app_pages import svg_histogram

    values = np.r_[np.arange(100, dtype=float), np.nan]
    drawing = svg_histogram.histogram(values, "Spread <b>", "Pay (£)", lambda v: f"{v:.1f}", benchmark=50.0,
                                      chosen=75.0, bins=10)
    counts = [int(n) for n in re.findall(r": (\d+) areas?</title>", drawing)]
    assert sum(counts) == 100 and len(counts) == 10
    assert 'stroke-dasharray="4 3"' in drawing and f'stroke="{svg_histogram.CHOSEN}"' in drawing
    assert "<b>" not in drawing and "Spread &lt;b&gt;" in drawing and "\n" not in drawing
    assert svg_histogram.histogram(np.array([np.nan]), "t", "x", str) == ""
    single = svg_histogram.histogram(np.array([3.0, 3.0]), "t", "x", str)  # no spread: still one bar
    assert single.count("<rect") == 1
