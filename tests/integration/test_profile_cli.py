"""`python -m indicators profile AREA` on the committed snapshot: every spine row, its limits and
how they were built, the benchmark named per row; bad input ends in one line and exit code 1."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from indicators.__main__ import PROFILE_COLUMNS, main

ROOT = Path(__file__).resolve().parents[2]


def test_leeds_profile_csv_keeps_the_rows_england_does_not_publish():
    run = subprocess.run([sys.executable, "-m", "indicators", "profile", "E08000035", "--format", "csv"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = {r["indicator_id"]: r for r in csv.DictReader(io.StringIO(run.stdout))}
    assert list(next(iter(rows.values()))) == PROFILE_COLUMNS
    assert rows["gross-value-added-per-hour-worked"]["significance_95"] == "not compared"
    assert rows["gross-value-added-per-hour-worked"]["benchmark_name"] == ""
    for ind in ("gross-domestic-product-per-head-in-chained-volume-measure",
                "children-in-relative-poverty-before-housing-costs",
                "children-in-relative-poverty-after-housing-costs"):
        assert rows[ind]["benchmark_name"] == "United Kingdom" and rows[ind]["benchmark_value"] != ""
    obese = rows["aged-10-to-11-years-obese"]
    assert obese["limits_method"] == "exact Wilson" and obese["benchmark_name"] == "England"
    assert float(obese["lci_998"]) < float(obese["lci"]) < float(obese["uci"]) < float(obese["uci_998"])
    assert rows["gross-value-added-per-hour-worked"]["quintile"] in {"1.0", "2.0", "3.0", "4.0", "5.0"}


def test_profile_json_against_neighbours_to_a_file(tmp_path, capsys):
    out = tmp_path / "leeds.json"
    assert main(["profile", "E08000035", "--benchmark", "neighbours", "--format", "json", "--out", str(out)]) == 0
    records = json.loads(out.read_text(encoding="utf-8"))
    names = {r["benchmark_name"] for r in records if r["benchmark_name"]}
    assert names == {"its 20 statistical neighbours (mean)"}
    assert {"better", "similar", "worse", "not compared"} >= {r["significance_95"] for r in records if r["scored"]}


@pytest.mark.parametrize("args, message", [
    (["profile", "E0000000X"], "error: unknown area code 'E0000000X'"),
    (["profile", "E08000035", "--benchmark", "X99"], "error: unknown area code 'X99'"),
    (["profile", "E08000035", "--level", "parish"], "error: unknown level 'parish'"),
    (["profile", "E08000035", "--level", "country"], "error: no data is published for Leeds (E08000035) at level"),
])
def test_bad_profile_requests_end_in_one_line(args, message, capsys):
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
