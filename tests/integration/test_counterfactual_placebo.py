"""The verdict "better / worse than similar places" on the committed snapshot, where nothing happened.

A fake start date for random English districts, no plan anywhere: every "better" or "worse"
is a false positive. The p-value threshold promises at most 10%; the pre-fit rule can only
lower that. These are the figures the Methods page quotes (bench/plans.py prints them too).
"""
from __future__ import annotations

import pandas as pd
import pytest

from indicators import counterfactual as cf
from indicators import neighbours as nb
from indicators import plans, profile, query, similar_places
from indicators.plan_model import load_plan


@pytest.fixture(scope="module")
def ctx():
    return query.context()


@pytest.fixture(scope="module")
def study(ctx):
    return similar_places.placebo_study(ctx, n_places=40, start="2019-01-01", seed=20240601)


def test_a_fake_start_date_is_called_better_or_worse_in_at_most_ten_percent_of_fits(study):
    assert study.places == 40
    judged = [i for i, c in study.by_indicator.items() if c.get("fits", 0) >= 30]
    assert len(judged) >= 4, study.by_indicator           # ≥ 40 districts × ≥ 4 indicators really fitted
    assert study.fits >= 160
    assert study.synthetic_rate <= 0.10, study
    assert study.range_miss_rate <= 0.10, study            # the 90% placebo range leaves out zero
    assert study.did_rate <= 0.10, study                   # the DiD line's placebo p-value too


def test_the_placebo_study_is_quick_enough_for_the_normal_suite(study):
    assert study.seconds < 30   # about 2 s on an idle 2-core machine: 200 fits, each with 20 placebos


def test_a_second_fake_date_and_sample_also_stays_within_ten_percent(ctx):
    other = similar_places.placebo_study(ctx, n_places=40, start="2016-01-01", seed=7)
    assert other.fits >= 150
    assert other.synthetic_rate <= 0.10, other


def test_a_pooled_three_year_series_never_counts_a_period_spanning_the_date_as_before(ctx):
    # Healthy life expectancy is published for 3-year periods (2011 to 2013, 2012 to 2014, ...).
    place = "E06000001"
    donors = nb.neighbour_set(ctx.neighbours, place, "global")
    panel = similar_places.comparison_panel(ctx, [place, *donors], "male-healthy-life-expectancy", "ltla")
    own = panel[panel["areacd"] == place]
    bp = cf.balanced_panel(panel, place, donors, "2019-01-01")
    ends = pd.to_datetime(own.set_index("period_start")["period_end"])
    for start, is_pre in zip(bp.period_starts, bp.pre):
        end = ends.loc[start]
        assert (end < pd.Timestamp("2019-01-01")) if is_pre else start >= pd.Timestamp("2019-01-01")
    assert bp.straddling >= 1


def test_the_profile_reports_the_synthetic_control_beside_the_did(ctx):
    prof = profile.profile(ctx, "E06000002", did_since="2019", did_indicators=["employment-rate"])
    row = prof.set_index("indicator_id").loc["employment-rate"]
    assert row["counterfactual_verdict"] in {cf.VERDICT_BETTER, cf.VERDICT_WORSE, cf.VERDICT_NO_CLEAR}
    assert row["counterfactual_lci"] <= row["counterfactual_estimate"] <= row["counterfactual_uci"]
    assert 0 < row["counterfactual_p_value"] <= 1 and row["counterfactual_pre_fit_ratio"] > 0
    assert 0 < row["did_p_value"] <= 1


def test_a_footprints_own_districts_never_join_its_comparison_pool(ctx):
    body = b"""title: Footprint
place:
  name: Two districts
  districts: [E06000009, E07000119]
published: 2019-01-01
baseline: 2015
neighbours:
  areas: [E06000009, E07000119, E07000128, E06000008, E07000117, E07000118, E07000120, E07000121, E07000122,
          E07000123, E07000124, E07000125, E07000126, E07000127, E08000001, E08000002]
objectives:
  - title: Work
    pillar: economy
    weight: 1
    indicators: [claimant-count]
    targets:
      - horizon: immediate
        year: 2020
        change: {by: -0.5}
"""
    plan = load_plan(body, "footprint.yaml", set(ctx.catalogue.ids()), set(ctx.names.index))
    ev = plans.evaluate(ctx, plan)
    detail = ev.objectives[0].synthetic
    assert detail is not None and detail["n_donors"] <= 14
    assert not {"E06000009", "E07000119"} & set(detail["weights"])
    fields = ev.to_json()["objectives"][0]
    assert fields["counterfactual_verdict"] == detail["verdict"]
    assert fields["counterfactual_p_value"] == detail["p_value"]
