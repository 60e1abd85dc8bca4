"""The prevention value model: hand-worked Green Book arithmetic, Monte Carlo against a known answer,
hostile model files, the schema, the examples on the real snapshot and the CLI."""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from indicators.__main__ import main
from indicators.prevention import evaluate as ev
from indicators.prevention import model as pm
from indicators.prevention import report

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "plans" / "examples" / "prevention").glob("*.prevention.yaml"))
SOURCE = "uploads/model.prevention.yaml"
R = 0.035


def simple(**changes) -> dict:
    """1,000 people, a 1-point effect on a % indicator (10 people), each avoiding 2 units at £50 from year 1:
    £1,000 a year of avoided demand; £1,500 of cost in year 0 only; years 0–3; no optimism bias."""
    d = {"title": "Hand-worked", "place": {"code": "E08000035"}, "start_year": 2026, "price_year": 2025, "years": 3,
         "optimism_bias": {"costs": 0.0, "benefits": 0.0, "source": "none, for the test"},
         "interventions": [{
             "name": "Service", "indicator": "cigarette-smokers",
             "effect": {"low": 1, "central": 1, "high": 1, "source": "test"},
             "scale": 100, "population": {"count": 1000, "source": "test"},
             "time_to_effect": {"horizon": "immediate", "year": 1},
             "demand": [{"name": "Visit", "per_case": {"low": 2, "central": 2, "high": 2, "source": "test"},
                         "unit_cost": {"low": 50, "central": 50, "high": 50, "price_year": 2025, "source": "test"},
                         "who_gains": "nhs"}],
             "annual_cost": {"low": 1500, "central": 1500, "high": 1500, "price_year": 2025, "source": "test"},
             "cost_years": 1}]}
    for path, value in changes.items():
        node = d
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        node[keys[-1]] = value
    return d


def value(d: dict, draws: int = 2000, seed: int = 1) -> ev.Result:
    m = pm.validate(copy.deepcopy(d))
    pops = [ev.ResolvedPopulation(float(iv.population.count), "test") for iv in m.interventions]
    return ev.evaluate(m, pops, [float(iv.scale) for iv in m.interventions], "Leeds", draws, seed)


def central(r: ev.Result, metric: str) -> float:
    return float(r.summary.set_index("metric").loc[metric, "central"])


# ---------------------------------------------------------------- hand-worked arithmetic

def test_discount_factors_follow_the_green_book_year_zero_undiscounted():
    assert ev.discount_factors(R, 3).tolist() == pytest.approx([1, 1 / 1.035, 1 / 1.035 ** 2, 1 / 1.035 ** 3])
    assert ev.discount_factors(R, 2, "mid_year").tolist() == pytest.approx([1.035 ** -0.5, 1.035 ** -1.5,
                                                                            1.035 ** -2.5])


def test_npv_bcr_and_break_even_by_hand():
    r = value(simple())
    pvb = 1000 * (1.035 ** -1 + 1.035 ** -2 + 1.035 ** -3)   # 2,801.64
    assert central(r, "pv_benefits") == pytest.approx(pvb)
    assert central(r, "pv_costs") == pytest.approx(1500)
    assert central(r, "npv") == pytest.approx(pvb - 1500)
    assert central(r, "bcr") == pytest.approx(pvb / 1500)
    # cumulative net: −1,500 (2026), −533.8 (2027), +399.7 (2028)
    assert central(r, "break_even") == 2028
    # with no ranges, every draw is the central case
    s = r.summary.set_index("metric")
    assert s.loc["npv", "lo"] == pytest.approx(pvb - 1500) and s.loc["npv", "hi"] == pytest.approx(pvb - 1500)


def test_mid_year_convention_discounts_each_year_from_its_middle():
    r = value(simple(**{"discount": {"convention": "mid_year"}}))
    pvb = 1000 * sum(1.035 ** -(y + 0.5) for y in (1, 2, 3))
    assert central(r, "pv_benefits") == pytest.approx(pvb)
    assert central(r, "pv_costs") == pytest.approx(1500 * 1.035 ** -0.5)


def test_health_effects_use_the_health_rate_and_rates_can_be_overridden():
    r = value(simple(**{"interventions.0.demand.0.discount": "health"}))
    assert central(r, "pv_benefits") == pytest.approx(1000 * sum(1.015 ** -y for y in (1, 2, 3)))
    r = value(simple(**{"discount": {"standard": 0.0}}))
    assert central(r, "pv_benefits") == pytest.approx(3000)


def test_optimism_bias_uplifts_costs_and_trims_benefits():
    r = value(simple(**{"optimism_bias": {"costs": 0.2, "benefits": 0.1, "source": "test"}}))
    assert central(r, "pv_costs") == pytest.approx(1800)
    assert central(r, "pv_benefits") == pytest.approx(0.9 * 1000 * sum(1.035 ** -y for y in (1, 2, 3)))


def test_zero_effect_avoids_nothing_and_never_breaks_even():
    r = value(simple(**{"interventions.0.effect": {"low": 0, "central": 0, "high": 0, "source": "test"}}))
    assert central(r, "pv_benefits") == 0
    assert central(r, "npv") == pytest.approx(-1500)
    assert central(r, "bcr") == 0
    assert math.isnan(central(r, "break_even"))
    assert r.break_even_never == 1.0
    assert (r.by_horizon["value"] == 0).all()
    out = json.loads(report.to_json(r))  # strict JSON: a never-reached year is null, not NaN
    assert next(m for m in out["summary"] if m["metric"] == "break_even")["central"] is None


def test_demand_by_horizon_counts_the_years_the_effect_is_on():
    r = value(simple(**{"years": 7}))
    h = r.by_horizon.set_index(["horizon", "demand"])
    assert h.loc[("immediate", "Service: Visit"), "units"] == pytest.approx(2 * 20)    # years 1–2
    assert h.loc[("medium", "Service: Visit"), "units"] == pytest.approx(3 * 20)       # years 3–5
    assert h.loc[("long", "Service: Visit"), "units"] == pytest.approx(2 * 20)         # years 6–7
    assert h.loc[("total", "Service: Visit"), "units"] == pytest.approx(7 * 20)
    by_h = r.by_horizon.loc[r.by_horizon["demand"].str.startswith("All")].set_index("horizon")["value"]
    assert by_h.drop("total").sum() == pytest.approx(central(r, "pv_benefits"))
    assert by_h["total"] == pytest.approx(central(r, "pv_benefits"))
    assert r.who_gains.set_index("who").loc["nhs", "central"] == pytest.approx(central(r, "pv_benefits"))


def test_effect_starting_later_is_worth_less():
    early = value(simple(**{"years": 10}))
    late = value(simple(**{"years": 10, "interventions.0.time_to_effect": {"horizon": "medium", "year": 4}}))
    assert central(late, "pv_benefits") == pytest.approx(1000 * sum(1.035 ** -y for y in range(4, 11)))
    assert central(late, "pv_benefits") < central(early, "pv_benefits")


# ---------------------------------------------------------------- Monte Carlo with a known answer

def test_monte_carlo_interval_matches_the_analytic_pert_quantiles():
    """Only the effect is uncertain, PERT(0, 1, 4) = 4·Beta(2, 4); NPV is linear in it, so its 5th and 95th
    percentiles are the Beta quantiles put through the same line."""
    d = simple(**{"interventions.0.effect": {"low": 0, "central": 1, "high": 4, "source": "test"}})
    r = value(d, draws=40_000, seed=7)
    per_point = 1000 * sum(1.035 ** -y for y in (1, 2, 3))   # PV of benefits per unit of effect
    s = r.summary.set_index("metric")
    for q, col in ((0.05, "lo"), (0.95, "hi")):
        expected = per_point * 4 * stats.beta(2, 4).ppf(q) - 1500
        assert s.loc["npv", col] == pytest.approx(expected, rel=0.03)
    assert s.loc["npv", "mean"] == pytest.approx(per_point * ev.pert_mean(0, 1, 4) - 1500, rel=0.02)
    assert s.loc["npv", "central"] == pytest.approx(per_point - 1500)


def test_the_draws_are_seeded():
    d = simple(**{"interventions.0.effect": {"low": 0, "central": 1, "high": 4, "source": "test"}})
    a, b, c = value(d, seed=3), value(d, seed=3), value(d, seed=4)
    assert a.summary.equals(b.summary)
    assert not a.summary.equals(c.summary)


def test_pert_draws_stay_inside_the_range_and_a_point_stays_a_point():
    rng = np.random.default_rng(0)
    x = ev.pert_draws(np.array([1.0, 5.0]), np.array([2.0, 5.0]), np.array([9.0, 5.0]), 5000, rng)
    assert x[:, 0].min() >= 1 and x[:, 0].max() <= 9
    assert (x[:, 1] == 5).all()


def test_tornado_swings_each_assumption_alone_and_ranks_the_largest_first():
    d = simple(**{"interventions.0.effect": {"low": 0.5, "central": 1, "high": 3, "source": "test"},
                  "interventions.0.annual_cost": {"low": 1000, "central": 1500, "high": 1600, "price_year": 2025,
                                                  "source": "test"}})
    r = value(d)
    per_point = 1000 * sum(1.035 ** -y for y in (1, 2, 3))
    top = r.tornado.iloc[0]
    assert top["key"] == "interventions[0].effect"
    assert top["npv_low"] == pytest.approx(0.5 * per_point - 1500)
    assert top["npv_high"] == pytest.approx(3 * per_point - 1500)
    cost = r.tornado.set_index("key").loc["interventions[0].annual_cost"]
    assert cost["swing"] == pytest.approx(600)
    assert list(r.tornado["swing"]) == sorted(r.tornado["swing"], reverse=True)


def test_every_assumption_is_listed_with_its_source():
    r = value(simple())
    fields = set(r.assumptions["field"])
    for f in ("interventions[0].effect", "interventions[0].annual_cost", "interventions[0].demand[0].per_case",
              "interventions[0].demand[0].unit_cost", "interventions[0].population", "discount.standard",
              "discount.health", "optimism_bias.costs", "optimism_bias.benefits"):
        assert f in fields
    assert r.assumptions["source"].map(bool).all()


# ---------------------------------------------------------------- hostile files

def body_of(d: dict) -> bytes:
    return yaml.safe_dump(d, sort_keys=False).encode()


BASE = body_of(simple())


def refused(body: bytes, **kw) -> pm.PreventionError:
    with pytest.raises(pm.PreventionError) as e:
        pm.load_model(body, SOURCE, **kw)
    assert str(e.value).startswith(SOURCE)
    return e.value


def test_the_base_file_loads():
    assert pm.load_model(BASE, SOURCE).interventions[0].name == "Service"


@pytest.mark.parametrize("body, words", [
    (b"a: &x [1]\nb: *x\n", "anchors"),
    (b"? [a, b]\n: 1\n", "plain text"),
    (BASE.replace(b"years: 3", b"years: 1234567890123456789012"), "digits"),
    (BASE.replace(b"start_year: 2026", b"start_year: 2026\nnote: 2024-02-30"), "calendar"),
    (b"title: x\n" + b"#" * 1_000_001, "bytes"),
    (b"\xff\xfe", "UTF-8"),
    (b"", "empty"),
    (b"- 1\n", "a model must be a mapping"),
])
def test_hostile_yaml_is_refused_with_a_reason(body, words):
    err = refused(body)
    assert words in str(err) and "plan" not in err.message


def test_huge_float_is_refused_naming_the_field_and_line():
    body = BASE.replace(b"central: 50", b"central: 1.0e+308", 1)
    err = refused(body)
    assert err.field == "interventions[0].demand[0].unit_cost.central" and err.line is not None


def test_infinity_is_refused():
    refused(BASE.replace(b"central: 50", b"central: .inf", 1))


def test_unknown_indicator_and_area_are_refused():
    err = refused(BASE.replace(b"indicator: cigarette-smokers", b"indicator: made-up"),
                  indicators={"cigarette-smokers"})
    assert "unknown indicator 'made-up'" in err.message and err.field == "interventions[0].indicator"
    assert err.line == BASE.decode().splitlines().index("  indicator: cigarette-smokers") + 1
    err = refused(BASE, areas={"E08000036"})
    assert "unknown area code 'E08000035'" in err.message and err.field == "place.code"


@pytest.mark.parametrize("change, field, words", [
    ({"interventions.0.effect": {"low": 3, "central": 1, "high": 4, "source": "t"}}, "interventions[0].effect",
     "low ≤ central ≤ high"),
    ({"interventions.0.annual_cost": {"low": 1, "central": 1, "high": 1, "price_year": 2020, "source": "t"}},
     "interventions[0].annual_cost", "2020 prices"),
    ({"interventions.0.demand.0.unit_cost": {"low": 1, "central": 1, "high": 1, "price_year": 2025}},
     "interventions[0].demand[0].unit_cost.source", "Field required"),
    ({"interventions.0.time_to_effect": {"horizon": "medium", "year": 9}}, "interventions[0].time_to_effect",
     "3–5 years"),
    ({"interventions.0.population": {"count": 10}}, "interventions[0].population", "source"),
    ({"interventions.0.demand.0.who_gains": "everyone"}, "interventions[0].demand[0].who_gains", "council"),
    ({"optimism_bias": {"costs": 0.2}}, "optimism_bias.source", "Field required"),
    ({"discount": {"standard": 0.9}}, "discount.standard", "0.2"),
])
def test_invalid_models_name_the_field(change, field, words):
    err = refused(body_of(simple(**change)))
    assert err.field == field and words in err.message, str(err)
    assert err.line is not None


def test_a_misspelt_field_is_named():
    err = refused(BASE.replace(b"who_gains:", b"who_gain:"))
    assert "unknown field 'who_gain'" in err.message


# ---------------------------------------------------------------- reports

def test_html_escapes_every_string_and_has_no_scripts():
    d = simple(title="<script>alert(1)</script>", **{"interventions.0.name": "<img src=x onerror=alert(1)>",
                                                      "interventions.0.effect.source": "\"><b>x</b>"})
    page = report.to_html(value(d))
    assert "<script" not in page.lower() and "<img" not in page and "<b>x" not in page
    assert "&lt;script&gt;" in page and report.CAVEAT in page


def test_csv_cells_cannot_become_formulas():
    text = report.csv_text(value(simple(title="=HYPERLINK(\"http://x\")")))
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text


# ---------------------------------------------------------------- schema and examples

def test_schema_file_matches_the_model():
    assert (ROOT / "plans" / "prevention.schema.json").read_text(encoding="utf-8") == pm.schema_text(), (
        "plans/prevention.schema.json is out of date; regenerate it from indicators.prevention.model.schema_text()")


def test_two_examples_are_shipped_and_marked_illustrative():
    assert len(EXAMPLES) >= 2
    assert [p.name for p in EXAMPLES] == pm.example_names()
    for path in EXAMPLES:
        m = pm.load_model(path.read_bytes(), path.name)
        assert m.illustrative
        for iv in m.interventions:
            assert iv.effect.illustrative and iv.annual_cost.illustrative
            assert all(d.per_case.illustrative and d.unit_cost.illustrative for d in iv.demand)
        assert "Unit Cost" in path.read_text(encoding="utf-8")  # says where real unit costs are found


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_validates_against_the_json_schema(path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "plans" / "prevention.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


def test_read_example_refuses_a_path():
    with pytest.raises(pm.PreventionError):
        pm.read_example("../../etc/passwd")


@pytest.fixture(scope="module")
def ctx():
    from indicators import query
    return query.context()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_value_on_the_snapshot_and_trace_the_population(ctx, path):
    from indicators.prevention import run
    r = run.value(ctx, path.read_bytes(), path.name, draws=2000)
    assert r.place_name == "Leeds"
    assert all(p.source.startswith("snapshot: Population (population-count), Leeds") for p in r.populations)
    s = r.summary.set_index("metric")
    assert s.loc["npv", "lo"] <= s.loc["npv", "median"] <= s.loc["npv", "hi"]
    page = report.to_html(r)
    for src in r.assumptions["source"]:
        assert report._esc(src) in page


def test_population_from_the_snapshot_matches_the_snapshot_value(ctx):
    from indicators import query
    from indicators.prevention import run
    path = next(p for p in EXAMPLES if "smoking" in p.name)
    r = run.value(ctx, path.read_bytes(), path.name, draws=200)
    last = {ind: float(query.series(ctx, "E08000035", ind).dropna(subset=["value"]).iloc[-1]["value"])
            for ind in ("population-count", "percentage-of-the-population-aged-16-to-64",
                        "percentage-of-the-population-aged-65")}
    expected = last["population-count"] * (last["percentage-of-the-population-aged-16-to-64"]
                                           + last["percentage-of-the-population-aged-65"]) / 100
    assert r.populations[0].count == pytest.approx(expected)


def test_a_non_outcome_indicator_is_refused(ctx):
    from indicators.prevention import run
    body = BASE.replace(b"indicator: cigarette-smokers", b"indicator: population-density")
    with pytest.raises(pm.PreventionError, match="not an outcome"):
        run.value(ctx, body, SOURCE, draws=100)


# ---------------------------------------------------------------- CLI

@pytest.mark.parametrize("fmt", ["html", "csv", "json"])
def test_cli_writes_each_format(tmp_path, fmt):
    out = tmp_path / f"r.{fmt}"
    assert main(["prevent", str(EXAMPLES[0]), "--format", fmt, "--out", str(out), "--draws", "500"]) == 0
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(text)["draws"] == 500
    elif fmt == "html":
        assert text.startswith("<!doctype html>") and "<script" not in text
    else:
        assert text.startswith("model,place,section")


def test_cli_error_is_one_line_and_non_zero(tmp_path, capsys):
    bad = tmp_path / "bad.prevention.yaml"
    bad.write_bytes(BASE.replace(b"who_gains: nhs", b"who_gains: nobody"))
    assert main(["prevent", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "who_gains" in err and "line" in err
    assert main(["prevent", str(tmp_path / "missing.yaml")]) == 1


def test_the_console_script_runs_the_subcommand(tmp_path):
    import os
    import subprocess
    import sys
    script = Path(sys.executable).parent / "good-growth"
    if not script.exists():
        pytest.skip("the good-growth console script is not installed in this environment")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "r.json"
    done = subprocess.run([str(script), "prevent", str(EXAMPLES[0]), "--format", "json", "--out", str(out),
                           "--draws", "200"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["draws"] == 200
    done = subprocess.run([str(script), "prevent", str(tmp_path / "none.yaml")], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as hst  # noqa: E402

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(hst.binary(max_size=400))
def test_any_bytes_give_a_model_or_a_prevention_error(body):
    try:
        pm.load_model(body, SOURCE)
    except pm.PreventionError as exc:
        assert str(exc).startswith(SOURCE)


@FUZZ
@given(hst.integers(0, len(BASE) - 1), hst.text(max_size=12))
def test_edited_models_give_a_model_or_a_prevention_error(at, insert):
    body = BASE[:at] + insert.encode("utf-8", "surrogatepass") + BASE[at:]
    try:
        pm.load_model(body, SOURCE)
    except pm.PreventionError as exc:
        assert str(exc).startswith(SOURCE)


def test_population_from_the_indicators_denominator_equals_the_explicit_shares(ctx):
    from indicators.prevention import run
    path = next(p for p in EXAMPLES if "smoking" in p.name)
    body = path.read_bytes()
    assert b"from_denominator: true" in body
    explicit = body.replace(b"from_denominator: true", b"indicator: population-count\n      share_indicators: "
                            b"[percentage-of-the-population-aged-16-to-64, percentage-of-the-population-aged-65]")
    a = run.value(ctx, body, path.name, draws=100).populations[0]
    b = run.value(ctx, explicit, path.name, draws=100).populations[0]
    assert a.count == pytest.approx(b.count) and a.source == b.source


def test_from_denominator_without_a_people_denominator_is_refused(ctx):
    from indicators.prevention import run
    body = BASE.replace(b"indicator: cigarette-smokers", b"indicator: preventable-cardiovascular-mortality-england")
    body = body.replace(b"    count: 1000\n    source: test\n", b"    from_denominator: true\n")
    with pytest.raises(pm.PreventionError, match="no denominator of people") as e:
        run.value(ctx, body, SOURCE, draws=100)
    assert e.value.field == "interventions[0].population.from_denominator"
