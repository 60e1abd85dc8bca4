"""indicators.deprivation and the rural-urban peer kind, on tiny frames with hand-worked answers;
and the data_sources parsers' quirks (summary column names, Oflog's blanks and codes)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from data_sources import deprivation as source
from data_sources import oflog_asc
from data_sources.errors import ValidationError
from indicators import deprivation as dep
from indicators.neighbours import neighbour_set, rural_urban_neighbours

DOMAIN_COLS = [f"{d}_decile" for d in dep.DOMAINS]


def lsoas(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    """(lsoa, district, imd decile, score); every domain decile equal to the IMD decile except crime = 10."""
    frame = pd.DataFrame(rows, columns=["lsoacd", "ltlacd", "imd_decile", "imd_score"])
    for col in DOMAIN_COLS[1:]:
        frame[col] = frame["imd_decile"]
    frame["crime_decile"] = 10
    frame["imd_rank"] = frame["imd_score"].rank(ascending=False).astype(int)
    return frame


# Place A has five LSOAs: deciles 1, 1, 2, 5, 10. Place B has one, decile 3.
LSOA = lsoas([("L1", "A", 1, 60.0), ("L2", "A", 1, 55.0), ("L3", "A", 2, 40.0), ("L4", "A", 5, 20.0),
              ("L5", "A", 10, 2.0), ("L6", "B", 3, 30.0)])


def test_decile_shares_are_shares_of_the_places_lsoas_and_add_up_to_one():
    shares = dep.decile_shares(LSOA, ["A"])
    imd = shares.loc[shares["domain"] == "imd"].set_index("decile")
    assert imd["lsoas"].tolist() == [2, 1, 0, 0, 1, 0, 0, 0, 0, 1]
    assert imd.loc[1, "share"] == pytest.approx(2 / 5) and imd.loc[3, "share"] == 0
    assert shares.groupby("domain")["share"].sum().round(12).eq(1).all()
    crime = shares.loc[shares["domain"] == "crime"].set_index("decile")
    assert crime.loc[10, "share"] == 1


def test_most_deprived_10_and_20_percent_by_hand():
    table = dep.most_deprived_shares(LSOA, ["A"]).set_index("domain")
    assert table.loc["imd", "lsoas"] == 5
    assert table.loc["imd", "share_most_deprived_10"] == pytest.approx(2 / 5)
    assert table.loc["imd", "share_most_deprived_20"] == pytest.approx(3 / 5)
    assert table.loc["crime", "share_most_deprived_20"] == 0


def test_a_place_of_several_districts_pools_their_lsoas():
    table = dep.most_deprived_shares(LSOA, ["A", "B"]).set_index("domain")
    assert table.loc["imd", "lsoas"] == 6
    assert table.loc["imd", "share_most_deprived_20"] == pytest.approx(3 / 6)


def test_a_place_with_no_lsoas_has_no_shares_not_zero():
    table = dep.most_deprived_shares(LSOA, ["Z"]).set_index("domain")
    assert table.loc["imd", "lsoas"] == 0 and math.isnan(table.loc["imd", "share_most_deprived_10"])


def test_spread_lists_every_lsoa_most_deprived_first():
    s = dep.spread(LSOA, ["A"])
    assert s["lsoacd"].tolist() == ["L1", "L2", "L3", "L4", "L5"]
    assert s["imd_rank"].is_monotonic_increasing


SUMMARIES = pd.DataFrame({
    "areacd": ["A", "B", "C", "A", "W1"],
    "nation": ["E", "E", "E", "E", "W"],
    "edition": ["IoD 2025", "IoD 2025", "IoD 2025", "IoD 2019", "WIMD 2019"],
    "domain": ["imd"] * 5, "measure": ["extent"] * 5,
    "value": [0.30, 0.50, 0.10, 0.90, 0.99], "rank": [2, 1, 3, 1, 1],
})


def test_neighbour_position_counts_the_place_among_its_peers_with_one_most_deprived():
    lsoa = pd.concat([LSOA, lsoas([("L7", "C", 9, 5.0)])], ignore_index=True)
    table = dep.neighbour_position(lsoa, SUMMARIES, "A", ["B", "C", "W1"]).set_index("measure")
    # shares in the most deprived 10%: A 2/5, B 0, C 0 → A is 1st of 3 (W1 has no English LSOAs)
    row = table.loc["share_most_deprived_10"]
    assert row["value"] == pytest.approx(0.4) and row["position"] == 1 and row["of"] == 3
    assert row["peer_median"] == 0
    # extent, 2025 edition only: B 0.5 > A 0.3 > C 0.1 → A 2nd of 3; 2019 and the Welsh index never enter
    ext = table.loc["imd_extent"]
    assert ext["value"] == pytest.approx(0.30) and ext["position"] == 2 and ext["of"] == 3
    assert ext["peer_max"] == pytest.approx(0.5)


def test_rural_urban_peers_stay_in_class_and_nation_with_ons_neighbours_first():
    ruc = pd.DataFrame({"areacd": ["E1", "E2", "E3", "E4", "W1"], "ruc21_code": ["RMF", "RMF", "RMF", "UUN", "RMF"]})
    ons = pd.DataFrame({"areacd": ["E1", "E1"], "kind": ["global", "global"], "rank": [1, 2],
                        "neighbour_areacd": ["E3", "E4"]})
    table = rural_urban_neighbours(ruc, ons)
    combined = pd.concat([ons, table], ignore_index=True)
    assert neighbour_set(combined, "E1", "rural_urban") == ["E3", "E2"]  # E3 is an ONS neighbour; E4 is urban
    for alone in ("E4", "W1"):  # the only urban district; the only Welsh one (classes never cross nations)
        with pytest.raises(KeyError, match="rural-urban"):
            neighbour_set(combined, alone, "rural_urban")


def test_districts_of_a_county_are_its_current_districts():
    areas = pd.DataFrame({
        "areacd": ["E07000001", "E07000002", "E07000003", "E10000001"],
        "level": ["ltla", "ltla", "ltla", "utla"],
        "parent_utla": ["E10000001", "E10000001", "E10000009", None],
        "valid_to": [None, None, None, None],
    })
    assert dep.districts_of(areas, "E10000001") == ["E07000001", "E07000002"]
    assert dep.districts_of(areas, "E07000003") == ["E07000003"]


# ---------------------------------------------------------------- data_sources parsers

@pytest.mark.parametrize("column,key", [
    ("imd_average_score", ("imd", "average_score", False)),
    ("imd_rank_of_average_score", ("imd", "average_score", True)),
    ("imd25_local_concentration", ("imd", "local_concentration", False)),
    ("rank_of_income_scale", ("income", "scale", True)),
    ("barriers_to_housing_and_services_proportion_of_lso_as_in_most_deprived_10_percent_nationally",
     ("housing_and_services", "proportion_most_deprived_10", False)),
    ("Score", ("imd", "average_score", False)),
    ("Housing_and_Access_Extent", ("housing_and_services", "extent", False)),
    ("ltla24_name", None),
])
def test_summary_columns_of_every_edition_map_to_one_vocabulary(column, key):
    assert source._summary_key(column) == key


def test_a_summary_file_from_the_wrong_nation_is_refused():
    frame = pd.DataFrame({"ltla22_code": ["E06000001"], "Extent": [0.1]})
    with pytest.raises(ValidationError, match="not an area code"):
        source.parse_summary("imd2019_wales_ltla22", frame)


def test_bytes_that_are_not_r_data_are_a_validation_error():
    with pytest.raises(ValidationError, match="ruc21_ltla24.rda"):
        source.read_rda("ruc21_ltla24", b"BZh91AY&SY" + bytes(200))


HEADER = ("Financial year,Local authority code,Local authority name,Grouping,Entity_Name,Region,Measure,Code,Value,"
          "MEDIAN,MADs_from_median,rank_order\n")


def asc(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


def test_asc_blank_values_are_null_and_financial_years_are_april_to_march():
    body = asc('2019-20,E10000007,Derbyshire,LA_Raw,Counties,East Midlands,"Outcome, ASC Quality of Life",ASC2,,0.4,0,desc',
               '2019-20,E08000035,Leeds,LA_Raw,Metropolitan Districts,Yorkshire,"Outcome, Requests resulting in a service",'
               'ASC6,1839.5,1800,0.1,None')
    obs = oflog_asc.parse(body).observations
    derby = obs.loc[obs["areacd"] == "E10000007"].iloc[0]
    assert np.isnan(derby["value"]) and derby["status"] == "missing" and derby["level"] == "utla"
    leeds = obs.loc[obs["areacd"] == "E08000035"]
    assert set(leeds["level"]) == {"utla", "ltla"} and leeds["value"].eq(1839.5).all()
    assert str(derby["period_start"]) == "2019-04-01" and str(derby["period_end"]) == "2020-03-31"
    assert derby["period_label"] == "2019/20"


def test_asc_measure_text_must_match_its_code():
    body = asc('2019-20,E10000007,Derbyshire,LA_Raw,Counties,East Midlands,"Outcome, ASC Quality of Life",ASC5,70,0,0,desc')
    with pytest.raises(ValidationError, match="line 2.*code ASC5 names"):
        oflog_asc.parse(body)


def test_asc_lower_tier_codes_are_refused():
    body = asc('2019-20,E07000001,Somewhere,LA_Raw,Districts,East,"Outcome, ASC Quality of Life",ASC2,0.4,0,0,desc')
    with pytest.raises(ValidationError, match="not an upper-tier council code"):
        oflog_asc.parse(body)
