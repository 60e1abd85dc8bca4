"""Read and validate an uploaded table and its metadata; refuse bad input with one line per problem.

Why pandera: the rules (known area codes, period form, numbers, one row per area × period,
a declared range) are a declarative schema checked by a maintained validator, lazily, so a
user sees every problem in one go rather than one per attempt. Nothing here writes anything:
a refused upload leaves no trace.
"""
from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pandera.pandas as pa
import yaml
from pydantic import ValidationError

from ..plan_model import MAX_PLAN_BYTES
from . import periods
from .model import ROW_COLUMNS, LocalDataError, LocalIndicator, LocalMeta

# One limit for every file a visitor can hand the app (plans, local data).
MAX_BYTES = MAX_PLAN_BYTES
MAX_ROWS = 100_000
MAX_PROBLEMS = 20
REQUIRED = ["areacd", "period", "value"]
OPTIONAL = ["lower", "upper", "numerator", "denominator", "status"]
NUMBERS = ["value", "lower", "upper", "numerator", "denominator"]

TEMPLATE_ROWS = [("E08000035", "2023/24", "61.2", "58.9", "63.5", "", "", ""),
                 ("E08000035", "2024/25", "62.0", "59.7", "64.3", "", "", ""),
                 ("E08000036", "2024/25", "", "", "", "", "", "suppressed")]
TEMPLATE_META = """\
# Metadata for an uploaded local indicator (sidecar YAML: same name as the data file, .yaml).
label: Residents satisfied with their local area
unit: "%"
polarity: higher_is_better          # higher_is_better, lower_is_better or neutral
polarity_reason: More residents satisfied with where they live is the aim of the plan.
pillar: public_services             # economy, public_services, environment or context
theme: wellbeing
source: Leeds City Council residents' survey 2024
licence: Open Government Licence v3.0
source_url: https://example.org/residents-survey   # optional
score: false                        # true: use it when scoring places (opt-in)
weight: 1                           # its weight within the pillar when scored
minimum: 0                          # optional: values outside minimum..maximum are refused
maximum: 100
"""


def template_csv() -> bytes:
    """A small CSV in the accepted shape, offered for download on the upload page."""
    head = ",".join(REQUIRED + OPTIONAL)
    return (head + "\n" + "\n".join(",".join(r) for r in TEMPLATE_ROWS) + "\n").encode()


def template_yaml() -> bytes:
    return TEMPLATE_META.encode()


# ---------------------------------------------------------------- metadata

def read_meta(source: bytes | str | dict) -> LocalMeta:
    """The metadata from sidecar YAML text (safe loader) or a form's dict, or LocalDataError."""
    if isinstance(source, (bytes, str)):
        if len(source) > 20_000:
            raise LocalDataError([f"the metadata file is {len(source):,} bytes; it is limited to 20,000 bytes"])
        try:
            raw = yaml.safe_load(source)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise LocalDataError([f"the metadata is not valid YAML{where}"]) from None
    else:
        raw = source
    if not isinstance(raw, dict):
        raise LocalDataError(["the metadata must be a set of 'field: value' lines"])
    raw = {k: v for k, v in raw.items() if v not in (None, "")}
    try:
        return LocalMeta.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            field = ".".join(str(p) for p in e["loc"])
            msg = str(e["msg"]).removeprefix("Value error, ")
            lines.append(f"metadata field '{field}': {msg}" if field else f"metadata: {msg}")
        raise LocalDataError(lines) from None


# ---------------------------------------------------------------- the table

def read_table(body: bytes, filename: str) -> pd.DataFrame:
    """Every cell as stripped text (numbers are checked by the schema, never guessed by the reader)."""
    if len(body) > MAX_BYTES:
        raise LocalDataError([f"the file is {len(body):,} bytes; local data files are limited to {MAX_BYTES:,} bytes"])
    name = filename.lower()
    try:
        if name.endswith(".xlsx"):
            frame = pd.read_excel(io.BytesIO(body), sheet_name=0, dtype=str, engine="openpyxl", nrows=MAX_ROWS + 1)
            kind = "XLSX"
        elif name.endswith(".csv"):
            frame = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False, encoding="utf-8-sig",
                                nrows=MAX_ROWS + 1, skipinitialspace=True)
            kind = "CSV"
        else:
            raise LocalDataError([f"'{filename[:80]}' is neither a .csv nor an .xlsx file"])
    except LocalDataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is the file's fault; say so in one line
        kind = "XLSX" if name.endswith(".xlsx") else "CSV"
        raise LocalDataError([f"the file cannot be read as {kind} ({type(exc).__name__})"]) from None
    if len(frame) > MAX_ROWS:
        raise LocalDataError([f"the file has more than {MAX_ROWS:,} rows"])
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    frame = frame.fillna("").astype(str).apply(lambda s: s.str.strip())
    frame = frame.loc[(frame != "").any(axis=1)].reset_index(drop=True)  # blank lines at the end of a sheet
    return frame


def _row(i: object) -> int:
    return int(i) + 2  # line 1 is the header


def _rows_text(rows: list[int]) -> str:
    rows = sorted(rows)
    if len(rows) > 5:
        return ", ".join(map(str, rows[:5])) + f" and {len(rows) - 5:,} more"
    return ", ".join(map(str, rows[:-1])) + f" and {rows[-1]}" if len(rows) > 1 else str(rows[0])


def _shape_problems(frame: pd.DataFrame) -> list[str]:
    problems = [f"the file has no '{c}' column" for c in REQUIRED if c not in frame.columns]
    allowed = REQUIRED + OPTIONAL
    problems += [f"unknown column '{str(c)[:40]}' (allowed: {', '.join(allowed)})"
                 for c in frame.columns if c not in allowed]
    if len(set(frame.columns)) != len(frame.columns):
        problems.append("a column name appears twice")
    if not problems and frame.empty:
        problems.append("the file has no rows")
    return problems


def _cell_schema(known_areas: Iterable[str], columns: list[str]) -> pa.DataFrameSchema:
    """Pass 1: each cell on its own (area known, period form, numbers are numbers). One row per area ×
    period is checked by `_duplicates`: pandera's own uniqueness report takes seconds per 10,000 repeats."""
    cols = {
        "areacd": pa.Column(str, pa.Check.isin(set(known_areas), name="known_area")),
        "period": pa.Column(str, pa.Check.str_matches(periods.PATTERN, name="period_form")),
        "status": pa.Column(str, pa.Check.str_length(max_value=40, name="status_length"), required=False),
    }
    for c in NUMBERS:
        cols[c] = pa.Column(float, nullable=True, coerce=True, required=c == "value")
    return pa.DataFrameSchema({k: v for k, v in cols.items() if k in columns or v.required}, strict=True)


def _range_schema(meta: LocalMeta, columns: list[str]) -> pa.DataFrameSchema:
    """Pass 2, on the numbers that passed: the declared range, intervals around the value, counts ≥ 0."""
    value_checks = []
    if meta.minimum is not None:
        value_checks.append(pa.Check.ge(meta.minimum, name="minimum", ignore_na=True))
    if meta.maximum is not None:
        value_checks.append(pa.Check.le(meta.maximum, name="maximum", ignore_na=True))
    finite = pa.Check(lambda s: s.isna() | np.isfinite(s), element_wise=False, name="finite")
    cols = {"value": pa.Column(float, [finite, *value_checks], nullable=True)}
    for c in ("lower", "upper"):
        if c in columns:
            cols[c] = pa.Column(float, finite, nullable=True)
    for c in ("numerator", "denominator"):
        if c in columns:
            cols[c] = pa.Column(float, [finite, pa.Check.ge(0, name="not_negative", ignore_na=True)], nullable=True)
    checks = []
    if "lower" in columns:
        checks.append(pa.Check(lambda d: ~(d["lower"] > d["value"]), name="lower_above_value"))
    if "upper" in columns:
        checks.append(pa.Check(lambda d: ~(d["upper"] < d["value"]), name="upper_below_value"))
    return pa.DataFrameSchema(cols, checks=checks, strict=False)


Problem = tuple[int, int, str]  # (row, column rank, message)


def _rank(column: object) -> int:
    """Problems in one row are listed in the file's column order."""
    order = REQUIRED + OPTIONAL
    return order.index(column) if column in order else len(order)


def _check_name(check: str, column: str) -> str:
    """Our name for a failed check: pandera reports built-in checks by their own names."""
    for prefix, name in (("isin", "known_area"), ("str_matches", "period_form"), ("str_length", "status_length"),
                         ("less_than_or_equal_to", "maximum")):
        if check.startswith(prefix):
            return name
    if check.startswith("greater_than_or_equal_to"):
        return "minimum" if column == "value" else "not_negative"
    return check


def _duplicates(frame: pd.DataFrame) -> list[Problem]:
    """One line per area × period given more than once (the first MAX_PROBLEMS, by first row)."""
    repeated = frame.loc[frame.duplicated(["areacd", "period"], keep=False), ["areacd", "period"]]
    if repeated.empty:
        return []
    groups = (repeated.assign(row=repeated.index.to_numpy() + 2).groupby(["areacd", "period"], sort=False)["row"]
              .agg(["min", list]).nsmallest(MAX_PROBLEMS, "min"))
    return [(int(g["min"]), -1, f"rows {_rows_text(g['list'])}: area {area} and period {period} appear more than once")
            for (area, period), g in groups.iterrows()]


def _lines(cases: pd.DataFrame, meta: LocalMeta | None) -> list[Problem]:
    """pandera's failure cases as (row, column rank, message): lines a person can act on."""
    out: list[Problem] = []
    for _, c in cases.iterrows():
        i, col, case = int(c["index"]), c["column"], c["failure_case"]
        check = _check_name(str(c["check"]), str(col))
        n = _row(i)

        def say(text: str) -> None:
            out.append((n, _rank(col), f"row {n}: {text}"))

        if check == "known_area":
            say(f"unknown area code '{str(case)[:20]}' (not an area in the data snapshot)")
        elif check == "period_form":
            say(f"period '{str(case)[:20]}' is not in a recognised form ({periods.FORMS})")
        elif check.startswith("coerce_dtype"):
            say(f"{col} '{str(case)[:20]}' is not a number")
        elif check == "finite":
            say(f"{col} '{case}' is not a finite number")
        elif check == "status_length":
            say("status is longer than 40 characters")
        elif check in ("minimum", "maximum", "not_negative") and not np.isfinite(float(case)):
            continue  # said already: not a finite number
        elif check == "minimum" and meta is not None:
            say(f"value {float(case):g} is below the declared minimum {meta.minimum:g}")
        elif check == "maximum" and meta is not None:
            say(f"value {float(case):g} is above the declared maximum {meta.maximum:g}")
        elif check == "not_negative":
            say(f"{col} {float(case):g} is negative")
        elif check == "lower_above_value":
            if col == "lower":
                say(f"lower {float(case):g} is above the value")
        elif check == "upper_below_value":
            if col == "upper":
                say(f"upper {float(case):g} is below the value")
        elif check.startswith("dtype("):
            continue  # the coercion failure on the same cell already said it
        else:
            say(f"{col} fails {check}")
    return out


def _validate(schema: pa.DataFrameSchema, frame: pd.DataFrame, meta: LocalMeta | None) -> tuple[list[Problem], bool]:
    """The problems in the first MAX_PROBLEMS failing rows, and whether later rows fail too.
    Why a cap: a hostile 1 MB file can fail on every one of 50,000 rows; the first few lines are
    what a person reads, and describing all of them would take the server tens of seconds."""
    try:
        schema.validate(frame, lazy=True)
        return [], False
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    cases = cases.loc[cases["index"].notna()]
    rows = np.sort(cases["index"].astype(int).unique())
    first = cases.loc[cases["index"].astype(int).isin(rows[:MAX_PROBLEMS])]
    return _lines(first, meta), len(rows) > MAX_PROBLEMS


def _finish(problems: list[Problem], truncated: bool) -> None:
    if not problems:
        return
    seen, lines = set(), []
    for _, _, text in sorted(problems, key=lambda p: (p[0], p[1])):
        if text not in seen:
            seen.add(text)
            lines.append(text)
    more = len(lines) - MAX_PROBLEMS
    tail = ["… and more problems in later rows"] if truncated else [f"… and {more} more problem(s)"] if more > 0 else []
    raise LocalDataError(lines[:MAX_PROBLEMS] + tail)


def validate(frame: pd.DataFrame, meta: LocalMeta, known_areas: Iterable[str]) -> pd.DataFrame:
    """The rows in ROW_COLUMNS, or LocalDataError listing every problem (row numbers as in the file)."""
    shape = _shape_problems(frame)
    if shape:
        raise LocalDataError(shape)
    columns = list(frame.columns)
    frame = frame.copy()
    for c in NUMBERS:  # a blank number is no data (NULL), never text and never zero
        if c in columns:
            frame[c] = frame[c].astype(object).where(frame[c] != "", None)
    problems, cut = _validate(_cell_schema(known_areas, columns), frame, meta)
    # numbers that failed are already reported; check the rest against the declared range
    nums = frame.copy()
    for c in NUMBERS:
        if c in columns:
            nums[c] = pd.to_numeric(nums[c], errors="coerce")
    more, cut_too = _validate(_range_schema(meta, columns), nums, meta)
    per = periods.table(nums["period"])
    # the pattern admits 2023/25 or 2023-02-30/P1Y; the parser knows they are not periods
    unparsed = set(per.loc[per["period_code"].isna(), "period"])
    bad = unparsed - set(frame.loc[~frame["period"].str.match(periods.PATTERN), "period"])  # those: said already
    for i in frame.index[frame["period"].isin(bad)]:
        text = f"period '{frame.at[i, 'period'][:20]}' is not in a recognised form ({periods.FORMS})"
        more.append((_row(i), _rank("period"), f"row {_row(i)}: {text}"))
    _finish(_duplicates(frame) + problems + more, cut or cut_too)
    out = nums.merge(per, on="period", how="left", validate="many_to_one")
    for c in NUMBERS:
        if c not in out.columns:
            out[c] = np.nan
    status = out["status"] if "status" in out.columns else pd.Series("", index=out.index)
    out["status"] = np.where(status != "", status, np.where(out["value"].notna(), "ok", "missing"))
    out = out.rename(columns={"lower": "lci", "upper": "uci"})
    return out[ROW_COLUMNS].sort_values(["areacd", "period_start"], ignore_index=True)


def parse_upload(body: bytes, filename: str, meta: LocalMeta, known_areas: Iterable[str]) -> LocalIndicator:
    """An upload (CSV or XLSX bytes) checked against the metadata and the snapshot's area codes."""
    return LocalIndicator(meta=meta, rows=validate(read_table(body, filename), meta, known_areas))
