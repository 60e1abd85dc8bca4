"""Plan evaluation reports: CSV, JSON and a self-contained HTML file (see to_html)."""
from __future__ import annotations

import json

import numpy as np

from .plans import Evaluation


def to_csv(ev: Evaluation) -> str:
    return ev.rows().to_csv(index=False)


def to_json(ev: Evaluation) -> str:
    return json.dumps(ev.to_json(), indent=1, ensure_ascii=False, default=_plain) + "\n"


def _plain(v: object) -> object:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if np.isnan(v) else float(v)
    return str(v)


def to_html(ev: Evaluation) -> str:  # replaced by the full report
    raise NotImplementedError
