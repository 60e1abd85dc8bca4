"""Unit tests for indicators.scoring: every method against hand-worked numbers on tiny arrays.

The arithmetic behind each expected number is written next to it, so a reader can check the
test without running it. Property tests (hypothesis) keep their example counts small.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from indicators.errors import IndicatorError
from indicators.scoring import (
    COVERAGE_RULE,
    DEFAULT_WEIGHTS,
    Z95,
    Z998,
    combine_pillars,
    min_rank,
    derived_998,
    parse_weights,
    percentile_rank,
    pillar_scores,
    effective_weights,
    group_min_rank,
    prob_ranks_above,
    rank_draws,
    rank_intervals,
    reference_params,
    ranks,
    significance,
    standardise,
)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAN = np.nan
# 1/sqrt(2/3): the z of a value one unit from the mean of [1, 2, 3] (population SD = sqrt(2/3) = 0.81650)
Z_ONE = 1.224744871391589


def col(*xs: float) -> np.ndarray:
    """A single indicator column (n, 1)."""
    return np.array(xs, dtype=float)[:, None]


# =========================================================================== standardise

def test_standardise_uses_the_population_sd_so_one_two_three_gives_plus_minus_1_2247():
    # mean = 2; population variance = ((1-2)² + 0 + (3-2)²)/3 = 2/3; SD = 0.81650
    # z = (x - 2)/0.81650 = [-1.2247, 0, 1.2247]
    z = standardise(col(1, 2, 3), np.array([1]))
    np.testing.assert_allclose(z[:, 0], [-1.2247, 0.0, 1.2247], atol=1e-4)
    np.testing.assert_allclose(z[:, 0], [-Z_ONE, 0.0, Z_ONE], rtol=1e-12)


def test_lower_is_better_flips_the_sign_of_every_z():
    # sign −1: z = −(x − 2)/0.81650 = [1.2247, 0, −1.2247]
    z = standardise(col(1, 2, 3), np.array([-1]))
    np.testing.assert_allclose(z[:, 0], [Z_ONE, 0.0, -Z_ONE], rtol=1e-12)


def test_each_column_is_standardised_with_its_own_mean_sd_and_sign():
    # column 0: [1,2,3] sign +1 → [-1.2247, 0, 1.2247]
    # column 1: [10,20,30] sign −1: mean 20, SD 8.1650 → −(x−20)/8.1650 = [1.2247, 0, −1.2247]
    z = standardise(np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]), np.array([1, -1]))
    np.testing.assert_allclose(z, [[-Z_ONE, Z_ONE], [0.0, 0.0], [Z_ONE, -Z_ONE]], rtol=1e-12)


def test_nan_inputs_stay_nan_and_are_left_out_of_the_mean_and_sd():
    # the areas with data are [1, 3, 2]: mean 2, SD 0.81650 — exactly as if the NaN were absent
    z = standardise(col(1, NAN, 3, 2), np.array([1]))
    assert math.isnan(z[1, 0])
    np.testing.assert_allclose(z[[0, 2, 3], 0], [-Z_ONE, Z_ONE, 0.0], rtol=1e-12)


def test_a_constant_column_cannot_be_scored_and_comes_back_all_nan():
    # SD of [4, 4, 4] = 0 → dividing would be meaningless
    assert np.isnan(standardise(col(4, 4, 4), np.array([1]))).all()


def test_a_constant_column_of_decimals_is_all_nan_despite_float_round_off():
    # [0.1, 0.1, 0.1] has no spread; rounding in the mean must not invent one
    assert np.isnan(standardise(col(0.1, 0.1, 0.1), np.array([1]))).all()


def test_a_column_with_a_single_value_cannot_be_scored():
    # one area with data: no spread can be estimated from one value
    assert np.isnan(standardise(col(7, NAN, NAN), np.array([1]))).all()


def test_a_neutral_column_is_never_scored_even_with_spread():
    # sign 0 (neutral): [1, 2, 3] has spread but no direction, so no z
    z = standardise(np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]), np.array([0, 1]))
    assert np.isnan(z[:, 0]).all()
    np.testing.assert_allclose(z[:, 1], [-Z_ONE, 0.0, Z_ONE], rtol=1e-12)


def test_robust_standardisation_uses_the_median_and_mad_times_1_4826():
    # [1, 2, 3, 4, 100]: median 3; |x − 3| = [2, 1, 0, 1, 97] → MAD = median = 1; spread = 1.4826·1
    # z = (x − 3)/1.4826 = [−1.34898, −0.67449, 0, 0.67449, 65.42560]
    z = standardise(col(1, 2, 3, 4, 100), np.array([1]), robust=True)
    np.testing.assert_allclose(z[:, 0], [-2 / 1.4826, -1 / 1.4826, 0.0, 1 / 1.4826, 97 / 1.4826], rtol=1e-12)
    np.testing.assert_allclose(z[:, 0], [-1.34898, -0.67449, 0.0, 0.67449, 65.42560], atol=1e-5)
    # the outlier does not drag the centre: the mean/SD version puts the middle value well below zero
    # (mean = 110/5 = 22, so (3 − 22)/SD < 0)
    assert standardise(col(1, 2, 3, 4, 100), np.array([1]))[2, 0] < -0.4


def test_robust_standardisation_respects_polarity():
    z = standardise(col(1, 2, 3, 4, 100), np.array([-1]), robust=True)
    np.testing.assert_allclose(z[:, 0], [2 / 1.4826, 1 / 1.4826, 0.0, -1 / 1.4826, -97 / 1.4826], rtol=1e-12)


def test_standardise_works_on_a_leading_draws_axis():
    # (draws, n, k): each draw standardised on its own
    x = np.stack([col(1, 2, 3), col(10, 20, 30)])
    z = standardise(x, np.array([1]))
    assert z.shape == (2, 3, 1)
    np.testing.assert_allclose(z[0, :, 0], [-Z_ONE, 0, Z_ONE])
    np.testing.assert_allclose(z[1, :, 0], [-Z_ONE, 0, Z_ONE])


# =========================================================================== percentile rank

def test_percentile_rank_is_the_share_doing_no_better_and_follows_polarity():
    v = np.array([[10.0, 10.0, 10.0], [20.0, 20.0, 20.0], [30.0, 30.0, 30.0]])
    p = percentile_rank(v, np.array([1, -1, 0]))
    # higher is better: 10 beats nobody else (1 of 3 no better, itself) → 33.3; 20 → 66.7; 30 → 100
    np.testing.assert_allclose(p[:, 0], [100 / 3, 200 / 3, 100.0])
    # lower is better: 10 is best → 100; 30 worst → 33.3
    np.testing.assert_allclose(p[:, 1], [100.0, 200 / 3, 100 / 3])
    # neutral: no direction, no percentile
    assert np.isnan(p[:, 2]).all()


def test_percentile_rank_counts_ties_as_no_better_and_skips_missing_areas():
    # [5, 5, 9, NaN]: 3 areas with data; each 5 has two areas (both 5s) no better → 2/3; 9 → 3/3
    p = percentile_rank(col(5, 5, 9, NAN), np.array([1]))
    np.testing.assert_allclose(p[:3, 0], [200 / 3, 200 / 3, 100.0])
    assert math.isnan(p[3, 0])


# =========================================================================== pillar scores

def test_pillar_score_is_the_weighted_mean_and_respects_the_60_percent_coverage_rule():
    z = np.array([
        [1.0, 2.0, -1.0],   # area A: all three indicators
        [0.5, 2.0, NAN],    # area B: NULL on a 0.5-weight indicator
        [NAN, 2.0, -1.0],   # area C: NULL on the 1.0-weight indicator
    ])
    w = np.array([1.0, 0.5, 0.5])  # total weight 2.0
    score, coverage = pillar_scores(z, w, np.ones_like(z, dtype=bool))
    # A: (1·1 + 0.5·2 + 0.5·(−1)) / 2.0 = (1 + 1 − 0.5)/2 = 0.75; coverage 2/2 = 1
    # B: (1·0.5 + 0.5·2) / 1.5 = 1.5/1.5 = 1.0; coverage 1.5/2 = 0.75 ≥ 0.6 → scored
    # C: coverage (0.5 + 0.5)/2 = 0.5 < 0.6 → NaN
    np.testing.assert_allclose(coverage, [1.0, 0.75, 0.5])
    np.testing.assert_allclose(score[:2], [0.75, 1.0])
    assert math.isnan(score[2])


def test_a_null_input_lowers_coverage_and_is_never_treated_as_zero():
    # area B above: were the NULL a zero it would score (0.5 + 1.0 + 0)/2 = 0.75; it must score 1.5/1.5 = 1.0,
    # the weighted mean of the indicators it has
    z = np.array([[0.5, 2.0, NAN]])
    score, _ = pillar_scores(z, np.array([1.0, 0.5, 0.5]), np.ones((1, 3), dtype=bool))
    assert score[0] == pytest.approx(1.0)
    assert score[0] != pytest.approx(0.75)


@pytest.mark.parametrize("weights, present", [
    ([1.0, 1.0, 1.0, 1.0, 1.0], [1, 1, 1, 0, 0]),   # 3/5 = 0.6 exactly
    ([0.2, 0.2, 0.2, 0.2, 0.2], [1, 1, 1, 0, 0]),   # 0.6000000000000001/1.0 (float sums)
    ([0.1] * 10, [1] * 6 + [0] * 4),                # 0.6000000000000001/0.9999999999999999
    ([0.6, 0.4], [1, 0]),                           # 0.6/1.0
])
def test_coverage_of_exactly_60_percent_is_scored(weights, present):
    z = np.where(np.array(present, bool), 1.0, NAN)[None, :]
    score, coverage = pillar_scores(z, np.array(weights), np.ones_like(z, dtype=bool))
    assert coverage[0] == pytest.approx(0.6)
    assert score[0] == pytest.approx(1.0)  # the mean of the indicators present, all 1.0


def test_just_under_60_percent_is_not_scored():
    # weights [0.59, 0.41], only the first present: coverage 0.59 < 0.6
    score, coverage = pillar_scores(np.array([[1.0, NAN]]), np.array([0.59, 0.41]), np.ones((1, 2), dtype=bool))
    assert coverage[0] == pytest.approx(0.59)
    assert math.isnan(score[0])


def test_inapplicable_indicators_do_not_count_in_the_coverage_denominator():
    z = np.array([[NAN, 2.0, -1.0], [NAN, 2.0, -1.0]])
    w = np.array([1.0, 0.5, 0.5])
    applicable = np.array([[False, True, True],    # indicator 0 does not apply here (another nation's)
                           [True, True, True]])    # here it applies but is missing
    score, coverage = pillar_scores(z, w, applicable)
    # row 0: denominator 0.5 + 0.5 = 1.0, have 1.0 → coverage 1.0; score (0.5·2 + 0.5·(−1))/1.0 = 0.5
    # row 1: denominator 2.0, have 1.0 → coverage 0.5 → NaN
    np.testing.assert_allclose(coverage, [1.0, 0.5])
    assert score[0] == pytest.approx(0.5)
    assert math.isnan(score[1])


def test_a_value_for_an_inapplicable_indicator_is_ignored():
    # indicator 0 has a value 9.0 but does not apply: score = (0.5·2 + 0.5·(−1))/1.0 = 0.5, not pulled up by 9
    score, coverage = pillar_scores(np.array([[9.0, 2.0, -1.0]]), np.array([1.0, 0.5, 0.5]),
                                    np.array([[False, True, True]]))
    assert score[0] == pytest.approx(0.5)
    assert coverage[0] == pytest.approx(1.0)


def test_an_area_with_nothing_applicable_has_no_score_and_no_coverage():
    score, coverage = pillar_scores(np.array([[1.0, 2.0]]), np.array([1.0, 1.0]), np.array([[False, False]]))
    assert math.isnan(score[0]) and math.isnan(coverage[0])


def test_the_coverage_rule_can_be_changed():
    # coverage 0.5 fails the default rule but passes a 50% rule; score = 2.0 (the one indicator present)
    z = np.array([[2.0, NAN]])
    ok = np.ones((1, 2), dtype=bool)
    assert math.isnan(pillar_scores(z, np.array([1.0, 1.0]), ok)[0][0])
    assert pillar_scores(z, np.array([1.0, 1.0]), ok, coverage_rule=0.5)[0][0] == pytest.approx(2.0)
    assert COVERAGE_RULE == 0.6


# =========================================================================== combine pillars

def test_overall_score_is_the_weighted_mean_of_pillars():
    pillars = {"economy": np.array([1.0, 2.0]), "public_services": np.array([0.0, -1.0])}
    # weights 3:1 → (3·1 + 1·0)/4 = 0.75; (3·2 + 1·(−1))/4 = 1.25
    got = combine_pillars(pillars, {"economy": 3.0, "public_services": 1.0})
    np.testing.assert_allclose(got, [0.75, 1.25])


def test_overall_is_null_if_any_positively_weighted_pillar_is_null():
    pillars = {"economy": np.array([1.0, NAN]), "public_services": np.array([0.0, 1.0])}
    got = combine_pillars(pillars, {"economy": 0.5, "public_services": 0.5})
    assert got[0] == pytest.approx(0.5)  # (1 + 0)/2
    assert math.isnan(got[1])


def test_a_zero_weight_pillar_is_ignored_even_when_null():
    pillars = {"economy": np.array([1.0]), "public_services": np.array([3.0]), "environment": np.array([NAN])}
    got = combine_pillars(pillars, {"economy": 0.5, "public_services": 0.5, "environment": 0.0})
    assert got[0] == pytest.approx(2.0)  # (0.5·1 + 0.5·3)/1.0


def test_all_zero_pillar_weights_are_refused():
    pillars = {"economy": np.array([1.0]), "public_services": np.array([3.0])}
    with pytest.raises(IndicatorError, match="positive weight"):
        combine_pillars(pillars, {"economy": 0.0, "public_services": 0.0})


# =========================================================================== significance

def test_ci_above_the_benchmark_is_better_when_higher_is_better_and_worse_when_lower_is_better():
    # CI 11–13 lies wholly above a benchmark of 10
    assert significance(np.array([11.0]), np.array([13.0]), 10.0, 1)[0] == "better"
    assert significance(np.array([11.0]), np.array([13.0]), 10.0, -1)[0] == "worse"


def test_ci_below_the_benchmark_is_worse_when_higher_is_better_and_better_when_lower_is_better():
    # CI 7–9 lies wholly below 10
    assert significance(np.array([7.0]), np.array([9.0]), 10.0, 1)[0] == "worse"
    assert significance(np.array([7.0]), np.array([9.0]), 10.0, -1)[0] == "better"


def test_ci_straddling_or_touching_the_benchmark_is_similar():
    lo, hi = np.array([9.0, 10.0, 8.0]), np.array([11.0, 12.0, 10.0])
    # 9–11 straddles 10; 10–12 touches it from above (lci == benchmark); 8–10 touches from below
    for sign in (1, -1):
        assert list(significance(lo, hi, 10.0, sign)) == ["similar", "similar", "similar"]


def test_without_a_ci_or_benchmark_nothing_is_compared():
    # no CI at all; a CI without its lower limit; a CI without its upper limit
    lo, hi = np.array([NAN, NAN, 11.0]), np.array([NAN, 13.0, NAN])
    assert list(significance(lo, hi, 10.0, 1)) == ["not compared"] * 3
    assert significance(np.array([11.0]), np.array([13.0]), NAN, 1)[0] == "not compared"


def test_neutral_indicators_read_higher_or_lower_not_better_or_worse():
    lo, hi = np.array([11.0, 7.0, 9.0]), np.array([13.0, 9.0, 11.0])
    assert list(significance(lo, hi, 10.0, 0)) == ["higher", "lower", "similar"]


def test_significance_broadcasts_a_benchmark_and_sign_per_indicator():
    # 2 areas × 2 indicators; benchmarks (1, 2) and signs (1, 2) as in score_places
    lo = np.array([[11.0, 11.0], [7.0, 7.0]])
    hi = np.array([[13.0, 13.0], [9.0, 9.0]])
    out = significance(lo, hi, np.array([[10.0, 10.0]]), np.array([[1, -1]]))
    assert out.tolist() == [["better", "worse"], ["worse", "better"]]


# =========================================================================== derived 99.8% limits

def test_derived_998_limits_from_a_95_percent_ci():
    # 95% CI 8.04–11.96 → width 3.92; SE = 3.92/(2·1.95996) = 1.00002 ≈ 1.0
    # 99.8% limits = 10 ± 3.09023·SE = 10 ± 3.0902 → 6.9098 and 13.0902
    lo, hi = derived_998(np.array([10.0]), np.array([8.04]), np.array([11.96]))
    se = 3.92 / (2 * Z95)
    assert se == pytest.approx(1.0, abs=1e-4)
    assert lo[0] == pytest.approx(10 - 3.0902, abs=1e-3)
    assert hi[0] == pytest.approx(10 + 3.0902, abs=1e-3)
    assert lo[0] == pytest.approx(10 - Z998 * se, rel=1e-12)
    assert hi[0] == pytest.approx(10 + Z998 * se, rel=1e-12)


def test_derived_998_is_wider_than_the_95_percent_ci_and_nan_without_one():
    lo, hi = derived_998(np.array([10.0, 5.0]), np.array([8.04, NAN]), np.array([11.96, NAN]))
    assert lo[0] < 8.04 and hi[0] > 11.96
    assert math.isnan(lo[1]) and math.isnan(hi[1])


# =========================================================================== ranks

def test_ranks_put_the_highest_first_ties_share_the_best_rank_and_nan_stays_nan():
    # scores [3, 1, 3, NaN, 2]: the two 3s share rank 1; 2 is third (two areas above it); 1 is fourth
    r = ranks(np.array([3.0, 1.0, 3.0, NAN, 2.0]))
    np.testing.assert_array_equal(r[[0, 1, 2, 4]], [1.0, 4.0, 1.0, 3.0])
    assert math.isnan(r[3])


# =========================================================================== rank intervals

def point_ranks(value, sign, weights, pillar_index, applicable, pillar_weights):
    """The point rank exactly as score_places computes it: standardised against the rankable areas."""
    from indicators.scoring import rankable
    ref = rankable(value, sign, weights, pillar_index, applicable, pillar_weights)
    z = standardise(value, sign, reference=ref)
    pillars = {}
    for p in range(len(pillar_weights)):
        cols = pillar_index == p
        pillars[p], _ = pillar_scores(z[:, cols], weights[cols], applicable[:, cols])
    overall = combine_pillars(pillars, dict(enumerate(pillar_weights)))
    return ranks(np.where(ref, overall, NAN))


# 5 areas, 2 indicators (one per pillar), the pillars disagree (area 0 best on economy, worst on services)
# so the Dirichlet weights genuinely matter for ranks.
FIVE = np.array([[5.0, 1.0], [4.0, 3.0], [3.0, 4.5], [2.0, 2.0], [1.0, 5.0]])
SIGN2 = np.array([1, 1])
W2 = np.array([1.0, 1.0])
PIDX2 = np.array([0, 1])
PW2 = np.array([0.5, 0.5])
APP5 = np.ones((5, 2), dtype=bool)


def test_without_uncertainty_and_fixed_weights_the_rank_interval_collapses_to_the_point_rank():
    # z col 0 (mean 3, SD √2) = [1.414, 0.707, 0, −0.707, −1.414]
    # z col 1 (mean 3.1, SD 1.4967) = [−1.403, −0.067, 0.935, −0.735, 1.269]
    # overall = mean of the two: [0.006, 0.320, 0.468, −0.721, −0.072] → ranks [3, 2, 1, 5, 4]
    point = point_ranks(FIVE, SIGN2, W2, PIDX2, APP5, PW2)
    np.testing.assert_array_equal(point, [3, 2, 1, 5, 4])
    lo, hi = rank_intervals(FIVE, FIVE, FIVE, SIGN2, W2, PIDX2, APP5, PW2, draws=200, concentration=1e9,
                            sources=("ci", "weights"))
    np.testing.assert_array_equal(lo, point)
    np.testing.assert_array_equal(hi, point)


def test_uncertain_pillar_weights_alone_widen_intervals_where_pillars_disagree():
    # areas 0 and 4 (overall 0.006 vs −0.072) swap places under small changes of the economy weight
    lo, hi = rank_intervals(FIVE, FIVE, FIVE, SIGN2, W2, PIDX2, APP5, PW2, draws=400, concentration=2.0,
                            sources=("weights",))
    assert (hi - lo)[[0, 4]].min() >= 1


def test_a_wide_ci_on_one_area_widens_its_interval_most():
    # pillars agree here (same order in both columns), so only the CI can move anyone
    v = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0], [5.0, 5.0]])
    lci, uci = v.copy(), v.copy()
    lci[2], uci[2] = v[2] - 4.0, v[2] + 4.0  # area 2: 95% CI ±4 → SE ≈ 2.04, spans the whole range
    lo, hi = rank_intervals(v, lci, uci, SIGN2, W2, PIDX2, np.ones((5, 2), bool), PW2, draws=400, sources=("ci",))
    width = hi - lo
    assert width[2] >= 3  # area 2 ranges from about first to about last
    assert width[2] == width.max()
    for i in (0, 1, 3, 4):  # the others shift by at most one place, as area 2 passes them
        assert width[i] <= 1


def test_rank_intervals_are_reproducible_for_a_fixed_seed():
    v = FIVE
    lci, uci = v - 1.5, v + 1.5
    a = rank_intervals(v, lci, uci, SIGN2, W2, PIDX2, APP5, PW2, draws=150, seed=7)
    b = rank_intervals(v, lci, uci, SIGN2, W2, PIDX2, APP5, PW2, draws=150, seed=7)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_areas_without_an_overall_score_get_no_rank_interval():
    v = FIVE.copy()
    v[3, 1] = NAN  # area 3 has no public-services indicator → pillar coverage 0 → no overall score
    lo, hi = rank_intervals(v, v - 0.5, v + 0.5, SIGN2, W2, PIDX2, APP5, PW2, draws=100)
    assert math.isnan(lo[3]) and math.isnan(hi[3])
    assert not np.isnan(lo[[0, 1, 2, 4]]).any()
    assert hi[[0, 1, 2, 4]].max() <= 4  # only the four scored areas are ranked
    assert math.isnan(point_ranks(v, SIGN2, W2, PIDX2, APP5, PW2)[3])


def test_tied_areas_without_uncertainty_share_the_point_rank_in_their_interval():
    # areas 1 and 2 are identical → overall tied → point ranks [4, 2, 2, 1]
    v = np.array([[1.0, 1.0], [2.0, 2.0], [2.0, 2.0], [4.0, 4.0]])
    app = np.ones((4, 2), dtype=bool)
    point = point_ranks(v, SIGN2, W2, PIDX2, app, PW2)
    np.testing.assert_array_equal(point, [4, 2, 2, 1])
    lo, hi = rank_intervals(v, v, v, SIGN2, W2, PIDX2, app, PW2, draws=50, sources=())
    np.testing.assert_array_equal(lo, point)
    np.testing.assert_array_equal(hi, point)


# =========================================================================== parse_weights

def test_parse_weights_reads_pillar_weights_and_defaults_when_empty():
    assert parse_weights("economy=0.7, public_services=0.3") == {"economy": 0.7, "public_services": 0.3}
    assert parse_weights("environment=1") == {"environment": 1.0}
    assert parse_weights(None) == DEFAULT_WEIGHTS
    assert parse_weights("") == DEFAULT_WEIGHTS


@pytest.mark.parametrize("text, words", [
    ("growth=1", ["unknown pillar", "growth"]),
    ("context=1", ["unknown pillar", "context"]),           # context is shown, never scored
    ("economy=-0.5,public_services=1", ["economy", "negative"]),
    ("economy=abc", ["economy", "not a number", "abc"]),
    ("economy", ["economy", "not a number"]),
    ("economy=0,public_services=0", ["positive weight"]),
])
def test_parse_weights_refuses_bad_input_with_a_message_naming_the_problem(text, words):
    with pytest.raises(IndicatorError) as err:
        parse_weights(text)
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize("text", ["economy=nan,public_services=1", "economy=inf,public_services=1"])
def test_parse_weights_refuses_non_finite_weights(text):
    with pytest.raises(IndicatorError):
        parse_weights(text)


# =========================================================================== properties

def column_strategy(n_min=3, n_max=8, k_max=3):
    """(n, k) integer-valued matrices: integers keep spread away from float round-off."""
    return st.tuples(st.integers(n_min, n_max), st.integers(1, k_max)).flatmap(
        lambda nk: hnp.arrays(float, nk, elements=st.integers(-50, 50).map(float)))


@FAST
@given(x=column_strategy(), nan_mask_seed=st.integers(0, 2**16))
def test_flipping_polarity_flips_the_sign_of_every_z(x, nan_mask_seed):
    rng = np.random.default_rng(nan_mask_seed)
    x = np.where(rng.random(x.shape) < 0.2, NAN, x)
    k = x.shape[1]
    up = standardise(x, np.ones(k, int))
    down = standardise(x, -np.ones(k, int))
    np.testing.assert_array_equal(np.isnan(up), np.isnan(down))
    np.testing.assert_allclose(np.nan_to_num(down), -np.nan_to_num(up), atol=1e-12)


@FAST
@given(x=column_strategy(k_max=1), a=st.floats(0.01, 1000), b=st.floats(-1e4, 1e4), robust=st.booleans())
def test_z_is_invariant_to_a_positive_affine_change_of_units(x, a, b, robust):
    # a constant column is covered above (including float round-off); here the values differ
    assume(len(np.unique(x)) >= 2)
    if robust:
        med = np.median(x)
        assume(np.median(np.abs(x - med)) > 0)
    sign = np.array([1])
    np.testing.assert_allclose(standardise(a * x + b, sign, robust=robust), standardise(x, sign, robust=robust),
                               atol=1e-6)


def pillar_inputs():
    """z (n, k) with NaNs where a NULL mask says, weights (k,) ≥ 0 (some zero), applicable (n, k)."""
    def build(nk):
        n, k = nk
        return st.tuples(
            hnp.arrays(float, (n, k), elements=st.floats(-5, 5, allow_nan=False)),
            hnp.arrays(bool, (n, k)),                                        # NULL mask
            hnp.arrays(float, (k,), elements=st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0])),
            hnp.arrays(bool, (n, k), elements=st.sampled_from([True, True, True, False])),
        )
    def with_nulls(drawn):
        z, null, w, applicable = drawn
        return np.where(null, NAN, z), w, applicable
    return st.tuples(st.integers(1, 6), st.integers(1, 6)).flatmap(build).map(with_nulls)


@FAST
@given(inputs=pillar_inputs())
def test_pillar_scores_lie_within_the_range_of_their_inputs(inputs):
    z, w, applicable = inputs
    score, _ = pillar_scores(z, w, applicable)
    for i in np.flatnonzero(~np.isnan(score)):
        row = z[i][~np.isnan(z[i])]
        assert row.min() - 1e-9 <= score[i] <= row.max() + 1e-9


@FAST
@given(inputs=pillar_inputs())
def test_a_null_input_lowers_coverage_and_never_leaks_nan_into_a_covered_score(inputs):
    z, w, applicable = inputs
    score, coverage = pillar_scores(z, w, applicable)
    for i in range(z.shape[0]):
        w_app = np.where(applicable[i], w, 0.0)
        have = applicable[i] & ~np.isnan(z[i])
        total, got = w_app.sum(), w_app[have].sum()
        if total == 0:
            assert math.isnan(coverage[i]) and math.isnan(score[i])
            continue
        assert coverage[i] == pytest.approx(got / total)
        if got > 0 and got / total >= COVERAGE_RULE - 1e-12:
            assert math.isfinite(score[i])  # the NULLs lowered coverage; they did not poison the mean
            assert score[i] == pytest.approx(np.average(z[i][have], weights=w_app[have]))
        else:
            assert math.isnan(score[i])


def ranking_inputs():
    def build(n):
        return st.tuples(
            hnp.arrays(float, (n, 3), elements=st.integers(0, 20).map(float)),
            hnp.arrays(bool, (n, 3), elements=st.sampled_from([False, False, False, False, True])),
            st.sampled_from([(0.5, 0.5), (0.8, 0.2), (1.0, 0.0)]),
            st.integers(0, 1000),
        )
    return st.integers(3, 8).flatmap(build)


SIGN3 = np.array([1, -1, 1])
W3 = np.array([1.0, 0.5, 0.5])
PIDX3 = np.array([0, 1, 1])


@FAST
@given(inputs=ranking_inputs())
def test_score_places_rank_intervals_always_contain_the_point_rank(inputs):
    value, null, pw, seed = inputs
    value = np.where(null, NAN, value)
    applicable = np.ones_like(value, dtype=bool)
    pw = np.array(pw)
    rng = np.random.default_rng(seed)
    half = np.where(rng.random(value.shape) < 0.5, rng.uniform(0, 5, value.shape), NAN)  # some CIs, some none
    point = point_ranks(value, SIGN3, W3, PIDX3, applicable, pw)
    lo, hi = rank_intervals(value, value - half, value + half, SIGN3, W3, PIDX3, applicable, pw, draws=30, seed=seed)
    # rank_intervals and the point score agree on which areas are scored
    np.testing.assert_array_equal(np.isnan(lo), np.isnan(point))
    np.testing.assert_array_equal(np.isnan(hi), np.isnan(point))
    # and, shown the way score_places shows them, the interval always holds the point rank
    shown_lo, shown_hi = np.fmin(lo, point), np.fmax(hi, point)
    ok = ~np.isnan(point)
    assert (shown_lo[ok] <= point[ok]).all() and (point[ok] <= shown_hi[ok]).all()
    assert (lo[ok] >= 1).all() and (hi[ok] <= ok.sum()).all()


@FAST
@given(inputs=ranking_inputs())
def test_rank_intervals_with_tiny_standard_errors_contain_the_point_rank(inputs):
    value, null, _, seed = inputs
    # one indicator per pillar, one pillar weighted: the Dirichlet cannot move anyone, only the CIs can
    value = np.where(null, NAN, value)[:, :2]
    sign, w, pidx, pw = np.array([1, -1]), np.array([1.0, 1.0]), np.array([0, 1]), np.array([1.0, 0.0])
    applicable = np.ones_like(value, dtype=bool)
    point = point_ranks(value, sign, w, pidx, applicable, pw)
    tiny = 1e-7  # ties get broken at random draw by draw, everything else keeps its order
    lo, hi = rank_intervals(value, value - tiny, value + tiny, sign, w, pidx, applicable, pw, draws=500, seed=seed,
                            sources=("ci",))
    ok = ~np.isnan(point)
    np.testing.assert_array_equal(np.isnan(lo), ~ok)
    assert (lo[ok] <= point[ok]).all()
    assert (point[ok] <= hi[ok]).all()


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=12),
                  elements=st.integers(-3, 3).map(float)))
def test_min_rank_matches_scipy_with_ties(a):
    from scipy.stats import rankdata
    np.testing.assert_array_equal(min_rank(a), rankdata(a, axis=-1, method="min"))


def test_min_rank_by_hand():
    np.testing.assert_array_equal(min_rank(np.array([3.0, 1.0, 3.0, 2.0])), [3, 1, 3, 2])
    np.testing.assert_array_equal(min_rank(np.array([[5.0, 5.0], [2.0, 1.0]])), [[1, 1], [2, 1]])


# =========================================================================== reference distribution and outliers

def test_an_area_outside_the_reference_does_not_move_anyone_elses_z():
    # reference [1, 2, 3] → mean 2, SD √(2/3); the unranked area (1000) gets a z but changes nothing
    x = col(1.0, 2.0, 3.0, 1000.0)
    z = standardise(x, np.array([1]), reference=np.array([True, True, True, False]))
    np.testing.assert_allclose(z[:3, 0], [-Z_ONE, 0.0, Z_ONE])
    assert z[3, 0] > 1000


def test_winsorising_clips_each_tail_to_the_reference_percentile_taken_outward():
    # 50 reference values 1..50: the 2.5th percentile taken downward is the 2nd value (floor(0.025·49) = 1)
    # and the 97.5th taken upward the 49th (ceil(0.975·49) = 48), so 1 reads as 2 and 50 as 49
    x = col(*range(1, 51))
    z = standardise(x, np.array([1]))[:, 0]
    assert z[0] == pytest.approx(z[1]) and z[49] == pytest.approx(z[48])
    assert z[1] < z[2] and z[47] < z[48]
    lo, hi, _, _ = reference_params(x, np.array([1]))
    assert (lo[0, 0], hi[0, 0]) == (2.0, 49.0)


def test_fewer_than_41_reference_areas_are_never_clipped():
    lo, hi, _, _ = reference_params(col(*range(40)), np.array([1]))
    assert lo[0, 0] == -np.inf and hi[0, 0] == np.inf


@FAST
@given(x=hnp.arrays(float, st.tuples(st.integers(3, 60), st.integers(1, 4)), elements=st.floats(-100, 100)),
       extreme=st.floats(1e4, 1e9) | st.floats(-1e9, -1e4), robust=st.booleans())
def test_adding_an_unrankable_extreme_area_leaves_every_other_z_unchanged(x, extreme, robust):
    sign = np.ones(x.shape[1])
    before = standardise(x, sign, robust=robust)
    bigger = np.vstack([x, np.full((1, x.shape[1]), extreme)])
    ref = np.r_[np.ones(len(x), bool), False]
    after = standardise(bigger, sign, robust=robust, reference=ref)
    np.testing.assert_allclose(after[:-1], before, equal_nan=True, rtol=1e-9, atol=1e-9)


@FAST
@given(x=hnp.arrays(float, st.tuples(st.integers(41, 80), st.just(1)), elements=st.floats(-100, 100)),
       extreme=st.floats(1e4, 1e9))
def test_a_ranked_extreme_area_is_winsorised_so_no_z_moves_beyond_the_rule(x, extreme):
    # Even inside the reference, an extreme area counts as the 97.5th percentile value: the others' z
    # are those of the same data with that area set to the next value up (at most the old maximum).
    assume(np.ptp(x) > 1e-3)
    sign = np.ones(1)
    bigger = np.vstack([x, [[extreme]]])
    z = standardise(bigger, sign)
    capped = np.vstack([x, [[np.max(x)]]])
    np.testing.assert_allclose(z[:-1], standardise(capped, sign)[:-1], rtol=1e-9, atol=1e-9)
    # bounded, however extreme the raw value (NaN when winsorising leaves no spread at all)
    assert not abs(z[-1, 0]) >= np.sqrt(len(bigger))


# =========================================================================== effective weights

def test_effective_weights_are_squared_correlations_with_the_pillar_normalised():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(200), rng.standard_normal(200)
    z = np.c_[a, b]
    # pillar = a exactly: r(a) = 1, r(b) ≈ 0 → effective weights ≈ [1, 0] whatever the nominal weights
    eff = effective_weights(z, a, np.ones(200, bool))
    assert eff.sum() == pytest.approx(1.0)
    assert eff[0] > 0.95
    # two identical columns and their mean: half each
    eff = effective_weights(np.c_[a, a], a, np.ones(200, bool))
    np.testing.assert_allclose(eff, [0.5, 0.5])


def test_an_outlier_column_without_winsorising_would_carry_little_effective_weight():
    # 60 areas; column 0 has one area 50 SDs out. Unwinsorised its z squeezes everyone else together and
    # the column's effective weight collapses; winsorised at the reference percentiles it stays near 1/2.
    rng = np.random.default_rng(3)
    x = rng.standard_normal((60, 2))
    x[0, 0] = 500.0
    sign = np.ones(2)
    z = standardise(x, sign)
    pillar = z.mean(axis=1)
    eff = effective_weights(z, pillar, np.ones(60, bool))
    assert 0.3 < eff[0] < 0.7


# =========================================================================== ranks within groups and pairwise

def test_group_min_rank_ranks_within_each_group_and_skips_nan():
    score = np.array([3.0, 1.0, 2.0, 9.0, NAN, 5.0])
    group = np.array([0, 0, 0, 1, 1, 1])
    r = group_min_rank(score, group)
    np.testing.assert_array_equal(r[[0, 1, 2, 3, 5]], [1, 3, 2, 1, 2])
    assert math.isnan(r[4])


def test_probability_of_ranking_above_counts_ties_half_and_skips_unranked_draws():
    r = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 1.0], [NAN, 1.0]])
    assert prob_ranks_above(r, 0, 1) == pytest.approx((1 + 0 + 0.5) / 3)
    assert prob_ranks_above(r, 1, 0) == pytest.approx((0 + 1 + 0.5) / 3)


def _random_index(seed, n=40, k=6):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, k))
    half = np.where(rng.random((n, k)) < 0.5, rng.uniform(0.1, 1.0, (n, k)), NAN)
    v[rng.random((n, k)) < 0.1] = NAN
    return v, v - half, v + half


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rank_intervals_widen_as_more_sources_of_uncertainty_vary(seed):
    v, lci, uci = _random_index(seed)
    sign, w = np.array([1, 1, -1, 1, 1, -1]), np.array([1.0, 0.5, 0.5, 1.0, 1.0, 0.5])
    pidx, pw, app = np.array([0, 0, 0, 1, 1, 1]), np.array([0.5, 0.5]), np.ones(v.shape, bool)

    def width(sources):
        lo, hi = rank_intervals(v, lci, uci, sign, w, pidx, app, pw, draws=400, seed=seed, sources=sources)
        return np.nanmean(hi - lo)

    none, ci, ci_w, every = width(()), width(("ci",)), width(("ci", "weights")), width(("ci", "weights", "scaling"))
    assert none == 0
    assert ci > 0
    assert ci_w >= ci - 0.5 and every >= ci_w - 0.5  # a source's draws can only add spread (up to noise)
    assert every > ci


def test_family_errors_are_drawn_correlated_at_rho():
    from indicators.scoring import correlated_normals
    e = correlated_normals(np.random.default_rng(0), 20000, 1, np.array([0, 0, -1]), rho=0.5)[:, 0, :]
    r = np.corrcoef(e.T)
    assert r[0, 1] == pytest.approx(0.5, abs=0.03)
    assert abs(r[0, 2]) < 0.03
    assert e.std(axis=0) == pytest.approx([1, 1, 1], abs=0.03)


def test_rank_draws_rank_within_groups():
    v = FIVE.copy()
    r = rank_draws(v, v, v, SIGN2, W2, PIDX2, APP5, PW2, draws=20, sources=(), group=np.array([0, 0, 0, 1, 1]))
    assert np.nanmax(r[:, :3]) <= 3 and np.nanmax(r[:, 3:]) <= 2


# =========================================================================== good growth: change and quadrant

def test_periods_touching_march_2020_to_december_2021_are_pandemic_periods():
    import pandas as pd
    from indicators.change import overlaps_pandemic
    start = pd.Series(pd.to_datetime(["2019-01-01", "2019-04-01", "2018-01-01", "2022-01-01", "2021-06-01"]))
    end = pd.Series(pd.to_datetime(["2019-12-31", "2020-03-31", "2020-12-31", "2022-12-31", None]))
    # a 2019/20 financial year ends in March 2020 and overlaps; a bare date is read as its calendar year
    assert overlaps_pandemic(start, end).tolist() == [False, True, True, False, True]


def test_changes_are_annualised_real_log_changes_for_money_and_differences_otherwise():
    import pandas as pd
    from indicators.change import Ends, indicator_changes
    from indicators.query import Matrix
    # £: 100 → 150 over 5 years while prices rose 20%: 100·(ln 1.5 − ln 1.2)/5 = 4.463% a year in real terms
    # %: 10 → 12 over 5 years = 0.4 points a year; both ends' 95% CIs ±1.96 → SE 1 each → SE √2/5 = 0.2828
    end = Matrix("ltla", pd.Index(["a"]), ["pay", "rate"], np.array([[150.0, 12.0]]), np.array([[NAN, 10.04]]),
                 np.array([[NAN, 13.96]]), ["x", "x"], ["x", "x"])
    ends = Ends(["x", "x"], ["y", "y"], np.array([5.0, 5.0]), np.array([True, False]), np.array([np.log(1.2), 0.0]))
    delta, se = indicator_changes(end, np.array([[100.0, 10.0]]), np.array([[NAN, 8.04]]), np.array([[NAN, 11.96]]),
                                  ends)
    assert delta[0, 0] == pytest.approx(100 * (np.log(1.5) - np.log(1.2)) / 5)
    assert delta[0, 1] == pytest.approx(0.4)
    assert se[0, 0] == 0  # no CI: no variance is invented
    assert se[0, 1] == pytest.approx(np.sqrt(2) / 5, rel=1e-4)  # 1.96 vs 1.959964


def _quadrants(c, se, **kw):
    from indicators.change import quadrants
    return quadrants(np.asarray(c, float), np.asarray(se, float), np.array([1.0, 1.0]),
                     np.array(["economy", "public_services"]), np.ones(np.shape(c), bool), draws=2000, **kw)


def test_a_place_whose_interval_crosses_an_axis_is_no_clear_difference_not_a_quadrant():
    c = [[1.0, 1.0], [0.05, -1.0], [-1.0, -1.0], [1.0, -0.1]]
    se = [[0.01, 0.01], [1.0, 0.01], [0.01, 0.01], [0.01, 0.5]]
    q = _quadrants(c, se)
    assert list(q.quadrant) == ["good growth", "no clear difference", "neither", "no clear difference"]
    assert q.probability[0] > 0.99 and q.probability[2] > 0.99
    # the probabilities of the four quadrants add up to one for every place
    np.testing.assert_allclose(sum(q.probabilities.values()), 1.0)
    # the 90% interval of the noisy place spans about ±1.645 SE around its change
    assert q.economy_lo[1] == pytest.approx(0.05 - 1.645, abs=0.15)
    assert q.economy_hi[1] == pytest.approx(0.05 + 1.645, abs=0.15)


@FAST
@given(c=st.floats(-0.2, 0.2), s=st.floats(-0.2, 0.2))
def test_a_change_inside_its_own_noise_band_is_never_given_a_quadrant(c, s):
    # SE 1 on both pillars: a change within ±0.2 of 0 cannot have a 90% interval clear of the axes
    q = _quadrants([[c, s]], [[1.0, 1.0]])
    assert q.quadrant[0] == "no clear difference"


def test_a_column_without_reference_values_does_not_blank_other_columns_in_the_draws():
    # column 2 has values only for an area outside the reference: it cannot be standardised, and must not
    # turn every draw's score into NaN (which would collapse every interval to rank 1)
    v = np.c_[FIVE, [NAN, NAN, NAN, NAN, 7.0]]
    sign, w, pidx = np.array([1, 1, 1]), np.array([1.0, 1.0, 0.2]), np.array([0, 1, 1])
    ref = np.array([True, True, True, True, False])
    lo, hi = rank_intervals(v, v - 1, v + 1, sign, w, pidx, np.ones(v.shape, bool), PW2, draws=200, sources=("ci",),
                            reference=ref)
    assert np.nanmax(hi - lo) >= 1
    assert np.nanmin(lo) == 1 and np.nanmax(hi) >= 3


def test_family_codes_number_families_and_fall_back_when_the_catalogue_has_none():
    import pandas as pd
    from indicators.scoring import family_codes
    cat = pd.DataFrame({"id": ["a", "b", "c", "d"], "family": ["wellbeing", None, "wellbeing", "pay"]})
    codes = family_codes(cat)
    assert codes[0] == codes[2] >= 0 and codes[1] == -1 and codes[3] not in (-1, codes[0])
    np.testing.assert_array_equal(family_codes(cat.drop(columns="family")), [-1, -1, -1, -1])
