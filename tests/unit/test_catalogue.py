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


def test_scored_means_a_scored_pillar_and_a_direction():
    for i in load().indicators:
        assert i.scored == (i.pillar in SCORED_PILLARS and i.polarity != "neutral")
        assert i.sign == {"higher_is_better": 1, "lower_is_better": -1, "neutral": 0}[i.polarity]


def test_rates_and_only_rates_name_a_denominator():
    for i in load().indicators:
        assert (i.aggregation == "rate") == (i.denominator is not None), i.id


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
