"""`python -m indicators evaluate` end to end on the committed snapshot, as a user runs it.

Every example plan in every format must work; every hostile file must end in exactly one line
on stderr starting 'error:' and naming the file, exit code 1, and no traceback.

Each subprocess run is a fresh interpreter that loads the snapshot (2–4 s of CPU), so the
subprocess runs are started together once per module and the tests read their results. The
examples and a few hostile files go through a real `python -m indicators` process; the whole
hostile list also goes through the same entry point in-process (`indicators.__main__.main`, the
snapshot loaded once), where an escaping exception, the in-process form of a traceback, fails
the test.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from indicators.plan_model import load_plan
from indicators.plans import NOT_MEASURED, STATUSES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "plans" / "examples").glob("*.yaml"))
FORMATS = ("html", "csv", "json")

VALID = (ROOT / "plans" / "examples" / "cambridge-housing-illustrative.yaml").read_text(encoding="utf-8")


def _billion_laughs() -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


HOSTILE: dict[str, bytes] = {
    "empty": b"",
    "null": b"null\n",
    "list": b"- title: a\n- title: b\n",
    "alias-bomb": _billion_laughs(),
    "2mb": VALID.encode() + b"#" + b"x" * (2 * 1024 * 1024) + b"\n",
    "non-utf8": VALID.replace("Make homes more affordable", "Caf\u00e9s").encode("latin-1"),
    "unknown-indicator": VALID.replace("[net-additions-to-the-housing-stock-england]",
                                       "[no-such-indicator]").encode(),
    "bad-year": VALID.replace("year: 2026", "year: 1999").encode(),
    "deeply-nested": b"[" * 5000 + b"]" * 5000,
    "nul-byte": b"title: a\x00b\n",
    "duplicate-key": VALID.encode() + b"title: again\n",
    # refused against the data: the target is already met at the baseline (Cambridge built 15 per 1,000 in 2022/23)
    "met-at-baseline": VALID.replace("reach: 18", "reach: 12").encode(),
    # refused against the data: the baseline predates every published value
    "baseline-before-series": VALID.replace("baseline: 2022", "baseline: 1995").encode(),
    "impossible-baseline": VALID.replace("baseline: 2022", 'baseline: "2022-02-30"').encode(),
    # a cited source whose address is not a web address (the reports would make it a link)
    "bad-source-url": (VALID + "source:\n  title: A framework\n  publisher: A department\n"
                       "  url: javascript:alert(1)\n").encode(),
    # an objective with neither targets nor the reason it has none
    "objective-without-targets": (VALID + "  - {title: Safety, pillar: public_services}\n").encode(),
}
EXPECT = {  # a fragment of the one error line, beyond the file path
    "empty": "empty", "null": "empty", "list": "must be a mapping", "alias-bomb": "not allowed",
    "2mb": "limited to 1,000,000 bytes", "non-utf8": "not UTF-8", "unknown-indicator": "no-such-indicator",
    "bad-year": "2000", "deeply-nested": "nested", "nul-byte": "control character U+0000",
    "duplicate-key": "given twice",
    "met-at-baseline": "line 31, field 'objectives[1].targets[0].reach': the target (reach 12 by 2026) is already met "
                       "at the baseline",
    "baseline-before-series": "line 8, field 'baseline': the baseline (1995) is before the first period published",
    "impossible-baseline": "line 8, field 'baseline': baseline date 2022-02-30 does not exist",
    "bad-source-url": "line 38, field 'source.url': a source's url must be a web address starting http:// or https://",
    "objective-without-targets": "field 'objectives[2]': an objective needs weight and indicators and targets, or "
                                 "'not_measured'",
}
# Also run as real processes: parse failures after the snapshot is loaded (one of them once a
# RecursionError traceback), and the size check before it.
SUBPROCESS_HOSTILE = ("alias-bomb", "deeply-nested", "2mb")


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indicators", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=180, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """Start every CLI run at once; key → (the output or plan path, the finished process)."""
    out_dir = tmp_path_factory.mktemp("reports")
    bad_dir = tmp_path_factory.mktemp("hostile plans")  # a space in the path, on purpose
    jobs: dict[str, tuple[Path, list[str]]] = {}
    for plan in EXAMPLES:
        for fmt in FORMATS:
            out = out_dir / f"{plan.stem}.{fmt}"
            jobs[f"{plan.stem}.{fmt}"] = (out, ["evaluate", str(plan), "--format", fmt, "--out", str(out)])
    for name in SUBPROCESS_HOSTILE:
        path = bad_dir / f"{name}.yaml"
        path.write_bytes(HOSTILE[name])
        jobs[f"bad:{name}"] = (path, ["evaluate", str(path), "--format", "json", "--out", str(path) + ".out"])
    missing = bad_dir / "does-not-exist.yaml"
    jobs["bad:missing"] = (missing, ["evaluate", str(missing), "--format", "csv"])
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {key: pool.submit(_run, args) for key, (_, args) in jobs.items()}
        return {key: (jobs[key][0], f.result()) for key, f in futures.items()}


def test_examples_are_present():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("plan", EXAMPLES, ids=lambda p: p.stem)
def test_example_plan_is_evaluated(runs, plan: Path, fmt: str):
    out, proc = runs[f"{plan.stem}.{fmt}"]
    if fmt == "html" and proc.returncode != 0 and "NotImplementedError" in proc.stderr:
        pytest.skip("plan_report.to_html is not written yet (raises NotImplementedError)")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""  # --out given: nothing on standard output
    text = out.read_text(encoding="utf-8")
    assert text.strip()
    if fmt == "html":
        assert "<html" in text.lower()
        assert load_plan(plan.read_bytes(), str(plan)).title.split(":")[0] in text


@pytest.mark.parametrize("plan", EXAMPLES, ids=lambda p: p.stem)
def test_csv_rows_match_json_targets(runs, plan: Path):
    csv_out, csv_proc = runs[f"{plan.stem}.csv"]
    json_out, json_proc = runs[f"{plan.stem}.json"]
    assert csv_proc.returncode == 0 and json_proc.returncode == 0, csv_proc.stderr + json_proc.stderr

    def no_nan(name):
        raise ValueError(f"{json_out}: {name} is not valid JSON")

    data = json.loads(json_out.read_text(encoding="utf-8"), parse_constant=no_nan)
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text(encoding="utf-8"))))
    # one row per target, and one per objective not measured in the snapshot (kept, never dropped)
    expected = sum(len(o.targets) or 1 for o in load_plan(plan.read_bytes(), str(plan)).objectives)
    assert len(rows) == len(data["targets"]) == expected
    assert [r["indicator_id"] for r in rows] == [t["indicator_id"] or "" for t in data["targets"]]
    assert [r["status"] for r in rows] == [t["status"] for t in data["targets"]]
    assert {t["status"] for t in data["targets"]} <= {*STATUSES, NOT_MEASURED}
    assert data["illustrative"] is True
    for t in data["targets"]:
        if t["status"] == NOT_MEASURED:
            assert t["reason"] and t["indicator_id"] is None and t["target_value"] is None
            continue  # each target carries its chance, central projection, interval and baseline period
        assert {"probability", "projected_value", "projection_low", "projection_high", "status", "baseline_period",
                "baseline_rule"} <= set(t)
        if t["probability"] is not None:
            assert 0.0 <= t["probability"] <= 1.0
            assert t["projection_low"] <= t["projected_value"] <= t["projection_high"]
            if t["unit"] == "%":
                assert 0.0 <= t["projection_low"] and t["projection_high"] <= 100.0
        if t["status"] == "on track":
            assert t["probability"] >= 0.5
        if t["status"] not in ("no data",):
            assert t["baseline_period"] and t["baseline_period"] in t["baseline_rule"]


def _assert_one_error_line(path: Path, rc: int, out: str, err: str, fragment: str | None = None) -> None:
    assert rc == 1, err
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), lines[0]
    assert str(path) in lines[0]
    if fragment:
        assert fragment in lines[0]
    assert out == ""


@pytest.mark.parametrize("name", [*SUBPROCESS_HOSTILE, "missing"])
def test_hostile_plan_in_a_real_process(runs, name: str):
    path, proc = runs[f"bad:{name}"]
    _assert_one_error_line(path, proc.returncode, proc.stdout, proc.stderr,
                           EXPECT.get(name, "cannot read the file"))
    assert not Path(str(path) + ".out").exists()  # nothing written


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture):
    """Run the CLI entry point in-process on a file written to tmp_path: (path, rc, stdout, stderr)."""
    from indicators.__main__ import main

    def run(name: str, body: bytes | None) -> tuple[Path, int, str, str]:
        path = tmp_path / f"{name}.yaml"
        if body is not None:
            path.write_bytes(body)
        capsys.readouterr()
        rc = main(["evaluate", str(path), "--format", "json", "--out", str(tmp_path / "report.json")])
        out, err = capsys.readouterr()
        assert not (tmp_path / "report.json").exists()  # nothing written
        return path, rc, out, err

    return run


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_plan_fails_with_one_error_line(cli, name: str):
    _assert_one_error_line(*cli(name, HOSTILE[name]), EXPECT[name])


def test_unknown_indicator_names_the_field(cli):
    _, rc, _, err = cli("unknown-indicator", HOSTILE["unknown-indicator"])
    assert "line 27, field 'objectives[1].indicators': unknown indicator 'no-such-indicator'" in err


def test_bad_year_names_line_and_field(cli):
    _, rc, _, err = cli("bad-year", HOSTILE["bad-year"])
    assert "line 19, field 'objectives[0].targets[0].year'" in err


def test_nonexistent_path(cli):
    _assert_one_error_line(*cli("does-not-exist", None), "cannot read the file")


def test_directory_instead_of_a_file(cli, tmp_path):
    (tmp_path / "a-folder.yaml").mkdir()
    _assert_one_error_line(*cli("a-folder", None), "cannot read the file")
