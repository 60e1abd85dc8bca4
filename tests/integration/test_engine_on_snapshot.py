"""The scoring engine on the committed snapshot (data/): CLI, aggregation and the query helpers.

Reads the configured snapshot through `query.context()`; nothing is downloaded.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from indicators import aggregate, catalogue, query
from indicators.errors import NotAggregableError, UnknownIndicatorError
from indicators import change, scoring
from indicators.change import QUADRANT_LABELS

ROOT = Path(__file__).resolve().parents[2]
GREATER_MANCHESTER = "E47000001"
BARNSLEY, BARNSLEY_OLD = "E08000038", "E08000016"


@pytest.fixture(scope="module")
def ctx() -> query.Context:
    return query.context()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indicators", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


# --------------------------------------------------------------------------- CLI

@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    run = cli("score", "--level", "ltla", "--period", "latest", "--format", "json")
    assert run.returncode == 0, run.stderr
    return pd.DataFrame(json.loads(run.stdout))


def test_cli_scores_at_least_340_districts_on_both_pillars(scores):
    both = scores[["economy", "public_services"]].notna().all(axis=1)
    assert both.sum() >= 340


def test_every_scored_row_has_a_quadrant_field_and_a_rank_inside_its_interval(scores):
    for column in ("quadrant", "rank", "rank_lo", "rank_hi", "overall"):
        assert column in scores.columns
    assert scores["quadrant"].dropna().isin(QUADRANT_LABELS).all()
    assert scores["quadrant"].notna().sum() >= 340
    ranked = scores.loc[scores["overall"].notna()]
    assert len(ranked) >= 340
    assert ranked[["rank", "rank_lo", "rank_hi"]].notna().all().all()
    assert (ranked["rank_lo"] <= ranked["rank"]).all()
    assert (ranked["rank"] <= ranked["rank_hi"]).all()
    # the draws really vary: a typical district's 90% interval spans tens of places, never a single rank
    assert (ranked["rank_hi"] - ranked["rank_lo"]).median() >= 10
    per_scope = ranked.groupby("rank_scope")["areacd"].transform("size")
    assert (ranked["rank_hi"] <= per_scope).all()
    assert (ranked["areas_ranked"] == per_scope).all()
    unranked = scores.loc[scores["overall"].isna()]
    assert unranked[["rank", "rank_lo", "rank_hi"]].isna().all().all()


FOLKESTONE_AND_HYTHE = "E07000112"


def test_folkestone_and_hythe_is_not_good_growth_on_a_pandemic_rebound(scores):
    # Its claimant rate peaked at 6.5% in 2020; measured from that peak it looked like good growth.
    row = scores.loc[scores["areacd"] == FOLKESTONE_AND_HYTHE].iloc[0]
    assert row["quadrant"] != "good growth"
    assert "2020" not in row["periods_baseline"] and "2021" not in row["periods_baseline"]


def test_every_change_uses_one_window_and_never_a_pandemic_baseline(ctx):
    scored = scoring.scored_catalogue(ctx, scoring.Options())
    window = change.choose_window(ctx, scored, "ltla")
    ends = change.window_ends(ctx, scored, "ltla", window)
    measured = [j for j in range(len(scored)) if ends.base[j] is not None]
    assert len(measured) >= 20
    for j in measured:
        p = change.period_table(ctx, scored["id"].iloc[j], "ltla")
        base = list(p.code).index(ends.base[j])
        end = list(p.code).index(ends.end[j])
        assert not p.pandemic[base], (scored["id"].iloc[j], ends.base[j])
        assert window.end_year - 1 <= p.year[end] <= window.end_year
        assert abs(ends.years[j] - window.gap) <= 0.6
    # a quarter of the places at least get a stated window and intervals on both axes
    s = scoring.score_places(ctx, scoring.Options(draws=200))
    assert s["change_window"].nunique() == 1
    both = s.dropna(subset=["economy_change_lo", "public_services_change_hi"])
    assert (both["economy_change_lo"] <= both["economy_change_hi"]).all()
    clear = both.loc[both["quadrant"] != change.NO_CLEAR]
    assert ((clear["economy_change_lo"] > 0) | (clear["economy_change_hi"] < 0)).all()
    assert ((clear["public_services_change_lo"] > 0) | (clear["public_services_change_hi"] < 0)).all()


def test_ranks_are_within_a_nation_unless_the_table_is_uk_wide(ctx, scores):
    assert set(scores["rank_scope"].dropna()) >= {"England", "Scotland", "Wales"}
    for _, group in scores.dropna(subset=["rank"]).groupby("rank_scope"):
        assert group["rank"].min() == 1
    uk = scoring.score_places(ctx, scoring.Options(scope="uk", draws=100))
    assert set(uk["rank_scope"].dropna()) == {"UK"}
    used = scoring.scored_catalogue(ctx, scoring.Options(scope="uk"))
    assert all(set(n.split(",")) == {"E", "N", "S", "W"} for n in used["nations"])


def test_cli_drop_leaves_indicators_out_and_refuses_unknown_ids():
    run = cli("score", "--drop", "claimant-count,no-such-indicator", "--draws", "50", "--format", "json")
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "no-such-indicator" in lines[0]
    assert "claimant-count" not in lines[0]
    run = cli("score", "--drop", "gross-domestic-product-per-head-in-chained-volume-measure", "--draws", "50",
              "--format", "json")
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)) >= 340


def test_effective_weights_sum_to_one_per_pillar_beside_nominal_weights(ctx):
    table = scoring.weights_table(ctx)
    sums = table.groupby("pillar")[["nominal_weight", "effective_weight"]].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, atol=1e-9)
    gdp = table.set_index("id").loc["gross-domestic-product-per-head-in-chained-volume-measure"]
    # the City of London is out of the reference, so GDP per head is no longer switched off for everyone
    assert gdp["effective_weight"] > 0.25 * gdp["nominal_weight"]


def test_cli_lists_the_catalogue_as_csv():
    run = cli("catalogue", "--format", "csv")
    assert run.returncode == 0, run.stderr
    from io import StringIO
    frame = pd.read_csv(StringIO(run.stdout))
    assert len(frame) >= 91
    assert {"id", "pillar", "polarity", "source_org"} <= set(frame.columns)


@pytest.mark.parametrize("weights, words", [
    ("economy=-1", "negative"),
    ("growth=1", "unknown pillar"),
    ("economy=abc", "not a number"),
])
def test_bad_weights_give_one_error_line_and_exit_code_1(weights, words):
    run = cli("score", "--weights", weights, "--format", "json")
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error:")
    assert words in lines[0]
    assert "Traceback" not in run.stderr
    assert run.stdout == ""


# --------------------------------------------------------------------------- aggregation

@pytest.fixture(scope="module")
def agreement(ctx) -> pd.DataFrame:
    return aggregate.agreement(ctx)


def test_district_aggregates_agree_with_published_ca_and_region_values(agreement):
    summary = aggregate.summarise(agreement)
    print("\naggregation agreement: " + "; ".join(summary.lines()[:3]))
    # every published value is counted: what cannot be compared is left out with a reason, not dropped
    assert summary.published == len(agreement) >= 1000
    assert summary.compared / summary.published >= 0.85  # 952 of 1101 on the committed snapshot
    assert summary.strict_rate >= 0.91  # strictly within 1%: 93.0%
    assert summary.with_rounding_rate - summary.strict_rate <= 0.03  # the rounding allowance adds 2.1 points
    assert set(summary.left_out["reason"]) <= set(aggregate.LEFT_OUT_REASONS)
    assert summary.left_out["values"].sum() == summary.published - summary.compared


def test_every_value_left_out_of_the_agreement_says_why(agreement):
    gone = agreement.loc[~agreement["compared"]]
    assert len(gone) > 0
    assert gone["reason"].isin(list(aggregate.LEFT_OUT_REASONS)).all()
    assert (gone["note"].str.len() > 0).all()
    assert gone["aggregate"].isna().all() and not gone["within_tolerance"].any()
    compared = agreement.loc[agreement["compared"]]
    assert not (compared["strict"] & compared["rounding_only"]).any()
    assert (compared["within_tolerance"] == (compared["strict"] | compared["rounding_only"])).all()


def test_mobile_coverage_weighted_by_land_area_reproduces_the_published_values(agreement):
    # a share of land area weighted by population missed published values by up to 24%
    cov = agreement.loc[agreement["indicator_id"].isin(["4g-coverage", "5g-coverage"])]
    assert cov["compared"].all() and len(cov) >= 40
    assert cov["relative_difference"].max() < 0.01


def test_an_area_share_is_aggregated_by_land_area(ctx):
    members = aggregate.members_of(ctx, GREATER_MANCHESTER)
    agg = aggregate.aggregate(ctx, "4g-coverage", members)
    assert agg.method == "area-weighted mean" and "land area" in agg.note
    start = query.periods(ctx, "4g-coverage", "ltla")["period_start"].iloc[-1]
    area, _ = aggregate.population_weights(ctx, members, start, "area")
    assert 1200 < area.sum() < 1300  # Greater Manchester's land is about 1,276 km²


def test_per_head_forms_of_totals_are_the_total_over_the_population(ctx):
    west_yorkshire = "E47000003"
    fdi = query.series(ctx, west_yorkshire, "inward-foreign-direct-investment").set_index("period_label")["value"]
    per_head = query.series(ctx, west_yorkshire, "inward-foreign-direct-investment-per-head")
    assert len(per_head) >= 5
    pop = query.series(ctx, west_yorkshire, "population-count").set_index("period_label")["value"]
    for label, value in zip(per_head["period_label"], per_head["value"]):
        assert value == pytest.approx(fdi[label] * 1e6 / pop[label[:4]], rel=1e-9)
    assert query.values(ctx, "inward-foreign-direct-investment-per-head", "combined_authority")["value"].notna().sum() >= 8


def test_a_median_is_refused_with_the_reason(ctx):
    ind = ctx.catalogue.get("gross-median-weekly-pay")
    assert ind.aggregation == "not_aggregable"
    with pytest.raises(NotAggregableError) as err:
        aggregate.aggregate(ctx, "gross-median-weekly-pay", aggregate.members_of(ctx, GREATER_MANCHESTER))
    msg = str(err.value)
    assert "cannot be aggregated" in msg
    reason = ind.note or "it is a median, ratio or rate whose denominator is not population"
    assert reason in msg


def test_the_published_value_is_used_when_the_target_has_one(ctx):
    members = aggregate.members_of(ctx, GREATER_MANCHESTER)
    assert len(members) == 10
    code = query.latest_period(ctx, "claimant-count", "ltla")
    published = query.value_at(ctx, "claimant-count", GREATER_MANCHESTER, code)
    assert published is not None
    agg = aggregate.aggregate(ctx, "claimant-count", members, target=GREATER_MANCHESTER)
    assert agg.method == "published"
    assert agg.value == published


def test_without_a_target_a_rate_is_the_population_weighted_mean_of_its_districts(ctx):
    members = aggregate.members_of(ctx, GREATER_MANCHESTER)
    code = query.latest_period(ctx, "claimant-count", "ltla")
    values = query.matrix(ctx, "ltla", code, ["claimant-count"], members).value[:, 0]
    assert not np.isnan(values).any()
    start = query.periods(ctx, "claimant-count", "ltla").set_index("period_code").loc[code, "period_start"]
    weights, _ = aggregate.population_weights(ctx, members, start, "working_age")
    assert (weights > 0).all()
    expected = float(np.sum(weights.to_numpy() * values) / weights.sum())  # Σ wᵢxᵢ / Σ wᵢ
    agg = aggregate.aggregate(ctx, "claimant-count", members)
    assert agg.method == "population-weighted mean"
    assert agg.members_with_data == len(members)
    assert agg.value == pytest.approx(expected, rel=1e-12)
    # a weighted mean lies between its smallest and largest district value
    assert values.min() <= agg.value <= values.max()


def test_working_age_weights_are_population_times_the_16_to_64_share(ctx):
    members = aggregate.members_of(ctx, GREATER_MANCHESTER)
    weights, pop_code = aggregate.population_weights(ctx, members, "2024-01-01", "working_age")
    pop = query.matrix(ctx, "ltla", pop_code, [aggregate.POPULATION], members).value[:, 0]
    share_id = "percentage-of-the-population-aged-16-to-64"
    share = query.matrix(ctx, "ltla", 2024, [share_id], members).value[:, 0]
    np.testing.assert_allclose(weights.to_numpy(), pop * share / 100, rtol=1e-12)
    assert (weights.to_numpy() < pop).all()


def test_a_count_is_the_sum_of_its_districts(ctx):
    members = aggregate.members_of(ctx, GREATER_MANCHESTER)
    code = query.latest_period(ctx, "population-count", "ltla")
    values = query.matrix(ctx, "ltla", code, ["population-count"], members).value[:, 0]
    agg = aggregate.aggregate(ctx, "population-count", members)
    assert agg.method == "sum"
    assert agg.value == pytest.approx(float(values.sum()))
    assert agg.value > 2_500_000  # Greater Manchester is home to about 3 million people


# --------------------------------------------------------------------------- query helpers

def test_the_snapshot_matches_the_catalogue(ctx):
    catalogue.check_against_snapshot(catalogue.default(), ctx.snapshot.catalogue)


def test_values_returns_one_latest_row_per_district(ctx):
    code = query.latest_period(ctx, "claimant-count", "ltla")
    v = query.values(ctx, "claimant-count", "ltla")
    assert list(v.columns) == query.VALUE_COLUMNS
    assert len(v) >= 340
    assert (v["period_code"] == code).all()
    assert not v["areacd"].duplicated().any()
    assert v["value"].notna().mean() > 0.95
    with pytest.raises(UnknownIndicatorError):
        query.values(ctx, "no-such-indicator", "ltla")


def test_latest_period_is_the_newest_well_covered_period(ctx):
    p = query.periods(ctx, "claimant-count", "ltla")
    code = query.latest_period(ctx, "claimant-count", "ltla")
    well = p.loc[p["areas"] >= query.LATEST_MIN_COVERAGE * p["areas"].max()]
    assert code == well["period_code"].iloc[-1]
    assert p["period_start"].astype(str).is_monotonic_increasing
    assert query.latest_period(ctx, "claimant-count", "no-such-level") is None


def test_barnsley_series_includes_back_years_from_its_predecessor_code(ctx):
    assert ctx.predecessor.get(BARNSLEY) == BARNSLEY_OLD
    s = query.series(ctx, BARNSLEY, "claimant-count", "ltla")
    assert len(s) >= 10
    assert (s["areacd"] == BARNSLEY_OLD).any()
    assert not s["period_code"].duplicated().any()
    assert pd.to_datetime(s["period_start"].astype(str)).is_monotonic_increasing
    assert query.latest_period(ctx, "claimant-count", "ltla") in set(s["period_code"])
    years = pd.to_datetime(s["period_start"].astype(str)).dt.year
    assert years.min() <= 2015  # years from before the 2025 recode


def test_benchmarks_for_a_district_include_england_and_its_region(ctx):
    code = query.latest_period(ctx, "claimant-count", "ltla")
    b = query.benchmarks(ctx, "claimant-count", code, BARNSLEY)
    assert b["england"]["areacd"] == query.ENGLAND
    assert b["region"]["areacd"].startswith("E12")
    assert b["region"]["areacd"] == query.parent_region(ctx, BARNSLEY)
    for key in ("england", "region"):
        assert np.isfinite(b[key]["value"])


# Districts and upper-tier areas form clean coverages. (Regions sit beside the nations, from other
# sources, whose shared edges do not match exactly; a few coastal pieces are drawn there, white on white.)
@pytest.mark.parametrize("level", ["ltla", "utla"])
def test_map_borders_are_inland_and_each_drawn_once(ctx, level):
    import shapely
    from indicators import geo
    polygons = geo.boundaries(ctx, level).geometry.values
    paths = geo.borders(ctx, level)
    assert paths and all(len(p) >= 4 and len(p) % 2 == 0 for p in paths)  # flat x, y pairs
    points = np.array([p[:4] for p in paths]).reshape(-1, 2, 2).mean(axis=1)  # each path's first segment
    mids = shapely.points(points)
    tree = shapely.STRtree(polygons)
    touching = np.bincount(tree.query(mids, predicate="dwithin", distance=1e-6)[0], minlength=len(mids))
    assert (touching >= 2).mean() > 0.99  # between two areas, not along the coast
    lines = shapely.multilinestrings([shapely.linestrings(np.reshape(p, (-1, 2))) for p in paths])
    assert shapely.length(lines) == pytest.approx(shapely.length(shapely.union_all(lines)), rel=1e-6)  # no repeats


# --------------------------------------------------------------------------- catalogue judgements on the data

@pytest.mark.parametrize("level", ["ltla", "combined_authority"])
def test_no_scored_indicator_is_a_total_that_tracks_population(ctx, level):
    """Totals are never compared across places of different size: on the snapshot, no scored
    indicator ranks places as their population does (|Spearman| ≤ 0.8), while the £ totals the
    catalogue keeps as context do (the check has the power to catch one)."""
    scored = ctx.cat.loc[ctx.cat["scored"], "id"].tolist()
    totals = ["air-pollution-regulating", "inward-foreign-direct-investment"]
    f = query.matrix(ctx, level, "latest", [*scored, *totals, "population-count"]).frame()
    rho = f[[*scored, *totals]].corrwith(f["population-count"], method="spearman")
    have = f[[*scored, *totals]].notna().sum() >= 8
    assert (rho[scored][have[scored]].abs() <= 0.8).all(), rho[scored][rho[scored].abs() > 0.8]
    assert (rho[totals][have[totals]].abs() > 0.8).any()


def test_no_district_or_county_score_includes_crime_and_the_catalogue_says_so(ctx):
    crime = ctx.cat.loc[ctx.cat["scored"] & (ctx.cat["theme"] == "crime_safety"), "id"].tolist()
    assert crime == ["homicide-offences"]
    for level in ("ltla", "utla"):
        assert query.periods(ctx, "homicide-offences", level).empty
    assert not query.periods(ctx, "homicide-offences", "police_force_area").empty
    assert "no district" in ctx.catalogue.get("homicide-offences").note


# --------------------------------------------------------------------------- how often the quadrant is wrong

@pytest.fixture(scope="module")
def changes(ctx):
    """Standardised changes and their SEs for districts, exactly as score_places builds them."""
    ps = scoring.point_scores(ctx, scoring.Options())
    ids = ps.cat["id"].tolist()
    ends = change.window_ends(ctx, ps.cat, "ltla", change.choose_window(ctx, ps.cat, "ltla"))
    end_m, base_v, base_l, base_u = scoring._window_matrices(ctx, "ltla", ids, ps.latest.areas, ends)
    delta, se = change.indicator_changes(end_m, base_v, base_l, base_u, ends)
    delta = np.where(ps.applicable, delta, np.nan)
    c, scale, _ = change.standardised_changes(delta, end_m.value, ends.log, ps.sign, ps.reference)
    return ps, c, se / scale[None, :]


def test_placebo_no_true_difference_is_rarely_given_a_clear_quadrant(changes):
    # Known truth: every place changed exactly as the average place. Observed changes are pure noise drawn
    # from each value's own published uncertainty; a clear quadrant is then a false verdict. Both 90%
    # intervals must exclude 0, so the nominal false rate is about 10% × 10%; we allow 5%.
    ps, c, c_se = changes
    rng = np.random.default_rng(7)
    noise = np.where(np.isnan(c), np.nan, rng.standard_normal(c.shape) * np.nan_to_num(c_se))
    q = change.quadrants(noise, c_se, ps.weights, ps.cat["pillar"].to_numpy(), ps.applicable, draws=400)
    placed = q.quadrant != None  # noqa: E711 (object array)
    false = (q.quadrant[placed] != change.NO_CLEAR).mean()
    print(f"\nplacebo: {false:.1%} of {placed.sum()} places given a clear quadrant with no true difference")
    assert placed.sum() >= 300
    assert false <= 0.05


def test_leaving_out_one_heavy_indicator_never_puts_a_clear_place_in_another_quadrant(changes):
    ps, c, c_se = changes
    pillar_of = ps.cat["pillar"].to_numpy()
    kw = dict(draws=400, seed=3)
    base = change.quadrants(c, c_se, ps.weights, pillar_of, ps.applicable, **kw)
    clear = (base.quadrant != None) & (base.quadrant != change.NO_CLEAR)  # noqa: E711
    assert clear.sum() >= 5
    heavy = [j for j in np.argsort(-ps.weights) if pillar_of[j] in ("economy", "public_services")
             and not np.isnan(c[:, j]).all()][:6]
    for j in heavy:
        w = ps.weights.copy()
        w[j] = 0.0
        q = change.quadrants(c, c_se, w, pillar_of, ps.applicable, **kw)
        contradicted = clear & (q.quadrant != base.quadrant) & (q.quadrant != change.NO_CLEAR)
        assert contradicted.sum() <= 0.05 * clear.sum(), ps.cat["id"].iloc[j]


def test_rank_intervals_hold_the_true_rank_at_least_90_percent_of_the_time(ctx):
    # Known truth: the published values. Observed: the truth plus noise drawn from each value's own CI.
    # The 90% interval computed from the observed values should hold the true rank for ≥ 90% of places.
    ps = scoring.point_scores(ctx, scoring.Options())
    group, _ = scoring.rank_groups(ps.latest.areas, ps.cat)
    lci = np.where(ps.applicable, ps.latest.lci, np.nan)
    uci = np.where(ps.applicable, ps.latest.uci, np.nan)
    args = (ps.sign, ps.weights, ps.pillar_index, ps.applicable, ps.pillar_weights)
    truth = scoring.rank_draws(ps.value, lci, uci, *args, draws=1, sources=(), group=group, reference=ps.reference)[0]
    se = np.nan_to_num((uci - lci) / (2 * scoring.Z95))
    observed = ps.value + np.random.default_rng(11).standard_normal(ps.value.shape) * se
    lo, hi = scoring.rank_intervals(observed, observed - (ps.value - lci), observed + (uci - ps.value), *args,
                                    draws=400, group=group, reference=ps.reference)
    ok = ~np.isnan(truth) & ~np.isnan(lo)
    held = ((lo[ok] <= truth[ok]) & (truth[ok] <= hi[ok])).mean()
    print(f"\nrank intervals hold the true rank for {held:.1%} of {ok.sum()} places")
    assert ok.sum() >= 340
    assert held >= 0.90
