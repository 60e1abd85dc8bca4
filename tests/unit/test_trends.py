"""Unit tests for indicators.trends: point change, recent OLS trend, projection, vectorised trends."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from indicators.trends import (
    Change,
    Projection,
    Trend,
    change,
    period_to_year,
    project,
    trend,
    trend_many,
    worse_and_worsening,
)

YEARS5 = np.array([2019.0, 2020.0, 2021.0, 2022.0, 2023.0])
HAND = np.array([10.0, 12.0, 13.0, 15.0, 16.0])
# A noisy series with no real direction: residual scatter swamps the tiny slope.
NOISY_FLAT = np.array([50.0, 53.0, 49.0, 52.0, 50.5])
# A noisy but clearly rising series, for interval comparisons.
NOISY_RISING = np.array([10.0, 12.5, 12.0, 15.5, 15.0])


# --------------------------------------------------------------------------- period_to_year
def test_period_start_dates_become_decimal_years_so_financial_and_academic_years_line_up():
    dates = pd.Series(pd.to_datetime(["2023-01-01", "2023-04-01", "2024-09-01", None]))
    got = period_to_year(dates)
    assert got[0] == 2023.0
    assert got[1] == pytest.approx(2023 + 90 / 365)  # 2023-04-01 is day 91 of a 365-day year
    assert got[2] == pytest.approx(2024 + 244 / 366)  # 2024 is a leap year
    assert math.isnan(got[3])


def test_period_to_year_accepts_numpy_datetimes():
    got = period_to_year(np.array(["2021-01-01", "2022-04-01"], dtype="datetime64[D]"))
    np.testing.assert_allclose(got, [2021.0, 2022 + 90 / 365])


# --------------------------------------------------------------------------- trend: hand-worked OLS
def test_ols_slope_intercept_and_ci_match_the_hand_worked_closed_form():
    # x̄ = 2021, ȳ = 66/5 = 13.2; dx = -2,-1,0,1,2 so Sxx = 4+1+0+1+4 = 10.
    # dy = -3.2,-1.2,-0.2,1.8,2.8 so Sxy = 6.4+1.2+0+1.8+5.6 = 15 and b = 15/10 = 1.5.
    # Intercept on the raw-year scale: a = ȳ - b·x̄ = 13.2 - 1.5·2021 = -3018.3.
    # Fitted 10.2, 11.7, 13.2, 14.7, 16.2 → residuals -0.2, 0.3, -0.2, 0.3, -0.2
    # RSS = 0.04+0.09+0.04+0.09+0.04 = 0.30; s² = RSS/(n-2) = 0.30/3 = 0.1; SE = sqrt(0.1/10) = 0.1.
    sxx, rss, n, b = 10.0, 0.30, 5, 1.5
    se = math.sqrt((rss / (n - 2)) / sxx)
    half = stats.t.ppf(0.975, 3) * se  # t(0.975, 3) = 3.18245
    t = trend(YEARS5, HAND, "higher_is_better")
    assert isinstance(t, Trend)
    assert t.n_points == 5 and t.first_year == 2019.0 and t.last_year == 2023.0
    assert t.slope == pytest.approx(b, abs=1e-12)
    assert t.intercept == pytest.approx(13.2 - 1.5 * 2021, abs=1e-9)
    assert se == pytest.approx(0.1)
    assert t.slope_lci == pytest.approx(b - half, abs=1e-12)
    assert t.slope_uci == pytest.approx(b + half, abs=1e-12)
    assert t.p_value == pytest.approx(2 * stats.t.sf(b / se, 3), rel=1e-9)
    assert t.verdict == "improving"


def test_only_the_most_recent_five_points_are_used():
    years = np.arange(2017.0, 2024.0)
    # Two early points far off the line would change the slope if they were used.
    values = np.concatenate([[100.0, -100.0], HAND])
    t = trend(years, values, "higher_is_better")
    assert t.n_points == 5 and t.first_year == 2019.0
    assert t.slope == pytest.approx(1.5)
    assert t.slope_lci == pytest.approx(trend(YEARS5, HAND, "higher_is_better").slope_lci)


def test_points_are_sorted_by_year_before_the_recent_window_is_taken():
    years = np.array([2023.0, 2017.0, 2021.0, 2019.0, 2018.0, 2022.0, 2020.0])
    values = np.array([16.0, 100.0, 13.0, 10.0, -100.0, 15.0, 12.0])
    assert trend(years, values, "higher_is_better").slope == pytest.approx(1.5)


def test_verdict_flips_with_polarity_and_neutral_only_says_which_way():
    assert trend(YEARS5, HAND, "higher_is_better").verdict == "improving"
    assert trend(YEARS5, HAND, "lower_is_better").verdict == "worsening"
    assert trend(YEARS5, HAND, "neutral").verdict == "increasing"
    assert trend(YEARS5, -HAND, "lower_is_better").verdict == "improving"
    assert trend(YEARS5, -HAND, "neutral").verdict == "decreasing"


def test_noisy_flat_series_is_no_significant_change():
    t = trend(YEARS5, NOISY_FLAT, "higher_is_better")
    assert t.slope_lci < 0 < t.slope_uci
    assert t.p_value > 0.05
    assert t.verdict == "no significant change"
    assert trend(YEARS5, NOISY_FLAT, "neutral").verdict == "no significant change"


def test_two_points_give_a_slope_but_no_interval_and_too_few_points():
    t = trend([2020.0, 2022.0], [10.0, 14.0], "higher_is_better")
    assert t.n_points == 2 and t.slope == pytest.approx(2.0)
    assert t.intercept == pytest.approx(10.0 - 2.0 * 2020)
    assert t.slope_lci is None and t.slope_uci is None and t.p_value is None
    assert t.verdict == "too few points"


@pytest.mark.parametrize("years,values", [([], []), ([2020.0], [5.0]), ([2020.0, 2021.0], [np.nan, 5.0])])
def test_fewer_than_two_points_give_no_slope(years, values):
    t = trend(years, values, "lower_is_better")
    assert t.slope is None and t.slope_lci is None and t.intercept is None and t.p_value is None
    assert t.verdict == "too few points"
    assert t.n_points == len([v for v in values if not math.isnan(v)])


def test_suppressed_values_are_dropped_not_treated_as_zero():
    years = np.array([2018.0, 2019.0, 2020.0, 2021.0, 2022.0, 2023.0])
    values = np.array([9.0, 10.0, np.nan, 13.0, 15.0, 16.0])
    t = trend(years, values, "higher_is_better")
    # Window = last five *present* points: 2018, 2019, 2021, 2022, 2023.
    assert t.n_points == 5 and t.first_year == 2018.0
    expected = np.polyfit(years[~np.isnan(values)], values[~np.isnan(values)], 1)[0]
    assert t.slope == pytest.approx(expected)


def test_exact_linear_series_is_significant_with_a_zero_width_interval():
    t = trend(YEARS5, 2.0 * YEARS5 - 4000.0, "lower_is_better")
    assert t.slope == pytest.approx(2.0)
    assert t.slope_uci - t.slope_lci == pytest.approx(0.0, abs=1e-9)
    assert t.verdict == "worsening"


def test_constant_series_is_no_significant_change():
    t = trend(YEARS5, np.full(5, 7.0), "higher_is_better")
    assert t.slope == 0.0 and t.verdict == "no significant change"


def test_unknown_polarity_and_bad_options_are_refused():
    with pytest.raises(ValueError, match="polarity"):
        trend(YEARS5, HAND, "up")
    with pytest.raises(ValueError, match="max_points"):
        trend(YEARS5, HAND, "neutral", max_points=1)
    with pytest.raises(ValueError, match="alpha"):
        trend(YEARS5, HAND, "neutral", alpha=0.0)


# --------------------------------------------------------------------------- project
def test_exact_linear_series_projects_exactly_with_zero_width_intervals():
    p = project(YEARS5, 3.0 * (YEARS5 - 2019.0) + 20.0, 2030.0)
    assert isinstance(p, Projection)
    assert p.year == 2030.0 and p.n_points == 5
    assert p.value == pytest.approx(20.0 + 3.0 * 11)
    assert p.pi_upper - p.pi_lower == pytest.approx(0.0, abs=1e-8)
    assert p.ci_upper - p.ci_lower == pytest.approx(0.0, abs=1e-8)


def test_prediction_interval_contains_and_is_wider_than_the_mean_ci():
    p = project(YEARS5, NOISY_RISING, 2027.0)
    t = trend(YEARS5, NOISY_RISING, "higher_is_better")
    assert p.value == pytest.approx(t.intercept + t.slope * 2027.0)
    assert p.pi_lower < p.ci_lower < p.value < p.ci_upper < p.pi_upper
    assert (p.pi_upper - p.pi_lower) > (p.ci_upper - p.ci_lower)


def test_hand_worked_projection_matches_the_closed_form_prediction_interval():
    # Same data as the hand-worked trend: at x0 = 2025, ŷ = 13.2 + 1.5·4 = 19.2;
    # prediction SE = s·sqrt(1 + 1/n + (x0-x̄)²/Sxx) = sqrt(0.1)·sqrt(1 + 0.2 + 1.6).
    p = project(YEARS5, HAND, 2025.0)
    half = stats.t.ppf(0.975, 3) * math.sqrt(0.1) * math.sqrt(1 + 1 / 5 + 16 / 10)
    assert p.value == pytest.approx(19.2)
    assert p.pi_lower == pytest.approx(19.2 - half) and p.pi_upper == pytest.approx(19.2 + half)
    mean_half = stats.t.ppf(0.975, 3) * math.sqrt(0.1) * math.sqrt(1 / 5 + 16 / 10)
    assert p.ci_lower == pytest.approx(19.2 - mean_half)


def test_projection_with_two_points_is_the_straight_line_without_intervals():
    p = project([2020.0, np.nan, 2022.0], [10.0, 11.0, 14.0], 2025.0)
    assert p.n_points == 2 and p.value == pytest.approx(20.0)
    assert p.pi_lower is None and p.pi_upper is None and p.ci_lower is None and p.ci_upper is None


def test_projection_with_one_point_has_no_value():
    p = project([2020.0], [10.0], 2025.0)
    assert p.value is None and p.n_points == 1


def test_projection_uses_only_the_recent_window():
    years = np.arange(2017.0, 2024.0)
    values = np.concatenate([[100.0, -100.0], HAND])
    assert project(years, values, 2025.0).value == pytest.approx(19.2)


# --------------------------------------------------------------------------- trend_many
def _as_nan(v: float | None) -> float:
    return np.nan if v is None else v


def test_trend_many_agrees_with_statsmodels_trend_on_random_series_with_gaps():
    rng = np.random.default_rng(20240501)
    n_series, n_years = 60, 9
    years = np.arange(2015.0, 2015.0 + n_years) + 0.2466  # financial years
    slopes = rng.normal(0.0, 1.0, n_series)[:, None]
    values = 50.0 + slopes * (years - years[0]) + rng.normal(0.0, 1.5, (n_series, n_years))
    values[rng.random(values.shape) < 0.3] = np.nan
    values[0, :] = np.nan                       # no points
    values[1, :-1] = np.nan                     # one point
    values[2, :] = np.nan; values[2, [1, 6]] = [3.0, 5.0]          # two points
    values[3, :] = np.nan; values[3, [0, 4, 8]] = [1.0, 2.0, 4.0]  # three points
    values[4, :] = 7.0                          # constant
    values[5, :] = 2.0 * years                  # exact line
    polarity = rng.choice(["higher_is_better", "lower_is_better", "neutral"], n_series)

    got = trend_many(years, values, polarity)
    assert list(got.columns) == ["n_points", "slope", "slope_lci", "slope_uci", "verdict", "weighted", "real_terms"]
    assert list(got.index) == list(range(n_series))
    expected = [trend(years, values[i], polarity[i]) for i in range(n_series)]
    np.testing.assert_array_equal(got["n_points"].to_numpy(), [e.n_points for e in expected])
    for col in ("slope", "slope_lci", "slope_uci"):
        np.testing.assert_allclose(got[col].to_numpy(), [_as_nan(getattr(e, col)) for e in expected],
                                   rtol=1e-9, atol=1e-9, equal_nan=True)
    assert got["verdict"].tolist() == [e.verdict for e in expected]
    assert got.loc[:2, "n_points"].tolist() == [0, 1, 2]
    assert set(got.loc[:2, "verdict"]) == {"too few points"}
    assert math.isnan(got.loc[2, "slope_lci"]) and got.loc[2, "slope"] == pytest.approx(0.4)
    assert got.loc[3, "n_points"] == 3 and np.isfinite(got.loc[3, "slope_lci"])
    assert (got.loc[4, ["slope", "slope_lci", "slope_uci"]] == 0.0).all()
    assert got.loc[4, "verdict"] == "no significant change"


def test_trend_many_takes_one_polarity_for_all_rows_and_keeps_the_last_five():
    years = np.arange(2017.0, 2024.0)
    values = np.vstack([np.concatenate([[100.0, -100.0], HAND]), np.concatenate([[0.0, 0.0], -HAND])])
    got = trend_many(years, values, "lower_is_better")
    np.testing.assert_allclose(got["slope"], [1.5, -1.5])
    assert got["verdict"].tolist() == ["worsening", "improving"]


def test_trend_many_handles_an_unsorted_year_axis():
    order = np.array([3, 0, 4, 1, 2])
    got = trend_many(YEARS5[order], HAND[order][None, :], "higher_is_better")
    assert got.loc[0, "slope"] == pytest.approx(1.5)


def test_trend_many_refuses_mismatched_shapes_and_polarities():
    with pytest.raises(ValueError, match="shape"):
        trend_many(YEARS5, np.zeros((3, 4)), "neutral")
    with pytest.raises(ValueError, match="length"):
        trend_many(YEARS5, np.zeros((3, 5)), np.array(["neutral"] * 2))
    with pytest.raises(ValueError, match="polarity"):
        trend_many(YEARS5, np.zeros((1, 5)), "sideways")


# --------------------------------------------------------------------------- properties
# Integer-valued series keep the arithmetic exact enough that only the transformation under
# test, not float rounding, could change a verdict; borderline cases (a CI bound within
# rounding of zero) are excluded because a verdict there is legitimately unstable.
series = st.lists(st.integers(-1000, 1000), min_size=3, max_size=7).map(lambda v: np.array(v, dtype=float))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
FLIP = {"improving": "worsening", "worsening": "improving"}


def _years(values: np.ndarray) -> np.ndarray:
    return np.arange(2010.0, 2010.0 + values.size)


def _stable(t: Trend) -> bool:
    """False for a constant series or a CI bound within rounding of zero."""
    if t.slope is None or t.slope_lci is None:
        return True
    scale = abs(t.slope) + abs(t.slope_uci - t.slope_lci)
    return scale > 1e-9 and min(abs(t.slope_lci), abs(t.slope_uci)) > 1e-7 * scale


@FAST
@given(values=series)
def test_property_flipping_polarity_swaps_improving_and_worsening(values):
    up = trend(_years(values), values, "higher_is_better")
    down = trend(_years(values), values, "lower_is_better")
    assert down.verdict == FLIP.get(up.verdict, up.verdict)
    assert down.slope == up.slope


@FAST
@given(values=series, shift=st.integers(-10_000, 10_000))
def test_property_adding_a_constant_changes_neither_slope_nor_verdict(values, shift):
    before = trend(_years(values), values, "higher_is_better")
    assume(_stable(before))
    after = trend(_years(values), values + shift, "higher_is_better")
    assert after.slope == pytest.approx(before.slope, abs=1e-8)
    assert after.verdict == before.verdict


@FAST
@given(values=series, factor=st.floats(0.01, 100.0))
def test_property_scaling_by_a_positive_constant_scales_the_slope_and_keeps_the_verdict(values, factor):
    before = trend(_years(values), values, "lower_is_better")
    assume(_stable(before))
    after = trend(_years(values), values * factor, "lower_is_better")
    assert after.slope == pytest.approx(before.slope * factor, rel=1e-9, abs=1e-8)
    assert after.verdict == before.verdict


@FAST
@given(values=series)
def test_property_trend_many_matches_trend(values):
    got = trend_many(_years(values), values[None, :], "neutral").iloc[0]
    want = trend(_years(values), values, "neutral")
    assert got["verdict"] == want.verdict or not _stable(want)
    assert got["slope"] == pytest.approx(want.slope, abs=1e-8)


# --------------------------------------------------------------------------- change
def test_change_relative_is_none_for_a_zero_baseline():
    c = change(0.0, 5.0, "higher_is_better")
    assert isinstance(c, Change)
    assert c.absolute == 5.0 and c.relative is None and c.direction == "improved"


def test_change_relative_keeps_the_sign_of_the_absolute_change():
    assert change(50.0, 55.0, "neutral").relative == pytest.approx(0.1)
    assert change(-50.0, -40.0, "neutral").relative == pytest.approx(0.2)


@pytest.mark.parametrize("baseline,latest,polarity,direction", [
    (10.0, 12.0, "higher_is_better", "improved"),
    (10.0, 8.0, "higher_is_better", "worsened"),
    (10.0, 12.0, "lower_is_better", "worsened"),
    (10.0, 8.0, "lower_is_better", "improved"),
    (10.0, 12.0, "neutral", "increased"),
    (10.0, 8.0, "neutral", "decreased"),
    (10.0, 10.0, "higher_is_better", "no change"),
    (10.0, 10.0, "neutral", "no change"),
])
def test_change_direction_follows_polarity(baseline, latest, polarity, direction):
    assert change(baseline, latest, polarity).direction == direction


@pytest.mark.parametrize("baseline,latest", [(np.nan, 5.0), (5.0, np.nan), (np.nan, np.nan)])
def test_change_with_a_missing_value_is_not_assessed(baseline, latest):
    c = change(baseline, latest, "lower_is_better")
    assert c.direction == "not assessed" and c.relative is None and math.isnan(c.absolute)


def test_change_refuses_an_unknown_polarity():
    with pytest.raises(ValueError):
        change(1.0, 2.0, "more")


# --------------------------------------------------------------------------- worse and worsening
@pytest.mark.parametrize("significance,verdict,flag", [
    ("worse", "worsening", True),
    ("worse", "improving", False),
    ("worse", "no significant change", False),
    ("worse", "too few points", False),
    ("similar", "worsening", False),
    ("better", "worsening", False),
    ("not compared", "worsening", False),
])
def test_worse_and_worsening_truth_table(significance, verdict, flag):
    assert worse_and_worsening(significance, verdict) is flag


# --------------------------------------------------------------------------- Fingertips' rules
from indicators.trends import (  # noqa: E402
    Deflator,
    feasible_bounds,
    gdp_deflator,
    non_overlapping,
    period_length_years,
    project_path,
    reach_probability,
    truncated_interval,
)

SIMULATIONS = 20_000


def _flag_rate(frame: pd.DataFrame) -> float:
    return float(frame["verdict"].isin(["improving", "worsening"]).mean())


def test_a_no_trend_series_of_rolling_three_year_means_is_flagged_at_most_six_percent_of_the_time():
    # 17 years of pure noise → 15 overlapping 3-year means (2005–07 … 2019–21). Through the last five
    # overlapping means the old test flagged about a fifth of them; thinned to non-overlapping
    # periods the points are independent and the test keeps its 5% size.
    rng = np.random.default_rng(11)
    noise = rng.normal(0.0, 1.0, (SIMULATIONS, 17))
    rolling = (noise[:, :-2] + noise[:, 1:-1] + noise[:, 2:]) / 3.0
    starts = np.arange(2005.0, 2020.0)
    thinned = trend_many(starts, rolling, "higher_is_better", length=3.0)
    assert (thinned["n_points"] == 5).all()
    rate = _flag_rate(thinned)
    overlapping = _flag_rate(trend_many(starts, rolling, "higher_is_better", length=0.0))
    assert rate <= 0.06, rate
    assert overlapping > 0.15, overlapping  # what ignoring the overlap did


def test_an_independent_no_trend_series_is_flagged_about_five_percent_of_the_time():
    rng = np.random.default_rng(12)
    values = rng.normal(50.0, 2.0, (SIMULATIONS, 8))
    rate = _flag_rate(trend_many(np.arange(2016.0, 2024.0), values, "lower_is_better", length=1.0))
    assert 0.044 <= rate <= 0.056, rate


def test_an_independent_no_trend_series_with_cis_is_flagged_about_five_percent_of_the_time_by_wls():
    # Each point has its own sampling error, published as a CI: weighted least squares keeps the size.
    rng = np.random.default_rng(13)
    se = rng.uniform(0.5, 3.0, (SIMULATIONS, 6))
    values = 40.0 + rng.normal(0.0, 1.0, se.shape) * se
    got = trend_many(np.arange(2018.0, 2024.0), values, "higher_is_better",
                     lci=values - 1.96 * se, uci=values + 1.96 * se, length=1.0)
    assert got["weighted"].all()
    assert 0.044 <= _flag_rate(got) <= 0.056


def test_period_lengths_come_from_the_dates_or_the_iso_duration():
    got = period_length_years(
        starts=["2011-01-01", "2023-04-01", "2023-04-19", None, None],
        ends=["2013-12-31", "2024-03-31", "2023-04-19", None, None],
        codes=["2011-01-01/P3Y", "2023-04-01/P1Y", "2023-04-19", "2020-01-01/P5Y", "2024"])
    np.testing.assert_allclose(got, [3.0, 1.0, 0.0, 5.0, 1.0], atol=0.01)


def test_rolling_three_year_periods_are_thinned_to_every_third_counting_back_from_the_latest():
    starts = np.arange(2011.0, 2023.0)  # 2011–13 … 2022–24
    kept = starts[non_overlapping(starts, 3.0)]
    np.testing.assert_array_equal(kept, [2013.0, 2016.0, 2019.0, 2022.0])
    t = trend(starts, np.arange(12.0), "higher_is_better", length=3.0)
    assert t.n_points == 4 and t.verdict == "too few points"  # Fingertips needs five


def test_financial_years_touch_but_do_not_overlap():
    starts = period_to_year(pd.Series(pd.to_datetime([f"{y}-04-01" for y in range(2015, 2024)])))
    assert non_overlapping(starts, 1.0).all()


def test_fewer_than_five_points_give_a_slope_but_never_a_direction():
    t = trend(YEARS5[1:], HAND[1:], "higher_is_better")
    assert t.n_points == 4 and t.slope == pytest.approx(1.4) and t.slope_lci is not None
    assert t.verdict == "too few points"
    assert trend_many(YEARS5[1:], HAND[None, 1:], "higher_is_better").loc[0, "verdict"] == "too few points"


def test_weighted_least_squares_from_cis_matches_statsmodels_wls():
    import statsmodels.api as sm

    se = np.array([0.5, 1.0, 2.0, 0.8, 0.4])
    t = trend(YEARS5, NOISY_RISING, "higher_is_better", lci=NOISY_RISING - 1.96 * se, uci=NOISY_RISING + 1.96 * se)
    fit = sm.WLS(NOISY_RISING, sm.add_constant(YEARS5 - 2021), weights=1 / se**2).fit()
    assert t.weighted
    assert t.slope == pytest.approx(fit.params[1], rel=1e-9)
    lo, hi = fit.conf_int(0.05)[1]
    assert (t.slope_lci, t.slope_uci) == (pytest.approx(lo, rel=1e-9), pytest.approx(hi, rel=1e-9))
    got = trend_many(YEARS5, NOISY_RISING[None, :], "higher_is_better", lci=(NOISY_RISING - 1.96 * se)[None, :],
                     uci=(NOISY_RISING + 1.96 * se)[None, :])
    assert got.loc[0, "weighted"] and got.loc[0, "slope_lci"] == pytest.approx(lo, rel=1e-9)


def test_a_series_with_some_cis_missing_falls_back_to_ols():
    lci = NOISY_RISING - 1.0
    lci[2] = np.nan
    t = trend(YEARS5, NOISY_RISING, "higher_is_better", lci=lci, uci=NOISY_RISING + 1.0)
    assert not t.weighted
    assert t.slope == pytest.approx(trend(YEARS5, NOISY_RISING, "higher_is_better").slope)


def _gdp_frame(years, current, volume, area="K02000001") -> pd.DataFrame:
    rows = []
    for ind, vals in (("gross-domestic-product-per-head-at-current-market-price", current),
                      ("gross-domestic-product-per-head-in-chained-volume-measure", volume)):
        rows += [{"indicator_id": ind, "areacd": area, "areanm": "United Kingdom", "period_start": f"{y}-01-01",
                  "value": v} for y, v in zip(years, vals)]
    return pd.DataFrame(rows)


def test_the_gdp_deflator_is_current_over_chained_volume_rebased_to_its_latest_year():
    d = gdp_deflator(_gdp_frame([2020, 2021, 2022], [100.0, 110.0, 121.0], [100.0, 100.0, 100.0]))
    assert d is not None and d.base_year == 2022
    np.testing.assert_allclose(d.index, [100 / 121, 110 / 121, 1.0])
    np.testing.assert_allclose(d.factor([2020.5, 2022.5]), [1.21, 1.0])
    assert math.isnan(d.factor([2023.5])[0])  # beyond the data: never extrapolated
    assert gdp_deflator(_gdp_frame([2020], [1.0], [1.0]).iloc[:0]) is None


def test_money_that_only_keeps_up_with_inflation_has_no_real_trend():
    years = np.arange(2015.0, 2023.0)
    prices = 1.05 ** (years - 2015)
    d = Deflator(years, prices / prices[-1], 2022, "test deflator")
    pay = 500.0 * prices * (1 + 0.001 * np.array([1, -1, 1, -1, 1, -1, 1, -1]))
    nominal = trend(years, pay, "higher_is_better")
    real = trend(years, pay, "higher_is_better", money=True, deflator=d)
    assert nominal.verdict == "improving"
    assert real.verdict == "no significant change" and real.real_terms is True and "real terms" in real.note
    cash = trend(years, pay, "higher_is_better", money=True)
    assert cash.real_terms is False and "cash terms" in cash.note and cash.verdict == "improving"
    many = trend_many(years, pay[None, :], "higher_is_better", money=True, deflator=d)
    assert many.loc[0, "verdict"] == real.verdict and many.loc[0, "real_terms"] is True
    assert many.loc[0, "slope"] == pytest.approx(real.slope)


def test_money_periods_beyond_the_deflator_are_left_out_and_the_note_says_so():
    d = Deflator(np.arange(2015.0, 2021.0), np.ones(6), 2020, "flat")
    t = trend(np.arange(2015.0, 2023.0), np.arange(8.0), "higher_is_better", money=True, deflator=d,
              length=1.0)
    assert t.last_year == 2020.0 and "2 period(s) after 2020 left out" in t.note


def test_trend_many_matches_trend_with_cis_lengths_and_money():
    rng = np.random.default_rng(5)
    years = np.arange(2008.0, 2024.0)
    values = 30 + rng.normal(0, 1, (40, years.size)).cumsum(axis=1)
    values[rng.random(values.shape) < 0.2] = np.nan
    half = rng.uniform(0.5, 2.0, values.shape)
    half[:20, :] = np.nan  # half the rows have no CIs
    length = np.where(np.arange(40) % 2 == 0, 1.0, 3.0)
    money = np.arange(40) % 3 == 0
    d = Deflator(np.arange(2005.0, 2022.0), np.linspace(0.7, 1.0, 17), 2021, "test")
    got = trend_many(years, values, "higher_is_better", lci=values - half, uci=values + half, length=length,
                     money=money, deflator=d)
    for i in range(40):
        want = trend(years, values[i], "higher_is_better", lci=values[i] - half[i], uci=values[i] + half[i],
                     length=length[i], money=bool(money[i]), deflator=d)
        assert got.loc[i, "n_points"] == want.n_points
        assert got.loc[i, "verdict"] == want.verdict
        assert got.loc[i, "slope"] == pytest.approx(_as_nan(want.slope), nan_ok=True, rel=1e-9, abs=1e-9)
        assert got.loc[i, "slope_lci"] == pytest.approx(_as_nan(want.slope_lci), nan_ok=True, rel=1e-9, abs=1e-9)


# --------------------------------------------------------------------------- predictive distribution
def test_the_projected_value_itself_is_reached_half_the_time():
    p = project(YEARS5, NOISY_RISING, 2026)
    assert reach_probability(p.value, p.se, p.df, p.value, +1) == pytest.approx(0.5)
    assert reach_probability(p.value, p.se, p.df, p.pi_upper, +1) == pytest.approx(0.025)
    assert reach_probability(p.value, p.se, p.df, p.pi_upper, -1) == pytest.approx(0.975)


def test_bounds_cut_the_interval_and_the_probability():
    # a projected rate near zero: without bounds the interval runs negative
    value, se, df = 1.0, 2.0, 3
    lo, hi = truncated_interval(value, se, df, (0.0, math.inf))
    assert float(lo) >= 0.0 and float(hi) > 1.0
    assert reach_probability(value, se, df, -1.0, -1, (0.0, math.inf)) == 0.0  # below zero is impossible
    assert reach_probability(value, se, df, 0.0, +1, (0.0, math.inf)) == pytest.approx(1.0)
    assert reach_probability(99.0, 5.0, 4, 101.0, +1, (0.0, 100.0)) == 0.0
    path = project_path(YEARS5, HAND - 12.0, [2024.0, 2030.0], bounds=(0.0, 100.0))
    assert (path[["value", "pi_lower", "pi_upper"]].to_numpy() >= 0).all()


@pytest.mark.parametrize("unit, bounds", [("%", (0.0, 100.0)), ("Score out of 10", (0.0, 10.0)),
                                          ("Rate per 100,000 population", (0.0, math.inf)), ("£", (0.0, math.inf)),
                                          ("Net additional dwellings per 1,000 stock", (-math.inf, math.inf))])
def test_feasible_bounds_by_unit(unit, bounds):
    assert feasible_bounds(unit) == bounds


def test_observed_values_outside_a_bound_widen_it():
    assert feasible_bounds("%", [-3.0, 50.0]) == (-3.0, 100.0)
