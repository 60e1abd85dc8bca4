"""Unit tests for data_sources.geography, on tiny hand-written inputs."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Polygon, box
from shapely.ops import split

from data_sources.geography import (
    TOPO_LEVELS,
    GeographyError,
    current,
    districts_without_boundary,
    read_boundaries,
    read_boundary_changes,
    read_clusters,
    read_hierarchy,
    read_neighbours,
    simplify_for_browser,
    successor_map,
)

BOM = "\ufeff"

# --------------------------------------------------------------------------
# a two-square TopoJSON: left = Glasgow, right = North Lanarkshire
# --------------------------------------------------------------------------

ARCS = [
    [[1, 0], [1, 1]],  # 0: the shared border
    [[1, 1], [0, 1], [0, 0], [1, 0]],  # 1: rest of the left square
    [[1, 0], [2, 0], [2, 1], [1, 1]],  # 2: rest of the right square
]
LEFT = {"type": "Polygon", "arcs": [[0, 1]]}
RIGHT = {"type": "Polygon", "arcs": [[-1, 2]]}  # ~0 = arc 0 reversed
WHOLE = {"type": "Polygon", "arcs": [[1, 2]]}


def _feature(shape: dict, areacd: str, areanm: str, **years: int) -> dict:
    return {**shape, "properties": {"areacd": areacd, "areanm": areanm, **years}}


def _topology(drop: str | None = None) -> bytes:
    objects = {
        "uk": [_feature(WHOLE, "K02000001", "United Kingdom")],
        "ctry": [_feature(WHOLE, "S92000003", "Scotland")],
        "rgn": [_feature(WHOLE, "S92000003", "Scotland")],
        # the quirk: new district codes filed under combined authorities
        "cauth": [
            _feature(WHOLE, "E47000001", "Some Combined Authority", start=2017),
            _feature(LEFT, "S12000049", "Glasgow City", start=2019),
            _feature(RIGHT, "S12000050", "North Lanarkshire", start=2019),
        ],
        "utla": [
            _feature(LEFT, "S12000046", "Glasgow City"),
            _feature(RIGHT, "S12000044", "North Lanarkshire"),
        ],
        "ltla": [
            _feature(LEFT, "S12000046", "Glasgow City"),
            _feature(RIGHT, "S12000044", "North Lanarkshire"),
        ],
    }
    if drop:
        del objects[drop]
    doc = {
        "type": "Topology",
        "arcs": ARCS,
        "objects": {
            name: {"type": "GeometryCollection", "geometries": geoms}
            for name, geoms in objects.items()
        },
    }
    return json.dumps(doc).encode()


@pytest.fixture(scope="module")
def boundaries() -> gpd.GeoDataFrame:
    return read_boundaries(_topology())


def _row(gdf: pd.DataFrame, level: str, areacd: str) -> pd.Series:
    rows = gdf[(gdf["level"] == level) & (gdf["areacd"] == areacd)]
    assert len(rows) == 1, f"expected one {level} row for {areacd}, got {len(rows)}"
    return rows.iloc[0]


def test_read_boundaries_returns_every_level_with_nullable_years_in_wgs84(boundaries):
    assert list(boundaries.columns) == ["level", "areacd", "areanm", "start", "end", "geometry"]
    assert set(boundaries["level"]) == set(TOPO_LEVELS)
    assert str(boundaries["start"].dtype) == "Int64"
    assert str(boundaries["end"].dtype) == "Int64"
    assert boundaries.crs.to_epsg() == 4326
    assert boundaries.geometry.is_valid.all()
    assert _row(boundaries, "combined_authority", "E47000001")["start"] == 2017
    assert pd.isna(_row(boundaries, "uk", "K02000001")["end"])


def test_glasgow_recode_moves_codes_from_cauth_to_districts(boundaries):
    cauth = boundaries[boundaries["level"] == "combined_authority"]
    assert list(cauth["areacd"]) == ["E47000001"]
    for level in ("utla", "ltla"):
        for old, new, name in [
            ("S12000046", "S12000049", "Glasgow City"),
            ("S12000044", "S12000050", "North Lanarkshire"),
        ]:
            old_row, new_row = _row(boundaries, level, old), _row(boundaries, level, new)
            assert old_row["end"] == 2018 and pd.isna(old_row["start"])
            assert new_row["start"] == 2019 and pd.isna(new_row["end"])
            assert new_row["areanm"] == name
            assert new_row.geometry.equals(old_row.geometry)


def test_current_picks_the_latest_vintage_or_the_one_valid_in_a_year(boundaries):
    ltla = boundaries[boundaries["level"] == "ltla"]
    assert sorted(current(ltla)["areacd"]) == ["S12000049", "S12000050"]
    assert sorted(current(ltla, 2018)["areacd"]) == ["S12000044", "S12000046"]
    assert sorted(current(ltla, 2019)["areacd"]) == ["S12000049", "S12000050"]


def test_current_handles_open_and_closed_ranges():
    gdf = gpd.GeoDataFrame(
        {
            "areacd": ["always", "retired", "new", "short-lived"],
            "start": pd.array([None, None, 2019, 2019], dtype="Int64"),
            "end": pd.array([None, 2018, None, 2022], dtype="Int64"),
        },
        geometry=[box(0, 0, 1, 1)] * 4,
        crs="EPSG:4326",
    )
    assert list(current(gdf)["areacd"]) == ["always", "new"]
    assert list(current(gdf, 2018)["areacd"]) == ["always", "retired"]
    assert list(current(gdf, 2020)["areacd"]) == ["always", "new", "short-lived"]
    assert list(current(gdf, 2023)["areacd"]) == ["always", "new"]


def test_topojson_without_ltla_object_raises_a_clear_error():
    with pytest.raises(GeographyError, match=r"topo\.json.*missing object.*'ltla'"):
        read_boundaries(_topology(drop="ltla"))


def test_bytes_that_are_not_topojson_raise_geography_error():
    with pytest.raises(GeographyError, match="Topology"):
        read_boundaries(b'{"type": "FeatureCollection", "features": []}')
    with pytest.raises(GeographyError, match="JSON"):
        read_boundaries(b"not json")


# --------------------------------------------------------------------------
# simplification
# --------------------------------------------------------------------------


def _zigzag(start: tuple[float, float], end: tuple[float, float], n: int = 60, amp: float = 0.002):
    """Points from start to end with a small sideways zigzag, so there is detail to drop."""
    (x0, y0), (x1, y1) = start, end
    (a0, b0), (a1, b1) = sorted([start, end])  # same wiggle whichever way it is walked
    nx, ny = -(b1 - b0), a1 - a0
    pts = []
    for i in range(n + 1):
        t = i / n
        off = 0.0 if i in (0, n) else amp * (1 if i % 2 else -1)
        x, y = x0 + t * (x1 - x0) + off * nx, y0 + t * (y1 - y0) + off * ny
        pts.append((round(x, 9), round(y, 9)))  # bit-identical in both directions
    return pts


def _ring(*corners: tuple[float, float]) -> list[tuple[float, float]]:
    pts = [corners[0]]
    for a, b in zip(corners, corners[1:]):
        pts += _zigzag(a, b)[1:]
    return pts


def _two_wiggly_squares() -> tuple[Polygon, Polygon]:
    # both rings walk the shared border x=1 through the very same zigzag points
    left = Polygon(_ring((1, 0), (1, 1), (0, 1), (0, 0), (1, 0)))
    right = Polygon(_ring((1, 1), (1, 0), (2, 0), (2, 1), (1, 1)))
    assert left.is_valid and right.is_valid and left.touches(right)
    return left, right


def _simplified_squares() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    left, right = _two_wiggly_squares()
    gdf = gpd.GeoDataFrame(
        {
            "level": ["ltla", "ltla", "ltla", "utla"],
            "areacd": ["L", "R", "MERGED", "L"],
            "start": pd.array([None, None, 2020, None], dtype="Int64"),
            "end": pd.array([2019, 2019, None, None], dtype="Int64"),
        },
        geometry=[left, right, shapely.union_all([left, right]), left],
        crs="EPSG:4326",
    )
    return gdf, simplify_for_browser(gdf, tolerance=0.05)


def test_simplify_keeps_every_feature_non_empty_valid_and_lighter():
    gdf, out = _simplified_squares()
    assert len(out) == len(gdf) and list(out["areacd"]) == list(gdf["areacd"])
    assert out.crs == gdf.crs
    assert (~out.geometry.is_empty).all() and out.geometry.is_valid.all()
    before = shapely.get_num_coordinates(gdf.geometry.values).sum()
    after = shapely.get_num_coordinates(out.geometry.values).sum()
    assert after < before / 4
    coords = shapely.get_coordinates(out.geometry.values)
    np.testing.assert_allclose(coords, np.round(coords, 5), atol=1e-12)


def test_simplify_keeps_adjacent_squares_sharing_their_border():
    _, out = _simplified_squares()
    left = out.geometry[(out["areacd"] == "L") & (out["level"] == "ltla")].iloc[0]
    right = out.geometry[out["areacd"] == "R"].iloc[0]
    assert left.touches(right)  # no overlap
    shared = left.intersection(right)
    assert shared.length == pytest.approx(1.0, abs=0.01)  # the whole border, not a point
    assert shapely.coverage_is_valid(np.array([left, right]))
    union = shapely.union_all([left, right])
    assert union.geom_type == "Polygon" and len(union.interiors) == 0  # no gap


def test_simplify_keeps_borders_shared_across_vintages():
    _, out = _simplified_squares()
    left = out.geometry[(out["areacd"] == "L") & (out["level"] == "ltla")].iloc[0]
    right = out.geometry[out["areacd"] == "R"].iloc[0]
    merged = out.geometry[out["areacd"] == "MERGED"].iloc[0]
    # the later merged district has exactly the outline of its two predecessors
    assert merged.symmetric_difference(shapely.union_all([left, right])).area < 1e-12


def _wavy_disc_in_two_vintages() -> gpd.GeoDataFrame:
    """A wobbly disc split by wavy borders: TOP/BOTTOM until 2019, then C/D where
    C = TOP plus the west of BOTTOM. The borders cross, so neither per-feature
    nor per-vintage simplification keeps them matched."""
    t = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    r = 1 + 0.02 * np.sin(17 * t)
    disc = Polygon(np.c_[r * np.cos(t), r * np.sin(t)].round(9))
    x = np.linspace(-1.5, 1.5, 300)
    across = LineString(np.c_[x, 0.01 * np.sin(40 * x) + 0.1 * np.sin(3 * x)].round(9))
    y = np.linspace(-1.5, 0.5, 300)
    down = LineString(np.c_[-0.3 + 0.01 * np.sin(40 * y) + 0.1 * np.sin(3 * y), y].round(9))
    top, bottom = sorted(split(disc, across).geoms, key=lambda p: -p.centroid.y)
    west, east = sorted(split(bottom, down).geoms, key=lambda p: p.centroid.x)
    return gpd.GeoDataFrame(
        {
            "level": "ltla",
            "areacd": ["TOP", "BOTTOM", "C", "D"],
            "start": pd.array([None, None, 2020, 2020], dtype="Int64"),
            "end": pd.array([2019, 2019, None, None], dtype="Int64"),
        },
        geometry=[top, bottom, shapely.union_all([top, west]), east],
        crs="EPSG:4326",
    )


def test_simplify_keeps_borders_shared_when_vintages_cut_across_each_other():
    gdf = _wavy_disc_in_two_vintages()
    out = simplify_for_browser(gdf, tolerance=0.05)
    geoms = out.geometry.values
    before = shapely.get_num_coordinates(gdf.geometry.values).sum()
    assert shapely.get_num_coordinates(geoms).sum() < before / 3
    for vintage in (2019, 2020):
        a, b = current(out, vintage).geometry.values
        assert shapely.coverage_is_valid(np.array([a, b]))  # no overlap, edges matched
        assert a.intersection(b).area == 0 and a.intersection(b).length > 1
    # both vintages have the very same simplified outline: no slivers between years
    outline_2019 = shapely.union_all(current(out, 2019).geometry.values)
    outline_2020 = shapely.union_all(current(out, 2020).geometry.values)
    assert outline_2019.symmetric_difference(outline_2020).area < 1e-12


def test_simplify_falls_back_to_the_original_for_a_feature_that_would_vanish():
    speck = box(5.0, 5.0, 5.000002, 5.000002)  # collapses when rounded to 5 decimals
    gdf = gpd.GeoDataFrame(
        {"level": ["ltla", "ltla"], "areacd": ["BIG", "SPECK"]},
        geometry=[box(0, 0, 1, 1), speck],
        crs="EPSG:4326",
    )
    out = simplify_for_browser(gdf, tolerance=0.05)
    got = out.geometry.iloc[1]
    assert not got.is_empty and got.is_valid
    assert got.equals(speck)


# --------------------------------------------------------------------------
# hierarchy
# --------------------------------------------------------------------------

def _area(code: str, name: str, levels: list[str], parents: list[str], **years: int) -> dict:
    return {"areacd": code, "areanm": name, **years, "level": levels, "parents": parents,
            "children": []}


ENG = ["E92000001", "K02000001"]
EAST = ["E12000006", *ENG]
GEO_METADATA = {
    a["areacd"]: a
    for a in [
        _area("K02000001", "United Kingdom", ["ctry"], []),  # ELS files the UK as ctry
        _area("E92000001", "England", ["ctry"], ["K02000001"]),
        _area("W92000004", "Wales", ["ctry", "rgn"], ["K02000001"]),
        _area("E12000006", "East of England", ["rgn"], ENG),
        _area("E47000008", "Cambridgeshire and Peterborough", ["cauth"], EAST),
        _area("E10000003", "Cambridgeshire", ["utla"], ["E47000008", *EAST]),
        _area("E07000008", "Cambridge", ["ltla"], ["E10000003", "E47000008", *EAST]),
        _area("E06000031", "Peterborough", ["utla", "ltla"], ["E47000008", *EAST]),
        _area("W06000001", "Isle of Anglesey", ["utla", "ltla"], ["W92000004", "K02000001"]),
        _area("E07000004", "Aylesbury Vale", ["ltla"], [], end=2019),
        _area("E11000001", "Greater Manchester", [], []),  # metropolitan county: not ours
    ]
}
AREAS_LIST = {
    "areacd": ["K02000001", "E06000031", "E05000001"],
    "areanm": ["United Kingdom", "Peterborough", "Some Ward"],
    "parentcd": [None, "E12000006", "E06000031"],
    "start": {"1": 2009},
    "end": {"2": 2022},
}


@pytest.fixture(scope="module")
def hierarchy() -> pd.DataFrame:
    return read_hierarchy(json.dumps(GEO_METADATA).encode(), json.dumps(AREAS_LIST).encode())


def test_hierarchy_gives_a_two_tier_district_its_county_ca_region_and_country(hierarchy):
    assert list(hierarchy.columns) == [
        "areacd", "areanm", "level", "parent_utla", "parent_combined_authority",
        "parent_region", "parent_country", "valid_from", "valid_to",
    ]
    row = _row(hierarchy, "ltla", "E07000008")
    assert row["areanm"] == "Cambridge"
    assert row["parent_utla"] == "E10000003"
    assert row["parent_combined_authority"] == "E47000008"
    assert row["parent_region"] == "E12000006"
    assert row["parent_country"] == "E92000001"


def test_hierarchy_makes_a_unitary_its_own_utla_at_both_levels(hierarchy):
    for level in ("utla", "ltla"):
        row = _row(hierarchy, level, "E06000031")
        assert row["parent_utla"] == "E06000031"
        assert row["parent_combined_authority"] == "E47000008"
        assert row["parent_region"] == "E12000006"
    wales = _row(hierarchy, "ltla", "W06000001")
    assert wales["parent_utla"] == "W06000001"
    assert pd.isna(wales["parent_region"]) and wales["parent_country"] == "W92000004"


def test_hierarchy_maps_els_levels_and_skips_other_codes(hierarchy):
    assert _row(hierarchy, "uk", "K02000001")["areanm"] == "United Kingdom"
    assert set(hierarchy.loc[hierarchy["areacd"] == "W92000004", "level"]) == {"country", "region"}
    assert "E11000001" not in set(hierarchy["areacd"])
    assert "E05000001" not in set(hierarchy["areacd"])
    assert set(hierarchy["level"]) <= set(TOPO_LEVELS)
    assert not hierarchy.duplicated(["areacd", "level"]).any()


def test_hierarchy_years_come_from_geo_metadata_then_areas_list(hierarchy):
    assert str(hierarchy["valid_from"].dtype) == "Int64"
    assert _row(hierarchy, "ltla", "E07000004")["valid_to"] == 2019
    assert _row(hierarchy, "ltla", "E06000031")["valid_from"] == 2009  # areas-list fallback
    assert pd.isna(_row(hierarchy, "ltla", "E07000008")["valid_to"])


# --------------------------------------------------------------------------
# boundary changes
# --------------------------------------------------------------------------

CHANGES_CSV = (
    BOM
    + "oldcd,oldnm,newcd,newnm,type,start\n"
    + "E07000190,Taunton Deane,E07000246,Somerset West and Taunton,merger,2019\n"
    + "E07000246,Somerset West and Taunton,E06000066,Somerset,merger,2023\n"
    + "E10000027,Somerset,,,termination,2023\n"
    + 'E06000010,"Kingston upon Hull, City of",E47000016,Hull and East Yorkshire,new_geo,2025\n'
    + "E47000010,North East,E47000014,North East,merger,2024\n"
    + "S12000015,Fife,S12000015,Fife,new_code,2018\n"
).encode()


def test_read_boundary_changes_renames_columns_and_types_year():
    changes = read_boundary_changes(CHANGES_CSV)
    assert list(changes.columns) == [
        "old_areacd", "old_areanm", "new_areacd", "new_areanm", "change_type", "year",
    ]
    assert str(changes["year"].dtype) == "Int64"
    assert changes["old_areacd"].iloc[0] == "E07000190"  # BOM stripped from the header
    assert changes.loc[3, "old_areanm"] == "Kingston upon Hull, City of"
    assert pd.isna(changes.loc[2, "new_areacd"])


def test_successor_map_follows_chains_and_skips_non_successions():
    mapping = successor_map(read_boundary_changes(CHANGES_CSV))
    assert mapping["E07000190"] == "E06000066"  # A -> B -> C gives A -> C
    assert mapping["E07000246"] == "E06000066"
    assert mapping["E47000010"] == "E47000014"
    assert "E10000027" not in mapping  # termination
    assert "S12000015" not in mapping  # self-map
    assert "E06000010" not in mapping  # joining a combined authority is not succession


def test_successor_map_stops_on_a_cycle():
    changes = pd.DataFrame(
        {
            "old_areacd": ["A", "B", "C"],
            "new_areacd": ["B", "C", "A"],
            "year": pd.array([2019, 2019, 2019], dtype="Int64"),
        }
    )
    mapping = successor_map(changes)  # must return, not loop
    assert set(mapping) == {"A", "B", "C"}
    assert all(old != new for old, new in mapping.items())
    assert mapping["A"] == "C"


def test_successor_map_leaves_out_splits_and_steps_back_in_time():
    changes = pd.DataFrame(
        {
            "old_areacd": ["SPLIT", "SPLIT", "A", "B"],
            "new_areacd": ["X", "Y", "B", "C"],
            "year": pd.array([2021, 2021, 2023, 2020], dtype="Int64"),
        }
    )
    mapping = successor_map(changes)
    assert "SPLIT" not in mapping
    assert mapping["A"] == "B"  # B -> C happened before A merged into B
    assert mapping["B"] == "C"


def test_changes_csv_missing_a_column_raises_a_clear_error():
    bad = (BOM + "oldcd,oldnm,newnm,type,start\nE1,One,Two,merger,2019\n").encode()
    with pytest.raises(GeographyError, match=r"changes\.csv.*missing column.*newcd"):
        read_boundary_changes(bad)


# --------------------------------------------------------------------------
# neighbours and clusters
# --------------------------------------------------------------------------


def _neighbours_csv(rows: dict[str, list[str]]) -> bytes:
    lines = ["AREACD,1,2,3"] + [",".join([code, *ns]) for code, ns in rows.items()]
    return (BOM + "\n".join(lines) + "\n").encode()


def test_read_neighbours_returns_long_format_per_kind_and_rank():
    out = read_neighbours(
        _neighbours_csv({"E1": ["E2", "E3", "E4"], "E2": ["E1", "E3", "E4"]}),
        _neighbours_csv({"E1": ["E4", "E3", "E2"], "E2": ["E4", "E1", "E3"]}),
        _neighbours_csv({"E1": ["E3", "E2", ""], "E2": ["E3", "E4", "E1"]}),
    )
    assert list(out.columns) == ["areacd", "kind", "rank", "neighbour_areacd"]
    assert len(out) == 2 * 3 * 3 - 1  # the blank cell is not a neighbour
    assert out["rank"].dtype == np.int64
    assert set(out["kind"]) == {"global", "economic", "demographic"}
    e1_economic = out[(out["areacd"] == "E1") & (out["kind"] == "economic")]
    assert list(e1_economic["rank"]) == [1, 2, 3]
    assert list(e1_economic["neighbour_areacd"]) == ["E4", "E3", "E2"]


def test_read_neighbours_rejects_a_file_without_areacd():
    bad = b"CODE,1,2\nE1,E2,E3\n"
    ok = _neighbours_csv({"E1": ["E2", "E3", "E4"]})
    with pytest.raises(GeographyError, match=r"global-neighbours\.csv.*AREACD"):
        read_neighbours(bad, ok, ok)


def test_read_clusters_joins_descriptions_by_kind_and_lowercase_letter():
    allocation = (
        BOM
        + "AREACD,AREANM,Global,Economic,Demographic\n"
        + "E06000001,Hartlepool,B,A,C\n"
        + "E06000053,Isles of Scilly,[x],[x],A\n"
    ).encode()
    descriptions = (
        BOM
        + json.dumps(
            {
                "global": {"a": "global a", "b": "global b"},
                "economic": {"a": "economic a"},
                "demographic": {"a": "demographic a", "c": "demographic c"},
            }
        )
    ).encode()
    out = read_clusters(allocation, descriptions)
    assert list(out.columns) == ["areacd", "areanm", "kind", "cluster", "description"]
    hartlepool = out[out["areacd"] == "E06000001"].set_index("kind")
    assert hartlepool.loc["global", "cluster"] == "b"
    assert hartlepool.loc["global", "description"] == "global b"
    assert hartlepool.loc["demographic", "description"] == "demographic c"
    scilly = out[out["areacd"] == "E06000053"].set_index("kind")
    assert len(scilly) == 3  # unallocated districts keep their rows
    assert pd.isna(scilly.loc["global", "cluster"]) and pd.isna(scilly.loc["global", "description"])
    assert scilly.loc["demographic", "description"] == "demographic a"


# --------------------------------------------------------------------------
# coverage check
# --------------------------------------------------------------------------


def test_districts_without_boundary_lists_unmapped_codes_sorted():
    gdf = gpd.GeoDataFrame(
        {
            "level": ["ltla", "utla", "ltla"],
            "areacd": ["E07000004", "E10000002", "E07000999"],
            "start": pd.array([None, None, None], dtype="Int64"),
            "end": pd.array([2019, None, None], dtype="Int64"),
        },
        geometry=[box(0, 0, 1, 1), box(0, 0, 1, 1), Polygon()],
        crs="EPSG:4326",
    )
    codes = ["E07000999", "E07000004", "E10000002", "S12000049", "E07000004"]
    # a retired district still has a boundary; utla-only and empty geometries don't count
    assert districts_without_boundary(codes, gdf) == ["E07000999", "E10000002", "S12000049"]
