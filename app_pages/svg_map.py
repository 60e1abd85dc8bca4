"""Choropleth maps drawn as SVG on the server.

Why SVG and not only deck.gl: the WebGL map needs 3 MB of JavaScript and, where WebGL is
software-rendered, seconds of shader compiling before the first area appears; an SVG map is part
of the page itself, so it is drawn as soon as the page is. It is also the more accessible map:
every area is a link to its profile that a keyboard reaches, with its name, value and comparison
as the link's label and as the tooltip, and the map as a whole carries the same alternative text
and legend as the interactive one.

Geometry is projected once per level (equirectangular, scaled by the cosine of 54.5°N so Great
Britain keeps its shape at this scale), rounded to whole units of a 1,000-unit-wide drawing and
written as relative moves, which makes the district map about a sixth the size of its deck.gl
specification. Only colours and labels change between indicators; the path strings are reused.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import shapely

from indicators import geo

WIDTH = 1000  # drawing units across the whole level; the page scales the drawing to its column
MID_LATITUDE = 54.5  # where the east–west scale is true
PADDING = 8
CHOSEN_STROKE = "#d50000"


@dataclass(frozen=True)
class Outlines:
    """The areas of one level as SVG path data, in the order of `codes`."""
    codes: tuple[str, ...]
    paths: tuple[str, ...]
    width: int
    height: int
    centres: np.ndarray  # (n, 2) drawing units: where zooming in on a chosen area centres the view


_BUILT: dict[tuple[str, str, str], Outlines] = {}


def outlines(ctx, level: str) -> Outlines:
    """Path data for every area of a level, built once per snapshot and level."""
    key = (str(ctx.snapshot.path), ctx.snapshot.manifest["created_at"], level)
    if key not in _BUILT:
        if len(_BUILT) >= 8:
            _BUILT.clear()
        _BUILT[key] = _outlines(geo.boundaries(ctx, level))
    return _BUILT[key]


def _outlines(gdf) -> Outlines:
    geoms = gdf.geometry.values
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    kx = np.cos(np.radians(MID_LATITUDE))
    scale = (WIDTH - 2 * PADDING) / ((x1 - x0) * kx)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - x0) * kx * scale + PADDING, (y1 - xy[:, 1]) * scale + PADDING])

    polygons, area_of_polygon = shapely.get_parts(geoms, return_index=True)
    rings, polygon_of_ring = shapely.get_rings(polygons, return_index=True)
    coords, ring_of_point = shapely.get_coordinates(rings, return_index=True)
    points = np.rint(project(coords)).astype(np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(ring_of_point)) + 1]
    ends = np.r_[starts[1:], len(points)]
    area_of_ring = area_of_polygon[polygon_of_ring]
    pieces: list[list[str]] = [[] for _ in range(len(geoms))]
    for ring, (a, b) in enumerate(zip(starts, ends)):
        ring_points = points[a:b - 1]  # the closing point repeats the first: 'z' closes the ring
        steps = np.diff(ring_points, axis=0)
        steps = steps[(steps != 0).any(axis=1)]  # points that rounding put on top of each other
        if len(steps) < 2:
            continue
        first = ring_points[0]
        pieces[area_of_ring[ring_of_point[a]]].append(
            f"M{first[0]} {first[1]}l" + " ".join(f"{dx} {dy}" for dx, dy in steps.tolist()) + "z")
    centres = project(shapely.get_coordinates(shapely.point_on_surface(geoms)))
    height = int(np.ceil((y1 - y0) * scale)) + 2 * PADDING
    return Outlines(tuple(gdf["areacd"].astype(str)), tuple("".join(p) for p in pieces), WIDTH, height, centres)


def view_box(shape: Outlines, zoom: float = 1.0, centre: Sequence[float] | None = None) -> str:
    """The visible part of the drawing: all of it at zoom 1, a window 1/zoom the size around
    `centre` (kept inside the drawing) when zoomed in."""
    if zoom <= 1 or centre is None:
        return f"0 0 {shape.width} {shape.height}"
    w, h = shape.width / zoom, shape.height / zoom
    x = float(np.clip(centre[0] - w / 2, 0, shape.width - w))
    y = float(np.clip(centre[1] - h / 2, 0, shape.height - h))
    return f"{x:.0f} {y:.0f} {w:.0f} {h:.0f}"


def svg(shape: Outlines, fills: Sequence[str], labels: Sequence[str], links: Sequence[str | None],
        alt: str, *, chosen: str | None = None, zoom: float = 1.0, height_px: int = 560) -> str:
    """One map as an SVG element. `fills`, `labels` and `links` follow `shape.codes`; labels are
    plain text (escaped here), links are relative URLs or None for an area that has no page.

    The element is one line with no blank lines, so Markdown passes it through as a raw HTML block.
    """
    items = []
    for code, d, fill, label, link in zip(shape.codes, shape.paths, fills, labels, links):
        if not d:
            continue
        text = html.escape(label, quote=True)
        # one <title> per area: the tooltip, and the name a screen reader gives the link or the shape
        if link:
            items.append(f'<a href="{html.escape(link, quote=True)}" target="_top"><title>{text}</title>'
                         f'<path d="{d}" fill="{fill}"/></a>')
        else:
            items.append(f'<path d="{d}" fill="{fill}"><title>{text}</title></path>')
    outline = ""
    centre = None
    if chosen in shape.codes:
        i = shape.codes.index(chosen)
        centre = shape.centres[i]
        outline = (f'<path d="{shape.paths[i]}" fill="none" stroke="{CHOSEN_STROKE}" stroke-width="3" '
                   'vector-effect="non-scaling-stroke" pointer-events="none"/>')
    box = view_box(shape, zoom, centre)
    label = html.escape(alt, quote=True)
    return (f'<svg class="gg-map" xmlns="http://www.w3.org/2000/svg" viewBox="{box}" role="group" '
            f'aria-label="{label}" preserveAspectRatio="xMidYMid meet" '
            f'style="width:100%;height:{int(height_px)}px;display:block">'
            f"<title>{label}</title>"
            f'<g stroke="#ffffff" stroke-width="{0.8 / max(zoom, 1):.2f}" stroke-linejoin="round">'
            f"{''.join(items)}</g>{outline}</svg>")
