"""Prevention: value a council's prevention assumptions (an example or an uploaded model) the Green Book
way, see which assumption matters most, and download the report. The page only asks
indicators.prevention for numbers and draws them."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import common as ui
from indicators.prevention import evaluate, model, report, run


def main() -> None:
    ui.sidebar()
    c = ui.ctx()
    st.title("Prevention value")
    st.caption("What is prevention worth? A council states what an intervention changes, the demand that change "
               "avoids and what that demand costs; this page values it over the immediate (0–2 years), medium "
               "(3–5) and long term (6–15), with HM Treasury Green Book discounting and honest uncertainty.")
    st.warning(report.CAVEAT)
    source = st.radio("Model", ["An example model", "Upload a model (YAML)"], horizontal=True, key="prevent_source")
    body, name = None, None
    if source == "An example model":
        choice = ui.example_choice(model.example_names(), "model", "Example (illustrative numbers, not any council's)",
                                   "prevent_example")
        body, name = model.read_example(choice), choice
    else:
        ui.set_params(model=None)
        upload = ui.yaml_upload("Model file (YAML, up to 1 MB)", "prevent_upload",
                                "plans/prevention.schema.json", run.MAX_MODEL_BYTES, "models")
        if upload is False:
            return
        body, name = upload or (None, None)
    if body is None:
        st.info("Upload a model to value it.")
        return
    try:
        result = run.value(c, body, name or "model")
    except model.PreventionError as exc:
        st.error(f"The model could not be used: {ui.md(exc)}")
        return
    _show(result, body, name or "model")


def _show(r: evaluate.Result, body: bytes, name: str) -> None:
    m = r.model
    if m.illustrative:
        st.warning("Illustration: every effect size and unit cost in this model is made up to show how a model is "
                   "written. Councils find real unit costs in the GMCA / New Economy Unit Cost Database and PSSRU's "
                   "Unit Costs of Health and Social Care, and effect sizes in NICE guidance and its evidence.")
    st.markdown(f"## {ui.md(m.title)}")
    st.caption(ui.md(f"{r.place_name} ({m.place.code}) · {m.start_year}–{m.start_year + m.years} · "
                     f"{m.price_year} prices · {r.draws:,} draws, {report.INTERVAL_LABEL}"))
    s = r.summary.set_index("metric")
    cols = st.columns(3)
    for col, key in zip(cols, ("npv", "bcr", "break_even")):
        row = s.loc[key]
        interval = f"{report.INTERVAL_LABEL}: {report.interval_text(key, row['lo'], row['hi'])}"
        col.metric(row["label"], report.fmt_metric(key, row["central"]),
                   help=f"The central case: every assumption at its central value. {interval}.")
        col.caption(ui.md(interval))
    if r.break_even_never > 0:
        st.caption(f"In {r.break_even_never:.0%} of the draws the programme does not break even within the period.")

    st.subheader("Which assumption matters most")
    st.caption("Net present value with one assumption at a time at its low or high value, every other central.")
    t = r.tornado.head(12).assign(parameter=lambda f: report.short_labels(f["parameter"]),
                                  centre=lambda f: f["npv_central"] / 1e6)
    bars = pd.concat([t.assign(end="low", npv=t["npv_low"] / 1e6), t.assign(end="high", npv=t["npv_high"] / 1e6)])
    order = list(t["parameter"])
    chart = alt.Chart(bars).mark_bar().encode(
        y=alt.Y("parameter:N", sort=order, title=None, axis=alt.Axis(labelLimit=280, labelOverlap=False)),
        x=alt.X("npv:Q", title="Net present value (£ million)"), x2="centre:Q",
        color=alt.Color("end:N", scale=alt.Scale(domain=["low", "high"], range=["#0072B2", "#E69F00"]),
                        title="Assumption at"),
        tooltip=["parameter:N", "end:N", alt.Tooltip("npv:Q", format=",.2f", title="NPV (£ million)")])
    rule = alt.Chart(t.head(1)).mark_rule(color="black").encode(x="centre:Q")
    st.altair_chart((chart + rule).properties(height=max(160, 34 * len(t))), width="stretch")
    st.caption("Black line: the central case.")
    with st.expander("The same figures as a table"):
        tt = r.tornado
        st.dataframe(pd.DataFrame({"Assumption": tt["parameter"], "Low": tt["low"], "Central": tt["central"],
                                   "High": tt["high"], "NPV at low": tt["npv_low"].map(report.money),
                                   "NPV at high": tt["npv_high"].map(report.money),
                                   "Swing": tt["swing"].map(report.money)}), hide_index=True, width="stretch")

    st.subheader("Demand avoided and its value, by horizon")
    h = r.by_horizon
    st.dataframe(pd.DataFrame({
        "Horizon": h["horizon"].map(report.HORIZON_NAMES), "Demand": h["demand"],
        "Units avoided": [report.number(v) for v in h["units"]],
        "Units (" + report.INTERVAL_LABEL + ")": [f"{report.number(a)} to {report.number(b)}" if pd.notna(a) else ""
                                                  for a, b in zip(h["units_lo"], h["units_hi"])],
        "Present value": [report.money(v) for v in h["value"]],
        "Value (" + report.INTERVAL_LABEL + ")": [f"{report.money(a)} to {report.money(b)}"
                                                  for a, b in zip(h["value_lo"], h["value_hi"])]}),
        hide_index=True, width="stretch")

    st.subheader("Who gains")
    w = r.who_gains
    st.dataframe(pd.DataFrame({"Who": w["who"].map(report.WHO_NAMES), "Present value": w["central"].map(report.money),
                               report.INTERVAL_LABEL: [f"{report.money(a)} to {report.money(b)}"
                                                       for a, b in zip(w["lo"], w["hi"])]}),
                 hide_index=True, width="stretch")

    st.subheader("Every assumption and its source")
    a = r.assumptions
    st.dataframe(pd.DataFrame({"Field in the file": a["field"], "Assumption": a["assumption"],
                               "Low": a["low"], "Central": a["central"], "High": a["high"], "Unit": a["unit"],
                               "Source": a["source"], "Illustrative": a["illustrative"]}),
                 hide_index=True, width="stretch")

    st.header("Download")
    cols = st.columns(4)
    stem = name.removesuffix(".yaml").removesuffix(".prevention") or "prevention"
    cols[0].download_button("HTML report", report.to_html(r).encode("utf-8"), f"{stem}.html", "text/html")
    cols[1].download_button("CSV", report.csv_text(r).encode("utf-8"), f"{stem}.csv", "text/csv")
    cols[2].download_button("JSON", report.to_json(r).encode("utf-8"), f"{stem}.json", "application/json")
    cols[3].download_button("The model (YAML)", body, f"{stem}.prevention.yaml", "application/yaml")


with ui.friendly_errors():
    main()
ui.footer()
