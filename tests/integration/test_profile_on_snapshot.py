"""The place profile on the committed snapshot: every figure traceable and consistent."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from indicators import profile, query
from indicators.errors import UnknownAreaError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ctx():
    return query.context()


def test_profile_values_match_the_snapshot_and_significance_follows_the_ci(ctx):
    prof = profile.profile(ctx, "E06000001")
    assert len(prof) >= 80
    row = prof.set_index("indicator_id").loc["male-healthy-life-expectancy"]
    assert row["value"] == query.value_at(ctx, "male-healthy-life-expectancy", "E06000001", row["period_code"])
    assert row["benchmark_value"] == query.value_at(ctx, "male-healthy-life-expectancy", "E92000001",
                                                    row["period_code"])
    assert row["significance_95"] == ("worse" if row["uci"] < row["benchmark_value"] else
                                      "better" if row["lci"] > row["benchmark_value"] else "similar")
    # the 99.8% interval is wider than the 95% one, and says how it was built
    assert row["lci_998"] < row["lci"] and row["uci_998"] > row["uci"]
    assert row["limits_method"] == "normal approx"  # healthy life expectancy's published CI is symmetric
    no_ci = prof.loc[prof["lci"].isna()]
    assert (no_ci["significance_95"] == "not compared").all()
    assert no_ci["limits_method"].isna().all()


ROWS_WITHOUT_AN_ENGLAND_FIGURE = ["gross-value-added-per-hour-worked",
                                  "gross-domestic-product-per-head-in-chained-volume-measure",
                                  "children-in-relative-poverty-before-housing-costs",
                                  "children-in-relative-poverty-after-housing-costs"]


def test_rows_without_an_england_figure_stay_with_a_named_fallback_or_not_compared(ctx):
    prof = profile.profile(ctx, "E08000035").set_index("indicator_id")
    rows = prof.loc[ROWS_WITHOUT_AN_ENGLAND_FIGURE]
    assert rows["value"].notna().all()
    # child poverty and GDP per head: England publishes none, the UK does, and the row names it
    for ind in ROWS_WITHOUT_AN_ENGLAND_FIGURE[1:]:
        assert rows.loc[ind, "benchmark_used"] == query.UK
        assert rows.loc[ind, "benchmark_name"] == "United Kingdom"
        assert rows.loc[ind, "benchmark_value"] == query.value_at(ctx, ind, query.UK, rows.loc[ind, "period_code"])
    # productivity: neither England nor the UK has a figure: shown, not compared, no benchmark named
    gva = rows.loc["gross-value-added-per-hour-worked"]
    assert np.isnan(gva["benchmark_value"]) and pd.isna(gva["benchmark_used"]) and pd.isna(gva["benchmark_name"])
    assert gva["significance_95"] == gva["significance_998"] == "not compared"
    # totals (people, £ million) grow with the place: never set beside England's total
    totals = prof.index[ctx.cat.set_index("id").loc[prof.index, "aggregation"].eq("count").to_numpy()]
    assert len(totals) and prof.loc[totals, "benchmark_value"].isna().all()
    assert (prof.loc[totals, "significance_95"] == "not compared").all()
    # everything else is compared with England itself
    also_without = ["gross-value-added-per-filled-job", "gross-domestic-product-per-head-at-current-market-price"]
    others = prof.drop(index=ROWS_WITHOUT_AN_ENGLAND_FIGURE + also_without + list(totals))
    england_has = np.array([query.value_at(ctx, i, query.ENGLAND, c) is not None
                            for i, c in zip(others.index, others["period_code"])])
    assert (others.loc[england_has, "benchmark_used"] == query.ENGLAND).all()
    # where England publishes nothing for the period (and no fallback has it), the row stays, not compared
    assert (others.loc[~england_has, "significance_95"] == "not compared").all()


def test_devolved_places_are_compared_with_their_own_nation_by_default(ctx):
    assert profile.place_context(ctx, "S12000036").benchmark == "S92000003"
    assert profile.place_context(ctx, "W06000015").benchmark == "W92000004"
    assert profile.place_context(ctx, "E08000035").benchmark == query.ENGLAND
    prof = profile.profile(ctx, "S12000036")
    assert prof["benchmark_used"].isin(["S92000003", query.UK, None]).all()
    assert (prof["benchmark_used"] == "S92000003").sum() > len(prof) / 2


def test_quintile_is_the_polarity_aware_fifth_among_comparable_areas(ctx):
    prof = profile.profile(ctx, "E08000035")
    polar = prof.loc[prof["polarity"] != "neutral"]
    have = polar.loc[polar["quintile"].notna()]
    assert len(have) > 50 and have["quintile"].isin([1, 2, 3, 4, 5]).all()
    assert (have["quintile"] == np.clip(1 + np.floor((100 - have["percentile"]) / 20), 1, 5)).all()
    # the best district on an indicator is in the first fifth, the worst in the last
    assert list(profile.quintile(np.array([100.0, 80.01, 80.0, 20.0, 0.5, np.nan]))[:5]) == [1, 1, 2, 5, 5]
    # nation-specific indicators rank a place only among areas whose figures are comparable
    row = prof.set_index("indicator_id").loc["apprenticeship-starts-england"]
    england_districts = query.current_areas(ctx, "ltla")["areacd"].str.startswith("E").sum()
    assert row["areas_compared"] <= england_districts


def test_neighbours_as_benchmark_compare_with_their_mean_for_the_same_period(ctx):
    prof = profile.profile(ctx, "E08000035", benchmark=profile.NEIGHBOURS).set_index("indicator_id")
    row = prof.loc["gross-median-weekly-pay"]
    peers = profile.place_context(ctx, "E08000035").peers
    def value(code):  # a recoded peer (Sheffield, E08000039) keeps its figures under its old code
        found = query.value_at(ctx, "gross-median-weekly-pay", code, row["period_code"])
        old = ctx.predecessor.get(code)
        return found if found is not None or old is None else \
            query.value_at(ctx, "gross-median-weekly-pay", old, row["period_code"])
    peer_values = [value(p) for p in peers]
    assert None not in peer_values
    assert row["benchmark_value"] == pytest.approx(np.mean([v for v in peer_values if v is not None]))
    assert row["benchmark_value"] == row["neighbour_mean"]
    assert row["significance_95"] == ("worse" if row["uci"] < row["benchmark_value"] else
                                      "better" if row["lci"] > row["benchmark_value"] else "similar")
    assert profile.place_context(ctx, "E08000035", benchmark=profile.NEIGHBOURS).benchmark_name == \
        f"its {len(peers)} statistical neighbours (mean)"


def test_neighbours_as_benchmark_without_neighbours_is_a_clear_error(ctx):
    from indicators.errors import IndicatorError
    with pytest.raises(IndicatorError, match="no published statistical neighbours"):
        profile.place_context(ctx, "E08000035", benchmark=profile.NEIGHBOURS, peers=[])


def test_worse_and_worsening_only_when_both_hold(ctx):
    prof = profile.profile(ctx, "E08000038")
    flagged = prof.loc[prof["worse_and_worsening"]]
    assert ((flagged["significance_95"] == "worse") & (flagged["trend"] == "worsening")).all()


def test_recoded_area_profile_includes_back_years(ctx):
    prof = profile.profile(ctx, "E08000038").set_index("indicator_id")
    assert prof.loc["claimant-count", "trend_points"] >= 3
    assert len(prof.loc["claimant-count", "spark_values"]) == profile.SPARK_POINTS


def test_difference_in_differences_against_neighbours(ctx):
    prof = profile.profile(ctx, "E06000002", did_since="2019", did_indicators=["employment-rate"])
    row = prof.set_index("indicator_id").loc["employment-rate"]
    assert row["did_verdict"] in {"better than peers", "worse than peers", "no significant difference"}
    assert row["did_lci"] <= row["did_estimate"] <= row["did_uci"]
    assert "peers" in row["did_note"]


def test_unknown_area_is_a_clear_error(ctx):
    with pytest.raises(UnknownAreaError, match="unknown area code 'E0000000X'"):
        profile.profile(ctx, "E0000000X")


def test_percentiles_and_neighbour_means_are_within_range(ctx):
    prof = profile.profile(ctx, "W06000015")
    scored = prof.loc[prof["scored"] & prof["percentile"].notna()]
    assert scored["percentile"].between(0, 100).all()
    has_peers = prof.loc[prof["neighbours_with_data"] > 0]
    assert np.all(has_peers["neighbour_mean"].between(has_peers["area_min"], has_peers["area_max"]))


def test_indicators_package_never_imports_streamlit():
    for path in (ROOT / "indicators").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
            module = node.module if isinstance(node, ast.ImportFrom) else ""
            assert "streamlit" not in (module or "") and not any(n.startswith("streamlit") for n in names), path
