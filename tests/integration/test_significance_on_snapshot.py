"""The 99.8% limits on the committed snapshot: how often the old symmetric derivation was wrong,
and whether each declared CI method is really the publisher's."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicators import profile, query
from indicators import significance as sg

NCMP_OBESE = ["aged-10-to-11-years-obese", "aged-four-to-five-years-obese"]
CVD = "preventable-cardiovascular-mortality-england"
FLATTERING = {"better->similar", "similar->worse"}  # what the exact method takes back


@pytest.fixture(scope="module")
def ctx():
    return query.context()


def _districts_vs_england(ctx, indicator: str) -> tuple[np.ndarray, ...]:
    rows = ctx.slice(indicator, "ltla")
    rows = rows.loc[rows["value"].notna() & rows["lci"].notna()]
    eng = ctx.area_indicator(query.ENGLAND, indicator)
    eng = eng.loc[eng["value"].notna()].drop_duplicates("period_code").set_index("period_code")["value"]
    bench = rows["period_code"].map(eng).to_numpy(float)
    return tuple(rows[c].to_numpy(float) for c in ("value", "lci", "uci")) + (bench,)


def _flag_changes(ctx, indicator: str) -> tuple[int, pd.Series]:
    v, lo, hi, bench = _districts_vs_england(ctx, indicator)
    entry = ctx.catalogue.get(indicator)
    old = sg.significance(*sg.derived_998(v, lo, hi), bench, entry.sign)
    new_lo, new_hi, _ = sg.limits(v, lo, hi, entry.ci_method, scale=100)
    new = sg.significance(new_lo, new_hi, bench, entry.sign)
    compared = old != sg.NOT_COMPARED
    changed = compared & (old != new)
    return int(compared.sum()), pd.Series([f"{a}->{b}" for a, b in zip(old[changed], new[changed])]).value_counts()


@pytest.mark.parametrize("indicator", [*NCMP_OBESE, CVD])
def test_the_symmetric_998_derivation_flattered_districts_on_skewed_intervals(ctx, indicator):
    # Measured on the snapshot (all periods, districts vs England): 3.1% of year-6 obesity, 4.9% of
    # reception obesity and 5.2% of preventable CVD mortality 99.8% flags change, nearly all
    # better→similar or similar→worse: the old method flattered places.
    compared, moves = _flag_changes(ctx, indicator)
    share = moves.sum() / compared
    assert compared > 5000
    assert 0.01 < share < 0.10, f"{indicator}: {moves.sum()} of {compared} flags changed ({share:.1%})"
    assert moves[moves.index.isin(FLATTERING)].sum() >= 0.98 * moves.sum(), moves.to_dict()


def test_stockton_year_6_obesity_is_worse_than_england_at_998_by_wilson(ctx):
    row = profile.profile(ctx, "E06000004").set_index("indicator_id").loc["aged-10-to-11-years-obese"]
    assert (row["value"], row["benchmark_value"]) == (pytest.approx(25.0), pytest.approx(22.24756))
    old_lo, _ = sg.derived_998(np.array([row["value"]]), np.array([row["lci"]]), np.array([row["uci"]]))
    assert old_lo[0] < row["benchmark_value"]  # the symmetric stretch called it "similar"
    assert row["lci_998"] > row["benchmark_value"] and row["significance_998"] == "worse"
    assert row["limits_method"] == "exact Wilson"


def test_wilson_recovers_whole_counts_from_published_ncmp_and_cancer_limits(ctx):
    # If the publisher used Wilson's method, both limits give back whole numbers of children
    # measured (n) and of cases (O); anything else would not (on the snapshot 87–100% of rows do; the
    # rest are tiny proportions whose 5-decimal limits cannot pin n down). The recovered 95% interval is
    # then the published one to within floating point.
    for indicator in [i.id for i in ctx.catalogue.indicators if i.ci_method == "wilson"]:
        rows = ctx.slice(indicator, "ltla")
        rows = rows.loc[rows["lci"].notna() & (rows["lci"] > 0)]
        p, n = sg.wilson_counts(rows["lci"].to_numpy(float) / 100, rows["uci"].to_numpy(float) / 100)
        whole = (np.abs(n - np.round(n)) < 0.05) & (np.abs(p * n - np.round(p * n)) < 0.05)
        assert whole.mean() > 0.85, f"{indicator}: only {whole.mean():.1%} of rows give whole counts"
        lo, hi = sg.recovered_95(rows["value"], rows["lci"], rows["uci"], "wilson", 100)
        assert np.nanmax(np.abs(lo - rows["lci"].to_numpy(float))) < 1e-6
        assert np.nanmax(np.abs(hi - rows["uci"].to_numpy(float))) < 1e-6


def test_an_indicator_with_skewed_published_intervals_declares_its_method(ctx):
    # 'normal' (the default) is only right where the publisher's interval is symmetric
    obs = ctx.snapshot.observations
    obs = obs.loc[(obs["lci"] < obs["value"]) & (obs["value"] < obs["uci"])]  # both sides have width
    skew = np.log((obs["uci"] - obs["value"]) / (obs["value"] - obs["lci"]))
    median = skew.replace([np.inf, -np.inf], np.nan).groupby(obs["indicator_id"].astype(str)).median()
    undeclared = [i.id for i in ctx.catalogue.indicators if i.ci_method in (None, "normal")]
    skewed = median.loc[median.index.isin(undeclared) & (median.abs() > 0.05)]
    assert skewed.empty, f"skewed intervals without a declared ci_method: {skewed.to_dict()}"
