"""The profile's HTML (page fragment and downloadable file): every row present and labelled, numbers written
for people, every string from the data escaped, nothing fetched and no scripts."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from indicators import profile_report as pr

POISON = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _prof() -> pd.DataFrame:
    """Three rows as indicators.profile.profile() gives them: a tested one, one with no CI and no
    benchmark, and a total (poisoned label, unit and period)."""
    return pd.DataFrame({
        "indicator_id": ["pay", "gva", "evil"],
        "label": ["Median weekly pay", "Productivity", POISON],
        "pillar": ["economy", "economy", "public_services"], "theme": ["pay_income", "productivity", POISON],
        "polarity": ["higher_is_better", "higher_is_better", "lower_is_better"],
        "unit": ["£", "£", POISON], "scored": [True, True, False],
        "period_label": ["2024", "2022", POISON],
        "value": [236213.0, 38.5, 5.0], "lci": [230000.0, np.nan, np.nan], "uci": [240000.0, np.nan, np.nan],
        "benchmark_value": [250000.0, np.nan, 4.0], "benchmark_name": ["England", None, POISON],
        "significance_95": ["worse", "not compared", "not compared"],
        "quintile": [4.0, 2.0, np.nan], "areas_compared": [296, 296, 0],
        "trend": ["worsening", "too few points", "no significant change"], "slope": [-1.0, np.nan, 0.1],
        "worse_and_worsening": [True, False, False],
        "area_min": [100000.0, 20.0, 1.0], "area_max": [400000.0, 60.0, 9.0], "area_p25": [200000.0, 30.0, 3.0],
        "area_median": [240000.0, 40.0, 5.0], "area_p75": [280000.0, 45.0, 7.0],
    })


def _meta() -> pd.DataFrame:
    snap = pd.DataFrame({"indicator_id": ["pay", "gva", "evil"], "indicator": ["Pay", "GVA", POISON],
                         "subtitle": ["Gross weekly pay", "", POISON], "description": ["", "", POISON],
                         "caveats": ["See [the guide](https://example.org/g).", None, POISON],
                         "source_org": ["ONS", "ONS", POISON], "source_url": ["https://ons.gov.uk/x", "", "javascript:alert(1)"],
                         "source_date_text": ["01/11/2025", "", POISON], "next_release": [None, None, POISON]})
    cat = pd.DataFrame({"id": ["pay", "gva", "evil"], "note": [None, "Real terms", POISON],
                        "kind": ["outcome", "outcome", "context"]})
    return pr.metadata(snap, cat)


def _doc() -> str:
    return pr.to_html(_prof(), _meta(), place_name=POISON, areacd="E0<b>", level_name="district",
                      bench_name=POISON, manifest={"created_at": "2026-11-25T10:00:00Z",
                                                   "attribution": [POISON, "Open Government Licence v3.0"]})


def test_every_row_is_present_with_its_label():
    doc = _doc()
    labels = re.findall(r"<summary>(.*?)</summary>", doc)
    assert labels == ["Median weekly pay", "Productivity", pr._esc(POISON)]


def test_a_poisoned_name_is_escaped_everywhere():
    doc = _doc()
    assert "<script" not in doc.lower() and "<img" not in doc.lower()
    assert 'href="javascript:' not in doc
    assert "&lt;script&gt;" in doc


def test_the_file_stands_alone():
    doc = _doc()
    assert doc.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(script|link|iframe|object|embed)\b", doc, re.IGNORECASE)
    assert not re.search(r'\bsrc="', doc)  # nothing fetched
    assert "@media print" in doc and "A4" in doc
    assert "Open Government Licence v3.0" in doc


def test_numbers_are_written_for_people():
    doc = _doc()
    assert "£236,213" in doc and "230,000 to 240,000" in doc and "£250,000" in doc
    text = re.sub(r"<[^>]+>", " ", doc)
    assert not re.search(r"\b(None|nan|NaN)\b", text)


def test_verdict_trend_and_position_are_in_words():
    doc = _doc()
    pay = doc[doc.index("<summary>Median weekly pay"):]
    pay = pay[:pay.index("</tr>")]
    assert ">worse<" in pay and "worse and worsening" in pay and "↓" in pay and "worsening" in pay
    gva = doc[doc.index("<summary>Productivity"):]
    gva = gva[:gva.index("</tr>")]
    assert "not compared" in gva and "second fifth of 296 areas" in gva and "no comparator figure" in gva
    assert "too few points" in gva and "↓" not in gva and "↑" not in gva


def test_value_interval_and_benchmark_share_the_publishers_decimals():
    meta = _meta()
    meta.loc["pay", "decimal_places"] = 1
    doc = pr.profile_tables(_prof(), meta, "England", "Leeds")
    assert "£236,213.0" in doc and "230,000.0 to 240,000.0" in doc and "£250,000.0" in doc


def test_definition_and_source_are_in_each_row():
    doc = _doc()
    pay = doc[doc.index("<summary>Median weekly pay"):]
    assert "Gross weekly pay" in pay and "the guide (https://example.org/g)" in pay
    assert '<a href="https://ons.gov.uk/x">source page</a>' in pay and "released 01/11/2025" in pay


def test_rows_are_grouped_by_pillar_then_theme():
    doc = _doc()
    assert doc.index("<h3>Economy") < doc.index("<h3>Public services")
    assert "Pay and income" in doc and "<span>Productivity</span></th>" in doc


def test_spine_puts_the_benchmark_in_the_middle_and_the_worst_area_on_the_left():
    pos = pr.spine_positions(_prof())
    assert pos.loc[0, "worst"] == pytest.approx(0.5 - 150000 / 300000)  # benchmark 250k, farthest 100k
    assert pos.loc[0, "best"] == pytest.approx(0.5 + 150000 / 300000)
    assert pos.loc[0, "here"] < 0.5  # below England on a higher-is-better measure
    assert pos.loc[2, "here"] < 0.5  # above the benchmark on a lower-is-better measure is worse: left


@pytest.mark.parametrize(("value", "unit", "text"), [(236213.0, "£", "£236,213"), (26.55, "%", "26.6%"),
                                                     (608.0, "£ per head", "£608 per head"),
                                                     (79.12, "yrs", "79.1 years"), (np.nan, "%", "–"), (-0.001, "%", "0.00%"),
                                                     (-12.34, "£", "−£12.3"),
                                                     (1234.5, "Rate per 100,000 population", "1,234")])
def test_value_text(value, unit, text):
    assert pr.value_text(value, unit) == text
