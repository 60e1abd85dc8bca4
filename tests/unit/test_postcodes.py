"""Postcode normalisation and lookup against the packaged ONS Postcode Directory, and the place
search that builds on it (on the committed snapshot)."""
from __future__ import annotations

import pytest

from indicators import place_search, postcodes, query


@pytest.mark.parametrize(("typed", "kind", "shown"), [
    ("LS1 4AP", "postcode", "LS1 4AP"), ("ls14ap", "postcode", "LS1 4AP"), ("  Ls1   4ap ", "postcode", "LS1 4AP"),
    ("sw1a1aa", "postcode", "SW1A 1AA"), ("M1 1AE", "postcode", "M1 1AE"), ("EC1A-1BB", "postcode", "EC1A 1BB"),
    ("LS1", "outcode", "LS1"), ("ls 1", "outcode", "LS1"), ("SW1A", "outcode", "SW1A"), ("e1", "outcode", "E1"),
])
def test_normalise_reads_case_spaces_and_punctuation(typed, kind, shown):
    assert postcodes.normalise(typed) == (kind, shown)


@pytest.mark.parametrize("typed", ["LS1 4A", "LS", "4AP", "LS1 4APX", "", "1LS 4AP"])
def test_normalise_refuses_what_is_not_a_postcode(typed):
    with pytest.raises(postcodes.InvalidPostcode, match="not a UK postcode"):
        postcodes.normalise(typed)


@pytest.mark.parametrize(("typed", "expected"), [("LS1 4AP", True), ("ls1", True), ("LS1 4A", True),
                                                 ("Leeds", False), ("E08000035", False), ("Bath", False)])
def test_looks_like_postcode(typed, expected):
    assert postcodes.looks_like_postcode(typed) is expected


def test_a_full_postcode_gives_its_district():
    found = postcodes.lookup("LS1 4AP")
    assert found == postcodes.PostcodeMatch("LS1 4AP", "postcode", (("E08000035", 1.0),))


def test_an_outcode_gives_every_district_it_touches_with_shares():
    found = postcodes.lookup("SW1A")
    codes = [d for d, _ in found.districts]
    assert found.kind == "outcode" and codes[0] == "E09000033" and len(codes) >= 2
    assert sum(s for _, s in found.districts) == pytest.approx(1.0)
    assert [s for _, s in found.districts] == sorted((s for _, s in found.districts), reverse=True)


def test_outcode_prefixes_do_not_spill_into_longer_outcodes():
    """LS1 must not pick up LS10–LS19's postcodes (the directory pads outward codes to four characters)."""
    assert [d for d, _ in postcodes.lookup("LS1").districts] == ["E08000035"]


@pytest.mark.parametrize(("typed", "error", "words"), [
    ("ZZ9 9ZZ", postcodes.UnknownPostcode, "not in the ONS Postcode Directory"),
    ("QQ1 1AA", postcodes.UnknownPostcode, "no postcode area starts with 'Q'"),
    ("AB11 3AG", postcodes.NoDistrict, "no local authority district"),
    ("LS1 4A", postcodes.InvalidPostcode, "not a UK postcode"),
])
def test_lookup_failures_are_typed_and_say_why(typed, error, words):
    with pytest.raises(error, match=words):
        postcodes.lookup(typed)


def test_the_index_is_compact():
    postcodes.lookup("LS1 4AP")
    table = postcodes._LETTERS["L"]
    assert table.postcodes.dtype == "S7" and table.district.dtype == "int16"
    assert table.postcodes.nbytes + table.district.nbytes <= 9 * len(table.postcodes)
    assert (table.postcodes[1:] >= table.postcodes[:-1]).all()  # sorted, so lookups are binary searches


@pytest.fixture(scope="module")
def ctx():
    return query.context()


@pytest.mark.parametrize(("typed", "kind", "first"), [
    ("LS1 4AP", "postcode", "E08000035"), ("Leeds", "name", "E08000035"), ("leeds", "name", "E08000035"),
    ("Leds", "name", "E08000035"), ("E08000035", "code", "E08000035"), ("e08000035", "code", "E08000035"),
    ("brighton & hove", "name", "E06000043"), ("Glasgow", "name", "S12000049"), ("E47000003", "code", "E47000003"),
    ("E12000003", "code", "E12000003"), ("BT1 1AA", "postcode", "N09000003"), ("CF10 1AA", "postcode", "W06000015"),
    ("E08000016", "old code", "E08000038"), ("Harrogate", "name", "E06000065"),
])
def test_search_finds_the_place(ctx, typed, kind, first):
    found = place_search.search(ctx, typed)
    assert found.kind == kind and found.matches[0].areacd == first and not found.message


def test_an_old_code_says_what_replaced_it(ctx):
    found = place_search.search(ctx, "E07000165")
    assert found.single.areacd == "E06000065"
    assert "Harrogate (E07000165) became part of North Yorkshire (E06000065)" in found.notices[0]


def test_an_abolished_county_with_no_single_successor_is_explained(ctx):
    found = place_search.search(ctx, "Cumbria")
    assert not found.matches and "no single successor" in found.message


def test_an_ambiguous_name_lists_every_candidate(ctx):
    found = place_search.search(ctx, "newcastle")
    assert found.single is None
    assert {m.areanm for m in found.matches} >= {"Newcastle upon Tyne", "Newcastle-under-Lyme"}


def test_empty_search_finds_nothing_and_says_nothing(ctx):
    assert place_search.search(ctx, "  ") == place_search.SearchResult("", "empty")


def test_an_area_the_dashboard_does_not_profile_is_named(ctx):
    found = place_search.search(ctx, "E23000002")  # a police force area
    assert not found.matches and "is not a place this dashboard profiles" in found.message


def test_a_postcode_outside_the_uk_statistics_says_where_it_is(ctx):
    found = place_search.search(ctx, "IM1 1AA")
    assert not found.matches and "Isle of Man" in found.message
