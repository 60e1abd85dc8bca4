"""Unit tests for indicators.derived: per-head forms of totals, matched by area and year."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicators import derived
from indicators.catalogue import load


def obs(indicator: str, level: str, rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """Snapshot-shaped rows: (areacd, period start, value)."""
    return pd.DataFrame({
        "indicator_id": indicator, "areacd": [r[0] for r in rows], "areanm": [r[0].lower() for r in rows],
        "level": level, "period_code": [r[1] for r in rows], "period_label": [r[1][:4] for r in rows],
        "period_start": pd.to_datetime([r[1] for r in rows]).date, "period_end": pd.NaT,
        "value": [r[2] for r in rows], "lci": 1.0, "uci": 2.0, "status": "ok", "unit": "x", "measure": "x",
        "dataset": "total-value-of-uk-exports", "notes": "", "source_line": 1,
    })


@pytest.fixture(scope="module")
def cat():
    return load()


def test_a_total_per_head_is_the_total_times_the_scale_over_the_population_of_the_same_area_and_year(cat):
    slices = {
        ("value-of-uk-exports", "combined_authority"): obs("value-of-uk-exports", "combined_authority", [
            ("A", "2022-01-01", 300.0), ("A", "2023-01-01", 330.0), ("B", "2023-01-01", 50.0)]),
        ("population-count", "combined_authority"): obs("population-count", "combined_authority", [
            ("A", "2022-01-01", 1_500_000.0), ("A", "2023-01-01", 1_650_000.0), ("B", "2023-01-01", 250_000.0)]),
    }
    out = derived.rows(cat, slices)
    got = out.set_index(["areacd", "period_code"])["value"]
    assert got[("A", "2022-01-01")] == pytest.approx(300e6 / 1.5e6)  # £200 per head
    assert got[("A", "2023-01-01")] == pytest.approx(200.0)
    assert got[("B", "2023-01-01")] == pytest.approx(200.0)  # a place six times smaller, the same per head
    assert set(out["indicator_id"]) == {"value-of-uk-exports-per-head"}
    assert out["lci"].isna().all() and out["uci"].isna().all()  # no CI is published for either part
    assert set(out["unit"]) == {"£ per head"}


def test_a_year_or_area_without_a_population_gets_no_per_head_value(cat):
    slices = {
        ("value-of-uk-exports", "combined_authority"): obs("value-of-uk-exports", "combined_authority", [
            ("A", "2021-01-01", 300.0), ("C", "2022-01-01", 10.0), ("A", "2022-01-01", np.nan)]),
        ("population-count", "combined_authority"): obs("population-count", "combined_authority", [
            ("A", "2022-01-01", 1_500_000.0), ("C", "2022-01-01", 0.0)]),
    }
    assert derived.rows(cat, slices).empty  # 2021 has no population; 0 people is no denominator; NaN stays out


def test_a_level_without_the_denominator_is_skipped(cat):
    slices = {("value-of-uk-exports", "itl3"): obs("value-of-uk-exports", "itl3", [("T", "2022-01-01", 5.0)])}
    assert derived.rows(cat, slices).empty


def test_metadata_gives_each_derived_indicator_its_numerators_source_with_our_label_and_unit(cat):
    meta = pd.DataFrame({"indicator_id": ["value-of-uk-exports"], "dataset": ["total-value-of-uk-exports"],
                         "label": ["Value of exports"], "unit": ["£ million"], "source_org": ["ONS"],
                         "has_ci": [False], "levels": ["combined_authority"]})
    rows = derived.rows(cat, {
        ("value-of-uk-exports", "combined_authority"): obs("value-of-uk-exports", "combined_authority",
                                                           [("A", "2022-01-01", 3.0)]),
        ("population-count", "combined_authority"): obs("population-count", "combined_authority",
                                                        [("A", "2022-01-01", 3.0)])})
    out = derived.metadata(cat, meta, rows).set_index("indicator_id")
    row = out.loc["value-of-uk-exports-per-head"]
    assert row["label"] == "Value of exports per head" and row["unit"] == "£ per head"
    assert row["source_org"] == "ONS" and row["dataset"] == "total-value-of-uk-exports"
    assert row["levels"] == "combined_authority"
