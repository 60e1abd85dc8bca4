"""Every quirk of the real ELS files, on tiny self-written files."""
from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from data_sources.errors import ValidationError
from data_sources.ons_local_stats import (
    DatasetSpec, assign_levels, load_dataset_specs, parse_csv, parse_fallback, parse_metadata, parse_period,
)

HEADER = "areacd,areanm,geography,indicator,period,observation,measure,unit,lci_95,uci_95,status,notes"
META = {"label": "Thing", "sourceOrg": "Office for National Statistics", "sourceDate": "19/02/2026",
        "sourceURL": "https://example.org", "caveats": "Read with care."}


def csv(*rows: str, header: str = HEADER, bom: bool = False, crlf: bool = False) -> bytes:
    text = ("\r\n" if crlf else "\n").join([header, *rows]) + "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def parse(body: bytes, meta: dict | None = None, slug: str = "thing"):
    return parse_csv(slug, body, meta or META)


def row(areacd="E07000083", areanm="Tewkesbury", geography="Local Authority District", indicator="Thing",
        period="2023-01-01/P1Y", obs="5.5", measure="Percentage", unit="%", lci="", uci="", status="", notes=""):
    return ",".join([areacd, areanm, geography, indicator, period, obs, measure, unit, lci, uci, status, notes])


# ---------------------------------------------------------------- periods

@pytest.mark.parametrize("code,start,end,label", [
    ("2011-01-01/P3Y", date(2011, 1, 1), date(2013, 12, 31), "2011 to 2013"),
    ("2023-04-01/P1Y", date(2023, 4, 1), date(2024, 3, 31), "2023/24"),
    ("2024-09-01/P1Y", date(2024, 9, 1), date(2025, 8, 31), "2024/25"),
    ("2023-01-01/P1Y", date(2023, 1, 1), date(2023, 12, 31), "2023"),
    ("2023-07-01/P1M", date(2023, 7, 1), date(2023, 7, 31), "Jul 2023"),
    ("2020-04-01/P3Y", date(2020, 4, 1), date(2023, 3, 31), "2020/21 to 2022/23"),
    ("2025-04-30", date(2025, 4, 30), date(2025, 4, 30), "30 Apr 2025"),
    ("1998", date(1998, 1, 1), date(1998, 12, 31), "1998"),
])
def test_period_encodings_parse_to_start_end_and_label(code, start, end, label):
    assert parse_period(code) == (start, end, label)


def test_unparseable_period_names_line_and_field():
    with pytest.raises(ValidationError) as err:
        parse(csv(row(), row(period="last year")))
    assert "line 3" in str(err.value) and "field 'period'" in str(err.value) and "thing/thing.csv" in str(err.value)


# ---------------------------------------------------------------- layout

def test_bom_and_crlf_are_read():
    out = parse(csv(row(), bom=True, crlf=True)).observations
    assert out["areacd"].tolist() == ["E07000083"]
    assert out["value"].tolist() == [5.5]


def test_old_upper_case_layout_with_plain_years():
    header = ("AREACD,AREANM,Geography,Indicator,Observation,Unit,Measure,Period,"
              "Lower Confidence Interval (95%),Upper Confidence Interval (95%),Observation Status")
    body = csv("E06000047,County Durham,County or Unitary Authority,GDP per head,10827,£,Pounds,1998,,,",
               header=header, bom=True)
    out = parse(body).observations
    assert set(out["level"]) == {"utla", "ltla"}
    assert out["period_label"].iloc[0] == "1998"
    assert out["value"].iloc[0] == 10827
    assert out["notes"].isna().all()


def test_measure_before_observation_column_order_is_read_by_name():
    header = "areacd,areanm,geography,indicator,period,measure,observation,unit,lci_95,uci_95,status,notes"
    body = csv("E07000083,Tewkesbury,Local Authority District,Anxiety,2022-04-01/P1Y,Mean,3.1,Score,,,,",
               header=header)
    assert parse(body).observations["value"].tolist() == [3.1]


def test_repeated_notes_header_is_folded_into_one_column():
    body = csv(row() + ",", header=HEADER + ",notes")
    out = parse(body).observations
    assert list(out.columns).count("notes") == 1


def test_renamed_column_is_a_clear_error_naming_the_field():
    body = csv(row(), header=HEADER.replace("observation", "value"))
    with pytest.raises(ValidationError) as err:
        parse(body)
    assert "missing column(s) observation" in str(err.value) and "line 1" in str(err.value)


def test_non_utf8_bytes_are_refused():
    with pytest.raises(ValidationError, match="not UTF-8"):
        parse(b"\xff\xfe\x00garbage")


# ---------------------------------------------------------------- values

@pytest.mark.parametrize("code,status", [("x", "not_available"), ("u", "unreliable"), ("c", "confidential"),
                                         ("z", "not_applicable")])
def test_suppression_codes_are_null_not_zero(code, status):
    out = parse(csv(row(obs="", status=code))).observations
    assert out["value"].isna().all() and out["status"].iloc[0] == status


def test_blank_observation_without_status_is_null_and_marked_missing():
    out = parse(csv(row(obs=""))).observations
    assert out["value"].isna().all() and out["status"].iloc[0] == "missing"


def test_suppression_code_in_the_observation_column_is_null():
    out = parse(csv(row(obs="x"))).observations
    assert out["value"].isna().all()


def test_free_text_status_moves_into_notes_and_keeps_the_value():
    out = parse(csv(row(areacd="E67000001", obs="40.1", status="Value for Hackney and City of London combined",
                        notes="note"))).observations
    assert out["value"].iloc[0] == 40.1 and out["status"].iloc[0] == "ok"
    assert "Hackney and City of London combined" in out["notes"].iloc[0]


def test_confidence_intervals_present_partial_or_absent():
    out = parse(csv(row(areacd="E07000001", lci="5.0", uci="6.0"), row(areacd="E07000002"))).observations
    assert out.set_index("areacd").loc["E07000001", ["lci", "uci"]].tolist() == [5.0, 6.0]
    assert out.set_index("areacd").loc[["E07000002"], "lci"].isna().all()
    header = "areacd,areanm,geography,indicator,period,observation,measure,unit,status,notes"
    no_ci = parse(csv("E07000083,T,Local Authority District,Thing,2023,1,P,%,,", header=header)).observations
    assert no_ci["lci"].isna().all() and no_ci["uci"].isna().all()


def test_bad_number_names_file_line_field_and_area():
    with pytest.raises(ValidationError) as err:
        parse(csv(row(), row(areacd="E07000084", obs="12..5")))
    message = str(err.value)
    for part in ("thing/thing.csv", "line 3", "field 'observation'", "area E07000084", "'12..5'"):
        assert part in message


# ---------------------------------------------------------------- indicators

def test_mixed_measure_file_is_split_into_one_indicator_per_measure():
    body = csv(row(indicator="Births", measure="Percentage"), row(indicator="Births", measure="Count", unit="n"),
               row(indicator="Active", measure="Count", unit="n"))
    out = parse(body)
    assert sorted(out.observations["indicator_id"].unique()) == ["active", "births-count", "births-percentage"]
    assert len(out.catalogue) == 3


def test_metadata_shared_block_and_per_indicator_block_are_merged():
    meta = {"shared": {"sourceOrg": "ONS", "sourceDate": "20/11/2025|21/11/2025"},
            "Births": {"label": "Business births", "caveats": "c"}}
    cat = parse(csv(row(indicator="Births")), meta).catalogue.iloc[0]
    assert cat["label"] == "Business births" and cat["source_org"] == "ONS"
    assert cat["source_date"] == date(2025, 11, 20)


def test_metadata_without_ess_block_is_refused():
    with pytest.raises(ValidationError, match="ess-beta-metadata"):
        parse_metadata("thing", b'{"foo": 1}')


# ---------------------------------------------------------------- geography

def test_labels_map_to_levels_with_the_code_outranking_the_label():
    codes = pd.Series(["E06000001", "E07000083", "E47000001", "TLC3", "E10000006", "K02000001", "N92000002",
                       "E23000001"])
    labels = pd.Series(["County or Unitary Authority", "Local Authority District", "ITL Level 2", "ITL Level 2",
                        "County or Unitary Authority", "Country", "Nation", "Police Force Area"])
    assert assign_levels(codes, labels).tolist() == [
        ("utla", "ltla"), ("ltla",), ("combined_authority",), ("itl2",), ("utla",), ("uk",), ("country",),
        ("police_force_area",)]


def test_areas_outside_the_vocabulary_are_counted_not_silently_dropped():
    out = parse(csv(row(), row(areacd="K03000001", areanm="Great Britain", geography="Country"),
                    row(areacd="E11000001", areanm="Greater Manchester", geography="County or Unitary Authority")))
    assert out.excluded == {"K03": 1, "E11": 1}
    assert out.observations["areacd"].tolist() == ["E07000083"]


def test_unitary_rows_appear_at_both_district_and_upper_tier_level():
    out = parse(csv(row(areacd="E06000001", areanm="Hartlepool", geography="County or Unitary Authority")))
    assert sorted(out.observations["level"]) == ["ltla", "utla"]


def test_rows_with_code_na_are_keyed_on_name():
    body = csv(row(areacd="na", areanm="Aberdeen City Region", geography="Combined Authority or City Region"),
               row(areacd="na", areanm="Glasgow City Region", geography="Combined Authority or City Region"))
    out = parse(body).observations
    assert sorted(out["areacd"]) == ["na:aberdeen-city-region", "na:glasgow-city-region"]
    assert set(out["level"]) == {"combined_authority"}


# ---------------------------------------------------------------- duplicates

def test_identical_duplicate_rows_are_dropped():
    body = csv(row(areacd="E47000001", geography="Combined Authority or City Region"),
               row(areacd="E47000001", geography="ITL Level 2"))
    out = parse(body)
    assert len(out.observations) == 1 and out.duplicates_dropped == 1


def test_conflicting_duplicates_are_an_error_naming_both_rows():
    body = csv(row(), row(areacd="E07000001"), row(obs="9.9"))
    with pytest.raises(ValidationError) as err:
        parse(body)
    message = str(err.value)
    assert "conflicting duplicate" in message and "line 2" in message and "line 4" in message
    assert "E07000083" in message


# ---------------------------------------------------------------- fallback

def test_fallback_json_becomes_yearly_observations_with_levels_from_codes():
    doc = {"id": 99, "code": "population-indicators-Population count", "areacd": ["E06000001", "E12000001", "K99"],
           "value": [98180, None, 5], "lci": [None, None, None], "uci": [None, None, None],
           "xDomainNumb": [2024, 2024, 2024]}
    meta = {"shared": {"sourceOrg": "ONS"}, "Population count": {"label": "Total population", "subText": "people"}}
    out = parse_fallback("population-indicators", "population-count", json.dumps(doc).encode(), meta)
    obs = out.observations
    assert set(obs["indicator_id"]) == {"population-count"}
    assert sorted(obs["level"]) == ["ltla", "region", "utla"]
    assert obs.loc[obs["areacd"] == "E12000001", "value"].isna().all()
    assert obs["period_label"].iloc[0] == "2024"
    assert out.catalogue["from_fallback"].all() and out.catalogue["label"].iloc[0] == "Total population"


def test_fallback_with_ragged_arrays_is_refused():
    doc = {"code": "x-y", "areacd": ["E06000001"], "value": [1, 2], "xDomainNumb": [2024]}
    with pytest.raises(ValidationError, match="'value' has 2 entries"):
        parse_fallback("x", "y", json.dumps(doc).encode(), {})


# ---------------------------------------------------------------- declarative list

def test_dataset_list_is_declarative_and_covers_nation_specific_files():
    specs = {s.slug: s for s in load_dataset_specs()}
    assert len(specs) >= 66
    assert specs["population-indicators"].required and specs["population-indicators"].fallback
    for slug, spec in specs.items():
        if spec.companion:
            assert spec.nation and spec.comparability, slug
            assert spec.companion in specs


def test_nation_specific_spec_reaches_the_catalogue():
    spec = DatasetSpec(slug="thing-ni", nation="N", companion="thing", comparability="different survey")
    cat = parse_csv("thing-ni", csv(row(areacd="N09000001", areanm="Antrim")), META, spec).catalogue.iloc[0]
    assert cat["nation_only"] == "N" and cat["comparability"] == "different survey" and cat["nations"] == "N"
