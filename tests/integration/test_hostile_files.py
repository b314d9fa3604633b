"""Files nobody on the team wrote (issue 13): each one is loaded exactly or
rejected whole with a clear reason, and never stops the other files of a run."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import KEY, source
from test_incremental_build import query
from test_ledger_loader import HEADER, ROWS, TOTAL, db, totals, write

from spendkoll.errors import LoadFailed
from spendkoll.loaders import run
from spendkoll.loaders.run import load_source
from spendkoll.paths import DataDir


def batches(data: DataDir) -> list[tuple[object, ...]]:
    return query(
        data.warehouse, "select file_name, status, message from raw.load_batch order by file_name"
    )


def test_ledger_without_posting_date_column_is_rejected_and_others_load(data_dir: DataDir) -> None:
    no_date = HEADER.replace("posting_date;", "")
    rows = [";".join(r.split(";")[:2] + r.split(";")[3:]) for r in ROWS]
    write(data_dir, "a_no_date.csv", "\n".join([no_date, *rows]) + "\n")
    write(data_dir, "b_good.csv", "\n".join([HEADER, *ROWS]) + "\n")
    with pytest.raises(LoadFailed):
        load_source(source(), data_dir, KEY)
    got = batches(data_dir)
    assert [(f, s) for f, s, _ in got] == [("a_no_date.csv", "rejected"), ("b_good.csv", "loaded")]
    reason = str(got[0][2])
    assert "line 1: expected a column 'posting_date' (for posting_date)" in reason
    assert "period_from_filename" in reason
    assert totals(data_dir) == (3, TOTAL)
    assert (data_dir.rejected / "ledger").is_dir()


def test_mixed_line_endings_load_every_row(data_dir: DataDir) -> None:
    # CRLF, a bare CR and a bare LF in one UTF-8 file (after the first line)
    text = HEADER + "\r\n" + ROWS[0] + "\r" + ROWS[1] + "\n" + ROWS[2] + "\r\n"
    path = data_dir.landing_for("ledger")
    path.mkdir(parents=True, exist_ok=True)
    (path / "mixed.csv").write_bytes(text.encode("utf-8"))
    load_source(source(), data_dir, KEY)
    assert totals(data_dir) == (3, TOTAL)
    con = db(data_dir)
    try:
        lines = con.execute(
            "select source_line, amount from raw.ledger_line order by source_line"
        ).fetchall()
    finally:
        con.close()
    assert lines == [(2, Decimal("1000.50")), (3, Decimal("-200.25")), (4, Decimal("12345.00"))]


def test_an_unexpected_error_rejects_that_file_only(
    data_dir: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader's or DuckDB's own error (not one of our checks) on one file: that
    file is rejected with the error named; the run loads the others."""
    real = run.reader_for

    def reader_for(cfg, path):  # noqa: ANN001, ANN202
        if path.name.startswith("a_"):

            def broken(*_args):  # noqa: ANN002, ANN202
                raise RuntimeError("state machine error at byte 1234")

            return broken
        return real(cfg, path)

    monkeypatch.setattr(run, "reader_for", reader_for)
    write(data_dir, "a_broken.csv", "\n".join([HEADER, *ROWS]) + "\n")
    write(data_dir, "b_good.csv", "\n".join([HEADER, *ROWS]) + "\n")
    with pytest.raises(LoadFailed):
        load_source(source(), data_dir, KEY)
    got = batches(data_dir)
    assert [(f, s) for f, s, _ in got] == [("a_broken.csv", "rejected"), ("b_good.csv", "loaded")]
    assert "RuntimeError: state machine error at byte 1234" in str(got[0][2])
    assert totals(data_dir) == (3, TOTAL)


def test_a_file_no_pattern_matches_is_reported_not_skipped_in_silence(
    data_dir: DataDir, capsys: pytest.CaptureFixture[str]
) -> None:
    from spendkoll.cli import main
    from spendkoll.quality.report import build_report

    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *ROWS]) + "\n")
    write(data_dir, "Leverantörsreskontra mars.CSV", "\n".join([HEADER, *ROWS]) + "\n")
    results = load_source(source(pattern="ledger_*.csv"), data_dir, KEY)
    assert [(r.file_name, r.status) for r in results] == [
        ("Leverantörsreskontra mars.CSV", "ignored"),
        ("ledger_2024-03.csv", "loaded"),
    ]
    assert "does not match the source's pattern 'ledger_*.csv'" in str(results[0].message)
    assert (data_dir.landing_for("ledger") / "Leverantörsreskontra mars.CSV").exists()
    assert totals(data_dir) == (3, TOTAL)
    # a second run: still reported, first seen kept
    load_source(source(pattern="ledger_*.csv"), data_dir, KEY)
    con = db(data_dir)
    try:
        assert con.execute(
            "select source_name, file_name, first_seen < last_seen from raw.ignored_file"
        ).fetchall() == [("ledger", "Leverantörsreskontra mars.CSV", True)]
    finally:
        con.close()
    assert main(["--data-dir", str(data_dir.root), "status"]) == 0
    out = capsys.readouterr().out
    assert "Not loaded: 1 file(s)" in out and "Leverantörsreskontra mars.CSV" in out
    from spendkoll.transform.dbt import run_dbt

    assert run_dbt(["build"], data_dir).returncode == 0
    page = build_report(data_dir).index.read_text(encoding="utf-8")
    assert 'id="ignored"' in page and "ledger/Leverantörsreskontra mars.CSV" in page


def _quarantine(data: DataDir) -> list[tuple[object, ...]]:
    return query(
        data.warehouse, "select line, column_name, reason from raw.quarantine order by line"
    )


def _lines(data: DataDir) -> list[tuple[object, ...]]:
    return query(
        data.warehouse,
        "select source_line, verification_id from raw.ledger_line order by source_line",
    )


def row(n: int, amount: str = "10.00", tail: str = "x") -> str:
    return f"V{n};1;2024-03-05;2024-03-01;F{n};556036-0793;AB;6410;HSV01;{amount};1;{tail}"


def test_line_numbers_count_blank_and_broken_lines_and_name_the_files_columns(
    data_dir: DataDir,
) -> None:
    # line: 1 header, 2 V1, 3 blank, 4 V2 (bad amount), 5-6 blank, 7 V3,
    # 8 V4 (two columns too many), 9 V5, 10 V6 cut after six columns (the last row)
    text = "\n".join(
        [HEADER, row(1), "", row(2, "bad"), "", "", row(3), row(4, "1;2;3"), row(5), row(6)[:30]]
    )
    write(data_dir, "x.csv", text)
    load_source(source(max_bad_row_share=0.9), data_dir, KEY)
    assert _lines(data_dir) == [(2, "V1"), (7, "V3"), (9, "V5")]
    got = _quarantine(data_dir)
    assert [(line, col) for line, col, _ in got] == [
        (4, "amount_excl_vat"),
        (8, None),
        (10, "supplier_name, account, cost_centre, amount_excl_vat, vat, description"),
    ]
    assert "TOO MANY COLUMNS" in str(got[1][2]) and "MISSING COLUMNS" in str(got[2][2])


def test_a_last_row_cut_inside_a_quote_is_quarantined(data_dir: DataDir) -> None:
    text = "\n".join([HEADER, row(1, tail='"x"'), row(2, tail='"unterminated')])
    write(data_dir, "x.csv", text)
    load_source(source(max_bad_row_share=0.9), data_dir, KEY)
    assert _lines(data_dir) == [(2, "V1")]
    got = _quarantine(data_dir)
    assert [line for line, _, _ in got] == [3] and "unterminated quote" in str(got[0][2])


def test_dates_outside_the_plausible_range_are_quarantined(data_dir: DataDir) -> None:
    # "24-03-05" reads as the year 24 with the ISO format; 2204 is a typo
    rows = [
        ROWS[0],
        ROWS[1].replace("2024-03-06", "24-03-06"),
        ROWS[2].replace("2024-03-28", "2204-03-28"),
    ]
    write(data_dir, "x.csv", "\n".join([HEADER, *rows]) + "\n")
    load_source(source(max_bad_row_share=0.9), data_dir, KEY)
    assert _lines(data_dir) == [(2, "V1")]
    got = _quarantine(data_dir)
    assert [(line, col) for line, col, _ in got] == [(3, "posting_date"), (4, "posting_date")]
    assert "expected a date between 1980-01-01 and 2100-12-31" in str(got[0][2])
    assert "read as 0024-03-06" in str(got[0][2])
    # the range is a source setting
    write(data_dir, "y.csv", "\n".join([HEADER, ROWS[2].replace("2024-03-28", "1975-01-02")]))
    load_source(
        source(max_bad_row_share=0.9, date_range=["1970-01-01", "2030-12-31"]), data_dir, KEY
    )
    assert (2, "V3") in _lines(data_dir)


def test_excel_formula_without_stored_value_is_quarantined_naming_the_cell(
    data_dir: DataDir,
) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "contract_id",
            "title",
            "supplier_org_number",
            "start_date",
            "end_date",
            "estimated_annual_value",
        ]
    )
    ws.append(["K1", "Ok", "556036-0793", "2024-01-01", "2025-12-31", 1000])
    # openpyxl stores the formula but no computed value, as programs that write
    # XLSX without Excel do
    ws.append(["K2", "Formel", "556036-0793", "2024-01-01", "2025-12-31", "=F2*12"])
    folder = data_dir.landing_for("contracts")
    folder.mkdir(parents=True, exist_ok=True)
    wb.save(folder / "avtal.xlsx")
    load_source(
        source(
            name="contracts",
            kind="contracts",
            format="contracts",
            pattern="*.xlsx",
            max_bad_row_share=0.9,
        ),
        data_dir,
        KEY,
    )
    con = db(data_dir)
    try:
        assert con.execute(
            "select contract_id, estimated_annual_value from raw.contract"
        ).fetchall() == [("K1", Decimal("1000.00"))]
        got = con.execute("select line, column_name, value, reason from raw.quarantine").fetchall()
    finally:
        con.close()
    assert got == [
        (
            3,
            "estimated_annual_value",
            "=F2*12",
            "cell F3 holds a formula without a stored value: open and save the "
            "workbook in Excel, or export values",
        )
    ]


@pytest.mark.parametrize(
    ("cell", "status"),
    [
        ("DK78479310", "foreign"),
        ("DE136695976", "foreign"),
        ("NO923609016MVA", "foreign"),
        ("EJ ANGIVET", "missing"),
        ("ABC123", "missing"),
        ("DK78479311", "missing"),
    ],
)
def test_foreign_vat_ids_are_validated(data_dir: DataDir, cell: str, status: str) -> None:
    write(data_dir, "x.csv", "\n".join([HEADER, ROWS[0].replace("556036-0793", cell)]))
    load_source(source(), data_dir, KEY)
    con = db(data_dir)
    try:
        assert con.execute("select supplier_id_status from raw.ledger_line").fetchall() == [
            (status,)
        ]
    finally:
        con.close()


def test_utf8_file_with_a_byte_that_is_not_utf8_is_rejected_at_its_line(data_dir: DataDir) -> None:
    text = "\n".join([HEADER, *ROWS]).encode("utf-8")
    # line 3: one CP1252 "ö" (0xF6) inside a file that is otherwise UTF-8 ("Åhléns")
    lines = text.split(b"\n")
    lines[2] = lines[2].replace(b"Kredit", b"Kr\xf6dit")
    folder = data_dir.landing_for("ledger")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mixed.csv").write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(
        LoadFailed,
        match=r"mixed.csv: line 3: byte 0xF6 is not UTF-8, but the "
        r"file also holds UTF-8 characters",
    ):
        load_source(source(), data_dir, KEY)
    assert totals(data_dir) == (0, None)


def test_cp1252_file_with_utf8_after_the_sample_is_rejected_at_its_line(
    data_dir: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spendkoll import textio

    monkeypatch.setattr(textio, "SAMPLE_BYTES", 300)  # the sample ends before line 4
    rows = [*ROWS, ROWS[0].replace("V1", "V4").replace("Kontorsmaterial", "Köpt")]
    body = "\n".join([HEADER, *rows[:3]]).encode("cp1252") + b"\n" + rows[3].encode("utf-8")
    folder = data_dir.landing_for("ledger")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "late.csv").write_bytes(body + b"\n")
    with pytest.raises(
        LoadFailed,
        match=r"late.csv: line 5: bytes C3 85 are a UTF-8 "
        r"character in a file read as cp1252",
    ):
        load_source(source(), data_dir, KEY)
    assert totals(data_dir) == (0, None)


def test_sie_declaring_format_ansi_is_read_as_cp1252(data_dir: DataDir) -> None:
    from conftest import FIXTURES

    from spendkoll.paths import project_root
    from spendkoll.sources import load_sources

    text = (FIXTURES / "sie" / "golden.se").read_bytes().decode("cp437")
    ansi = text.replace("#FORMAT PC8", "#FORMAT ANSI").encode("cp1252")
    folder = data_dir.landing_for("sie_ledger")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ansi.se").write_bytes(ansi)
    cfg = load_sources(project_root() / "include" / "sources" / "sie_examples.toml")["sie_ledger"]
    load_source(cfg, data_dir, KEY)
    con = db(data_dir)
    try:
        texts = {r[0] for r in con.execute("select account_text from raw.ledger_line").fetchall()}
    finally:
        con.close()
    assert texts == {"Läkemedel", "Kontorsmaterial"}


def test_an_empty_contract_register_is_held_until_confirmed(data_dir: DataDir) -> None:
    cfg = source(name="contracts", kind="contracts", format="contracts", pattern="*.csv")
    header = (
        "contract_id;title;supplier_org_number;supplier_name;category;start_date;"
        "end_date;latest_end_date;contract_type;procured_by;registered_date;"
        "estimated_annual_value"
    )
    rows = [
        f"K{i};T;556036-0793;AB;KA-KO;2024-01-01;2025-12-31;;ramavtal;"
        "Upphandlingsenheten;2023-12-01;1"
        for i in range(4)
    ]
    write(data_dir, "avtal.csv", "\n".join([header, *rows]) + "\n", landing="contracts")
    load_source(cfg, data_dir, KEY)
    write(data_dir, "avtal_tom.csv", header + "\n", landing="contracts")
    with pytest.raises(
        LoadFailed,
        match=r"held: .*4 rows loaded, the delivery has 0.*"
        r"spendkoll load contracts --confirm avtal_tom.csv",
    ):
        load_source(cfg, data_dir, KEY)

    def register() -> int:
        con = db(data_dir)
        try:
            return int(con.execute("select count(*) from raw.contract").fetchone()[0])
        finally:
            con.close()

    assert register() == 4
    held = list((data_dir.rejected / "contracts").glob("*_avtal_tom.csv"))
    assert held and "held:" in held[0].with_name(held[0].name + ".reason.txt").read_text()
    # confirmed: taken back from rejected/ and loaded; the register is empty
    from spendkoll.cli import main

    assert (
        main(
            [
                "--data-dir",
                str(data_dir.root),
                "load",
                "contracts",
                "--confirm",
                "avtal_tom.csv",
                "--sources",
                str(_sources_file(data_dir)),
            ]
        )
        == 0
    )
    assert register() == 0
    assert not list((data_dir.rejected / "contracts").glob("*_avtal_tom.csv"))


def _sources_file(data: DataDir) -> str:
    path = data.root / "sources.toml"
    path.write_text(
        '[[source]]\nname = "contracts"\nkind = "contracts"\nformat = "contracts"\n'
        'pattern = "*.csv"\n',
        encoding="utf-8",
    )
    return str(path)


def test_a_small_correction_loads_without_confirmation(data_dir: DataDir) -> None:
    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *ROWS]) + "\n")
    load_source(source(), data_dir, KEY)
    corrected = [ROWS[0], ROWS[1], ROWS[2].replace("12 345,00", "12 000,00")]
    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *corrected]) + "\n")
    [r] = load_source(source(), data_dir, KEY)
    assert r.status == "loaded" and totals(data_dir) == (3, TOTAL - Decimal("345.00"))


def test_controller_report_compares_each_delivery_with_the_one_before(data_dir: DataDir) -> None:
    from spendkoll.quality.report import build_report
    from spendkoll.transform.dbt import run_dbt

    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *ROWS]) + "\n")
    load_source(source(), data_dir, KEY)
    assert run_dbt(["build"], data_dir).returncode == 0
    build_report(data_dir)
    corrected = [ROWS[0], ROWS[1], ROWS[2].replace("12 345,00", "12 000,00")]
    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *corrected]) + "\n")
    load_source(source(), data_dir, KEY)
    assert run_dbt(["build"], data_dir).returncode == 0
    page = build_report(data_dir).index.read_text(encoding="utf-8")
    table = page[page.index('<table id="deliveries">') :]
    table = table[: table.index("</table>")]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 1  # the current delivery, beside the one it replaced
    cells = [c.split("<")[0] for c in rows[0].split(">")[1::2]][:12]
    # 13,145.25 -> 12,800.25 (-3 %), 3 lines and 2 suppliers unchanged
    # (Swedish figures: a narrow no-break space between thousands, decimal comma)
    assert cells[:5] == ["ledger", "ledger_2024-03.csv", "3", "12\u202f800,25", "2"]
    assert cells[7:11] == ["ledger_2024-03.csv", "+0 %", "-3 %", "+0 %"]
