"""CSV downloads cannot smuggle a spreadsheet formula (OWASP CSV injection): text cells that start
with = + - @ tab or carriage return are prefixed with a single quote; numbers are left alone."""
from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from indicators import csv_export, plan_report

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)",
           "\t=1+1", "\r=1+1"]


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("cell", HOSTILE)
def test_formula_like_text_is_prefixed_with_a_quote(cell):
    out = rows(csv_export.to_csv(pd.DataFrame({"areanm": [cell]})))
    assert out[1] == ["'" + cell]


def test_numbers_stay_numbers_even_when_negative():
    frame = pd.DataFrame({"value": [-3.25, 4.0, np.nan], "rank": [-1, 2, 3], "areanm": ["-x", "Leeds", None]})
    back = pd.read_csv(io.StringIO(csv_export.to_csv(frame)))
    assert back["value"].tolist()[:2] == [-3.25, 4.0] and np.isnan(back["value"].iloc[2])
    assert back["rank"].tolist() == [-1, 2, 3]
    assert back["areanm"].tolist()[:2] == ["'-x", "Leeds"] and pd.isna(back["areanm"].iloc[2])


def test_a_number_inside_a_text_column_is_not_touched():
    frame = pd.DataFrame({"mixed": [-5, "=bad", "fine", 1.5]})
    assert [r[0] for r in rows(csv_export.to_csv(frame))[1:]] == ["-5", "'=bad", "fine", "1.5"]


def test_ordinary_text_is_unchanged():
    frame = pd.DataFrame({"areanm": ["Leeds", "King's Lynn", "St. Helens", "a=b", "x-y"]})
    assert [r[0] for r in rows(csv_export.to_csv(frame))[1:]] == frame["areanm"].tolist()


def test_string_dtype_columns_are_neutralised():
    frame = pd.DataFrame({"areanm": pd.array(["=1+1", "Leeds", None], dtype="string")})
    assert [r[0] for r in rows(csv_export.to_csv(frame))[1:]] == ["'=1+1", "Leeds", ""]


def test_headers_are_neutralised_too():
    assert rows(csv_export.to_csv(pd.DataFrame({"=cmd": [1]})))[0] == ["'=cmd"]


def test_the_input_frame_is_not_modified():
    frame = pd.DataFrame({"areanm": ["=1+1"]})
    csv_export.to_csv(frame)
    assert frame["areanm"].iloc[0] == "=1+1"


def test_the_plan_report_csv_is_neutralised():
    ev = SimpleNamespace(rows=lambda: pd.DataFrame({"plan": ['=HYPERLINK("http://evil.example")'],
                                                    "place": ["@Leeds"], "target_value": [-2.5]}),
                         prevention={})  # no objective links a prevention model
    out = rows(plan_report.to_csv(ev))
    assert out[1] == ['\'=HYPERLINK("http://evil.example")', "'@Leeds", "-2.5"]


def test_every_csv_download_goes_through_the_helper():
    """Pages and the CLI write CSV only via csv_export (a direct DataFrame.to_csv would skip it)."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in [*root.glob("app_pages/*.py"), *root.glob("indicators/*.py"), root / "app.py"]:
        if path.name == "csv_export.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ".to_csv(" in line and "csv_export.to_csv(" not in line and "plan_report.to_csv(" not in line:
                offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
