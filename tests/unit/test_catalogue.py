"""Unit tests for indicators.catalogue: the committed file loads, and bad files are refused by name."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from indicators.catalogue import (
    CATALOGUE_PATH,
    REQUIRED_PUBLIC_SERVICE_THEMES,
    SCORED_PILLARS,
    check_against_snapshot,
    load,
)
from indicators.errors import CatalogueError, UnknownIndicatorError

POLARITIES = {"higher_is_better", "lower_is_better", "neutral"}


@pytest.fixture(scope="module")
def raw() -> dict:
    """The committed catalogue as plain YAML data, to copy and spoil."""
    return yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def entry(raw: dict, indicator_id: str) -> tuple[int, dict]:
    for i, e in enumerate(raw["indicators"]):
        if e["id"] == indicator_id:
            return i, e
    raise AssertionError(f"{indicator_id} not in the committed catalogue")


def snapshot_frame(pairs: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"indicator_id": list(pairs), "dataset": list(pairs.values())})


# --------------------------------------------------------------------------- the committed catalogue

def test_the_committed_catalogue_loads():
    cat = load()
    assert len(cat.indicators) >= 91
    assert len(set(cat.ids())) == len(cat.ids())


def test_every_entry_has_one_of_the_three_polarities():
    assert {i.polarity for i in load().indicators} <= POLARITIES


def test_public_service_themes_cover_every_required_outcome():
    cat = load()
    themes = {i.theme for i in cat.indicators if i.pillar == "public_services" and i.scored}
    assert set(REQUIRED_PUBLIC_SERVICE_THEMES) == {"health", "education", "housing", "poverty", "crime_safety",
                                                   "wellbeing"}
    assert set(REQUIRED_PUBLIC_SERVICE_THEMES) <= themes


def test_scored_means_an_outcome_in_a_scored_pillar_with_a_direction():
    for i in load().indicators:
        assert i.scored == (i.pillar in SCORED_PILLARS and i.polarity != "neutral" and i.kind == "outcome")
        assert i.sign == {"higher_is_better": 1, "lower_is_better": -1, "neutral": 0}[i.polarity]


def test_rates_and_only_rates_name_a_denominator():
    for i in load().indicators:
        assert (i.aggregation == "rate") == (i.denominator is not None), i.id


def test_every_entry_says_what_kind_of_measure_it_is_and_inputs_and_outputs_say_why():
    for i in load().indicators:
        assert i.kind in {"outcome", "output", "input", "context"}, i.id
        if i.kind in ("input", "output"):
            assert i.note, i.id


def test_only_scored_indicators_carry_weight():
    for i in load().indicators:
        assert i.weight == 0 or i.scored, i.id


def test_a_family_of_overlapping_measures_carries_at_most_one_unit_of_weight_per_nation():
    frame = load().frame()
    fam = frame.loc[frame["family"].notna()].assign(nation=lambda f: f["nations"].str.split(",")).explode("nation")
    sums = fam.groupby(["family", "nation"])["weight"].sum()
    assert (sums <= 1 + 1e-3).all(), sums[sums > 1 + 1e-3]
    # the families the catalogue must declare: same survey or same construct
    members = fam.groupby("family")["id"].agg(set)
    assert {"employment-rate", "economically-inactive", "modelled-unemployment-rate",
            "claimant-count"} <= members["labour_market"]
    assert {"anxiety", "happiness", "satisfaction", "worthwhile"} <= members["personal_wellbeing"]
    assert {"aged-four-to-five-years-obese", "aged-four-to-five-years-healthy-weight"} <= members["child_weight"]
    assert len(members["business_survival"]) == 5
    assert {"apprenticeship-starts-england", "apprenticeship-achievements-england"} <= members["apprenticeships"]
    assert len(members["persistent_absence"]) == 3


def test_the_labour_market_family_no_longer_dominates_the_english_economy_pillar():
    frame = load().frame()
    econ = frame.loc[frame["scored"] & (frame["pillar"] == "economy") & frame["nations"].str.contains("E")]
    share = econ.loc[econ["family"] == "labour_market", "weight"].sum() / econ["weight"].sum()
    assert share <= 0.2, share  # one unit: it was 3.5 units, 25% of the pillar and 34% of what districts have


def test_no_total_that_grows_with_the_size_of_the_place_is_scored_or_has_a_direction():
    for i in load().indicators:
        if i.aggregation == "count" or i.unit == "£ million":
            assert not i.scored and i.weight == 0 and i.polarity == "neutral" or i.id == "population-count", i.id


def test_the_totals_have_per_head_forms_built_from_the_population():
    cat = load()
    for total in ("inward-foreign-direct-investment", "business-expenditure-on-research-and-development",
                  "public-funded-expenditure-on-research-and-development", "value-of-uk-exports"):
        per_head = cat.get(f"{total}-per-head")
        assert per_head.derived is not None
        assert (per_head.derived.numerator, per_head.derived.denominator) == (total, "population-count")
        assert per_head.derived.scale == 1_000_000 and per_head.unit == "£ per head"
        assert per_head.dataset == cat.get(total).dataset


def test_inputs_and_activity_are_shown_but_not_scored():
    cat = load()
    for i in ("gigabit-capable-broadband", "4g-coverage", "5g-coverage", "premises-below-30mbps", "museums",
              "sports-facilities", "public-electric-vehicle-chargers", "net-additions-to-the-housing-stock-england",
              "apprenticeship-starts-england", "further-education-and-skills-participation"):
        assert cat.get(i).kind in ("input", "output") and not cat.get(i).scored, i


def test_the_ncmp_measures_count_each_child_once():
    cat = load()
    for age in ("aged-four-to-five-years", "aged-10-to-11-years"):
        weighted = [m for m in ("healthy-weight", "obese", "overweight", "underweight")
                    if cat.get(f"{age}-{m}").weight > 0]
        assert weighted == ["obese"], age
        assert "twice" in cat.get(f"{age}-healthy-weight").note


def test_mobile_coverage_is_a_share_of_land_area_and_aggregated_by_area():
    cat = load()
    for i in ("4g-coverage", "5g-coverage"):
        assert cat.get(i).denominator == "area"
        assert "land area" in cat.get(i).note


def test_labels_say_what_the_source_measures():
    cat = load()
    for i in ("cycle-to-work", "drive-to-work", "public-transport-or-walk-to-work"):
        assert cat.get(i).label.startswith("Travel time to the nearest employment centre by"), i
    gcse = cat.get("gcses-in-english-and-maths")
    assert "by age 19" in gcse.label and "grade" not in gcse.label.lower()
    assert "Universal Credit" in cat.get("claimant-count").note
    assert "no district" in cat.get("homicide-offences").note


def test_an_unknown_indicator_is_refused_by_name():
    with pytest.raises(UnknownIndicatorError, match="no-such-indicator"):
        load().get("no-such-indicator")


# --------------------------------------------------------------------------- against the snapshot

def test_check_against_snapshot_passes_when_data_and_catalogue_agree():
    cat = load()
    check_against_snapshot(cat, snapshot_frame({i.id: i.dataset for i in cat.indicators}))


def mismatch(change) -> str:
    """The message the committed catalogue is refused with against data whose indicator → dataset
    pairs are the catalogue's own, altered in place by change(pairs)."""
    cat = load()
    pairs = {i.id: i.dataset for i in cat.indicators}
    change(pairs)
    with pytest.raises(CatalogueError) as err:
        check_against_snapshot(cat, snapshot_frame(pairs))
    return str(err.value)


def test_an_indicator_in_the_data_without_a_catalogue_entry_is_named():
    msg = mismatch(lambda pairs: pairs.update({"mystery-indicator": "mystery-dataset"}))
    assert "in the data but not in catalogue.yaml: mystery-indicator" in msg


def test_a_catalogue_entry_without_data_is_named():
    msg = mismatch(lambda pairs: pairs.pop("claimant-count"))
    assert "in catalogue.yaml but not in the data: claimant-count" in msg


def test_both_directions_and_a_dataset_mismatch_are_reported_together():
    def change(pairs):
        del pairs["claimant-count"]
        pairs["mystery-indicator"] = "x"
        pairs["adult-obesity-prevalence"] = "some-other-dataset"
    msg = mismatch(change)
    assert "mystery-indicator" in msg and "claimant-count" in msg
    assert "dataset differs from the data for: adult-obesity-prevalence" in msg


# --------------------------------------------------------------------------- bad files

def spoiled(raw: dict, indicator_id: str, change) -> dict:
    """A copy of the catalogue with one indicator's entry replaced by change(entry)."""
    data = copy.deepcopy(raw)
    i, e = entry(data, indicator_id)
    data["indicators"][i] = change(e)
    return data


def refusal(tmp_path: Path, data: dict) -> str:
    """The message a spoiled catalogue is refused with."""
    with pytest.raises(CatalogueError) as err:
        load(write(tmp_path, data))
    return str(err.value)


def test_a_bad_field_value_is_refused_naming_the_indicator_and_the_field(raw, tmp_path):
    msg = refusal(tmp_path, spoiled(raw, "claimant-count", lambda e: {**e, "polarity": "up"}))
    assert "indicator 'claimant-count'" in msg
    assert "field 'polarity'" in msg


def test_an_unknown_field_is_refused_naming_the_indicator(raw, tmp_path):
    msg = refusal(tmp_path, spoiled(raw, "claimant-count", lambda e: {**e, "polarity_note": "typo of note"}))
    assert "indicator 'claimant-count'" in msg and "polarity_note" in msg


def test_a_rate_without_a_denominator_is_refused(raw, tmp_path):
    assert entry(raw, "claimant-count")[1]["aggregation"] == "rate"
    msg = refusal(tmp_path, spoiled(raw, "claimant-count",
                                    lambda e: {k: v for k, v in e.items() if k != "denominator"}))
    assert "indicator 'claimant-count'" in msg
    assert "denominator is required for rates" in msg


def test_a_count_with_a_denominator_is_refused(raw, tmp_path):
    assert entry(raw, "population-count")[1]["aggregation"] == "count"
    msg = refusal(tmp_path, spoiled(raw, "population-count", lambda e: {**e, "denominator": "population"}))
    assert re.search("population-count", msg)


def test_an_entry_without_a_kind_is_refused(raw, tmp_path):
    msg = refusal(tmp_path, spoiled(raw, "claimant-count", lambda e: {k: v for k, v in e.items() if k != "kind"}))
    assert "indicator 'claimant-count'" in msg and "field 'kind'" in msg


def test_weight_on_an_indicator_that_is_never_scored_is_refused(raw, tmp_path):
    msg = refusal(tmp_path, spoiled(raw, "museums", lambda e: {**e, "weight": 0.5}))
    assert "indicator 'museums'" in msg and "never scored" in msg


def test_an_input_without_a_reason_is_refused(raw, tmp_path):
    msg = refusal(tmp_path, spoiled(raw, "museums", lambda e: {k: v for k, v in e.items() if k != "note"}))
    assert "indicator 'museums'" in msg and "note must say why" in msg


def test_a_family_over_one_unit_of_weight_is_refused_naming_family_and_nation(raw, tmp_path):
    data = spoiled(raw, "claimant-count", lambda e: {**e, "weight": 1.0})
    msg = refusal(tmp_path, data)
    assert "labour_market in E sums to 1.8" in msg
    assert "labour_market in N sums to 1.8" in msg


def test_a_derived_indicator_built_from_an_unlisted_one_is_refused(raw, tmp_path):
    data = spoiled(raw, "value-of-uk-exports-per-head",
                   lambda e: {**e, "derived": {**e["derived"], "numerator": "no-such-total"}})
    msg = refusal(tmp_path, data)
    assert "value-of-uk-exports-per-head" in msg and "no-such-total" in msg


def test_a_derived_entry_needs_no_data_of_its_own_but_its_parts_do():
    cat = load()
    pairs = {i.id: i.dataset for i in cat.indicators if not i.derived}
    check_against_snapshot(cat, snapshot_frame(pairs))
    del pairs["value-of-uk-exports"]
    with pytest.raises(CatalogueError, match="not in the data: value-of-uk-exports"):
        check_against_snapshot(cat, snapshot_frame(pairs))


def test_a_duplicate_id_is_refused(raw, tmp_path):
    data = copy.deepcopy(raw)
    data["indicators"].append(copy.deepcopy(entry(data, "claimant-count")[1]))
    assert re.search("listed twice: claimant-count", refusal(tmp_path, data))


def test_a_catalogue_missing_a_public_service_theme_is_refused(raw, tmp_path):
    data = copy.deepcopy(raw)
    data["indicators"] = [e for e in data["indicators"]
                          if not (e["pillar"] == "public_services" and e["theme"] == "crime_safety")]
    assert re.search("crime_safety", refusal(tmp_path, data))


def test_an_unreadable_catalogue_is_a_catalogue_error(tmp_path):
    path = tmp_path / "catalogue.yaml"
    path.write_text("indicators: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="cannot read"):
        load(path)
    with pytest.raises(CatalogueError, match="cannot read"):
        load(tmp_path / "absent.yaml")


def test_sources_text_pairs_each_publisher_with_its_release_date():
    from indicators.views import sources_text
    assert sources_text("Office for National Statistics|Northern Ireland Statistics and Research Agency",
                        "23/10/2025|24/10/2025") == ("Office for National Statistics, released 23/10/2025; "
                                                     "Northern Ireland Statistics and Research Agency, released 24/10/2025")
    assert sources_text("ONS", "01/01/2026") == "ONS, released 01/01/2026"
    assert sources_text("A|B", "01/01/2026") == "A; B, released 01/01/2026"
    assert sources_text("ONS", None) == "ONS"
    assert sources_text(None, float("nan")) == "publisher not stated"
    assert sources_text(float("nan"), None) == "publisher not stated"


def test_every_member_of_a_family_says_why_it_shares_weight():
    for i in load().indicators:
        if i.family:
            assert i.note, i.id
