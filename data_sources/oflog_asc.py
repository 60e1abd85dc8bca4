"""Oflog's adult social care measures (ASC_data.csv) → observations and catalogue rows.

The file is the last release of the Office for Local Government's data explorer (Oflog closed in
December 2024): ASCOF-based measures for upper-tier councils, 2015-16 to 2022-23, in long form
`Financial year, Local authority code, Local authority name, Grouping, Entity_Name, Region, Measure,
Code, Value, MEDIAN, MADs_from_median, rank_order`.

Quirks handled here:
- blank `Value` cells are unpublished values: NULL with status `missing`, never 0;
- `rank_order` is `desc`, `DESC`, `None` or blank for the same measure; it is Oflog's presentation,
  not ours (polarity is judged in the catalogue), so it is not stored;
- `MEDIAN` and `MADs_from_median` are derived by Oflog from the rows themselves: not stored;
- financial years `2015-16` become 1 April 2015 – 31 March 2016, labelled `2015/16`;
- councils are upper-tier: the level comes from the GSS code prefix as for every source (E10
  counties are `utla`; unitaries, metropolitan districts and London boroughs are `utla` and `ltla`).
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from .errors import ValidationError
from .ons_local_stats import OBSERVATION_COLUMNS, Parsed, assign_levels, catalogue_rows, drop_duplicates

SLUG = "oflog-adult-social-care"
SOURCE = "ASC_data.csv"
COLUMNS = ["Financial year", "Local authority code", "Local authority name", "Measure", "Code", "Value"]
SOURCE_URL = "https://www.gov.uk/government/organisations/office-for-local-government"

# Oflog's measure code → (indicator id, short label, unit, what it is). The measure text in the file
# is checked against the code, so a renumbered file is refused rather than mislabelled.
MEASURES: dict[str, tuple[str, str, str, str]] = {
    "ASC1": ("asc-carer-quality-of-life", "Carer-reported quality of life (adult social care)", "Score (0–12)",
             "Outcome, ASC Carer Quality of Life"),
    "ASC2": ("asc-quality-of-life", "Social care-related quality of life (impact of services)", "Score",
             "Outcome, ASC Quality of Life"),
    "ASC3": ("asc-information-ease-users", "Service users finding it easy to get information", "%",
             "Outcome, Ease of finding information about services : service users"),
    "ASC4": ("asc-information-ease-carers", "Carers finding it easy to get information", "%",
             "Outcome, Ease of finding information about support : carers"),
    "ASC5": ("asc-reablement-sequel", "Short-term support with no further or lower-level need", "%",
             "Outcome, Outcome of short-term services: sequel to service"),
    "ASC6": ("asc-requests-resulting-in-service", "Requests for support resulting in a service",
             "Per 100,000 adults", "Outcome, Requests resulting in a service"),
    "ASC7": ("asc-workforce-turnover", "Adult social care workforce turnover", "%",
             "Outcome, Workforce turnover rate"),
}
METADATA = {
    "sourceOrg": "Office for Local Government (Oflog), from NHS England's Adult Social Care Outcomes Framework "
                 "and Skills for Care",
    "sourceURL": SOURCE_URL,
    "sourceDate": "30/11/2024",
    "caveats": "Oflog's last published measures (Oflog closed in December 2024). Upper-tier councils only.",
}


def parse(body: bytes) -> Parsed:
    """ASC_data.csv bytes → observations (one row per measure × council × level × year) and catalogue rows."""
    try:
        raw = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ValidationError(SOURCE, f"not a readable CSV ({exc})") from exc
    raw.columns = [c.strip() for c in raw.columns]
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ValidationError(SOURCE, "missing column(s) " + ", ".join(missing), field=missing[0])
    if raw.empty:
        raise ValidationError(SOURCE, "no data rows")
    raw = raw[COLUMNS].apply(lambda s: s.str.strip())
    raw["source_line"] = np.arange(2, len(raw) + 2, dtype="int32")
    _check_measures(raw)
    code = raw["Local authority code"]
    bad_code = ~code.str.fullmatch(r"E(06|08|09|10)\d{6}")
    if bad_code.any():
        row = raw.loc[bad_code].iloc[0]
        raise ValidationError(SOURCE, f"not an upper-tier council code: {row['Local authority code']!r}",
                              line=int(row["source_line"]), field="Local authority code")
    year = raw["Financial year"]
    bad_year = ~year.str.fullmatch(r"\d{4}-\d{2}")
    start_year = pd.to_numeric(year.str[:4], errors="coerce")
    bad_year |= (start_year + 1) % 100 != pd.to_numeric(year.str[5:], errors="coerce")
    if bad_year.any():
        row = raw.loc[bad_year].iloc[0]
        raise ValidationError(SOURCE, f"not a financial year: {row['Financial year']!r}",
                              line=int(row["source_line"]), field="Financial year")
    value = pd.to_numeric(raw["Value"], errors="coerce")
    unreadable = value.isna() & raw["Value"].ne("")
    if unreadable.any():
        row = raw.loc[unreadable].iloc[0]
        raise ValidationError(SOURCE, f"not a number: {row['Value']!r}", line=int(row["source_line"]),
                              field="Value", areacd=row["Local authority code"])
    raw["indicator_id"] = raw["Code"].map({k: v[0] for k, v in MEASURES.items()})
    raw["unit"] = raw["Code"].map({k: v[2] for k, v in MEASURES.items()})
    raw["value"] = value
    raw["period_start"] = pd.to_datetime(start_year.astype(int).astype(str) + "-04-01")
    raw["period_end"] = pd.to_datetime((start_year.astype(int) + 1).astype(str) + "-03-31")
    levels = assign_levels(code, pd.Series("", index=raw.index))
    raw = raw.assign(level=levels).explode("level", ignore_index=True)
    obs = pd.DataFrame({
        "indicator_id": raw["indicator_id"],
        "areacd": raw["Local authority code"],
        "areanm": raw["Local authority name"],
        "level": raw["level"],
        "period_code": raw["Financial year"],
        "period_label": raw["Financial year"].str.replace("-", "/", regex=False),
        "period_start": raw["period_start"].astype("date32[pyarrow]"),
        "period_end": raw["period_end"].astype("date32[pyarrow]"),
        "value": raw["value"],
        "lci": np.nan,
        "uci": np.nan,
        "status": np.where(raw["value"].isna(), "missing", "ok"),
        "unit": raw["unit"],
        "measure": raw["Measure"],
        "dataset": SLUG,
        "notes": None,
        "source_line": raw["source_line"],
    })
    obs, dropped = drop_duplicates(obs, SOURCE)
    meta = {"shared": METADATA, **{m[3]: {"label": m[1]} for m in MEASURES.values()}}
    names = pd.DataFrame({"indicator": raw["Measure"], "measure": raw["Measure"], "indicator_id": raw["indicator_id"]})
    catalogue = catalogue_rows(SLUG, meta, obs, names, None)
    return Parsed(observations=obs[OBSERVATION_COLUMNS], catalogue=catalogue, duplicates_dropped=dropped)


def _check_measures(raw: pd.DataFrame) -> None:
    """Every row's code is known and its measure text is the one that code stands for."""
    unknown = ~raw["Code"].isin(list(MEASURES))
    if unknown.any():
        row = raw.loc[unknown].iloc[0]
        raise ValidationError(SOURCE, f"unknown measure code {row['Code']!r} ({row['Measure']})",
                              line=int(row["source_line"]), field="Code")
    expected = raw["Code"].map({k: v[3] for k, v in MEASURES.items()})
    wrong = raw["Measure"].ne(expected)
    if wrong.any():
        row = raw.loc[wrong].iloc[0]
        raise ValidationError(SOURCE, f"code {row['Code']} names {row['Measure']!r}, expected "
                                      f"{expected[wrong].iloc[0]!r}", line=int(row["source_line"]), field="Measure")
