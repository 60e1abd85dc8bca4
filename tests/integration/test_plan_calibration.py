"""Calibration of plan projections and statuses on the committed snapshot, by holding out the latest data.

For 25 sampled districts per indicator, every series with at least eight non-overlapping values has
its latest three years hidden; the latest value is projected from the rest exactly as a plan target
would be (damped and scaled by the stored calibration, which was learned only from values older than
those three years). The 95% prediction interval must cover the published value 90–98% of the time;
targets set one forecast standard deviation either side of it must be reached at least half the time
when the evaluation would have called them "on track", and at most 10% of the time when "off track".
The stored calibration itself must be what the code computes from this snapshot. The figures are
printed (run with -s) and kept in the test report's properties.
"""
from __future__ import annotations

import pytest
import yaml

from indicators import plan_calibration, plans, query


@pytest.fixture(scope="module")
def ctx() -> query.Context:
    return query.context()


@pytest.fixture(scope="module")
def calibration(ctx) -> plan_calibration.Calibration:
    return plan_calibration.holdout(ctx, level="ltla", areas_per_indicator=25, seed=0)


def test_enough_series_are_held_out_to_measure(calibration):
    assert len(calibration.forecasts) >= 500
    assert calibration.forecasts["indicator_id"].nunique() >= 30


def test_the_95_percent_prediction_interval_covers_90_to_98_percent_of_held_out_values(calibration, record_property):
    coverage = calibration.coverage
    record_property("pi_coverage", round(coverage, 4))
    print(f"\n95% PI coverage: {coverage:.1%} of {len(calibration.forecasts)} held-out values "
          f"({calibration.forecasts['indicator_id'].nunique()} indicators)")
    assert 0.90 <= coverage <= 0.98, coverage


def test_on_track_targets_are_reached_at_least_half_the_time(calibration, record_property):
    on, claimed = calibration.reached("on track"), calibration.claimed("on track")
    record_property("on_track_reached", round(on, 4))
    n = int((calibration.targets["status"] == "on track").sum())
    print(f"\n'on track' targets reached: {on:.1%} of {n} (mean chance claimed {claimed:.1%})")
    assert n >= 50, n
    assert on >= 0.50, on


def test_off_track_targets_are_reached_at_most_one_time_in_ten(calibration, record_property):
    off, claimed = calibration.reached("off track"), calibration.claimed("off track")
    record_property("off_track_reached", round(off, 4))
    print(f"\n'off track' targets reached: {off:.1%} (mean chance claimed {claimed:.1%})")
    assert off <= 0.10, off


def test_the_stored_calibration_is_what_the_code_computes_from_this_snapshot(ctx):
    stored = yaml.safe_load(plans.CALIBRATION_FILE.read_text(encoding="utf-8"))
    fresh = plan_calibration.estimate(ctx)
    assert (stored["damping"], stored["scale"]) == (pytest.approx(fresh["damping"], abs=1e-3),
                                                    pytest.approx(fresh["scale"], abs=1e-3)), fresh
    assert stored["forecasts"] == fresh["forecasts"]
    assert plans.calibration() == plans.ProjectionCalibration(stored["damping"], stored["scale"])
    # it damps and widens, within reason: a trend is carried on in part, the spread is not doubled
    assert 0.5 <= stored["damping"] <= 1.0 and 1.0 <= stored["scale"] <= 2.0
