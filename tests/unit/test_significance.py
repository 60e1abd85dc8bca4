"""Confidence limits by the CI's own method, checked against hand-worked numbers.

Worked examples follow OHID's Public Health Technical Guidance on confidence intervals
(Wilson score method for proportions, Byar's method for counts, Dobson's method for DSRs).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from indicators import significance as sg

NAN = math.nan


# =========================================================================== Wilson

def test_wilson_25_of_100_matches_the_hand_worked_limits():
    # (2np + z² ± z√(z² + 4npq)) / (2(n + z²)) with n = 100, p = 0.25:
    # 95%:  (50 + 3.8415 ± 1.96·√(3.8415 + 75)) / 207.683 = 17.55% to 34.30%
    # 99.8%: (50 + 9.5495 ± 3.0902·√(9.5495 + 75)) / 219.099 = 14.21% to 40.15%
    lo, hi = sg.wilson_interval(0.25, 100, sg.Z95)
    assert (lo * 100, hi * 100) == (pytest.approx(17.545, abs=1e-3), pytest.approx(34.304, abs=1e-3))
    lo, hi = sg.wilson_interval(0.25, 100, sg.Z998)
    assert (lo * 100, hi * 100) == (pytest.approx(14.210, abs=1e-3), pytest.approx(40.148, abs=1e-3))


def test_wilson_counts_come_back_whole_from_the_published_limits():
    lo, hi = sg.wilson_interval(np.array([592 / 2361, 7 / 40]), np.array([2361.0, 40.0]), sg.Z95)
    p, n = sg.wilson_counts(lo, hi)
    assert n == pytest.approx([2361.0, 40.0], rel=1e-9)
    assert p * n == pytest.approx([592.0, 7.0], rel=1e-9)


def test_wilson_998_from_a_published_95_interval_is_wilsons_998_interval():
    lo95, hi95 = sg.wilson_interval(0.25, 100, sg.Z95)
    lo, hi, used = sg.limits(np.array([25.0]), np.array([lo95 * 100]), np.array([hi95 * 100]), "wilson", scale=100)
    assert (lo[0], hi[0]) == (pytest.approx(14.2103, abs=1e-3), pytest.approx(40.1483, abs=1e-3))
    assert used[0] == "wilson"


def test_the_symmetric_derivation_flatters_a_skewed_proportion():
    # 25/100: the Wilson interval's long side is the upper one; the symmetric stretch cuts it short
    lo95, hi95 = (x * 100 for x in sg.wilson_interval(0.25, 100, sg.Z95))
    sym_lo, sym_hi = sg.derived_998(np.array([25.0]), np.array([lo95]), np.array([hi95]))
    lo, hi, _ = sg.limits(np.array([25.0]), np.array([lo95]), np.array([hi95]), "wilson", scale=100)
    assert sym_hi[0] < hi[0] and sym_lo[0] < lo[0]


# =========================================================================== Byar and Dobson

def test_byar_limits_for_30_events_match_the_hand_worked_example():
    # lower 30·(1 − 1/270 − 1.96/(3√30))³ = 20.24; upper 31·(1 − 1/279 + 1.96/(3√31))³ = 42.83
    lo, hi = sg.byar_limits(np.array([30.0]), sg.Z95)
    assert (lo[0], hi[0]) == (pytest.approx(20.24, abs=0.005), pytest.approx(42.83, abs=0.005))
    # at 99.8% (z = 3.0902): 30·(1 − 1/270 − 3.0902/(3√30))³ = 15.84; 31·(…)³ = 51.12
    lo, hi = sg.byar_limits(np.array([30.0]), sg.Z998)
    assert (lo[0], hi[0]) == (pytest.approx(15.84, abs=0.005), pytest.approx(51.12, abs=0.005))


def test_byar_count_is_recovered_from_a_rates_limits_whatever_the_multiplier():
    counts = np.array([5.0, 30.0, 400.0])
    lo, hi = sg.byar_limits(counts, sg.Z95)
    per_100k = 100_000 / np.array([20_000.0, 150_000.0, 900_000.0])
    assert sg.byar_count(lo * per_100k, hi * per_100k) == pytest.approx(counts, rel=1e-6)


def test_byar_998_for_a_crude_rate_is_byars_interval_times_the_multiplier():
    k = 100_000 / 150_000  # 30 deaths in 150,000 people: 20.0 per 100,000
    lo95, hi95 = sg.byar_limits(np.array([30.0]), sg.Z95)
    lo, hi, used = sg.limits(np.array([20.0]), lo95 * k, hi95 * k, "byar")
    assert (lo[0], hi[0]) == (pytest.approx(15.84 * k, abs=0.005), pytest.approx(51.12 * k, abs=0.005))
    assert used[0] == "byar"


def test_dobson_count_and_998_limits_for_a_standardised_rate():
    # A DSR of 60 from 30 deaths with √var(DSR)/√O = 1.7 (weights unequal, so the DSR ≠ k·O):
    # Dobson's 95% limits 60 + 1.7·(L − 30), 60 + 1.7·(U − 30); 99.8% the same with z = 3.09
    o, k, dsr = 30.0, 1.7, 60.0
    l95, u95 = sg.byar_limits(np.array([o]), sg.Z95)
    l998, u998 = sg.byar_limits(np.array([o]), sg.Z998)
    lci, uci = dsr + k * (l95 - o), dsr + k * (u95 - o)
    assert sg.dobson_count(np.array([dsr]), lci, uci) == pytest.approx([o], rel=1e-6)
    lo, hi, used = sg.limits(np.array([dsr]), lci, uci, "dobson")
    assert (lo[0], hi[0]) == (pytest.approx(dsr + k * (l998[0] - o)), pytest.approx(dsr + k * (u998[0] - o)))
    assert used[0] == "dobson"


# =========================================================================== other scales, fallbacks

def test_every_method_reproduces_the_published_95_interval():
    v, lo, hi = np.array([22.0]), np.array([19.5]), np.array([24.9])
    for method in sg.CI_METHODS:
        a, b, used = sg.limits(v, lo, hi, method, z=sg.Z95, scale=100)
        assert (a[0], b[0]) == (pytest.approx(19.5), pytest.approx(24.9)), method


def test_log_and_logit_scales_keep_each_side_of_the_interval():
    # log scale: ln(10) ± (ln 10 − ln 8)·3.09/1.96 → 10·(0.8)^1.5767 = 7.035 and 10·(1.3)^1.5767 = 15.13
    lo, hi, _ = sg.limits(np.array([10.0]), np.array([8.0]), np.array([13.0]), "log")
    assert (lo[0], hi[0]) == (pytest.approx(10 * 0.8 ** (sg.Z998 / sg.Z95)),
                              pytest.approx(10 * 1.3 ** (sg.Z998 / sg.Z95)))
    lo, hi, _ = sg.limits(np.array([90.0]), np.array([87.0]), np.array([92.0]), "logit", scale=100)
    assert 0 < lo[0] < 87 and 92 < hi[0] < 100


def test_an_unreadable_interval_falls_back_to_normal_and_says_so():
    # a zero-width interval cannot be a Wilson interval; no CI gives nothing
    lo, hi, used = sg.limits(np.array([25.0, 25.0]), np.array([25.0, NAN]), np.array([25.0, NAN]), "wilson",
                             scale=100)
    assert list(used) == ["normal", None]
    assert math.isnan(lo[1]) and math.isnan(hi[1])


def test_an_unknown_method_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown CI method"):
        sg.limits(np.array([1.0]), np.array([0.5]), np.array([1.5]), "bootstrap")


# =========================================================================== verdicts and chance

def test_a_missing_benchmark_is_not_compared():
    assert sg.significance(np.array([1.0]), np.array([2.0]), NAN, 1)[0] == "not compared"


def test_chance_note_states_the_expected_false_flags():
    assert sg.expected_false_flags(40) == pytest.approx(2.0)
    note = sg.chance_note(40)
    assert "At 95% confidence, about 2 of 40 comparisons would differ by chance alone" in note
    assert "0.1 at 99.8%" in note
    assert "fewer than one of 6" in sg.chance_note(6)
