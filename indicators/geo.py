"""Boundaries for maps: the current vintage of a level, simplified further for the browser.

Why here: pages never read files, and the map payload decides how fast the landing page is.
The snapshot's geometry is already a shared-border simplification; for drawing at national
scale we simplify again as a coverage (shared borders stay shared) and round coordinates to
~100 m, which keeps the district layer under 500 KB of GeoJSON.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data_sources.errors import SnapshotError
from data_sources.store import read_manifest

from . import query

MAP_LEVELS = {"ltla": "Local authority districts", "utla": "Upper-tier authorities",
              "combined_authority": "Combined authorities", "region": "Regions and nations"}
DECIMALS = 3
TOLERANCE = 0.01  # degrees (~1 km): invisible at national zoom, halves the district payload


def boundaries(ctx: query.Context, level: str) -> gpd.GeoDataFrame:
    """Current boundaries of a level (regions include the devolved nations, as ELS maps them)."""
    return _boundaries(ctx.snapshot.path, ctx.snapshot.manifest["created_at"], level)


@lru_cache(maxsize=8)
def _boundaries(path: Path, created_at: str, level: str) -> gpd.GeoDataFrame:
    gdf = gpd.read_parquet(path / "geometry.parquet")
    if read_manifest(path)["created_at"] != created_at:
        raise SnapshotError(f"{path}: the snapshot was replaced while its boundaries were read; reload the page")
    levels = [level, "country"] if level == "region" else [level]
    gdf = gdf.loc[gdf["level"].isin(levels) & gdf["end"].isna()].copy()
    if level == "region":
        gdf = gdf.loc[~gdf["areacd"].eq("E92000001")]  # England is drawn as its regions
    simplified = shapely.coverage_simplify(gdf.geometry.values, TOLERANCE)
    gdf["geometry"] = shapely.set_precision(simplified, 10 ** -DECIMALS)
    gdf = gdf.loc[~gdf.geometry.is_empty]
    return gdf[["areacd", "areanm", "geometry"]].reset_index(drop=True)


def borders(ctx: query.Context, level: str) -> list[list[float]]:
    """Borders between neighbouring areas of a level, each once, as flat [x0, y0, x1, y1, …]
    paths for a line layer. The coast is left out: there the fill meets the blank page anyway.

    Why not a stroked polygon layer: deck.gl then outlines every polygon, coast included and
    shared borders twice, and the outlines join the clickable layer. Line drawing is the
    costliest part of the map where WebGL is software-rendered (about 1 s per 20,000 points on a
    2-core machine); the inland borders of the districts are 8,000 points where the outlines
    of every polygon were 25,000.
    """
    return _borders(ctx.snapshot.path, ctx.snapshot.manifest["created_at"], level)


@lru_cache(maxsize=8)
def _borders(path: Path, created_at: str, level: str) -> list[list[float]]:
    polygons = _boundaries(path, created_at, level).geometry.values
    lines = shapely.union_all(shapely.boundary(polygons))
    try:
        land = shapely.coverage_union_all(polygons)
    except shapely.errors.GEOSException:  # regions beside nations do not form a clean coverage
        land = shapely.union_all(polygons)
    inland = shapely.line_merge(shapely.difference(lines, shapely.boundary(land)))
    return _paths(shapely.get_parts(inland))


def outline_paths(polygons: Any) -> list[list[float]]:
    """Every ring of the given (multi)polygons, as flat paths for a deck.gl PathLayer."""
    return _paths(shapely.get_parts(shapely.boundary(np.asarray(polygons))))


def _paths(lines: np.ndarray) -> list[list[float]]:
    """Flat coordinates, which deck.gl uploads as given, and a third smaller as JSON than pairs."""
    return [np.round(shapely.get_coordinates(line), DECIMALS).ravel().tolist() for line in lines]


def feature_collection(gdf: gpd.GeoDataFrame, properties: pd.DataFrame | None = None) -> dict[str, Any]:
    """GeoJSON for pydeck, with per-area properties joined on areacd (NaN → null)."""
    frame = gdf
    if properties is not None:
        frame = gdf.merge(properties, on="areacd", how="left", suffixes=("", "_data"))
    text = frame.to_json(na="null", drop_id=True)
    return json.loads(text)


def has_boundary(ctx: query.Context, level: str, codes: list[str]) -> np.ndarray:
    gdf = boundaries(ctx, level)
    return np.isin(np.asarray(codes), gdf["areacd"].to_numpy())
