"""Peers of a place: ONS neighbour sets, clusters, custom peer lists and the difference-in-differences."""
from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators import errors
from indicators.neighbours import (
    NEIGHBOUR_KINDS,
    DiD,
    UnknownAreaError,
    cluster_of,
    custom_peers,
    difference_in_differences,
    neighbour_mean,
    neighbour_set,
    peer_panel,
)

DATA = Path(__file__).parents[2] / "data"
PLACE = "E06000001"
PEER_A, PEER_B = "E06000002", "E06000003"


def long_panel(series: dict[str, dict[int, float]]) -> pd.DataFrame:
    """{areacd: {year: value}} as the long panel the DiD takes (period_start = 1 January)."""
    return pd.DataFrame([{"areacd": a, "period_start": dt.date(y, 1, 1), "period_code": str(y), "value": v}
                         for a, by_year in series.items() for y, v in by_year.items()])


def means_did(series: dict[str, dict[int, float]], place: str, first_post_year: int) -> float:
    """The textbook (ȳ_T,post − ȳ_T,pre) − (ȳ_C,post − ȳ_C,pre), by hand."""
    def mean(areas, post):
        vals = [v for a in areas for y, v in series[a].items() if (y >= first_post_year) == post]
        return sum(vals) / len(vals)
    controls = [a for a in series if a != place]
    return (mean([place], True) - mean([place], False)) - (mean(controls, True) - mean(controls, False))


# Parallel before 2020 (everyone +1 a year); from 2020 the place jumps +5, the peers +2.
TWO_BY_TWO = {
    PLACE: {2018: 9.0, 2019: 10.0, 2020: 15.0},
    PEER_A: {2018: 9.0, 2019: 10.0, 2020: 12.0},
    PEER_B: {2018: 11.0, 2019: 12.0, 2020: 14.0},
}


def noisy_panel(effect: float, seed: int = 0, n_peers: int = 8, years=range(2012, 2022), start=2018):
    rng = np.random.default_rng(seed)
    trend = {y: 0.5 * i for i, y in enumerate(years)}
    series = {}
    for k, code in enumerate([PLACE] + [f"E07{k:06d}" for k in range(n_peers)]):
        level = 20 + 3 * k
        series[code] = {y: level + trend[y] + rng.normal(0, 0.2) + (effect if code == PLACE and y >= start else 0)
                        for y in years}
    return series


# --- difference in differences ---------------------------------------------------------------

def peer_codes(n: int) -> list[str]:
    return [f"E07{k:06d}" for k in range(n)]


def test_did_on_a_balanced_multi_period_panel_equals_the_means_formula():
    series = noisy_panel(effect=1.7, seed=3, n_peers=12)
    result = difference_in_differences(long_panel(series), PLACE, [a for a in series if a != PLACE],
                                       "2018-01-01")
    assert isinstance(result, DiD)
    assert result.estimate == pytest.approx(means_did(series, PLACE, 2018), abs=1e-9)
    assert (result.n_areas, result.n_periods, result.pre_periods, result.post_periods) == (13, 10, 6, 4)
    assert result.lci < result.estimate < result.uci
    assert 0 < result.p_value <= 1


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n_peers=st.integers(9, 14), n_pre=st.integers(3, 6), n_post=st.integers(1, 4))
def test_did_equals_the_means_formula_on_any_balanced_panel(seed, n_peers, n_pre, n_post):
    rng = np.random.default_rng(seed)
    years = range(2000, 2000 + n_pre + n_post)
    codes = [PLACE] + [f"W06{k:06d}" for k in range(n_peers)]
    series = {c: {y: float(rng.normal(50, 10)) for y in years} for c in codes}
    result = difference_in_differences(long_panel(series), PLACE, codes[1:], 2000 + n_pre)
    assert result.estimate == pytest.approx(means_did(series, PLACE, 2000 + n_pre), abs=1e-8)


def test_a_large_rise_is_better_than_peers_when_higher_is_better():
    series = noisy_panel(effect=5.0, n_peers=19)
    result = difference_in_differences(long_panel(series), PLACE, [a for a in series if a != PLACE],
                                       dt.date(2018, 1, 1))
    assert result.p_value == pytest.approx(1 / 20)  # the place ranks first of 20: the smallest p possible
    assert result.lci > 0
    assert result.verdict == "better than peers"


def test_the_same_rise_is_worse_than_peers_when_lower_is_better():
    series = noisy_panel(effect=5.0, n_peers=19)
    result = difference_in_differences(long_panel(series), PLACE, [a for a in series if a != PLACE],
                                       dt.date(2018, 1, 1), polarity="lower_is_better")
    assert result.estimate == pytest.approx(5.0, abs=0.5)
    assert result.verdict == "worse than peers"


def test_a_neutral_indicator_says_higher_or_lower_not_better_or_worse():
    series = noisy_panel(effect=-5.0, n_peers=19)
    result = difference_in_differences(long_panel(series), PLACE, [a for a in series if a != PLACE],
                                       dt.date(2018, 1, 1), polarity="neutral")
    assert result.verdict == "lower than peers"


def test_no_change_beyond_peers_is_no_significant_difference():
    series = noisy_panel(effect=0.0, seed=7, n_peers=19)
    result = difference_in_differences(long_panel(series), PLACE, [a for a in series if a != PLACE],
                                       dt.date(2018, 1, 1))
    assert result.lci < 0 < result.uci
    assert result.p_value > 0.10
    assert result.verdict == "no significant difference"


def test_did_inference_is_by_placebos_never_a_cluster_robust_standard_error():
    series = noisy_panel(effect=1.0, n_peers=12)
    result = difference_in_differences(long_panel(series), PLACE, [a for a in series if a != PLACE],
                                       dt.date(2018, 1, 1))
    assert result.se is None
    assert "12 peers" in result.note and "10 periods" in result.note and "Placebo p-value" in result.note
    assert "cluster" not in result.note
    # With 12 peers the p-value is a rank out of 13.
    assert (result.p_value * 13) == pytest.approx(round(result.p_value * 13))


def test_two_pre_periods_are_too_little_data():
    series = {a: {y: v for y, v in ys.items() if y >= 2016} for a, ys in noisy_panel(1.0, n_peers=12).items()}
    result = difference_in_differences(long_panel(series), PLACE, peer_codes(12), dt.date(2018, 1, 1))
    assert result.verdict == "too little data"
    assert result.estimate is None and result.lci is None and result.p_value is None
    assert result.pre_periods == 2
    assert "2 separate periods with data wholly before 2018-01-01" in result.note


def test_a_suppressed_pre_period_value_does_not_count_as_data():
    series = {a: {y: v for y, v in ys.items() if y >= 2015} for a, ys in noisy_panel(1.0, n_peers=12).items()}
    series[PLACE][2015] = float("nan")
    result = difference_in_differences(long_panel(series), PLACE, peer_codes(12), dt.date(2018, 1, 1))
    assert result.pre_periods == 2
    assert result.verdict == "too little data"


def test_no_post_period_is_too_little_data():
    series = noisy_panel(1.0, n_peers=12)
    result = difference_in_differences(long_panel(series), PLACE, peer_codes(12), dt.date(2030, 1, 1))
    assert result.verdict == "too little data"
    assert result.post_periods == 0
    assert "no data from 2030-01-01" in result.note


def test_fewer_than_nine_peers_is_too_little_data_because_p_cannot_reach_a_tenth():
    series = noisy_panel(5.0, n_peers=8)
    result = difference_in_differences(long_panel(series), PLACE, peer_codes(8), dt.date(2018, 1, 1))
    assert result.verdict == "too little data"
    assert "8 peers of 8 have data in every period" in result.note and "1/9" in result.note


def test_a_peer_without_post_data_leaves_the_pool():
    series = noisy_panel(5.0, n_peers=9)
    del series[peer_codes(9)[0]][2021]
    result = difference_in_differences(long_panel(series), PLACE, peer_codes(9), dt.date(2018, 1, 1))
    assert result.n_areas == 9
    assert result.verdict == "too little data"


def test_the_place_listed_among_its_peers_is_not_its_own_control():
    series = noisy_panel(1.0, n_peers=10)
    alone = difference_in_differences(long_panel(series), PLACE, peer_codes(10), 2018)
    listed = difference_in_differences(long_panel(series), PLACE, [PLACE, *peer_codes(10)], 2018)
    assert listed == alone
    assert listed.n_areas == 11


def test_a_pooled_period_spanning_the_date_is_neither_before_nor_after():
    # Three-year averages 2010-12, 2013-15, 2016-18, 2019-21: a 2018 start cuts 2016-18.
    rows = []
    rng = np.random.default_rng(1)
    for k, code in enumerate([PLACE, *peer_codes(10)]):
        for first in (2010, 2013, 2016, 2019):
            rows.append({"areacd": code, "period_start": dt.date(first, 1, 1),
                         "period_end": dt.date(first + 2, 12, 31), "value": 10 + k + rng.normal(0, 0.1)})
    result = difference_in_differences(pd.DataFrame(rows), PLACE, peer_codes(10), 2018)
    assert (result.pre_periods, result.post_periods, result.n_periods) == (2, 1, 3)
    assert result.verdict == "too little data"


def test_did_accepts_categorical_codes_and_arrow_dates():
    series = noisy_panel(effect=2.0, n_peers=10)
    panel = long_panel(series)
    panel["areacd"] = panel["areacd"].astype("category")
    panel["period_start"] = panel["period_start"].astype("date32[pyarrow]")
    plain = difference_in_differences(long_panel(series), PLACE, peer_codes(10), dt.date(2018, 1, 1))
    typed = difference_in_differences(panel, PLACE, peer_codes(10), pd.Timestamp("2018-01-01"))
    assert typed == plain


def test_did_rejects_an_unknown_polarity_and_a_bad_alpha():
    with pytest.raises(ValueError, match="polarity"):
        difference_in_differences(long_panel(TWO_BY_TWO), PLACE, [PEER_A, PEER_B], 2020, polarity="up")
    with pytest.raises(ValueError, match="alpha"):
        difference_in_differences(long_panel(TWO_BY_TWO), PLACE, [PEER_A, PEER_B], 2020, alpha=1.5)


def test_a_wider_level_gives_a_wider_placebo_range():
    series = noisy_panel(effect=1.0, n_peers=19)
    narrow = difference_in_differences(long_panel(series), PLACE, peer_codes(19), 2018, alpha=0.2)
    wide = difference_in_differences(long_panel(series), PLACE, peer_codes(19), 2018, alpha=0.02)
    assert wide.lci < narrow.lci and wide.uci > narrow.uci
    assert wide.estimate == narrow.estimate


# --- neighbour sets, clusters, custom peers, peer means ------------------------------------

NEIGHBOURS = pd.DataFrame({
    "areacd": [PLACE] * 5 + [PEER_A] * 2,
    "kind": ["global", "global", "global", "economic", "economic", "global", "global"],
    "rank": [3, 1, 2, 1, 2, 1, 2],
    "neighbour_areacd": ["E3", "E1", "E2", "X1", "X2", "E9", "E8"],
}).astype({"areacd": "category", "kind": "category", "neighbour_areacd": "category"})


def test_neighbour_set_is_in_rank_order_and_capped_at_n():
    assert neighbour_set(NEIGHBOURS, PLACE) == ["E1", "E2", "E3"]
    assert neighbour_set(NEIGHBOURS, PLACE, n=2) == ["E1", "E2"]
    assert neighbour_set(NEIGHBOURS, PLACE, kind="economic") == ["X1", "X2"]


def test_neighbour_set_of_an_unknown_area_is_an_unknown_area_error():
    with pytest.raises(UnknownAreaError, match="E99999999") as info:
        neighbour_set(NEIGHBOURS, "E99999999")
    assert isinstance(info.value, KeyError) and isinstance(info.value, errors.IndicatorError)


def test_neighbour_set_with_no_neighbours_of_that_kind_is_an_unknown_area_error():
    with pytest.raises(UnknownAreaError, match="demographic"):
        neighbour_set(NEIGHBOURS, PLACE, kind="demographic")


def test_neighbour_set_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown neighbour kind 'social'"):
        neighbour_set(NEIGHBOURS, PLACE, kind="social")
    assert NEIGHBOUR_KINDS == ("global", "economic", "demographic", "rural_urban")


CLUSTERS = pd.DataFrame({
    "areacd": [PLACE, PEER_A, PEER_B, "E06000004", PLACE],
    "areanm": ["Hartlepool", "Middlesbrough", "Redcar", "Stockton", "Hartlepool"],
    "kind": ["global", "global", "global", "global", "economic"],
    "cluster": ["b", "b", "c", None, "a"],
    "description": ["Coastal towns", "Coastal towns", "Suburbs", None, "Services"],
})


def test_cluster_of_names_the_cluster_its_description_and_every_member():
    assert cluster_of(CLUSTERS, PEER_A) == {"cluster": "b", "description": "Coastal towns",
                                            "members": [PLACE, PEER_A]}
    assert cluster_of(CLUSTERS, PLACE, kind="economic")["members"] == [PLACE]


def test_cluster_of_an_unclustered_or_unknown_area_is_none():
    assert cluster_of(CLUSTERS, "E06000004") is None
    assert cluster_of(CLUSTERS, "E99999999") is None
    with pytest.raises(ValueError):
        cluster_of(CLUSTERS, PLACE, kind="social")


KNOWN = [PLACE, PEER_A, PEER_B, "E06000004"]


def test_custom_peers_strips_dedupes_in_order_and_drops_the_place():
    assert custom_peers([" E06000003", "E06000002 ", "E06000003", PLACE, ""], KNOWN, areacd=PLACE) == [
        PEER_B, PEER_A]


def test_custom_peers_names_every_unknown_code():
    with pytest.raises(UnknownAreaError) as info:
        custom_peers(["E06000002", "E0600000X", " Z99 ", "E0600000X"], KNOWN)
    assert str(info.value) == "unknown area codes: E0600000X, Z99"


def test_neighbour_mean_ignores_missing_values_and_counts_peers_with_data():
    values = pd.Series([1.0, np.nan, 3.0, 100.0], index=pd.CategoricalIndex(["A", "B", "C", "D"]))
    assert neighbour_mean(values, ["A", "B", "C", "Z"]) == (2.0, 2)
    assert neighbour_mean(values, ["B", "Z"]) == (None, 0)


# --- peer panel ------------------------------------------------------------------------------

def test_peer_panel_slices_one_indicator_at_one_level_for_the_codes():
    obs = pd.DataFrame({
        "indicator_id": ["x", "x", "x", "y", "x"],
        "areacd": [PEER_A, PLACE, PLACE, PLACE, PEER_B],
        "level": ["ltla", "ltla", "ltla", "ltla", "utla"],
        "period_code": ["2020", "2021", "2020", "2020", "2020"],
        "period_start": [dt.date(2020, 1, 1), dt.date(2021, 1, 1), dt.date(2020, 1, 1), dt.date(2020, 1, 1),
                         dt.date(2020, 1, 1)],
        "value": [1.0, np.nan, 2.0, 3.0, 4.0],
    }).astype({"indicator_id": "category", "areacd": "category", "level": "category"})
    out = peer_panel(obs, "x", "ltla", [PLACE, PEER_A, PEER_B])
    assert list(out.columns) == ["areacd", "period_start", "period_code", "value"]
    assert out["areacd"].tolist() == [PLACE, PLACE, PEER_A]  # sorted by area then period
    assert out["period_code"].tolist() == ["2020", "2021", "2020"]
    assert out["value"].iloc[0] == 2.0 and np.isnan(out["value"].iloc[1]) and out["value"].iloc[2] == 1.0


# --- the shipped snapshot -------------------------------------------------------------------

def test_hartlepool_has_twenty_global_neighbours_all_districts_in_the_snapshot():
    path = DATA / "neighbours.parquet"
    if not path.exists():
        pytest.skip(f"no built snapshot at {DATA}")
    got = neighbour_set(pd.read_parquet(path), "E06000001", kind="global")
    assert len(got) == 20 == len(set(got))
    district_prefixes = ("E06", "E07", "E08", "E09", "W06", "S12", "N09")
    assert all(code.startswith(district_prefixes) for code in got), got
    assert "E06000001" not in got


def test_the_module_does_not_import_streamlit():
    import indicators.neighbours as module
    tree = ast.parse(Path(module.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "streamlit" not in imported
