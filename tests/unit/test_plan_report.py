"""The plan report: one self-contained, escaped, accessible HTML file, and CSV/JSON with the same rows."""
from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from indicators import plan_model, plan_report, plans, query
from indicators.plans import STATUSES, Evaluation

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "plans" / "examples").glob("*.yaml"))
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Collector(HTMLParser):
    """Every tag with its attributes, and every piece of text with the classes of the elements around it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[str, list[str], list[str]]] = []  # text, open tags, their classes
        self.style = ""
        self._stack: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self._stack.append((tag, dict(attrs).get("class") or ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._stack and self._stack[-1][0] == "style":
            self.style += data
        self.texts.append((data, [t for t, _ in self._stack], [c for _, c in self._stack]))

    def text(self) -> str:
        return "".join(t for t, _, _ in self.texts)

    def text_in_class(self, cls: str) -> list[str]:
        return [t for t, _, classes in self.texts if any(cls in c.split() for c in classes)]

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


def parse(text: str) -> Collector:
    c = Collector()
    c.feed(text)
    c.close()
    return c


@pytest.fixture(scope="module")
def evaluations() -> dict[str, Evaluation]:
    ctx = query.context()
    out = {}
    for path in EXAMPLES:
        plan = plan_model.load_plan(path.read_bytes(), path.name, set(ctx.catalogue.ids()), set(ctx.names.index))
        out[path.stem] = plans.evaluate(ctx, plan)
    return out


@pytest.fixture(scope="module")
def reports(evaluations: dict[str, Evaluation]) -> dict[str, tuple[Evaluation, str, Collector]]:
    out = {}
    for name, ev in evaluations.items():
        text = plan_report.to_html(ev)
        out[name] = (ev, text, parse(text))
    return out


@pytest.fixture(params=[p.stem for p in EXAMPLES])
def report(request: pytest.FixtureRequest, reports: dict) -> tuple[Evaluation, str, Collector]:
    return reports[request.param]


def targets(ev: Evaluation):
    return [t for o in ev.objectives for t in o.targets]


# ---------------------------------------------------------------- content

def test_the_examples_are_there_to_test():
    assert len(EXAMPLES) >= 4


def test_every_objective_title_appears_as_a_heading(report):
    ev, _, doc = report
    headings = " ".join(t for t, tags, _ in doc.texts if "h2" in tags)
    for o in ev.objectives:
        assert o.title in headings


def test_each_status_is_written_once_per_target_with_that_status(report):
    ev, _, doc = report
    written = Counter(t.strip() for t in doc.text_in_class("target-status"))
    expected = Counter(ev.rows()["status"])
    expected.pop(plans.NOT_MEASURED, None)  # an objective not measured has a row but no target card
    assert written == expected
    assert set(written) <= set(STATUSES)


def test_status_is_shown_in_words_and_colour_and_the_legend_names_every_status(report):
    _, text, doc = report
    legend = " ".join(doc.text_in_class("legend"))
    for s in STATUSES:
        assert s in legend
        assert f"s-{s.replace(' ', '-')}" in text
    for colour in ("#009E73", "#56B4E9", "#D55E00", "#999999", "#F0E442"):
        assert colour in doc.style


def test_one_chart_per_target_that_has_a_series(report):
    ev, _, doc = report
    with_series = sum(1 for t in targets(ev) if t.series)
    assert len(doc.named("svg")) == with_series
    assert len(doc.named("details")) == with_series  # each chart has its values as a table


def test_charts_are_labelled_images_with_title_and_description(report):
    _, _, doc = report
    for svg in doc.named("svg"):
        assert svg.get("role") == "img"
        assert "Line chart of" in (svg.get("aria-label") or "")
    assert len(doc.named("title")) >= 1 + len(doc.named("svg"))  # the page's <title> and one per chart
    assert len(doc.named("desc")) == len(doc.named("svg"))


def test_a_projected_target_draws_its_prediction_interval_and_a_met_one_draws_none(reports):
    ev, text, doc = reports["cambridge-housing-illustrative"]
    statuses = [t.status for t in targets(ev)]
    assert "met" in statuses and "on track" in statuses
    charts = text.split("<svg")[1:]
    for t, chart in zip([t for t in targets(ev) if t.series], charts):
        if t.projection_low is not None and t.target_year > t.series[-1]["year"]:
            assert 'class="band"' in chart and 'class="projection"' in chart
        if t.status == "met":
            assert 'class="band"' not in chart and 'class="projection"' not in chart
        assert 'class="target-mark"' in chart and 'class="target-line"' in chart


def test_the_header_names_place_codes_dates_and_snapshot(report):
    ev, _, doc = report
    text = doc.text()
    assert ev.place.name in text
    for code in ev.place.codes:
        assert code in text
    assert str(ev.plan.baseline) in text
    assert str(ev.plan.published.year) in text
    assert ev.summary in text
    assert str(ev.snapshot["source"]) in text


def test_summary_tables_count_targets_by_horizon_and_pillar(report):
    ev, _, doc = report
    tables = [t for t, a in doc.tags if t == "table" and "rollup" in (a.get("class") or "")]
    assert len(tables) == 2
    text = doc.text()
    assert "Targets by horizon" in text and "Targets by pillar" in text
    for share in ev.by_pillar["share_met_or_on_track"].dropna():
        assert f"{share:.0%}" in text


def test_illustrative_plans_carry_the_banner(report):
    _, _, doc = report
    assert "Illustration: not any council's real plan" in doc.text()


def test_a_real_plan_has_no_illustration_banner(evaluations):
    ev = copy.deepcopy(evaluations["greater-manchester-illustrative"])
    ev.plan = ev.plan.model_copy(update={"illustrative": False})
    assert "Illustration: not any council" not in plan_report.to_html(ev)


def test_footer_has_methods_attribution_and_sources(report):
    ev, _, doc = report
    text = doc.text()
    assert "Methods in brief" in text
    for line in ev.snapshot["attribution"]:
        assert line in text
    assert "Open Government Licence" in text
    for t in targets(ev):
        for publisher in str(t.source).split("|"):
            assert publisher in text


# ---------------------------------------------------------------- self-contained and safe

def test_report_has_no_scripts_or_external_resources(report):
    _, text, doc = report
    names = {t for t, _ in doc.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "image", "use", "foreignobject"}
    for tag, attrs in doc.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        for key in ("src", "srcset", "xlink:href", "action", "formaction", "poster", "data"):
            assert key not in attrs, (tag, attrs)
        if "href" in attrs:
            assert tag == "a" and str(attrs["href"]).startswith(("http://", "https://")), (tag, attrs)
    assert "@import" not in doc.style and "url(" not in doc.style
    assert "url(" not in text.lower() and "<script" not in text.lower()
    assert len(doc.named("a")) >= 1  # the sources are linked


def test_source_links_are_the_catalogue_urls(report):
    ev, _, doc = report
    hrefs = {a["href"] for a in doc.named("a")}
    for t in targets(ev):
        for url in str(t.source_url or "").split("|"):
            if url:
                assert url in hrefs


def test_text_from_the_plan_and_data_is_escaped(evaluations):
    ev = copy.deepcopy(evaluations["greater-manchester-illustrative"])
    ev.plan = ev.plan.model_copy(update={"title": f"Plan {SCRIPT}"})
    ev.place.name = f"Place {IMG}"
    o = ev.objectives[0]
    o.title = f"Objective {SCRIPT} {IMG}"
    o.counterfactual = f"Line {IMG}"
    t = o.targets[0]
    t.indicator = f"Indicator {IMG} {SCRIPT}"
    t.reason = f"Reason {SCRIPT}"
    t.source = f"Publisher {IMG}"
    t.series[0]["label"] = f"Period {SCRIPT}"
    t.target_text = 'reach "quoted" <b>bold</b>'

    text = plan_report.to_html(ev)
    doc = parse(text)

    assert "<script" not in text.lower() and "<img" not in text.lower() and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert not {"script", "img", "b"} & {tag for tag, _ in doc.tags}
    shown = doc.text()
    for s in (f"Plan {SCRIPT}", f"Objective {SCRIPT} {IMG}", f"Reason {SCRIPT}", f"Publisher {IMG}",
              f"Period {SCRIPT}", 'reach "quoted" <b>bold</b>', f"Place {IMG}"):
        assert s in shown, s
    titles = [t for t, tags, _ in doc.texts if tags and tags[-1] == "title"]
    assert any(f"Plan {SCRIPT}" in t for t in titles)
    labels = [a.get("aria-label") or "" for a in doc.named("svg")]
    assert any(f"Indicator {IMG} {SCRIPT}" in label for label in labels)  # attribute values are escaped too


def test_urls_that_are_not_http_are_shown_as_text_not_links(evaluations):
    ev = copy.deepcopy(evaluations["cambridge-housing-illustrative"])
    first, second = targets(ev)[0], targets(ev)[-1]
    first.source_url = "javascript:alert(1)"
    second.source_url = 'https://example.org/a"><script>alert(1)</script>'
    text = plan_report.to_html(ev)
    doc = parse(text)
    hrefs = [a["href"] for a in doc.named("a")]
    assert all(h.startswith(("http://", "https://")) for h in hrefs)
    assert not any("javascript:" in h for h in hrefs)
    assert "javascript:alert(1)" in doc.text()
    assert 'https://example.org/a"><script>alert(1)</script>' in hrefs  # escaped, so it stays one attribute
    assert "<script" not in text.lower()


def test_a_target_without_data_renders_without_a_chart(evaluations):
    ev = copy.deepcopy(evaluations["fylde-coast-footprint-illustrative"])
    empty = [t for t in targets(ev) if not t.series]
    assert empty and all(t.status == "no data" for t in empty)
    doc = parse(plan_report.to_html(ev))
    assert "No chart: there is no published series for this place." in doc.text()


def test_a_hand_edited_projection_still_draws(evaluations):
    ev = copy.deepcopy(evaluations["greater-manchester-illustrative"])
    t = next(t for t in targets(ev) if t.projection_low is not None and t.target_year > t.series[-1]["year"])
    t.projected_value, t.projection_low, t.projection_high = 1000.0, 900.0, 1100.0  # not what the series gives
    text = plan_report.to_html(ev)
    assert text.count('class="band"') >= 1
    assert "1,000" in parse(text).text()


def test_non_finite_numbers_are_written_as_missing_not_drawn(evaluations):
    ev = copy.deepcopy(evaluations["greater-manchester-illustrative"])
    t = next(t for t in targets(ev) if t.projection_low is not None)
    t.target_value, t.projected_value, t.projection_low, t.projection_high = float("nan"), float("inf"), None, None
    text = plan_report.to_html(ev)
    words = re.findall(r"[a-z]+", parse(text).text().lower())
    assert not {"nan", "inf", "infinity"} & set(words)
    assert not re.search(r'="[^"]*\b(nan|inf)\b', text, flags=re.I)  # no NaN coordinates in the SVG


def test_plain_characters_survive_in_the_page():
    assert plan_report._esc("a & b < c") == "a &amp; b &lt; c"
    assert plan_report._esc(None) == ""


# ---------------------------------------------------------------- units

@pytest.mark.parametrize(("value", "unit", "text"), [
    (71.9, "%", "71.9%"),
    (4.0374, "%", "4.04%"),
    (74.0, "%", "74%"),
    (608.3, "£", "£608"),
    (39.767, "£", "£39.77"),
    (40.1, "£", "£40.10"),
    (1234.6, "£ million", "£1,235 million"),
    (57.9, "yrs", "57.9 years"),
    (11.93, "ratio (house price to earnings)", "11.9"),
    (152.26, "Rate per 100,000 population", "152.3"),
    (-12.33, "Net additional dwellings per 1,000 stock", "−12.3"),
    (-5.0, "£", "−£5.00"),
    (None, "%", "n/a"),
    (float("nan"), "%", "n/a"),
])
def test_values_are_written_in_their_unit(value, unit, text):
    assert plan_report.fmt_value(value, unit) == text


def test_long_units_are_named_once_beside_the_values(report):
    ev, _, doc = report
    text = doc.text()
    for t in targets(ev):
        assert t.unit in text


# ---------------------------------------------------------------- CSV and JSON

def test_csv_and_json_carry_the_same_rows_as_the_evaluation(report):
    ev, _, _ = report
    rows = ev.rows()
    csv = pd.read_csv(io.StringIO(plan_report.to_csv(ev)))
    data = json.loads(plan_report.to_json(ev))
    assert len(csv) == len(rows) == len(data["targets"])
    assert list(csv["status"]) == list(rows["status"]) == [r["status"] for r in data["targets"]]
    assert list(csv["indicator_id"]) == list(rows["indicator_id"])
    assert data["plan"] == ev.plan.title and data["illustrative"] is ev.plan.illustrative


def test_the_cli_writes_the_html_report(tmp_path):
    out = tmp_path / "gm.html"
    done = subprocess.run([sys.executable, "-m", "indicators", "evaluate", str(EXAMPLES[-1]), "--format", "html",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_the_report_does_not_import_streamlit():
    code = "import sys, indicators.plan_report; print('streamlit' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr


# ---------------------------------------------------------------- the words say what the numbers say

def _all_targets(evaluations):
    return [t for ev in evaluations.values() for t in targets(ev)]


def test_no_sentence_claims_a_projection_reaches_a_target_it_misses(evaluations):
    for t in _all_targets(evaluations):
        if t.probability is None:
            continue
        reaches = _direction(t) * (t.projected_value - t.target_value) >= -1e-9
        assert ("reaches the target" in t.reason) == reaches, t.reason
        if t.status == "on track":
            assert reaches and t.probability >= 0.5


def _direction(t) -> int:
    sign = {"higher_is_better": 1, "lower_is_better": -1}.get(t.polarity)
    return sign if sign else (1 if t.target_value >= t.baseline_value else -1)


def test_every_chance_is_written_as_the_evaluation_computed_it(reports):
    for ev, text, doc in reports.values():
        page = doc.text()
        for t in targets(ev):
            if t.probability is not None:
                assert plans.likelihood(t.probability) in page
                assert plans.likelihood(t.probability) in t.reason


def test_intervals_in_reports_stay_within_feasible_bounds(evaluations):
    for t in _all_targets(evaluations):
        if t.projection_low is None:
            continue
        if t.unit == "%":
            assert 0.0 <= t.projection_low and t.projection_high <= 100.0
            assert all(0.0 <= p["low"] and p["high"] <= 100.0 for p in t.projection_path)
        assert t.projection_low <= t.projected_value <= t.projection_high


def test_every_status_in_the_examples_is_a_known_one_and_the_baseline_period_is_named(report):
    ev, _, doc = report
    page = doc.text()
    for t in targets(ev):
        assert t.status in STATUSES
        if t.baseline_rule:
            assert t.baseline_rule in page


def test_a_met_target_within_the_margin_of_error_says_so(evaluations):
    ev = copy.deepcopy(evaluations["cambridge-housing-illustrative"])
    t = next(t for t in targets(ev) if t.status == "met")
    t.within_margin = True
    doc = parse(plan_report.to_html(ev))
    assert "met (within the margin of error)" in doc.text()
    assert Counter(x.strip() for x in doc.text_in_class("target-status"))["met"] >= 1  # the status itself stays 'met'


def test_json_report_is_strict_json_even_with_non_finite_numbers():
    """json.dumps writes float('inf') as Infinity, which no JSON parser accepts: map it to null."""
    from types import SimpleNamespace
    ev = SimpleNamespace(prevention={}, to_json=lambda: {"targets": [{"target_value": float("inf"), "latest": float("nan"),
                                                      "ok": 1.5, "gap": -float("inf")}], "n": 3})
    text = plan_report.to_json(ev)

    def refuse_constant(name):
        raise AssertionError(f"invalid JSON token {name}")
    data = json.loads(text, parse_constant=refuse_constant)
    assert data["targets"][0] == {"target_value": None, "latest": None, "ok": 1.5, "gap": None}
