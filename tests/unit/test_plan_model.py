"""Unit tests for indicators.plan_model: hostile plan files are refused, always with a PlanError.

Every refusal must name the source (the file the author gave us), the line where YAML can tell
it, and the field where one is at fault, and must never surface as another exception type
(RecursionError, UnicodeDecodeError, yaml.YAMLError, pydantic.ValidationError...), because the
CLI and the upload page turn only PlanError into one readable line.
"""
from __future__ import annotations

import builtins
import io
import json
import os
import pathlib
import re
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators import plan_model
from indicators.plan_model import MAX_PLAN_BYTES, Plan, PlanError, load_plan, schema_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "plans" / "examples").glob("*.yaml"))
SCHEMA_FILE = ROOT / "plans" / "plan.schema.json"
SOURCE = "uploads/council-plan.yaml"

# A small valid plan. Line numbers matter to the tests below: they are in the comments.
BASE = """\
title: Test plan                # line 1
illustrative: true              # line 2
place:                          # line 3
  code: E07000008               # line 4
published: 2024-06-01           # line 5
baseline: 2022                  # line 6
benchmark: england              # line 7
objectives:                     # line 8
  - title: Homes                # line 9
    pillar: public_services     # line 10
    weight: 1.0                 # line 11
    indicators: [ind-a]         # line 12
    targets:                    # line 13
      - horizon: immediate      # line 14
        year: 2026              # line 15
        reach: 12               # line 16
"""

# Two objectives, for the weights and multi-indicator cases.
TWO = """\
title: Two objectives                 # line 1
place: {code: E07000008}              # line 2
published: 2024-06-01                 # line 3
baseline: 2022                        # line 4
objectives:                           # line 5
  - title: Work                       # line 6
    pillar: economy                   # line 7
    weight: 0.5                       # line 8
    indicators: [ind-a, ind-b]        # line 9
    targets:                          # line 10
      - indicator: ind-a              # line 11
        horizon: medium               # line 12
        year: 2028                    # line 13
        change: {by: 2}               # line 14
  - title: Health                     # line 15
    pillar: public_services           # line 16
    weight: 0.3                       # line 17
    indicators: [ind-c]               # line 18
    targets:                          # line 19
      - horizon: long                 # line 20
        year: 2032                    # line 21
        close_gap: {share: 0.5}       # line 22
"""


def edit(text: str, old: str, new: str) -> str:
    assert old in text, f"test setup: {old!r} not in the plan"
    return text.replace(old, new, 1)


def refuse(body: bytes | str, *, line: int | None = None, field: str | None = None, match: str | None = None,
           **context) -> PlanError:
    """load_plan must raise PlanError (anything else propagates and fails the test) naming source/line/field."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(body, SOURCE, **context)
    err = info.value
    text = str(err)
    assert text.startswith(SOURCE), text
    assert err.source == SOURCE
    if line is not None:
        assert err.line == line, text
        assert f"line {line}" in text
    if field is not None:
        assert err.field == field, text
        assert f"field '{field}'" in text
    if match is not None:
        assert re.search(match, text), text
    return err


def test_the_base_plans_are_valid():
    plan = load_plan(BASE.encode(), SOURCE)
    assert plan.title == "Test plan" and plan.objectives[0].targets[0].kind == "reach"
    two = load_plan(edit(TWO, "weight: 0.3", "weight: 0.5").encode(), SOURCE)
    assert [o.weight for o in two.objectives] == [0.5, 0.5]


# ------------------------------------------------------------------ not a plan at all

def test_empty_file():
    refuse(b"", match="empty")


def test_only_whitespace():
    refuse(b"  \n\t\n   \r\n", match="empty")


@pytest.mark.parametrize("body", [b"null\n", b"~\n", b"---\n...\n"])
def test_null_document(body):
    refuse(body, match="empty")


def test_top_level_list():
    refuse(b"- title: a\n- title: b\n", line=1, match="must be a mapping.*not a list")


@pytest.mark.parametrize("body, kind", [(b"42\n", "int"), (b"just some words\n", "str"), (b"3.5\n", "float")])
def test_top_level_scalar(body, kind):
    refuse(body, line=1, match=f"must be a mapping.*not a {kind}")


def test_unclosed_bracket_reports_the_line_yaml_gives():
    # The flow mapping opened on line 2 is still open when line 3 starts a new key.
    body = "title: x\nplace: {code: E07000008\nobjectives: []\n"
    refuse(body, line=3, match="not valid YAML")


def test_unclosed_list_at_the_end_of_a_longer_file():
    body = edit(BASE, "indicators: [ind-a]", "indicators: [ind-a")
    err = refuse(body, match="not valid YAML")
    assert err.line is not None and 12 <= err.line <= 14


def test_non_utf8_bytes_name_the_line():
    body = b"title: ok\nplace:\n  name: Caf\xe9 district\n"  # Latin-1 é on line 3
    offset = body.index(b"\xe9")
    refuse(body, line=3, match=rf"not UTF-8 text \(byte {offset}\)")


def test_utf16_with_bom_is_refused_as_not_utf8():
    refuse(BASE.encode("utf-16"), line=1, match="not UTF-8")


def test_utf8_with_bom_is_accepted():
    assert load_plan(b"\xef\xbb\xbf" + BASE.encode(), SOURCE).title == "Test plan"


# ------------------------------------------------------------------ YAML bombs and tricks

def _billion_laughs(levels: int = 9) -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


def test_billion_laughs_is_refused_quickly_with_a_message_about_anchors_or_aliases():
    body = _billion_laughs(9)  # 9^9 ≈ 387 million "lol"s if expanded
    start = time.perf_counter()
    err = refuse(body, line=1, match=r"(?i)alias|anchor")
    assert time.perf_counter() - start < 1.0
    assert "not allowed" in err.message


def test_a_single_anchor_and_alias_is_refused():
    refuse(b"title: &t My plan\nsubtitle: *t\n", line=1, match=r"anchors \(&name\) are not allowed")


def test_a_lone_alias_is_refused_with_a_message_about_aliases():
    refuse(b"title: x\nplace: *somewhere\n", line=2, match=r"aliases \(\*name\) are not allowed")


def test_an_anchor_deep_inside_a_valid_plan_names_its_line():
    body = edit(BASE, "  code: E07000008", "  code: &c E07000008")
    refuse(body, line=4, match="anchors")


def test_a_document_over_1_mb_is_refused_before_parsing(monkeypatch):
    # Valid YAML padded with a comment: it would parse, so a refusal must come from the size check.
    body = BASE.encode() + b"#" + b"x" * MAX_PLAN_BYTES + b"\n"

    def no_parsing(*args, **kwargs):
        raise AssertionError("the YAML parser was reached for an over-size document")

    monkeypatch.setattr(plan_model._NoAliasLoader, "__init__", no_parsing)
    monkeypatch.setattr(yaml, "load", no_parsing)
    err = refuse(body, match=r"limited to 1,000,000 bytes")
    assert f"{len(body):,} bytes" in err.message


def test_exactly_the_size_limit_is_still_read():
    pad = MAX_PLAN_BYTES - len(BASE.encode()) - 2
    body = BASE.encode() + b"#" + b"x" * pad + b"\n"
    assert len(body) == MAX_PLAN_BYTES
    assert load_plan(body, SOURCE).title == "Test plan"


def test_nesting_within_the_depth_limit_is_read():
    depth = plan_model.MAX_DEPTH
    refuse(b"[" * depth + b"]" * depth, line=1, match="must be a mapping")  # read, then refused as a list


def test_nesting_one_level_past_the_depth_limit_is_refused():
    depth = plan_model.MAX_DEPTH + 1
    refuse(b"[" * depth + b"]" * depth, line=1, match=f"nested more than {plan_model.MAX_DEPTH} levels")


@pytest.mark.parametrize("body", [
    b"[" * 5000 + b"]" * 5000,
    b"title: " + b"{a: " * 3000 + b"1" + b"}" * 3000 + b"\n",
], ids=["5000-nested-lists", "3000-nested-mappings"])
def test_deeply_nested_but_small_yaml_is_refused_without_recursion_error(body):
    assert len(body) < 20_000
    start = time.perf_counter()
    refuse(body, line=1, match=r"(?i)nested")
    assert time.perf_counter() - start < 1.0


def test_python_tags_are_refused_and_nothing_is_executed(tmp_path, monkeypatch):
    marker = tmp_path / "executed"
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    body = f'!!python/object/apply:os.system ["touch {marker}"]\n'.encode()
    refuse(body, line=1, match="could not determine a constructor")
    nested = edit(BASE, "title: Test plan", f'title: !!python/object/apply:os.system ["touch {marker}"]')
    refuse(nested, line=1, match="could not determine a constructor")
    refuse(b"title: !!python/name:os.system\n", line=1, match="could not determine a constructor")
    assert calls == [] and not marker.exists()


@pytest.mark.parametrize("char, code", [(b"\x00", "U+0000"), (b"\x07", "U+0007"), (b"\x1b", "U+001B")])
def test_control_characters_are_refused_on_one_line_naming_the_line(char, code):
    body = b"title: ok\nplace:\n  name: a" + char + b"b\n"
    err = refuse(body, line=3, match=f"not valid YAML.*{re.escape(code)}")
    assert "\n" not in str(err)


def test_duplicated_keys_are_refused():
    # PyYAML alone would keep the last 'title' silently; a second 'objectives' would drop the first.
    refuse(BASE + "title: A second title\n", line=17, match="'title' is given twice")
    refuse(BASE + "objectives: []\n", line=17, match="'objectives' is given twice")
    refuse(edit(BASE, "        year: 2026 ", "        year: 2025\n        year: 2026 "), line=16,
           match="'year' is given twice")


# ------------------------------------------------------------------ catalogue and areas

def test_unknown_indicator_names_the_field_and_the_id():
    err = refuse(BASE, line=12, field="objectives[0].indicators", match="unknown indicator 'ind-a'",
                 indicators={"ind-b", "ind-c"})
    assert err.message == "unknown indicator 'ind-a'"


def test_unknown_indicator_in_the_second_objective():
    body = edit(TWO, "weight: 0.3", "weight: 0.5")
    refuse(body, line=18, field="objectives[1].indicators", match="unknown indicator 'ind-c'",
           indicators={"ind-a", "ind-b"})


def test_known_indicators_pass():
    assert load_plan(BASE.encode(), SOURCE, indicators={"ind-a"}).objectives[0].indicators == ["ind-a"]


def test_unknown_area_code_is_named():
    refuse(BASE, match="unknown area code.*E07000008", areas={"E06000001", "E92000001"})


def test_unknown_benchmark_and_neighbour_codes_are_named():
    body = edit(BASE, "benchmark: england", "benchmark: E06000002\nneighbours: {areas: [E06000001, E06000099]}")
    err = refuse(body, areas={"E07000008", "E06000001"})
    assert "E06000099" in err.message and "E06000002" in err.message and "E06000001" not in err.message


def test_malformed_area_code_names_the_field():
    refuse(edit(BASE, "code: E07000008", "code: ../../etc"), line=4, field="place.code", match="pattern")


# ------------------------------------------------------------------ impossible years

def test_target_year_1999():
    refuse(edit(BASE, "year: 2026", "year: 1999"), line=15, field="objectives[0].targets[0].year",
           match="greater than or equal to 2000")


def test_target_year_after_2100():
    refuse(edit(BASE, "year: 2026", "year: 2101"), line=15, field="objectives[0].targets[0].year",
           match="less than or equal to 2100")


def test_long_target_one_year_after_publication():
    body = edit(edit(BASE, "horizon: immediate", "horizon: long"), "year: 2026", "year: 2025")
    refuse(body, line=14, field="objectives[0].targets[0]",
           match="long-term target must fall 6–15 years after publication \\(2030–2039\\), not 2025")


def test_second_target_in_second_objective_out_of_its_horizon():
    body = edit(edit(TWO, "weight: 0.3", "weight: 0.5"), "year: 2032", "year: 2041")
    refuse(body, line=20, field="objectives[1].targets[0]", match="2030–2039\\), not 2041")


def test_baseline_after_publication_says_both_dates():
    refuse(edit(BASE, "baseline: 2022", "baseline: 2025"),
           match=r"the baseline \(2025\) is after the plan's publication \(2024-06-01\)")
    refuse(edit(BASE, "baseline: 2022", "baseline: 2025-04-01/P1Y"), match=r"baseline \(2025-04-01/P1Y\) is after")


def test_baseline_after_publication_points_at_the_baseline_field():
    refuse(edit(BASE, "baseline: 2022", "baseline: 2025"), line=6, field="baseline")


def test_unknown_area_points_at_the_place():
    refuse(BASE, line=3, field="place", areas={"E06000001"})  # the place: key


def test_unquoted_date_baseline_is_read_as_its_period_code():
    # YAML reads an unquoted 2022-04-01 as a date; the plan takes it as the code it spells.
    plan = load_plan(edit(BASE, "baseline: 2022", "baseline: 2022-04-01").encode(), SOURCE)
    assert plan.baseline == "2022-04-01"
    refuse(edit(BASE, "baseline: 2022", "baseline: 2025-04-01"), line=6, field="baseline", match="after")


def test_baseline_year_out_of_range():
    refuse(edit(BASE, "baseline: 2022", "baseline: 1800"), line=6, field="baseline", match="between 1990 and 2100")


@pytest.mark.parametrize("code, match", [
    ('"2022-02-30"', r"baseline date 2022-02-30 does not exist"),
    ('"2022-13-45/P999Y"', r"baseline date 2022-13-45 does not exist"),
    ('"2021-02-29/P1Y"', r"baseline date 2021-02-29 does not exist"),
    ('"2022-04-01/P999Y"', r"baseline period length P999Y must be between 1 and 15 years"),
    ('"2022-04-01/P0M"', r"baseline period length P0M must be between 1 and 180 months"),
    ('"1800-04-01/P1Y"', r"between 1990 and 2100"),
])
def test_a_baseline_date_that_does_not_exist_or_an_absurd_length_is_refused(code, match):
    refuse(edit(BASE, "baseline: 2022", f"baseline: {code}"), line=6, field="baseline", match=match)


@pytest.mark.parametrize("code", ['"2022"', '"2024-02-29"', '"2022-04-01/P1Y"', '"2011-01-01/P3Y"', '"2022-04-01/P6M"'])
def test_real_baseline_codes_are_accepted(code):
    assert load_plan(edit(BASE, "baseline: 2022", f"baseline: {code}").encode(), SOURCE).baseline == code.strip('"')


def test_a_change_of_zero_is_refused_as_a_default_not_a_target():
    body = edit(BASE, "        reach: 12               # line 16", "        change: {by: 0}         # line 16")
    refuse(body, line=16, field="objectives[0].targets[0].change.by",
           match="a change of 0 leaves the target at the baseline")


# ------------------------------------------------------------------ weights and targets

def test_weights_that_do_not_sum_to_one_say_what_they_sum_to():
    refuse(TWO, match=r"objective weights must sum to 1 \(they sum to 0\.8\)")


def test_weights_that_do_not_sum_to_one_point_at_objectives():
    err = refuse(TWO, field="objectives")
    assert err.line in (5, 6)  # the key, or its first item (see test_block_valued_fields_are_reported_at_the_key_line)


# ------------------------------------------------------------------ a cited source and objectives not measured

SOURCED = BASE + """\
source:                         # line 17
  title: A published framework  # line 18
  publisher: A department       # line 19
  url: https://www.gov.uk/x     # line 20
  published: 2023-12-21         # line 21
"""

UNMEASURED = BASE + """\
  - title: Safety               # line 17
    pillar: public_services     # line 18
    not_measured: no indicator of it in the snapshot   # line 19
"""


def test_a_plan_may_cite_its_source_and_the_citation_is_one_line():
    plan = load_plan(SOURCED.encode(), SOURCE)
    assert plan.source is not None and plan.source.url == "https://www.gov.uk/x"
    assert plan.source.citation() == "A published framework. A department, 21 December 2023. https://www.gov.uk/x"
    assert plan.source.citation(with_url=False) == "A published framework. A department, 21 December 2023."
    assert load_plan(BASE.encode(), SOURCE).source is None  # optional


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.org/a", "www.gov.uk/x", "https://",
                                 '"https://a.example/b c"', "data:text/html,hi", '"https://a.example/\\tb"'])
def test_a_source_url_that_is_not_a_web_address_names_its_line_and_field(url):
    body = edit(SOURCED, "url: https://www.gov.uk/x     # line 20", f"url: {url}   # line 20")
    err = refuse(body, line=20, field="source.url", match="must be a web address starting http:// or https://")
    assert "\n" not in str(err)


def test_an_overlong_source_url_is_refused():
    long = "https://a.example/" + "x" * plan_model.MAX_URL_LENGTH
    body = edit(SOURCED, "url: https://www.gov.uk/x     # line 20", f"url: {long}   # line 20")
    refuse(body, line=20, field="source.url", match=f"at most {plan_model.MAX_URL_LENGTH} characters")


def test_a_source_needs_a_title_and_a_publisher():
    refuse(edit(SOURCED, "  publisher: A department       # line 19\n", ""), field="source.publisher",
           match="Field required")


def test_an_objective_not_measured_is_kept_without_weight_indicators_or_targets():
    plan = load_plan(UNMEASURED.encode(), SOURCE, indicators={"ind-a"})
    safety = plan.objectives[1]
    assert not safety.measured and safety.not_measured == "no indicator of it in the snapshot"
    assert safety.weight is None and safety.indicators == [] and safety.targets == []


def test_an_objective_not_measured_may_not_also_carry_measures():
    body = UNMEASURED + "    weight: 0.5\n    indicators: [ind-a]\n"
    refuse(body, line=17, field="objectives[1]", match="not measured has no weight, indicators")


def test_an_objective_with_no_targets_must_say_why_it_is_not_measured():
    body = edit(UNMEASURED, "    not_measured: no indicator of it in the snapshot   # line 19\n", "")
    refuse(body, line=17, field="objectives[1]", match="needs weight and indicators and targets, or 'not_measured'")


def test_a_plan_with_no_objective_measured_is_refused():
    body = """title: t\nplace: {code: E07000008}\npublished: 2024-06-01\nbaseline: 2022\nobjectives:
  - {title: Safety, pillar: public_services, not_measured: nothing measures it}\n"""
    refuse(body, field="objectives", match="at least one objective must be measured")


def test_target_with_two_types():
    body = edit(BASE, "reach: 12 ", "change: {by: 1}\n        reach: 12 ")
    refuse(body, line=14, field="objectives[0].targets[0]", match=r"exactly one of .*\(found reach, change\)")


def test_target_with_no_type():
    body = edit(BASE, "        reach: 12               # line 16\n", "")
    err = refuse(body, line=14, field="objectives[0].targets[0]", match="exactly one of reach, change")
    assert "found" not in err.message


def test_several_indicators_and_a_target_without_indicator():
    body = edit(edit(TWO, "weight: 0.3", "weight: 0.5"), "- indicator: ind-a              # line 11\n        horizon",
                "- horizon")
    refuse(body, line=6, field="objectives[0]", match="must name its indicator when the objective has several")


def test_target_naming_an_indicator_not_in_its_objective():
    body = edit(edit(TWO, "weight: 0.3", "weight: 0.5"), "indicator: ind-a ", "indicator: ind-z ")
    refuse(body, line=6, field="objectives[0]", match="target indicator 'ind-z' is not one of the objective's")


def test_extra_unknown_field_is_named_with_its_line():
    refuse(BASE + "objectivs: []\n", line=17, field="objectivs", match="unknown field 'objectivs'")


def test_extra_unknown_field_inside_a_target():
    body = edit(BASE, "reach: 12 ", "deadline: 2026\n        reach: 12 ")
    refuse(body, line=16, field="objectives[0].targets[0].deadline", match="unknown field 'deadline'")


def test_misspelt_required_field_names_the_typo():
    # Pydantic reports both 'objectives' missing and 'objectivs' unknown: the author needs the typo.
    refuse(edit(BASE, "objectives:", "objectivs:"), field="objectivs", match="unknown field 'objectivs'")
    refuse(edit(BASE, "horizon: immediate", "horizn: immediate"), line=14,
           field="objectives[0].targets[0].horizn", match="unknown field 'horizn'")


def test_block_valued_fields_are_reported_at_the_key_line():
    refuse(edit(BASE, "objectives:", "objectivs:"), line=8, field="objectivs")
    refuse(TWO, line=5, field="objectives")


def test_wrong_type_weight_heavy():
    refuse(edit(BASE, "weight: 1.0", "weight: heavy"), line=11, field="objectives[0].weight",
           match="valid number")


def test_wrong_type_objectives_is_a_string():
    refuse(BASE[:BASE.index("objectives:")] + "objectives: lots\n", line=8, field="objectives",
           match="valid list")


def test_wrong_type_reach_is_a_list():
    refuse(edit(BASE, "reach: 12", "reach: [1, 2]"), line=16, field="objectives[0].targets[0].reach")


@pytest.mark.parametrize("target", ["reach: .nan", "reach: .inf", "reach: -.inf", "change: {by: .nan}"])
def test_nan_and_infinite_targets_are_refused(target):
    # NaN would evaluate as 'off track' against anything and dump as a bare NaN (not JSON).
    refuse(edit(BASE, "reach: 12", target), line=16, match="finite number")


# ------------------------------------------------------------------ values YAML reads but Python cannot hold

def test_a_complex_key_is_refused_with_its_line_not_a_type_error():
    # `? [a, b]: 1` makes a list the key; building the mapping would raise "unhashable type: 'list'".
    refuse(BASE + "? [a, b]: 1\n", line=17, field="(plan)", match="field name must be plain text")


def test_a_complex_key_inside_a_target_names_the_target():
    body = edit(BASE, "        reach: 12", "        reach: 12\n        ? {x: 1}\n        : 2")
    refuse(body, line=17, field="objectives[0].targets[0]", match="plain text")


@pytest.mark.parametrize("old, new, line, field", [
    ("reach: 12", "reach: " + "9" * 5000, 16, "objectives[0].targets[0].reach"),
    ("year: 2026", "year: " + "9" * 5000, 15, "objectives[0].targets[0].year"),
    ("weight: 1.0", "weight: -" + "1" * 16, 11, "objectives[0].weight"),
])
def test_a_huge_integer_names_line_and_field(old, new, line, field):
    refuse(edit(BASE, old, new), line=line, field=field, match="more than 15 digits")


@pytest.mark.parametrize("old, new, line, field", [
    ("year: 2026", "year: 2024-02-30", 15, "objectives[0].targets[0].year"),
    ("published: 2024-06-01", "published: 2024-02-30", 5, "published"),
    ("published: 2024-06-01", "published: 2023-13-01", 5, "published"),
])
def test_a_date_not_in_the_calendar_names_line_and_field(old, new, line, field):
    refuse(edit(BASE, old, new), line=line, field=field, match="'20\\d\\d-\\d\\d-\\d\\d' is not a date in the calendar")


def test_an_unknown_close_gap_area_names_the_target():
    body = edit(BASE, "reach: 12", "close_gap: {share: 0.5, to: E99999999}")
    refuse(body, line=16, field="objectives[0].targets[0].close_gap.to", match="unknown area code 'E99999999'",
           areas={"E07000008"})


def test_a_known_close_gap_area_passes():
    body = edit(BASE, "reach: 12", "close_gap: {share: 0.5, to: E12000006}")
    assert load_plan(body.encode(), SOURCE, areas={"E07000008", "E12000006"}).objectives[0].targets[0].close_gap


@pytest.mark.parametrize("target, field", [
    ("change: {by: 1e308}", "objectives[0].targets[0].change.by"),
    ("change: {by: -1e308}", "objectives[0].targets[0].change.by"),
    ("reach: 1e308", "objectives[0].targets[0].reach"),
    ("reach: 1e10", "objectives[0].targets[0].reach"),
    ("change: {by: 1e5, unit: percent}", "objectives[0].targets[0].change"),
    ("change: {by: -150, unit: percent}", "objectives[0].targets[0].change"),
])
def test_target_values_are_bounded(target, field):
    refuse(edit(BASE, "reach: 12", target), line=16, field=field)


@pytest.mark.parametrize("target", ["reach: 69000000", "change: {by: -100, unit: percent}",
                                    "change: {by: 250, unit: percent}", "change: {by: -0.5}"])
def test_target_values_within_bounds_pass(target):
    assert load_plan(edit(BASE, "reach: 12", target).encode(), SOURCE)


def test_every_refusal_is_one_line():
    for body in (BASE + "? [a, b]: 1\n", edit(BASE, "reach: 12", "reach: " + "9" * 5000),
                 edit(BASE, "year: 2026", "year: 2024-02-30")):
        with pytest.raises(PlanError) as info:
            load_plan(body.encode(), SOURCE)
        assert "\n" not in str(info.value)


def test_bad_horizon_names_line_14_precisely():
    refuse(edit(BASE, "horizon: immediate", "horizon: soon"), line=14, field="objectives[0].targets[0].horizon",
           match="'immediate', 'medium' or 'long'")


def test_line_numbers_follow_the_field():
    refuse(edit(BASE, "pillar: public_services", "pillar: transport"), line=10, field="objectives[0].pillar")
    refuse(edit(BASE, "published: 2024-06-01", "published: soon"), line=5, field="published")
    refuse(edit(BASE, "benchmark: england", "benchmark: mars"), line=7, field="benchmark")
    refuse(edit(BASE, "title: Test plan", 'title: ""'), line=1, field="title")
    refuse(edit(TWO, "close_gap: {share: 0.5}", "close_gap: {share: 1.5}"), line=22,
           field="objectives[1].targets[0].close_gap.share")


# ------------------------------------------------------------------ text is text, never a path

PATHS = {
    "title": "../../../etc/passwd",
    "place": "/etc/shadow",
    "objective": "C:\\Windows\\system32",
    "objective2": "file:///etc/passwd",
}

PATHY = f"""\
title: {json.dumps(PATHS['title'])}
place:
  name: {json.dumps(PATHS['place'])}
  districts: [E06000009, E07000119]
published: 2024-06-01
baseline: 2022
objectives:
  - title: {json.dumps(PATHS['objective'])}
    pillar: economy
    weight: 0.5
    indicators: [claimant-count]
    targets: [{{horizon: immediate, year: 2025, reach: 3}}]
  - title: {json.dumps(PATHS['objective2'])}
    pillar: public_services
    weight: 0.5
    indicators: [cigarette-smokers]
    targets: [{{horizon: immediate, year: 2025, reach: 12}}]
"""


def test_path_like_text_is_accepted_as_text_and_no_file_is_opened(monkeypatch):
    load_plan(PATHY.encode(), SOURCE)  # warm any lazy imports before the traps are set
    opened = []

    def trap(*args, **kwargs):
        opened.append(args)
        raise AssertionError(f"a file was opened while loading a plan: {args!r}")

    for target, name in ((builtins, "open"), (io, "open"), (os, "open"), (pathlib.Path, "open"),
                         (pathlib.Path, "read_bytes"), (pathlib.Path, "read_text")):
        monkeypatch.setattr(target, name, trap)
    plan = load_plan(PATHY.encode(), SOURCE)
    monkeypatch.undo()
    assert opened == []
    assert plan.title == "../../../etc/passwd"
    assert plan.place.name == "/etc/shadow"
    assert [o.title for o in plan.objectives] == ["C:\\Windows\\system32", "file:///etc/passwd"]


def test_path_like_text_survives_the_json_dump():
    plan = load_plan(PATHY.encode(), SOURCE)
    dumped = plan.model_dump(mode="json")
    assert dumped["title"] == PATHS["title"] and dumped["place"]["name"] == PATHS["place"]
    assert Plan.model_validate(dumped) == plan


# ------------------------------------------------------------------ schema and examples

def test_schema_file_matches_the_model():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "plans/plan.schema.json is out of date with indicators/plan_model.py; regenerate it with:\n"
        "    python -m indicators schema > plans/plan.schema.json")


def test_examples_exist():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates_against_the_pydantic_model(path):
    plan = load_plan(path.read_bytes(), str(path))
    assert plan.illustrative is True  # examples must never pass for a council's real plan
    assert abs(sum(o.weight or 0.0 for o in plan.objectives) - 1) < 1e-9  # an objective not measured has none


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates_against_the_json_schema(path):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed in this environment")
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    # PyYAML reads an unquoted 2024-06-01 as a date; JSON (and YAML 1.2 editors using this schema)
    # see the string, so compare what a JSON-schema tool would see.
    data = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator_cls(schema).iter_errors(data)]
    assert errors == []


def test_json_schema_rejects_what_the_model_rejects():
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed in this environment")
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    good = json.loads(json.dumps(yaml.safe_load(BASE), default=str))
    assert validator.is_valid(good)
    assert not validator.is_valid({**good, "objectivs": []})
    bad_weight = json.loads(json.dumps(good))
    bad_weight["objectives"][0]["weight"] = "heavy"
    assert not validator.is_valid(bad_weight)
    unmeasured = json.loads(json.dumps(yaml.safe_load(UNMEASURED), default=str))
    assert validator.is_valid(unmeasured)
    both = json.loads(json.dumps(unmeasured))
    both["objectives"][1]["weight"] = 0.5
    assert not validator.is_valid(both)  # not measured, yet weighted
    neither = json.loads(json.dumps(unmeasured))
    del neither["objectives"][1]["not_measured"]
    assert not validator.is_valid(neither)  # no targets and no reason
    sourced = json.loads(json.dumps(yaml.safe_load(SOURCED), default=str))
    assert validator.is_valid(sourced)
    sourced["source"]["url"] = "x" * (plan_model.MAX_URL_LENGTH + 1)
    assert not validator.is_valid(sourced)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_json_dump_round_trips_to_an_equal_plan(path):
    plan = load_plan(path.read_bytes(), str(path))
    dumped = plan.model_dump(mode="json")
    json.dumps(dumped, allow_nan=False)  # plain JSON
    again = Plan.model_validate(dumped)
    assert again == plan
    assert again.model_dump(mode="json") == dumped


def test_json_dump_round_trips_through_the_safe_loader():
    plan = load_plan(EXAMPLES[0].read_bytes(), str(EXAMPLES[0]))
    text = json.dumps(plan.model_dump(mode="json"))  # JSON is YAML: the loader reads it back
    assert load_plan(text.encode(), "dumped.json") == plan


# ------------------------------------------------------------------ fuzz: PlanError or a Plan, nothing else

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _plan_or_plan_error(body: bytes) -> None:
    try:
        load_plan(body, SOURCE, indicators={"ind-a", "ind-b", "ind-c"}, areas={"E07000008"})
    except PlanError as err:
        assert str(err).startswith(SOURCE)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_give_a_plan_error(body):
    _plan_or_plan_error(body)


@FUZZ
@given(st.data())
def test_mutated_plans_give_a_plan_or_a_plan_error(data):
    text = BASE
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text) - 1))
        j = data.draw(st.integers(i, min(len(text), i + 12)))
        text = text[:i] + data.draw(st.text(alphabet=st.sampled_from(list(":-[]{}&*!|>'\"#,? \n\t0123456789.abc")),
                                            max_size=6)) + text[j:]
    _plan_or_plan_error(text.encode("utf-8"))


def test_one_upload_limit_for_the_browser_the_app_and_the_cli():
    """The browser uploader reads server.maxUploadSize (MB) as decimal megabytes on Linux/macOS; the
    loader, the upload page and the CLI must refuse exactly what it refuses (no 1,000,000 vs 1,048,576 gap)."""
    import tomllib
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert MAX_PLAN_BYTES == config["server"]["maxUploadSize"] * 1_000_000
    refuse(b"#" * (MAX_PLAN_BYTES + 1), match="limited to 1,000,000 bytes")
