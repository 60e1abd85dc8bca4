"""The place profile on the committed snapshot: every figure traceable and consistent."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
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
    # the derived 99.8% interval is wider than the 95% one
    assert row["lci_998"] < row["lci"] and row["uci_998"] > row["uci"]
    no_ci = prof.loc[prof["lci"].isna()]
    assert (no_ci["significance_95"] == "not tested").all()


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
