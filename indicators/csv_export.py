"""CSV for people who will open it in a spreadsheet: text cells cannot become formulas.

Area names, plan titles and reasons come from outside (publishers' files, uploaded plans). A cell
such as ``=HYPERLINK("http://evil.example","click")`` is a live formula when Excel, LibreOffice or
Google Sheets opens the CSV. Following the OWASP guidance on CSV injection, every *text* cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote, which
spreadsheets read as "this is text". Numeric columns are written as they are, so -3.2 stays the
number -3.2; only strings are touched, whatever column they are in.

Every CSV the dashboard or the CLI writes goes through :func:`to_csv`.
"""
from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_text(value: object) -> object:
    """The value itself, unless it is a string a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot start a formula; numeric, boolean and date columns unchanged."""
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype):
            if not pd.api.types.is_numeric_dtype(col.dtype):
                out[name] = col.map(neutralise_text, na_action="ignore")
    # Column headers are text too (an indicator id or a label could become one).
    out.columns = [neutralise_text(c) for c in out.columns]
    return out


def to_csv(frame: pd.DataFrame) -> str:
    """The frame as CSV text (no index), with formula-like text cells neutralised.

    Rows end in CRLF as RFC 4180 says: the csv writer quotes any field holding a character of the
    line terminator, so a carriage return inside a name is quoted instead of splitting the row."""
    return neutralise(frame).to_csv(index=False, lineterminator="\r\n")


__all__ = ["FORMULA_STARTS", "neutralise", "neutralise_text", "to_csv"]
