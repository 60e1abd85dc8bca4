"""The period forms an upload may use, turned into the snapshot's period code, label and dates.

Why only these: they are the forms the ONS snapshot itself uses (calendar years, financial
years, ISO intervals), so a local series lines up with the national ones on every chart and
in every trend test; anything else is refused rather than guessed at.
"""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd

PATTERN = r"^[0-9]{4}$|^[0-9]{4}/[0-9]{2}$|^[0-9]{4}-[0-9]{2}-[0-9]{2}/P[1-9][0-9]?[YM]$"
FORMS = "use 2023, 2023/24 or an ISO interval such as 2023-04-01/P1Y"
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})/P([0-9]+)([YM])")


def _add(start: dt.date, n: int, unit: str) -> dt.date:
    months = start.month - 1 + (12 * n if unit == "Y" else n)
    return dt.date(start.year + months // 12, months % 12 + 1, start.day)


def parse(text: str) -> tuple[str, str, dt.date, dt.date] | None:
    """(code, label, start, end) of one period, or None if it is not in a recognised form."""
    try:
        if re.fullmatch(r"[0-9]{4}", text):
            y = int(text)
            return f"{y}-01-01/P1Y", text, dt.date(y, 1, 1), dt.date(y, 12, 31)
        if re.fullmatch(r"[0-9]{4}/[0-9]{2}", text):
            y, yy = int(text[:4]), int(text[5:])
            if yy != (y + 1) % 100:
                return None
            return f"{y}-04-01/P1Y", text, dt.date(y, 4, 1), dt.date(y + 1, 3, 31)
        m = _ISO.fullmatch(text)
        if m:
            start = dt.date(int(m[1]), int(m[2]), int(m[3]))
            n, unit = int(m[4]), m[5]
            end = _add(start, n, unit) - dt.timedelta(days=1)
            if unit == "Y" and n == 1:
                label = str(start.year) if (start.month, start.day) == (1, 1) else f"{start.year}/{(start.year + 1) % 100:02d}"
            elif unit == "Y":
                label = f"{start.year} to {end.year}"
            else:
                label = f"{start:%b %Y} to {end:%b %Y}"
            return text, label, start, end
    except ValueError:  # 2023-02-30
        return None
    return None


def table(texts: pd.Series) -> pd.DataFrame:
    """Code, label, start and end for each distinct period text (None rows where unrecognised)."""
    uniq = pd.unique(texts.astype(str))
    parsed = {t: parse(t) for t in uniq}
    return pd.DataFrame([(t, *(parsed[t] or (None, None, None, None))) for t in uniq],
                        columns=["period", "period_code", "period_label", "period_start", "period_end"])
