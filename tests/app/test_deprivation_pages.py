"""The profile's deprivation section and adult social care on the map, under AppTest on the committed snapshot."""
from __future__ import annotations

import json

import pytest

from tests.app.test_pages import MAP, PROFILE, assert_clean, open_page, svg_maps, texts
from tests.app.test_profile_page import open_tab

DEPRIVATION_TAB = "Deprivation and rural–urban"

LEEDS = "E08000035"


def test_leeds_profile_shows_its_deprivation_spread_neighbours_and_rural_urban_class(caplog):
    at = open_tab(open_page(PROFILE, {"place": LEEDS}), DEPRIVATION_TAB)
    assert_clean(at, caplog)
    shown = texts(at)
    assert "Deprivation inside the place" in shown
    assert "Urban: Majority nearer to a major town or city" in shown and "UUN" in shown
    assert "context, not scored as an outcome of growth" in shown
    assert "not a time series" not in shown or "never read the difference as change over time" in shown
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Neighbourhoods (LSOAs)"] == "488"
    assert metrics["In England's most deprived 10%"] == "17.2%"
    tables = [df.value for df in at.dataframe]
    positions = [t for t in tables if "peer_median" in t.columns]
    assert len(positions) == 2  # ONS neighbours and districts of the same rural-urban class
    assert all(t["position"].str.match(r"^\d+ of \d+$").all() for t in positions)
    spread = [t for t in tables if "imd_score" in t.columns]
    assert len(spread) == 1 and len(spread[0]) == 488
    assert len(at.get("vega_lite_chart")) >= 2  # deciles by domain, and the LSOA spread


def test_a_welsh_profile_shows_its_own_index_alone(caplog):
    at = open_tab(open_page(PROFILE, {"place": "W06000015"}), DEPRIVATION_TAB)
    assert_clean(at, caplog)
    shown = texts(at)
    assert "WIMD 2019" in shown and "never compared with English places" in shown


@pytest.mark.parametrize("indicator", ["asc-reablement-sequel", "asc-quality-of-life",
                                       "asc-requests-resulting-in-service"])
def test_adult_social_care_maps_at_upper_tier(indicator, caplog):
    at = open_page(MAP, {"level": "utla", "indicator": indicator})
    assert_clean(at, caplog)
    assert at.selectbox(key="indicator_select").value == indicator
    (drawing,) = svg_maps(at)
    # every upper-tier council of England with a boundary, and a value for most
    assert drawing.count('<a href="/profile?place=E') > 140
    assert drawing.count("No data</title>") < 80
