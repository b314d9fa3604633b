"""The ledger loader on hand-made files whose expected figures were worked out by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import KEY, source

from spendkoll.errors import ConfigError, LoadFailed
from spendkoll.loaders.run import load_source
from spendkoll.paths import DataDir

HEADER = (
    "verification_id;line_number;posting_date;invoice_date;invoice_number;"
    "supplier_org_number;supplier_name;account;cost_centre;amount_excl_vat;vat;description"
)
# Three lines, total 1000,50 + -200,25 + 12 345,00 = 13 145,25
ROWS = [
    "V1;1;2024-03-05;2024-03-01;F100;556036-0793;Åhléns Östersund AB;6410;HSV01;1000,50;250,13;Kontorsmaterial",
    "V2;1;2024-03-06;2024-03-02;F101;5560360793;Åhléns Östersund AB;6410;HSV01;-200,25;-50,06;Kredit",
    "V3;1;2024-03-28;2024-03-20;F102;811218-9876;Anna Berg Konsult;6710;PRIM01;12 345,00;3086,25;Konsult",
]
TOTAL = Decimal("13145.25")


def write(
    data: DataDir,
    name: str,
    text: str,
    encoding: str = "utf-8",
    newline: str = "\n",
    landing: str = "ledger",
) -> Path:
    folder = data.landing_for(landing)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def db(data: DataDir) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(data.warehouse), read_only=True)


def totals(data: DataDir) -> tuple[int, Decimal]:
    con = db(data)
    try:
        n, s = con.execute("select count(*), sum(amount) from raw.ledger_line").fetchone()
    finally:
        con.close()
    return n, s


@pytest.mark.parametrize(
    ("encoding", "delim", "newline", "bom"),
    [
        ("utf-8", ";", "\n", False),
        ("utf-8", ";", "\r\n", True),
        ("cp1252", "\t", "\r\n", False),
        ("latin-1", ",", "\n", False),
        ("utf-16", ";", "\r\n", True),  # Python writes the BOM
        ("cp1252", ";", "\r", False),  # bare CR line endings
    ],
)
def test_encodings_separators_and_line_endings_load_the_same(
    data_dir, encoding, delim, newline, bom
):
    rows = ROWS
    header = HEADER
    if delim != ";":
        header = header.replace(";", delim)
        # a comma-separated file must quote its decimal-comma amounts
        rows = [delim.join(f'"{v}"' if "," in v else v for v in r.split(";")) for r in ROWS]
    text = (
        ("\ufeff" if bom and encoding.startswith("utf-8") else "")
        + "\n".join([header, *rows])
        + "\n"
    )
    write(data_dir, "ledger_2024-03.csv", text, encoding, newline)
    [result] = load_source(source(), data_dir, KEY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 3, 0)
    assert totals(data_dir) == (3, TOTAL)
    con = db(data_dir)
    names = {r[0] for r in con.execute("select supplier_name from raw.ledger_line").fetchall()}
    assert "Åhléns Östersund AB" in names
    # Both forms of the org number give one supplier key.
    keys = con.execute(
        "select distinct supplier_key from raw.ledger_line where supplier_id_status = 'orgnr'"
    ).fetchall()
    assert keys == [("556036-0793",)]


def test_decimal_point_detected(data_dir):
    rows = [
        r.replace("1000,50", "1000.50")
        .replace("-200,25", "-200.25")
        .replace("12 345,00", "12345")
        .replace("250,13", "250.13")
        .replace("-50,06", "-50.06")
        .replace("3086,25", "3086.25")
        for r in ROWS
    ]
    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *rows]) + "\n")
    load_source(source(), data_dir, KEY)
    assert totals(data_dir) == (3, TOTAL)


def test_bad_rows_are_quarantined_with_line_and_column(data_dir):
    rows = [
        ROWS[0],
        "V4;1;2024-03-32;2024-03-01;F103;556036-0793;X AB;6410;HSV01;10,00;2,50;bad date",
        ROWS[1],
        "V5;1;2024-03-07;2024-03-01;F104;556036-0793;X AB;6410;HSV01;12,3,4;0;bad amount",
        "V6;1;2024-03-07;2024-03-01;F105;556036-0793;X AB;6410;HSV01;1,00;0;x;extra column",
        "V7;1;2024-03-07;2024-03-01;F106;556036-0793;X AB;;HSV01;5,00;0;no account",
        ROWS[2],
    ]
    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *rows]) + "\n")
    [r] = load_source(source(max_bad_row_share=0.9), data_dir, KEY)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (7, 3, 4)
    assert totals(data_dir) == (3, TOTAL)
    con = db(data_dir)
    q = con.execute("select line, column_name, reason from raw.quarantine order by line").fetchall()
    assert [(ln, col) for ln, col, _ in q] == [
        (3, "posting_date"),
        (5, "amount_excl_vat"),
        (6, None),
        (7, "account"),
    ]
    assert "expected a date" in q[0][2]
    assert "decimal comma" in q[1][2]
    assert "TOO MANY COLUMNS" in q[2][2]
    assert q[3][2] == "required value is empty"
    # Good rows keep their own line numbers.
    lines = [
        x[0]
        for x in con.execute(
            "select source_line from raw.ledger_line order by source_line"
        ).fetchall()
    ]
    assert lines == [2, 4, 8]


def test_too_many_bad_rows_reject_the_whole_file(data_dir):
    rows = [r.replace("1000,50", "abc") for r in ROWS]
    path = write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *rows]) + "\n")
    with pytest.raises(LoadFailed) as exc:
        load_source(source(), data_dir, KEY)
    assert "ledger_2024-03.csv" in str(exc.value) and "cannot be parsed" in str(exc.value)
    assert not path.exists()
    rejected = list((data_dir.rejected / "ledger").glob("*ledger_2024-03.csv"))
    assert len(rejected) == 1
    reason = rejected[0].with_name(rejected[0].name + ".reason.txt").read_text()
    assert "line 2, column 'amount_excl_vat'" in reason
    assert totals(data_dir) == (0, None)


def test_missing_required_column_rejects_and_names_it(data_dir):
    write(
        data_dir,
        "ledger_2024-03.csv",
        "\n".join([HEADER.replace("amount_excl_vat", "belopp"), *ROWS]) + "\n",
    )
    with pytest.raises(LoadFailed, match=r"line 1: expected a column 'amount_excl_vat'"):
        load_source(source(), data_dir, KEY)


def test_invalid_utf8_rejects_with_line(data_dir):
    text = ("\n".join([HEADER, *ROWS]) + "\n").encode("utf-8")
    bad = text.replace(b"Anna", b"\xc3\x28nna")
    folder = data_dir.landing_for("ledger")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ledger_2024-03.csv").write_bytes(bad)
    with pytest.raises(LoadFailed, match=r"line 4: bytes that are not valid"):
        load_source(source(encoding="utf-8"), data_dir, KEY)
    assert totals(data_dir) == (0, None)


def test_a_retry_still_fails_on_a_file_an_earlier_try_rejected(data_dir):
    """A try killed after moving a bad file aside, before it could fail: its retry
    (same scheduler run, rejected_since = the run's start) finds nothing in landing
    and must fail all the same, until the file is corrected or removed."""
    import datetime as dt

    night = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *ROWS]) + "\n")
    write(data_dir, "ledger_2024-04.csv", "this;is;not;a;ledger\n1;2;3;4;5\n")
    with pytest.raises(LoadFailed, match="ledger_2024-04.csv"):
        load_source(source(), data_dir, KEY)  # the try the worker's death cut short
    assert totals(data_dir) == (3, TOTAL)
    # the retry: nothing left in landing
    with pytest.raises(LoadFailed, match=r"ledger_2024-04.csv.*\(an earlier try\)") as exc:
        load_source(source(), data_dir, KEY, rejected_since=night)
    assert [r.file_name for r in exc.value.results] == ["ledger_2024-04.csv"]
    # the command line, and the next night, report it once, not again
    assert load_source(source(), data_dir, KEY) == []
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert load_source(source(), data_dir, KEY, rejected_since=later) == []
    # a corrected file of the same name loads: the rejection no longer stands
    write(data_dir, "ledger_2024-04.csv", "\n".join([HEADER, ROWS[0].replace("03-05", "04-05")]))
    [fixed] = load_source(source(), data_dir, KEY, rejected_since=night)
    assert fixed.status == "loaded"
    assert load_source(source(), data_dir, KEY, rejected_since=night) == []
    # a file removed from rejected/ by whoever dealt with it does not stand either
    write(data_dir, "ledger_2024-05.csv", "not a ledger\n")
    with pytest.raises(LoadFailed):
        load_source(source(), data_dir, KEY)
    for p in (data_dir.rejected / "ledger").glob("*ledger_2024-05.csv*"):
        p.unlink()
    assert load_source(source(), data_dir, KEY, rejected_since=night) == []


def test_same_file_twice_changes_nothing(data_dir):
    text = "\n".join([HEADER, *ROWS]) + "\n"
    write(data_dir, "ledger_2024-03.csv", text)
    load_source(source(), data_dir, KEY)
    write(data_dir, "ledger_2024-03_copy.csv", text)
    [r] = load_source(source(), data_dir, KEY)
    assert r.status == "unchanged"
    assert totals(data_dir) == (3, TOTAL)
    con = db(data_dir)
    assert con.execute("select count(*) from raw.load_batch").fetchone() == (1,)


def test_corrected_redelivery_replaces_the_month(data_dir):
    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *ROWS]) + "\n")
    april = ROWS[0].replace("2024-03-05", "2024-04-02").replace("V1;", "V9;")
    write(data_dir, "ledger_2024-04.csv", "\n".join([HEADER, april]) + "\n")
    load_source(source(), data_dir, KEY)
    # March again, corrected: only the first line, amount 999,99.
    corrected = ROWS[0].replace("1000,50", "999,99")
    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, corrected]) + "\n")
    # 3 lines to 1 is more than max_change_share (0.5): held until confirmed
    with pytest.raises(LoadFailed, match=r"held: .*2024-03: 3 lines loaded, the delivery has 1"):
        load_source(source(), data_dir, KEY)
    assert totals(data_dir) == (4, TOTAL + Decimal("1000.50"))
    [r] = load_source(source(), data_dir, KEY, confirm={"ledger_2024-03.csv"})
    assert r.status == "loaded" and r.replaced_batches
    # March is now 999,99; April (1000,50) untouched.
    assert totals(data_dir) == (2, Decimal("999.99") + Decimal("1000.50"))
    con = db(data_dir)
    statuses = dict(
        con.execute("select file_name || batch_id, status from raw.load_batch").fetchall()
    )
    assert sorted(statuses.values()) == ["loaded", "loaded", "rejected", "replaced"]


def test_day_scope_replaces_only_the_days_in_the_file(data_dir):
    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *ROWS]) + "\n")
    load_source(source(replace="day"), data_dir, KEY)
    extra = ROWS[2].replace("12 345,00", "1,00").replace("V3;", "V8;")  # same day 2024-03-28
    write(data_dir, "day_2024-03-28.csv", "\n".join([HEADER, extra]) + "\n")
    # (12 345,00 -> 1,00 on that day: confirmed beforehand in the source config)
    load_source(source(replace="day", confirm=["day_*.csv"]), data_dir, KEY)
    assert totals(data_dir) == (3, Decimal("1000.50") - Decimal("200.25") + Decimal("1.00"))


def test_file_without_dates_takes_period_from_file_name(data_dir):
    cfg = source(
        format="mapped",
        columns={"account": "konto", "amount": "belopp", "supplier_id": "orgnr"},
        period_from_filename=r"(?P<year>\d{4})-(?P<month>\d{2})",
    )
    write(data_dir, "lev_2016-02.csv", "konto;belopp;orgnr\n6410;10.00;556036-0793\n")
    load_source(cfg, data_dir, KEY)
    con = db(data_dir)
    assert con.execute(
        "select posting_date::varchar, period, posting_date_derived from raw.ledger_line"
    ).fetchall() == [("2016-02-29", "2016-02", True)]


def test_personnummer_never_in_clear_text_anywhere(data_dir):
    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *ROWS]) + "\n")
    load_source(source(), data_dir, KEY)
    con = db(data_dir)
    row = con.execute(
        "select supplier_key, supplier_id_status, supplier_name, supplier_id_raw "
        "from raw.ledger_line where cost_centre = 'PRIM01'"
    ).fetchone()
    assert row[1] == "sole_trader" and row[0].startswith("PNR-")
    assert row[2] == "Enskild firma (namn dolt)" and row[3] is None
    for (table,) in con.execute(
        "select table_schema || '.' || table_name from information_schema.tables"
    ).fetchall():
        cols = [c[0] for c in con.execute(f"describe {table}").fetchall()]
        text = " ".join(str(v) for r in con.execute(f"select * from {table}").fetchall() for v in r)
        assert "8112189876" not in text.replace("-", ""), table
        assert "Anna Berg" not in text, (table, cols)


def test_no_key_no_load(data_dir, monkeypatch):
    monkeypatch.delenv("SPENDKOLL_PSEUDONYM_KEY")
    write(data_dir, "ledger_2024-03.csv", "\n".join([HEADER, *ROWS]) + "\n")
    with pytest.raises(ConfigError, match="SPENDKOLL_PSEUDONYM_KEY"):
        load_source(source(), data_dir)
