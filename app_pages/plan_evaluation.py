"""Plan evaluation: load an example, upload a plan, or build one with a form; see every target's
status by horizon and pillar, with charts, and download the report."""
from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st
import yaml

from indicators import plan_examples, plan_model, plan_report, plans, views
from indicators.prevention import link
from app_pages import common as ui
from app_pages import residents

STATUS_COLOURS = {"met": "#009E73", "on track": "#56B4E9", "at risk": "#E69F00", "off track": "#D55E00",
                  "too early": "#999999", "too few points": "#CCCCCC", "no data": "#F0E442"}


def main() -> None:
    ui.sidebar()
    c = ui.ctx()
    st.title("Plan evaluation")
    st.caption("Check a growth plan's targets against the data: met, on track, at risk, off track, too early, too few "
               "points or no data, with the chance of reaching each target by its year, over the immediate "
               "(≤ 2 years), medium (3–5) and long term (6–15).")
    source = st.radio("Plan", ["An example plan", "Upload a plan (YAML)", "Build one here"], horizontal=True,
                      key="plan_source")
    body, name = None, None
    if source == "An example plan":
        choice = ui.example_choice(plan_examples.names(), "example",
                                   "Example (illustrations, not any council's real plan)", "example_select")
        body, name = plan_examples.read(choice), choice
    elif source == "Upload a plan (YAML)":
        ui.set_params(example=None)
        upload = ui.yaml_upload("Plan file (YAML, up to 1 MB)", "plan_upload", "plans/plan.schema.json",
                                plan_model.MAX_PLAN_BYTES, "plans")
        if upload is False:
            return
        body, name = upload or (None, None)
    else:
        ui.set_params(example=None)
        body, name = _builder(c)
    if body is None:
        return
    try:
        plan = plan_model.load_plan(body, name or "plan", set(c.catalogue.ids()), set(c.names.index))
        evaluation = plans.evaluate(c, plan)  # refuses a target met at the baseline or a baseline before the data
        link.attach(c, evaluation)  # what meeting each target is worth, where an objective links a prevention model
    except plan_model.PlanError as exc:
        st.error(f"The plan could not be used: {ui.md(exc)}")
        return
    evaluation = residents.plan_rollup(evaluation)  # the plan's own weights or its residents' priorities
    _show(evaluation)


def _builder(c) -> tuple[bytes | None, str | None]:
    opts = ui.place_options(ui.created_at())
    labels = dict(zip(opts["areacd"], opts["label"]))
    with st.form("plan_builder"):
        title = st.text_input("Plan title", "My plan", max_chars=200)
        place = st.selectbox("Place", list(labels), format_func=lambda x: labels[x], index=None,
                             placeholder="Search by name or code")
        published = st.date_input("Published", date(2024, 4, 1), min_value=date(2015, 1, 1), max_value=date(2030, 12, 31))
        baseline = st.number_input("Baseline year", 2010, 2030, 2022)
        indicator = st.selectbox("Indicator", ui.indicator_options(c, scored_only=True),
                                 format_func=lambda i: ui.indicator_label(c, i))
        horizon = st.selectbox("Horizon", ["immediate", "medium", "long"], index=1)  # valid with the defaults
        year = st.number_input("Target year", 2015, 2045, 2027)
        kind = st.selectbox("Target type", ["reach a value", "change from baseline (absolute)",
                                            "change from baseline (%)", "close a share of the gap to England",
                                            "reach the top half of neighbours"])
        # no default: a pre-filled 0 became a "reach 0" target that came back "met"
        amount = st.number_input("Value / change / share (0–1)", value=None, format="%.3f",
                                 placeholder="the target value, change or share")
        go = st.form_submit_button("Evaluate")
    if not go:
        st.info("Fill in the form and press Evaluate.")
        return None, None
    if not place:
        st.error("Choose a place.")
        return None, None
    if amount is None and not kind.startswith("reach the top"):
        st.error("Enter the target's value, change or share.")
        return None, None
    target: dict = {"horizon": horizon, "year": int(year)}
    if kind == "reach a value":
        target["reach"] = float(amount)
    elif kind.startswith("change") and kind.endswith("(%)"):
        target["change"] = {"by": float(amount), "unit": "percent"}
    elif kind.startswith("change"):
        target["change"] = {"by": float(amount)}
    elif kind.startswith("close"):
        target["close_gap"] = {"share": float(amount), "to": "england"}
    else:
        target["position"] = {"among": "neighbours", "at_least": "top_half"}
    pillar = c.catalogue.get(indicator).pillar
    doc = {"title": title, "place": {"code": place}, "published": published.isoformat(), "baseline": int(baseline),
           "objectives": [{"title": c.catalogue.get(indicator).label, "pillar": pillar, "weight": 1.0,
                           "indicators": [indicator], "targets": [target]}]}
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    with st.expander("The plan as YAML"):
        st.code(text, language="yaml")
    return text.encode("utf-8"), "form"


def _show(ev: plans.Evaluation) -> None:
    src = ev.plan.source
    if ev.plan.illustrative:
        st.warning("Illustration: this is an invented example, not any council's real plan." if src is None else
                   "Illustration, not any council's real plan: its objectives are taken from the published source "
                   "below; its targets and weights are this example's own reading, not the source's.")
    st.markdown(f"## {ui.md(ev.plan.title)}")
    st.caption(ui.md(f"{ev.place.name} · published {ev.plan.published:%d %B %Y} · baseline {ev.plan.baseline} · "
                     f"compared with {ev.place.peer_label}"))
    if src is not None:
        st.info(ui.md(f"Objectives from: {src.citation()}" + (f"\n\n{src.note}" if src.note else "")))
    st.markdown(f"**{ui.md(ev.summary)}**")
    overall = "none judged yet" if ev.overall is None else f"{ev.overall:.0%} met or on track"
    st.info(ui.md(f"Overall (weighted): {overall}. {ev.weights_text}"))
    rows = ev.rows()
    # One above the other: side by side, their eight columns were cut off on a laptop screen.
    columns = {"share_met_or_on_track": "Share met or on track", "horizon": "Horizon", "pillar": "Pillar",
               "targets": "Targets"}
    st.markdown("**By horizon**")
    st.dataframe(_shares_as_text(ev.by_horizon), hide_index=True, width="stretch", column_config=columns)
    st.markdown("**By pillar**")
    st.dataframe(_shares_as_text(ev.by_pillar), hide_index=True, width="stretch", column_config=columns)
    counts = rows.groupby(["horizon", "status"]).size().reset_index(name="targets")
    chart = alt.Chart(counts).mark_bar().encode(
        y=alt.Y("horizon:N", sort=["immediate", "medium", "long"], title=None),
        x=alt.X("targets:Q", title="Targets", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("status:N", scale=alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values())),
                        title="Status"), tooltip=["horizon:N", "status:N", "targets:Q"])
    st.altair_chart(chart.properties(height=140), width="stretch")
    for oi, o in enumerate(ev.objectives):
        pillar = o.pillar.replace('_', ' ')
        if o.not_measured is not None:  # kept on the page with its reason, never dropped
            with st.expander(ui.md(f"{o.title} ({pillar}, not weighted: {plans.NOT_MEASURED_WORDS.lower()})"),
                             expanded=True):
                if o.note:
                    st.caption(ui.md(o.note))
                st.markdown(f"**{plans.NOT_MEASURED_WORDS}.** {ui.md(o.not_measured)}")
            continue
        with st.expander(ui.md(f"{o.title} ({pillar}, weight {o.weight:.0%})"), expanded=True):
            if o.note:
                st.caption(ui.md(o.note))
            verdict = o.counterfactual_fields()["counterfactual_verdict"]
            if verdict:
                st.markdown(f"**Compared with similar places: {ui.md(verdict)}**")
            st.caption(ui.md(o.counterfactual))
            for ti, t in enumerate(o.targets):
                _target(t, (ev.prevention or {}).get((oi, ti)))
    st.header("Download the evaluation")
    cols = st.columns(3)
    stem = "plan-evaluation"
    cols[0].download_button("HTML report", plan_report.to_html(ev).encode("utf-8"), f"{stem}.html", "text/html")
    cols[1].download_button("CSV", plan_report.to_csv(ev).encode("utf-8"), f"{stem}.csv", "text/csv")
    cols[2].download_button("JSON", plan_report.to_json(ev).encode("utf-8"), f"{stem}.json", "application/json")


def _shares_as_text(rollup: pd.DataFrame) -> pd.DataFrame:
    """The share as people read it ('43%'), and 'none judged yet' where no target could be judged
    (the data grid would show an empty share as 'None')."""
    if "share_met_or_on_track" not in rollup:
        return rollup
    return rollup.assign(share_met_or_on_track=[
        "none judged yet" if v is None or pd.isna(v) else f"{float(v):.0%}" for v in rollup["share_met_or_on_track"]])


def _target(t: plans.TargetResult, if_met: link.LinkedValue | None = None) -> None:
    colour = STATUS_COLOURS.get(t.status, "#999999")
    chance = (f" · {plans.likelihood(t.probability)} to reach it by {t.target_year}"
              if t.probability is not None else "")
    st.markdown(f"**{ui.md(t.indicator)}**: {ui.md(t.target_text)} ({t.horizon} term) — "
                f"<span style='background:{colour};color:#000;"
                f"padding:0 .4rem;border-radius:.3rem'>{ui.esc(t.status_text)}</span>{ui.esc(chance)}",
                unsafe_allow_html=True)
    baseline = f"Baseline: {t.baseline_rule}. " if t.baseline_rule else ""
    st.caption(ui.md(f"{baseline}{t.reason}. Source: {views.sources_text(t.source, t.source_date)}."))
    if if_met is not None:  # beside the status: the linked prevention model's value of meeting the target
        (st.warning if if_met.warning else st.info)(ui.md(if_met.text[:1].upper() + if_met.text[1:] + "."))
    if not t.series:
        return
    series = pd.DataFrame(t.series)
    layers = [alt.Chart(series).mark_line(point=True, color="#31688e").encode(
        # the unit goes in the chart's title: a long rotated axis title squeezed the plot to a sliver
        x=alt.X("year:Q", title="Year", axis=alt.Axis(format="d")), y=alt.Y("value:Q", title=None,
                                                                             scale=alt.Scale(zero=False)),
        tooltip=["label:N", alt.Tooltip("value:Q", format=",.2f")])]
    if t.target_value is not None:
        layers.append(alt.Chart(pd.DataFrame({"year": [t.target_year], "value": [t.target_value]})).mark_point(
            shape="diamond", size=160, color="#D55E00", filled=True).encode(x="year:Q", y="value:Q",
                                                                            tooltip=["value:Q"]))
    if t.projected_value is not None and t.projection_path:
        # the evaluation's own projection: the same fit, interval and feasible bounds the status was judged on
        path = pd.DataFrame(t.projection_path)
        layers.append(alt.Chart(path).mark_area(opacity=0.15, color="#555").encode(x="year:Q", y="low:Q", y2="high:Q"))
        layers.append(alt.Chart(path).mark_line(strokeDash=[5, 4], color="#555").encode(x="year:Q", y="value:Q"))
    title = alt.TitleParams(t.unit, anchor="start", fontSize=12, fontWeight="normal", color="#333")
    st.altair_chart(alt.layer(*layers).properties(height=200, title=title), width="stretch")
    st.caption("Line: published values. Diamond: the target"
               + (". Dashed: the projected trend, with its 95% prediction interval shaded." if t.projection_path
                  else "."))


with ui.friendly_errors():
    main()
ui.footer()
