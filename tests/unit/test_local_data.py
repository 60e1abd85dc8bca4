"""Uploaded local data: every class of bad input gets one exact line naming the row, CSV and XLSX
read alike, nothing partial is kept, and the local folder is written atomically."""
from __future__ import annotations

import io

import numpy as np
import openpyxl
import pytest

from indicators.local_data import LocalDataError, LocalLayer, parse, parse_upload, read_meta, store
from indicators.plan_model import MAX_PLAN_BYTES

AREAS = ["E08000035", "E08000036", "E06000053"]
META = {"label": "Residents satisfied with their area", "unit": "%", "polarity": "higher_is_better",
        "polarity_reason": "More satisfied residents is the aim", "pillar": "public_services", "theme": "wellbeing",
        "source": "Leeds residents' survey", "licence": "OGL v3", "minimum": 0, "maximum": 100}
HEAD = "areacd,period,value,lower,upper\n"


def problems(body: str, meta: dict = META, name: str = "data.csv") -> list[str]:
    with pytest.raises(LocalDataError) as exc:
        parse_upload(body.encode(), name, read_meta(meta), AREAS)
    return exc.value.problems


def test_a_good_csv_becomes_tidy_rows_with_periods_and_no_data_as_null():
    ind = parse_upload((HEAD + "E08000035,2023/24,61.2,58.9,63.5\nE08000036,2023,,,\n").encode(), "d.csv",
                       read_meta(META), AREAS)
    rows = ind.rows.set_index("areacd")
    assert rows.loc["E08000035", "period_code"] == "2023-04-01/P1Y"
    assert rows.loc["E08000035", "period_label"] == "2023/24"
    assert rows.loc["E08000036", "period_code"] == "2023-01-01/P1Y"
    assert np.isnan(rows.loc["E08000036", "value"]) and rows.loc["E08000036", "status"] == "missing"
    assert ind.id == "local-residents-satisfied-with-their-area"


def test_unknown_area_code():
    assert problems(HEAD + "E99999999,2023,5,,\n") == [
        "row 2: unknown area code 'E99999999' (not an area in the data snapshot)"]


def test_duplicate_row():
    assert problems(HEAD + "E08000035,2023,5,,\nE08000036,2023,5,,\nE08000035,2023,6,,\n") == [
        "rows 2 and 4: area E08000035 and period 2023 appear more than once"]


def test_text_in_a_number():
    assert problems(HEAD + "E08000035,2023,five,,\nE08000036,2023,5,4,n/a\n") == [
        "row 2: value 'five' is not a number", "row 3: upper 'n/a' is not a number"]


@pytest.mark.parametrize("period", ["23", "2023-24", "2023/25", "2023-02-30/P1Y", "Q1 2023"])
def test_period_in_the_wrong_form(period):
    assert problems(HEAD + f"E08000035,{period},5,,\n") == [
        f"row 2: period '{period}' is not in a recognised form (use 2023, 2023/24 or an ISO interval such as "
        "2023-04-01/P1Y)"]


def test_value_outside_the_declared_range():
    assert problems(HEAD + "E08000035,2023,101,,\nE08000036,2023,-1,,\n") == [
        "row 2: value 101 is above the declared maximum 100", "row 3: value -1 is below the declared minimum 0"]


def test_an_interval_that_does_not_contain_its_value():
    assert problems(HEAD + "E08000035,2023,50,55,60\n") == ["row 2: lower 55 is above the value"]


def test_every_problem_is_listed_at_once_in_row_order():
    lines = problems(HEAD + "E99999999,2023,5,,\nE08000035,20x3,abc,,\n")
    assert lines == ["row 2: unknown area code 'E99999999' (not an area in the data snapshot)",
                     "row 3: period '20x3' is not in a recognised form (use 2023, 2023/24 or an ISO interval "
                     "such as 2023-04-01/P1Y)",
                     "row 3: value 'abc' is not a number"]


def test_missing_and_unknown_columns():
    assert problems("areacd,period,amount\nE08000035,2023,5\n") == [
        "the file has no 'value' column",
        "unknown column 'amount' (allowed: areacd, period, value, lower, upper, numerator, denominator, status)"]


def test_the_size_limit_is_the_shared_one():
    assert parse.MAX_BYTES == MAX_PLAN_BYTES
    body = HEAD + "E08000035,2023,5,,\n" * (MAX_PLAN_BYTES // 18)
    assert problems(body) == [f"the file is {len(body.encode()):,} bytes; local data files are limited to "
                              f"{MAX_PLAN_BYTES:,} bytes"]


def test_garbage_bytes_and_wrong_extensions_get_one_line():
    with pytest.raises(LocalDataError) as exc:
        parse_upload(b"PK\x03\x04garbage", "d.xlsx", read_meta(META), AREAS)
    assert exc.value.problems == ["the file cannot be read as XLSX (BadZipFile)"]
    assert problems("x", name="d.json") == ["'d.json' is neither a .csv nor an .xlsx file"]


def _xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_reads_like_csv_with_numbers_and_years_as_cells():
    body = _xlsx([["areacd", "period", "value"], ["E08000035", 2023, 61.5], ["E08000036", "2023/24", 7]])
    ind = parse_upload(body, "d.xlsx", read_meta(META), AREAS)
    assert ind.rows["value"].tolist() == [61.5, 7.0]
    assert ind.rows["period_label"].tolist() == ["2023", "2023/24"]


def test_xlsx_bad_input_names_the_row():
    body = _xlsx([["areacd", "period", "value"], ["E99999999", 2023, "lots"]])
    with pytest.raises(LocalDataError) as exc:
        parse_upload(body, "d.xlsx", read_meta(META), AREAS)
    assert exc.value.problems == ["row 2: unknown area code 'E99999999' (not an area in the data snapshot)",
                                  "row 2: value 'lots' is not a number"]


def test_metadata_needs_a_reason_for_its_polarity_and_a_known_pillar():
    meta = {**META, "pillar": "happiness"}
    del meta["polarity_reason"]
    with pytest.raises(LocalDataError) as exc:
        read_meta(meta)
    assert exc.value.problems == ["metadata field 'polarity_reason': Field required",
                                  "metadata field 'pillar': Input should be 'economy', 'public_services', "
                                  "'environment' or 'context'"]


def test_sidecar_yaml_is_read_with_the_safe_loader():
    with pytest.raises(LocalDataError) as exc:
        read_meta(b"label: !!python/object/apply:os.system ['echo hi']\n")
    assert exc.value.problems == ["the metadata is not valid YAML at line 1"]
    assert read_meta(parse.template_yaml()).score is False


def test_a_neutral_indicator_cannot_be_scored():
    with pytest.raises(LocalDataError) as exc:
        read_meta({**META, "polarity": "neutral", "score": True})
    assert exc.value.problems == ["metadata: only an indicator with a direction in a scored pillar can be scored"]


def test_the_template_passes_its_own_checks():
    ind = parse_upload(parse.template_csv(), "t.csv", read_meta(parse.template_yaml()), AREAS)
    assert len(ind.rows) == 3


def test_store_round_trip_is_atomic_and_delete_removes_it(tmp_path):
    ind = parse_upload((HEAD + "E08000035,2023,5,4,6\n").encode(), "d.csv", read_meta(META), AREAS)
    store.save(tmp_path, ind)
    assert [p.name for p in tmp_path.iterdir()] == [f"{ind.id}.parquet"]  # no temporary file left behind
    layer, skipped = store.load(tmp_path)
    assert skipped == [] and layer.ids() == [ind.id]
    assert layer.indicators[0].fingerprint == ind.fingerprint
    assert store.delete(tmp_path, ind.id) and not any(tmp_path.iterdir())


def test_a_damaged_local_file_is_skipped_with_a_reason(tmp_path):
    (tmp_path / "local-x.parquet").write_bytes(b"not parquet")
    layer, skipped = store.load(tmp_path)
    assert not layer and skipped == ["local-x.parquet: cannot be read (ArrowInvalid)"]


def test_a_refused_upload_saves_nothing(tmp_path):
    with pytest.raises(LocalDataError):
        parse_upload((HEAD + "E08000035,2023,5,,\nE99999999,2023,5,,\n").encode(), "d.csv", read_meta(META), AREAS)
    assert not any(tmp_path.iterdir())
    assert LocalLayer().fingerprint == ""


def test_infinite_numbers_are_refused():
    assert problems("areacd,period,value,denominator\nE08000035,2023,inf,5\nE08000036,2023,5,-inf\n",
                    meta={**META, "minimum": None, "maximum": None}) == [
        "row 2: value 'inf' is not a finite number", "row 3: denominator '-inf' is not a finite number"]


def test_a_layer_holds_a_bounded_number_of_indicators():
    from indicators.local_data.model import MAX_INDICATORS
    ind = parse_upload((HEAD + "E08000035,2023,5,4,6\n").encode(), "d.csv", read_meta(META), AREAS)
    layer = LocalLayer()
    for k in range(MAX_INDICATORS):
        layer = layer.with_indicator(parse_upload((HEAD + "E08000035,2023,5,4,6\n").encode(), "d.csv",
                                                  read_meta({**META, "id": f"x{k}"}), AREAS))
    assert len(layer.with_indicator(layer.indicators[0]).indicators) == MAX_INDICATORS  # replacing is fine
    with pytest.raises(LocalDataError) as exc:
        layer.with_indicator(ind)
    assert exc.value.problems == [f"at most {MAX_INDICATORS} local indicators can be kept; delete one first"]


def test_a_file_failing_on_every_row_is_described_briefly_and_fast():
    import time
    body = HEAD + "".join(f"E9{i:07d},2023,{i},,\n" for i in range(40_000))
    start = time.perf_counter()
    lines = problems(body)
    assert time.perf_counter() - start < 15  # a hostile 1 MB file must not hold the server for long
    assert len(lines) == 21 and lines[-1] == "… and more problems in later rows"
    assert lines[0] == "row 2: unknown area code 'E90000000' (not an area in the data snapshot)"
