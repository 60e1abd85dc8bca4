"""The synthetic control with placebo-in-space inference, on panels built in the test."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators import counterfactual as cf

PLACE = "E06000001"


def donors(n: int) -> list[str]:
    return [f"E07{k:06d}" for k in range(n)]


def frame(values: np.ndarray, years: list[int], codes: list[str]) -> pd.DataFrame:
    """values[t, u] as the long panel the synthetic control takes (calendar-year periods)."""
    return pd.DataFrame([{"areacd": c, "period_start": dt.date(y, 1, 1), "period_end": dt.date(y, 12, 31),
                          "value": float(values[t, u])}
                         for t, y in enumerate(years) for u, c in enumerate(codes)])


def random_walks(n_units: int, n_periods: int, seed: int = 0, level: float = 50.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return level + rng.normal(0, 1, (n_periods, n_units)).cumsum(axis=0) + rng.normal(0, 5, n_units)


def with_place(place: np.ndarray, pool: np.ndarray) -> np.ndarray:
    return np.column_stack([place, pool])


# --- the weights ------------------------------------------------------------------------------

def test_known_weights_are_recovered_when_the_place_is_a_mix_of_two_donors():
    pool = random_walks(10, 15, seed=1)
    truth = np.zeros(10)
    truth[1], truth[3] = 0.6, 0.4
    w = cf.synthetic_weights(pool @ truth, pool)
    assert w == pytest.approx(truth, abs=1e-4)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 25), t=st.integers(2, 12),
       scale=st.sampled_from([1e-3, 1.0, 1e5]))
def test_weights_are_non_negative_and_sum_to_one_on_any_scale(seed, n, t, scale):
    rng = np.random.default_rng(seed)
    pool = rng.normal(0, 1, (t, n)) * scale + 3 * scale
    w = cf.synthetic_weights(rng.normal(0, 1, t) * scale + 3 * scale, pool)
    assert np.all(w >= 0)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)


def test_a_place_above_every_donor_gets_the_highest_donor():
    pool = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    assert cf.synthetic_weights(np.array([9.0, 9.0]), pool) == pytest.approx([0, 0, 1], abs=1e-6)


def test_the_synthetic_control_reports_the_known_weights_by_donor_code():
    pool = random_walks(12, 14, seed=2)
    truth = np.zeros(12)
    truth[0], truth[5], truth[7] = 0.5, 0.3, 0.2
    result = cf.synthetic_control(frame(with_place(pool @ truth, pool), list(range(2006, 2020)), [PLACE, *donors(12)]),
                                  PLACE, donors(12), 2016)
    codes = donors(12)
    assert result.weights == pytest.approx({codes[0]: 0.5, codes[5]: 0.3, codes[7]: 0.2}, abs=2e-3)
    assert result.pre_rmspe == pytest.approx(0, abs=1e-6)
    assert result.estimate == pytest.approx(0, abs=1e-6)


# --- periods ------------------------------------------------------------------------------------

def test_pre_excludes_a_pooled_period_that_straddles_the_start():
    starts = pd.to_datetime(["2013-01-01", "2016-01-01", "2017-01-01", "2019-01-01"])
    ends = pd.to_datetime(["2015-12-31", "2018-12-31", "2019-12-31", "2021-12-31"])
    pre, post, straddling = cf.select_periods(starts, ends, 2019)
    assert pre.tolist() == [True, True, False, False]   # 2017-19 ends after the start: not pre
    assert post.tolist() == [False, False, False, True]
    assert straddling == 1


def test_rolling_three_year_periods_are_thinned_to_non_overlapping_ones_from_the_start_outwards():
    starts = pd.to_datetime([f"{y}-01-01" for y in range(2008, 2021)])
    ends = pd.to_datetime([f"{y + 2}-12-31" for y in range(2008, 2021)])
    pre, post, straddling = cf.select_periods(starts, ends, "2018-01-01")
    assert [d.year for d in starts[pre]] == [2009, 2012, 2015]      # 2015-17 is the last wholly before
    assert [d.year for d in starts[post]] == [2018]                 # 2018-20; 2019-21, 2020-22 overlap it
    assert straddling == 2                                          # 2016-18 and 2017-19
    assert not (pre & post).any()


def test_point_periods_without_an_end_split_at_the_start():
    pre, post, straddling = cf.select_periods(pd.to_datetime(["2017-04-01", "2018-04-01", "2019-04-01"]), None,
                                              "2018-04-01")
    assert pre.tolist() == [True, False, False] and post.tolist() == [False, True, True] and straddling == 0


def test_straddling_periods_are_left_out_of_the_panel_and_counted():
    rows = []
    rng = np.random.default_rng(4)
    for k, code in enumerate([PLACE, *donors(10)]):
        for first in (2007, 2010, 2013, 2016, 2019):
            rows.append({"areacd": code, "period_start": dt.date(first, 1, 1), "period_end": dt.date(first + 2, 12, 31),
                         "value": 10 + k + rng.normal(0, 0.1)})
    result = cf.synthetic_control(pd.DataFrame(rows), PLACE, donors(10), 2018)
    assert (result.pre_periods, result.post_periods, result.straddling_periods) == (3, 1, 1)
    assert "spanning 2018-01-01 left out" in result.note


# --- placebo inference and the verdict ----------------------------------------------------------

YEARS = list(range(2006, 2022))   # 13 pre (to 2018), 3 post


def panel_with_effect(effect: float, n_donors: int = 19, seed: int = 0, fit_noise: float = 0.3) -> pd.DataFrame:
    """A place that is a mix of donors plus noise before 2019, shifted by `effect` from 2019."""
    pool = random_walks(n_donors, len(YEARS), seed=seed)
    rng = np.random.default_rng(seed + 1)
    w = rng.dirichlet(np.ones(n_donors))
    place = pool @ w + rng.normal(0, fit_noise, len(YEARS)) + effect * (np.array(YEARS) >= 2019)
    return frame(with_place(place, pool), YEARS, [PLACE, *donors(n_donors)])


def test_a_large_rise_ranks_first_among_the_placebos_and_is_better_than_similar_places():
    result = cf.synthetic_control(panel_with_effect(8.0), PLACE, donors(19), 2019)
    assert result.p_value == pytest.approx(1 / 20)
    assert result.pre_fit_ok
    assert result.estimate == pytest.approx(8.0, abs=1.0)
    assert result.lci > 0
    assert result.verdict == "better than similar places"


def test_the_same_rise_is_worse_when_lower_is_better_and_higher_when_neutral():
    panel = panel_with_effect(8.0)
    assert cf.synthetic_control(panel, PLACE, donors(19), 2019, "lower_is_better").verdict == "worse than similar places"
    assert cf.synthetic_control(panel, PLACE, donors(19), 2019, "neutral").verdict == "higher than similar places"


def test_no_effect_is_no_clear_difference_with_the_estimate_and_its_range():
    result = cf.synthetic_control(panel_with_effect(0.0, seed=5), PLACE, donors(19), 2019)
    assert result.verdict == "no clear difference from similar places"
    assert result.p_value > cf.P_THRESHOLD
    assert result.lci < result.estimate < result.uci


def test_a_poor_pre_period_fit_blocks_the_verdict_however_large_the_gap():
    pool = random_walks(19, len(YEARS), seed=3)
    rng = np.random.default_rng(9)
    # Far above every donor and zig-zagging: no convex mix of donors can follow it.
    place = pool.max(axis=1) + 20 + 6 * rng.choice([-1, 1], len(YEARS)) + 30 * (np.array(YEARS) >= 2019)
    result = cf.synthetic_control(frame(with_place(place, pool), YEARS, [PLACE, *donors(19)]), PLACE, donors(19), 2019)
    assert result.pre_fit_ok is False and result.pre_fit_ratio > cf.PRE_FIT_MULTIPLE
    assert result.verdict == "no clear difference from similar places"
    assert "Pre-period fit fails" in result.note


def test_permutation_p_is_the_places_rank_with_ties_counting_against_it():
    assert cf.permutation_p(np.array([5.0, 1.0, 2.0, 3.0])) == 0.25
    assert cf.permutation_p(np.array([2.0, 1.0, 2.0, 3.0])) == 0.75
    assert cf.permutation_p(np.array([0.0, 1.0, 2.0, 3.0])) == 1.0


def test_the_placebo_rule_is_not_over_confident_when_nothing_happens():
    """No effect: p ≤ 0.10 in at most its nominal share of fits (with slack for 40 runs), verdicts in no more."""
    p_small = claims = 0
    runs = 40
    for seed in range(runs):
        result = cf.synthetic_control(panel_with_effect(0.0, seed=seed, fit_noise=1.0), PLACE, donors(19), 2019)
        p_small += result.p_value <= cf.P_THRESHOLD
        claims += result.claims_difference
    assert p_small / runs <= 0.2
    assert claims <= p_small


def test_fewer_than_nine_donors_is_too_little_data_naming_the_smallest_p():
    result = cf.synthetic_control(panel_with_effect(8.0, n_donors=8), PLACE, donors(8), 2019)
    assert result.verdict == "too little data"
    assert result.estimate is None and result.p_value is None
    assert "1/9" in result.note


def test_too_few_pre_periods_is_too_little_data():
    panel = panel_with_effect(1.0)
    panel = panel[pd.to_datetime(panel["period_start"]).dt.year >= 2017]
    result = cf.synthetic_control(panel, PLACE, donors(19), 2019)
    assert result.verdict == "too little data" and "2 separate periods" in result.note


def test_a_donor_with_a_gap_leaves_the_pool_and_the_place_is_never_its_own_donor():
    panel = panel_with_effect(1.0)
    gap = (panel["areacd"] == donors(19)[0]) & (pd.to_datetime(panel["period_start"]).dt.year == 2010)
    result = cf.synthetic_control(panel[~gap], PLACE, [PLACE, *donors(19)], 2019)
    assert result.n_donors == 18
    assert PLACE not in result.weights and donors(19)[0] not in result.weights
    assert "1 place with gaps left out" in result.note


def test_unknown_polarity_is_refused():
    with pytest.raises(ValueError, match="polarity"):
        cf.synthetic_control(panel_with_effect(1.0), PLACE, donors(19), 2019, "up")
