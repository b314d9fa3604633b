"""The supplier register's loaders (issue 17): Bolagsverket's and SCB's bulk files and
SCB's size classes, on hand-written fixtures in the published layouts
(tests/fixtures/register/, see its README). The expected values below were
written from the fixtures by hand, before the loader ran."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, KEY, ROOT, source
from test_personal_data import every_text_value

from spendkoll.errors import ConfigError, LoadFailed
from spendkoll.ids import classify_supplier_id
from spendkoll.loaders.register import BOLAGSVERKET_HEADER, SCB_HEADER, _Identities
from spendkoll.loaders.run import load_source
from spendkoll.paths import DataDir

REG = FIXTURES / "register"
BV_FILE = "bolagsverket_bulkfil.txt"
SCB_FILE = "scb_bulkfil_JE_20260601T065839_76.txt"
SIZE_FILE = "storleksklasser.csv"
# the fixtures' sole trader (PERSON-IDORG / JurForm 10), in every form it has there
PNR = "811218-9876"
PERSONAL = ("8112189876", "198112189876", "811218-9876", "Anna Bergs", "Berg, Anna", "Bergvägen")
SOLE = classify_supplier_id(PNR, KEY).key
assert SOLE and SOLE.startswith("PNR-")


def bv(**kw: object):
    return source(
        name="register_bolagsverket", kind="supplier_register", format="bolagsverket", **kw
    )


def scb(**kw: object):
    return source(name="register_scb", kind="supplier_register", format="scb_je", **kw)


def size(**kw: object):
    return source(name="register_size", kind="supplier_register", format="size_class", **kw)


def deliver(data: DataDir, cfg, name: str, content: bytes | Path | None = None) -> Path:
    folder = data.landing_for(cfg.name)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        shutil.copy(content or REG / name, path)
    return path


def q(data: DataDir, sql: str, params: list[object] | None = None) -> list[tuple]:
    con = duckdb.connect(str(data.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def bv_text() -> str:
    return (REG / BV_FILE).read_text(encoding="utf-8")


def scb_text() -> str:
    return (REG / SCB_FILE).read_bytes().decode("latin-1")


# ------------------------------------------------------------------ the layouts


def test_bolagsverket_layout_loads_with_the_right_values(data_dir: DataDir) -> None:
    deliver(data_dir, bv(), BV_FILE)
    [r] = load_source(bv(), data_dir, KEY)
    assert (r.status, r.rows_in, r.rows_loaded, r.rows_quarantined) == ("loaded", 8, 8, 0)
    assert r.warnings == [] and r.rows_unknown_code == 0
    assert "NUL bytes removed from 1 line(s)" in (r.message or "")
    d = dt.date
    rows = q(
        data_dir,
        "select source_line, supplier_key, identity_type, name_protection_no, legal_form, name, "
        "registration_date, deregistration_date, deregistration_reason, procedures, "
        "postal_code, postal_town from raw.register_bolagsverket order by source_line",
    )
    assert rows == [
        # several names: the first FORETAGSNAMN, not the foreign-language one before it;
        # the postal address has the town before the postcode
        (
            2,
            "556036-0793",
            "ORGNR",
            None,
            "AB",
            "Kontorsbolaget i Östersund AB",
            d(1998, 3, 12),
            None,
            None,
            None,
            "83130",
            "ÖSTERSUND",
        ),
        # bankrupt: deregistered KKAV, the bankruptcy and its end as procedures; a C/O
        (
            3,
            "559123-4561",
            "ORGNR",
            None,
            "AB",
            "Fjällbygg AB",
            d(2019, 2, 1),
            d(2025, 3, 11),
            "KKAV",
            "KKAVOV:2025-03-11|KK:2024-06-05",
            "83521",
            "KROKOM",
        ),
        # a sole trader's two registrations: pseudonym, no name, no address
        (4, SOLE, "PERSON", 1, "E", None, d(2010, 4, 1), None, None, None, None, None),
        (
            5,
            SOLE,
            "PERSON",
            2,
            "E",
            None,
            d(2015, 6, 1),
            d(2020, 12, 31),
            "VERKUPP",
            None,
            None,
            None,
        ),
        # a stray (undoubled) quote in the description; liquidation in progress
        (
            6,
            "556677-8899",
            "ORGNR",
            None,
            "AB",
            "Vårdbemanning Norr AB",
            d(2023, 9, 15),
            None,
            None,
            "LI:2025-01-20",
            "85230",
            "SUNDSVALL",
        ),
        # doubled quotes in the name; a literal null as deregistration date
        (
            7,
            "769612-3459",
            "ORGNR",
            None,
            "EK",
            'Föreningen "Storsjöbygden" ek. för.',
            d(1987, 11, 30),
            None,
            None,
            None,
            "84070",
            "HAMMARSTRAND",
        ),
        # a NUL byte in the description
        (
            8,
            "916845-1236",
            "ORGNR",
            None,
            "HB",
            "Frost & Co HB",
            d(2012, 8, 8),
            None,
            None,
            None,
            "83752",
            "ÅRE",
        ),
        # merged away; an address with no street
        (
            9,
            "556000-0019",
            "ORGNR",
            None,
            "AB",
            "Gamla Lab AB",
            d(1990, 1, 1),
            d(2024, 10, 1),
            "FUAV",
            None,
            "90187",
            "UMEÅ",
        ),
    ]
    [batch] = q(
        data_dir,
        "select kind, format, encoding, delimiter, rows_in, rows_loaded, scope_keys, status "
        "from raw.load_batch",
    )
    assert batch == (
        "supplier_register",
        "bolagsverket",
        "utf-8",
        ";",
        8,
        8,
        ["snapshot"],
        "loaded",
    )
    assert not any(data_dir.landing_for("register_bolagsverket").iterdir())
    assert len(list((data_dir.archive / "register_bolagsverket").iterdir())) == 1


def test_scb_layout_loads_with_the_right_values(data_dir: DataDir) -> None:
    deliver(data_dir, scb(), SCB_FILE)
    [r] = load_source(scb(), data_dir, KEY)
    assert (r.status, r.rows_in, r.rows_loaded, r.rows_quarantined) == ("loaded", 7, 7, 0)
    assert r.warnings == []
    d = dt.date
    rows = q(
        data_dir,
        "select source_line, supplier_key, is_sole_trader, legal_form_code, company_status, "
        "unit_status, sni_1, sni_2, sni_3, sni_4, sni_5, name, postal_code, postal_town, "
        "registered_date from raw.register_scb order by source_line",
    )
    assert rows == [
        (
            2,
            "556036-0793",
            False,
            "49",
            "1",
            "1",
            "46660",
            "47620",
            None,
            None,
            None,
            "Kontorsbolaget i Östersund AB",
            "83130",
            "ÖSTERSUND",
            d(1998, 3, 20),
        ),
        (
            3,
            "559123-4561",
            False,
            "49",
            "9",
            "9",
            "41200",
            "43120",
            None,
            None,
            None,
            "Fjällbygg AB",
            "83521",
            "KROKOM",
            d(2019, 2, 10),
        ),
        # PeOrgNr a personnummer: pseudonym, neither Namn, Foretagsnamn nor address
        (
            4,
            SOLE,
            True,
            "10",
            "1",
            "2",
            "70220",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            d(2010, 4, 15),
        ),
        (
            5,
            "556677-8899",
            False,
            "49",
            "1",
            "1",
            "78200",
            None,
            None,
            None,
            None,
            "Vårdbemanning Norr AB",
            "85230",
            "SUNDSVALL",
            d(2023, 10, 1),
        ),
        # SNI codes keep their leading zeros
        (
            6,
            "559300-1125",
            False,
            "49",
            "1",
            "1",
            "01450",
            "01410",
            "10130",
            None,
            None,
            "Gårdens Lamm AB",
            "84294",
            "SVEG",
            d(2023, 1, 5),
        ),
        # a postcode written with a space
        (
            7,
            "916845-1236",
            False,
            "31",
            "1",
            "1",
            "49410",
            None,
            None,
            None,
            None,
            "Frost & Co HB",
            "83752",
            "ÅRE",
            d(2012, 9, 1),
        ),
        (
            8,
            "802001-2343",
            False,
            "61",
            "1",
            "1",
            "93120",
            None,
            None,
            None,
            None,
            "Skidklubben Fjällvind",
            "83132",
            "ÖSTERSUND",
            d(1975, 1, 1),
        ),
    ]
    assert q(data_dir, "select encoding, delimiter from raw.load_batch") == [("latin-1", "\t")]


@pytest.mark.parametrize(
    ("header", "delim", "encoding"),
    [
        ("organisationsnummer;storleksklass", ";", "utf-8"),
        ("PeOrgNr,Företagsnamn,Storleksklass", ",", "cp1252"),
        ("orgnr\tstorleksklass", "\t", "utf-8"),
    ],
)
def test_size_class_file(data_dir: DataDir, header: str, delim: str, encoding: str) -> None:
    names = "Åre Bygg AB" if "Företagsnamn" in header else None
    lines = [header]
    for org, klass in (
        ("556036-0793", "5"),
        ("5591234561", "3"),
        (PNR, "1"),
        ("165566778899", "7"),
        ("212000-2528", "12"),
        ("SE556000001901", "0"),
    ):
        lines.append(delim.join([org, names, klass] if names else [org, klass]))
    deliver(data_dir, size(), "storleksklasser.csv", ("\n".join(lines) + "\n").encode(encoding))
    [r] = load_source(size(), data_dir, KEY)
    assert (r.status, r.rows_in, r.rows_loaded, r.rows_quarantined) == ("loaded", 6, 6, 0)
    assert q(
        data_dir,
        "select source_line, supplier_key, size_class from raw.register_size_class order by 1",
    ) == [
        (2, "556036-0793", 5),
        (3, "559123-4561", 3),
        (4, SOLE, 1),
        (5, "556677-8899", 7),
        (6, "212000-2528", 12),
        (7, "556000-0019", 0),
    ]


def test_the_fixture_is_the_committed_size_file(data_dir: DataDir) -> None:
    deliver(data_dir, size(), SIZE_FILE)
    [r] = load_source(size(), data_dir, KEY)
    assert (r.rows_loaded, r.rows_quarantined) == (6, 0)


def test_the_published_zip_is_read_without_unpacking(data_dir: DataDir, tmp_path: Path) -> None:
    archive = tmp_path / "bolagsverket_bulkfil.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(REG / BV_FILE, BV_FILE)
    deliver(data_dir, bv(), "bolagsverket_bulkfil.zip", archive)
    [r] = load_source(bv(), data_dir, KEY)
    assert (r.status, r.rows_loaded) == ("loaded", 8)


def test_the_fast_org_number_path_gives_the_ledger_key() -> None:
    """Org numbers are checked in SQL (Luhn) and never pass classify_supplier_id:
    the shape the SQL path takes is exactly what classify calls an org number."""
    for value in ("5560360793", "165560360793", "556036-0793", "2120002528", "9168451236"):
        digits = _Identities.org_digits(value)
        assert digits is not None
        assert classify_supplier_id(value, KEY).key == f"{digits[:6]}-{digits[6:]}"
    for value in ("198112189876", "8112189876", "1011000001", "DK12345678", "", "55603607"):
        assert _Identities.org_digits(value) is None


def test_the_headers_are_the_published_ones() -> None:
    """Against the research notes (layouts.md): 11 and 34 names."""
    assert ";".join(BOLAGSVERKET_HEADER) == bv_text().splitlines()[0]
    assert len(SCB_HEADER) == 34
    assert "\t".join(SCB_HEADER) + "\t" == scb_text().splitlines()[0]


# -------------------------------------------------------------- snapshots, idempotency


def test_the_same_file_again_changes_nothing(data_dir: DataDir) -> None:
    deliver(data_dir, bv(), BV_FILE)
    [first] = load_source(bv(), data_dir, KEY)
    deliver(data_dir, bv(), BV_FILE)
    [again] = load_source(bv(), data_dir, KEY)
    assert again.status == "unchanged" and again.batch_id == first.batch_id
    assert q(
        data_dir, "select count(*), count(distinct batch_id) from raw.register_bolagsverket"
    ) == [(8, 1)]
    assert q(data_dir, "select count(*) from raw.load_batch") == [(1,)]


def test_a_new_delivery_replaces_the_snapshot(data_dir: DataDir) -> None:
    deliver(data_dir, scb(), SCB_FILE)
    [first] = load_source(scb(), data_dir, KEY)
    # next week's file: Fjällbygg gone, Frost & Co moved to Östersund
    lines = scb_text().split("\r\n")
    lines = [ln for ln in lines if "Fjällbygg" not in ln]
    lines = [ln.replace("837 52\tÅRE", "83134\tÖSTERSUND") for ln in lines]
    name = "scb_bulkfil_JE_20260608T061012_77.txt"
    deliver(data_dir, scb(), name, "\r\n".join(lines).encode("latin-1"))
    [second] = load_source(scb(), data_dir, KEY)
    assert second.status == "loaded" and second.replaced_batches == [first.batch_id]
    assert q(data_dir, "select distinct batch_id from raw.register_scb") == [(second.batch_id,)]
    assert q(data_dir, "select count(*) from raw.register_scb") == [(6,)]
    assert q(
        data_dir, "select postal_code, postal_town from raw.register_scb where name like 'Frost%'"
    ) == [("83134", "ÖSTERSUND")]
    assert q(data_dir, "select batch_id, status, replaced_by from raw.load_batch order by 1") == [
        (first.batch_id, "replaced", second.batch_id),
        (second.batch_id, "loaded", None),
    ]


def test_a_delivery_removing_most_of_the_register_is_held(data_dir: DataDir) -> None:
    deliver(data_dir, bv(), BV_FILE)
    load_source(bv(), data_dir, KEY)
    head = bv_text().splitlines()[:3]  # a download cut off after two rows
    deliver(data_dir, bv(), BV_FILE, ("\n".join(head) + "\n").encode())
    with pytest.raises(LoadFailed) as exc:
        load_source(bv(), data_dir, KEY)
    assert "held" in str(exc.value) and "8 rows loaded, the delivery has 2" in str(exc.value)
    assert q(data_dir, "select count(*) from raw.register_bolagsverket") == [(8,)]
    # confirmed, it replaces the snapshot
    [r] = load_source(bv(), data_dir, KEY, confirm={BV_FILE})
    assert r.status == "loaded"
    assert q(data_dir, "select count(*) from raw.register_bolagsverket") == [(2,)]


# -------------------------------------------------------------------- bad inputs


def _previous_snapshot_kept(data: DataDir, table: str, rows: int, source_name: str) -> None:
    assert q(data, f"select count(*) from {table}") == [(rows,)]
    assert q(
        data,
        "select status from raw.load_batch where source_name = ? order by batch_id",
        [source_name],
    ) == [("loaded",), ("rejected",)]
    rejected = list((data.rejected / source_name).iterdir())
    assert len(rejected) == 2  # the file and its .reason.txt


def test_a_renamed_column_rejects_the_file_and_keeps_the_snapshot(data_dir: DataDir) -> None:
    deliver(data_dir, bv(), BV_FILE)
    load_source(bv(), data_dir, KEY)
    text = bv_text().replace("avregistreringsorsak;", "avregistreringsorsaken;", 1)
    deliver(data_dir, bv(), BV_FILE, text.encode())
    with pytest.raises(LoadFailed) as exc:
        load_source(bv(), data_dir, KEY)
    message = str(exc.value)
    assert "bolagsverket_bulkfil.txt: line 1: expected the column 'avregistreringsorsak'" in message
    assert "column 7 is 'avregistreringsorsaken'" in message
    _previous_snapshot_kept(data_dir, "raw.register_bolagsverket", 8, "register_bolagsverket")
    [reason] = (data_dir.rejected / "register_bolagsverket").glob("*.reason.txt")
    assert "avregistreringsorsaken" in reason.read_text(encoding="utf-8")


def test_a_missing_scb_column_rejects_the_file(data_dir: DataDir) -> None:
    deliver(data_dir, scb(), SCB_FILE)
    load_source(scb(), data_dir, KEY)
    lines = [ln.split("\t") for ln in scb_text().split("\r\n") if ln]
    at = SCB_HEADER.index("RegDatKtid")
    text = "\r\n".join("\t".join(c[:at] + c[at + 1 :]) for c in lines) + "\r\n"
    deliver(data_dir, scb(), "scb_bulkfil_JE_20260608T061012_77.txt", text.encode("latin-1"))
    with pytest.raises(LoadFailed) as exc:
        load_source(scb(), data_dir, KEY)
    assert "line 1: expected the column 'RegDatKtid'" in str(exc.value)
    _previous_snapshot_kept(data_dir, "raw.register_scb", 7, "register_scb")


def test_an_unread_column_gone_or_added_is_reported_not_rejected(data_dir: DataDir) -> None:
    lines = [ln.split("\t") for ln in scb_text().split("\r\n") if ln]
    at = SCB_HEADER.index("Reklamsparrtyp")
    lines = [c[:at] + c[at + 1 :] for c in lines]
    lines[0].insert(3, "Sate")
    for c in lines[1:]:
        c.insert(3, "Östersund")
    text = "\r\n".join("\t".join(c) for c in lines) + "\r\n"
    deliver(data_dir, scb(), SCB_FILE, text.encode("latin-1"))
    [r] = load_source(scb(), data_dir, KEY)
    assert (r.status, r.rows_loaded) == ("loaded", 7)
    assert any("lacks the published column(s) Reklamsparrtyp" in w for w in r.warnings)
    assert any("not in the published layout: Sate" in w for w in r.warnings)


def test_bolagsverket_in_latin1_is_read_right_and_reported(data_dir: DataDir) -> None:
    deliver(data_dir, bv(), BV_FILE, bv_text().encode("cp1252"))
    [r] = load_source(bv(), data_dir, KEY)
    assert (r.status, r.rows_loaded) == ("loaded", 8)
    assert any("not UTF-8 as published" in w and "cp1252" in w for w in r.warnings)
    assert ("Kontorsbolaget i Östersund AB", "ÖSTERSUND") in q(
        data_dir, "select name, postal_town from raw.register_bolagsverket"
    )


def test_scb_in_utf8_is_read_right_and_reported(data_dir: DataDir) -> None:
    deliver(data_dir, scb(), SCB_FILE, scb_text().encode("utf-8"))
    [r] = load_source(scb(), data_dir, KEY)
    assert (r.status, r.rows_loaded) == ("loaded", 7)
    assert any("in UTF-8, not ISO-8859-1 as published" in w for w in r.warnings)
    towns = {t for (t,) in q(data_dir, "select postal_town from raw.register_scb")}
    assert {"ÖSTERSUND", "ÅRE"} <= towns and not any("Ã" in t for t in towns if t)


def test_a_file_mixing_encodings_is_rejected_at_its_line(data_dir: DataDir) -> None:
    lines = scb_text().split("\r\n")
    # Latin-1, but one line in UTF-8 (its ä would load as Ã¤): seen in the first
    # megabyte, the file is rejected before any row is read ...
    raw = "\r\n".join(lines[:6]).encode("latin-1") + b"\r\n" + lines[6].encode("utf-8")
    raw += b"\r\n" + "\r\n".join(lines[7:]).encode("latin-1")
    deliver(data_dir, scb(), SCB_FILE, raw)
    with pytest.raises(LoadFailed) as exc:
        load_source(scb(), data_dir, KEY)
    assert f"{SCB_FILE}: line 2: byte 0xD6 is not UTF-8, but the file also holds UTF-8" in str(
        exc.value
    )
    assert "mixes encodings" in str(exc.value)
    # ... and after it, at the line that holds the UTF-8 character
    body = "\r\n".join(lines[1:6]).encode("latin-1") + b"\r\n"
    copies = 1_100_000 // len(body) + 1
    raw = lines[0].encode("latin-1") + b"\r\n" + body * copies + lines[6].encode("utf-8")
    deliver(data_dir, scb(), "scb_bulkfil_JE_20260608T061012_77.txt", raw + b"\r\n")
    with pytest.raises(LoadFailed) as exc:
        load_source(scb(), data_dir, KEY)
    at = 2 + 5 * copies
    assert f"line {at}: bytes C3 A4 are a UTF-8 character in a file read as latin-1" in str(
        exc.value
    )
    assert q(data_dir, "select count(*) from raw.register_scb") == [(0,)]


def test_utf16_is_rejected(data_dir: DataDir) -> None:
    deliver(data_dir, bv(), BV_FILE, bv_text().encode("utf-16"))
    with pytest.raises(LoadFailed) as exc:
        load_source(bv(), data_dir, KEY)
    assert "UTF-16, not UTF-8 as published" in str(exc.value)


def _truncated() -> bytes:
    lines = bv_text().splitlines()
    lines[2] = lines[2][: lines[2].index(';"2019-02-01";"Bygg')]  # line 3 cut short
    return ("\n".join(lines) + "\n").encode()


def test_a_truncated_row_is_quarantined_with_line_and_column(data_dir: DataDir) -> None:
    deliver(data_dir, bv(max_bad_row_share=0.5), BV_FILE, _truncated())
    [r] = load_source(bv(max_bad_row_share=0.5), data_dir, KEY)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (8, 7, 1)
    [(file, line, column, value, reason)] = q(
        data_dir, "select file_name, line, column_name, value, reason from raw.quarantine"
    )
    assert (file, line, column) == (BV_FILE, 3, "registreringsdatum")
    assert reason.startswith("expected 11 fields") and "found 8: the row is cut short" in reason
    # a broken row's text is never kept (it may be a sole trader's name and address)
    assert value is None and "the row's text is not kept" in reason
    assert not q(data_dir, "select 1 from raw.register_bolagsverket where source_line = 3")


def test_a_broken_scb_row_of_a_sole_trader_keeps_no_text(data_dir: DataDir) -> None:
    """Cut before PeOrgNr: nothing in the line says it is a person's (JurForm 10)."""
    lines = scb_text().split("\r\n")
    lines.insert(3, "1\t\tBergs Måleri\t1\tStorgatan 1\t2\t10\tBerg, Anna\t43341")
    deliver(data_dir, scb(max_bad_row_share=0.5), SCB_FILE, "\r\n".join(lines).encode("latin-1"))
    [r] = load_source(scb(max_bad_row_share=0.5), data_dir, KEY)
    assert r.rows_quarantined == 1
    [(value, reason)] = q(data_dir, "select value, reason from raw.quarantine")
    assert value is None and "cut short" in reason
    assert not any(
        "Berg" in str(v) for row in q(data_dir, "select * from raw.quarantine") for v in row
    )


@pytest.mark.parametrize("fmt", ["bolagsverket", "scb_je"])
def test_a_file_without_header_is_rejected_without_echoing_its_first_row(
    data_dir: DataDir, fmt: str
) -> None:
    cfg, text, enc = (
        (bv(), bv_text().split("\n", 1)[1], "utf-8")
        if fmt == "bolagsverket"
        else (scb(), scb_text().split("\r\n", 1)[1], "latin-1")
    )
    name = BV_FILE if fmt == "bolagsverket" else SCB_FILE
    deliver(data_dir, cfg, name, text.encode(enc))
    with pytest.raises(LoadFailed) as exc:
        load_source(cfg, data_dir, KEY)
    message = str(exc.value)
    assert "no column names (no header?)" in message
    first = text.splitlines()[0]
    words = [w for w in re.split(r"[^A-Za-zÅÄÖåäö]+", first) if len(w) > 3]
    assert words and not [w for w in words if w in message], message
    [(stored,)] = q(data_dir, "select message from raw.load_batch")
    assert not [w for w in words if w in stored]


def test_an_empty_register_delivery_is_rejected_and_keeps_the_snapshot(data_dir: DataDir) -> None:
    deliver(data_dir, size(), SIZE_FILE)
    [first] = load_source(size(), data_dir, KEY)
    deliver(data_dir, size(), "empty.csv", b"organisationsnummer;storleksklass\n")
    with pytest.raises(LoadFailed, match="no rows after the header"):
        load_source(size(), data_dir, KEY)
    assert q(
        data_dir, "select batch_id, status from raw.load_batch where status <> 'rejected'"
    ) == [(first.batch_id, "loaded")]
    assert q(data_dir, "select count(*) from raw.register_size_class") == [(6,)]


def test_too_many_bad_rows_reject_the_file_and_keep_the_snapshot(data_dir: DataDir) -> None:
    deliver(data_dir, bv(), BV_FILE)
    load_source(bv(), data_dir, KEY)
    deliver(data_dir, bv(), BV_FILE, _truncated())
    with pytest.raises(LoadFailed) as exc:
        load_source(bv(), data_dir, KEY)
    assert "1 of 8 rows cannot be parsed (more than 1%)" in str(exc.value)
    assert "line 3, column 'registreringsdatum'" in str(exc.value)
    _previous_snapshot_kept(data_dir, "raw.register_bolagsverket", 8, "register_bolagsverket")


def test_a_size_class_17_is_quarantined(data_dir: DataDir) -> None:
    text = "organisationsnummer;storleksklass\n556036-0793;5\n5591234561;17\n5566778899;tre\n"
    text += "5560360794;3\n"  # a wrong check digit
    deliver(data_dir, size(max_bad_row_share=0.9), SIZE_FILE, text.encode())
    [r] = load_source(size(max_bad_row_share=0.9), data_dir, KEY)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (4, 1, 3)
    quarantined = q(
        data_dir,
        "select file_name, line, column_name, value, reason from raw.quarantine order by 2",
    )
    assert [row[:4] for row in quarantined] == [
        (SIZE_FILE, 3, "storleksklass", "17"),
        (SIZE_FILE, 4, "storleksklass", "tre"),
        (SIZE_FILE, 5, "organisationsnummer", "<hidden number>"),
    ]
    assert quarantined[0][4].startswith("expected SCB's size class, a whole number 0-16")
    assert "Luhn" in quarantined[2][4]


def test_bad_values_in_a_row_are_quarantined_by_column(data_dir: DataDir) -> None:
    lines = bv_text().splitlines()
    lines[1] = lines[1].replace('"1998-03-12";"Bolaget', '"1998-13-12";"Bolaget')
    lines[5] = lines[5].replace("|LI-AVOMFO$2025-01-20", "|LI-AVOMFO$sedan i våras")
    lines[6] = lines[6].replace('"7696123459$ORGNR-IDORG";""', '"7696123459$ORGNR-IDORG";"A"')
    deliver(data_dir, bv(max_bad_row_share=0.9), BV_FILE, ("\n".join(lines) + "\n").encode())
    [r] = load_source(bv(max_bad_row_share=0.9), data_dir, KEY)
    assert (r.rows_loaded, r.rows_quarantined) == (5, 3)
    assert q(data_dir, "select line, column_name, value from raw.quarantine order by 1") == [
        (2, "registreringsdatum", "1998-13-12"),
        (6, "pagandeAvvecklingsEllerOmstruktureringsforfarande", "|LI-AVOMFO$sedan i våras"),
        (7, "namnskyddslopnummer", "A"),
    ]


def test_a_semicolon_inside_quotes_and_a_broken_quote(data_dir: DataDir) -> None:
    lines = bv_text().splitlines()
    # a description holding ";" in proper CSV quoting: read by the CSV rules
    lines[1] = lines[1].replace('"Bolaget ska bedriva handel med kontorsmaterial."', '"a"";""b"')
    deliver(data_dir, bv(), BV_FILE, ("\n".join(lines) + "\n").encode())
    [r] = load_source(bv(), data_dir, KEY)
    assert (r.rows_loaded, r.rows_quarantined) == (8, 0)
    assert q(
        data_dir, "select name, postal_town from raw.register_bolagsverket where source_line = 2"
    ) == [("Kontorsbolaget i Östersund AB", "ÖSTERSUND")]


def test_a_second_row_of_a_unit_is_quarantined(data_dir: DataDir) -> None:
    lines = scb_text().split("\r\n")
    lines.insert(4, lines[1].replace("Storgatan 12", "Storgatan 14"))  # 556036-0793 again
    deliver(data_dir, scb(), SCB_FILE, "\r\n".join(lines).encode("latin-1"))
    [r] = load_source(scb(), data_dir, KEY)
    assert (r.rows_loaded, r.rows_quarantined, r.rows_duplicate) == (7, 1, 1)
    assert q(data_dir, "select line, column_name, value, reason from raw.quarantine") == [
        (5, "PeOrgNr", None, "the same unit is on line 2: the first row is kept")
    ]


def test_unknown_codes_load_as_written_and_are_reported(
    data_dir: DataDir, caplog: pytest.LogCaptureFixture
) -> None:
    text = bv_text().replace('"HB-ORGFO"', '"XHB-ORGFO"').replace("FUAV-AVORG", "NYORS-AVORG")
    text = text.replace("|LI-AVOMFO$", "|ZZ-AVOMFO$")
    deliver(data_dir, bv(), BV_FILE, text.encode())
    with caplog.at_level(logging.WARNING, logger="spendkoll"):
        [r] = load_source(bv(), data_dir, KEY)
    assert (r.rows_loaded, r.rows_quarantined, r.rows_unknown_code) == (8, 0, 3)
    assert q(
        data_dir,
        "select source_line, legal_form, deregistration_reason, procedures from "
        "raw.register_bolagsverket where source_line in (6, 8, 9) order by 1",
    ) == [(6, "AB", None, "ZZ:2025-01-20"), (8, "XHB", None, None), (9, "AB", "NYORS", None)]
    joined = " | ".join(r.warnings)
    assert "legal form code(s) not in the publisher's code list, loaded as written: " in joined
    assert "'XHB' (1 rows, first on line 8)" in joined
    assert "'NYORS' (1 rows, first on line 9)" in joined and "'ZZ' (1 rows" in joined
    assert "XHB" in caplog.text and "NYORS" in caplog.text
    [(message,)] = q(data_dir, "select message from raw.load_batch")
    assert "XHB" in message
    scb_lines = scb_text().replace("\t31\tFrost", "\t77\tFrost")
    deliver(data_dir, scb(), SCB_FILE, scb_lines.encode("latin-1"))
    [r] = load_source(scb(), data_dir, KEY)
    assert r.rows_unknown_code == 1 and "'77' (1 rows, first on line 7)" in " ".join(r.warnings)


# ------------------------------------------------------------------ personal data


def test_no_personnummer_nor_sole_trader_name_in_any_table_nor_log(
    data_dir: DataDir, caplog: pytest.LogCaptureFixture
) -> None:
    # and a broken row of the sole trader: quarantined without its text
    lines = bv_text().splitlines()
    lines.append(lines[3][: lines[3].index(';"2010-04-01";"Konsult')].replace('"1";', '"3";'))
    deliver(data_dir, bv(max_bad_row_share=0.5), BV_FILE, ("\n".join(lines) + "\n").encode())
    deliver(data_dir, scb(), SCB_FILE)
    deliver(data_dir, size(), SIZE_FILE)
    with caplog.at_level(logging.DEBUG, logger="spendkoll"):
        for cfg in (bv(max_bad_row_share=0.5), scb(), size()):
            load_source(cfg, data_dir, KEY)
    assert q(data_dir, "select line, value from raw.quarantine") == [(10, None)]
    found = [
        (where, value)
        for where, value, _ in every_text_value(str(data_dir.warehouse))
        if any(p in value for p in PERSONAL)
    ]
    assert found == []
    assert not any(p in caplog.text for p in PERSONAL)
    assert q(
        data_dir,
        "select count(*) from raw.register_bolagsverket where supplier_key = ?",
        [SOLE],
    ) == [(2,)]


# ------------------------------------------------------------------------ config


def test_the_register_source_settings() -> None:
    assert bv().replace == "snapshot"
    with pytest.raises(ConfigError, match="snapshot of the whole register"):
        bv(replace="file")
    with pytest.raises(ConfigError, match="goes with format"):
        source(name="x", kind="supplier_register", format="canonical")
    with pytest.raises(ConfigError, match="goes with format"):
        source(name="x", kind="ledger", format="scb_je")
    with pytest.raises(ConfigError, match="fixed layout"):
        bv(columns={"supplier_id": "orgnr"})
    mapped = size(columns={"supplier_id": "Orgnr", "size_class": "Stkl"})
    assert mapped.columns["size_class"].column == "Stkl"


def test_keep_archived_deletes_only_old_replaced_copies(data_dir: DataDir) -> None:
    assert size().keep_archived == 4 and source().keep_archived is None
    assert size(keep_archived="all").keep_archived is None
    for bad in (0, -1, "4", True, 1.5):
        with pytest.raises(ConfigError, match="keep_archived must be"):
            size(keep_archived=bad)
    cfg = size(keep_archived=2)
    archive = data_dir.archive / cfg.name
    weeks = []
    for week in range(1, 5):  # four weekly deliveries, each a new snapshot
        deliver(
            data_dir,
            cfg,
            f"week{week}.csv",
            f"organisationsnummer;storleksklass\n556036-0793;{week}\n".encode(),
        )
        [r] = load_source(cfg, data_dir, KEY)
        weeks.append(r.batch_id)
        if week == 3:  # a broken delivery between: rejected, and not one of the kept two
            deliver(data_dir, cfg, "broken.csv", b"no;size;classes\n")
            with pytest.raises(LoadFailed):
                load_source(cfg, data_dir, KEY)
    rows = q(
        data_dir,
        "select batch_id, status, archived_path is not null, message from raw.load_batch "
        "where status <> 'rejected' order by batch_id",
    )
    # the two newest keep their copy; the two replaced before them lost it, with a note
    assert [(b, s, a) for b, s, a, _ in rows] == [
        (weeks[0], "replaced", False),
        (weeks[1], "replaced", False),
        (weeks[2], "replaced", True),
        (weeks[3], "loaded", True),
    ]
    assert all("archived copy deleted (keep_archived = 2)" in (m or "") for *_, m in rows[:2])
    assert sorted(p.name.split("_")[0] for p in archive.iterdir()) == [
        f"{weeks[2]:06d}",
        f"{weeks[3]:06d}",
    ]
    # the snapshot is the last week's; the checksums stay, so an old file is still known
    assert q(data_dir, "select size_class from raw.register_size_class") == [(4,)]
    deliver(data_dir, cfg, "week1-again.csv", b"organisationsnummer;storleksklass\n556036-0793;1\n")
    [again] = load_source(cfg, data_dir, KEY)
    assert again.status == "unchanged" and again.batch_id == weeks[0]


def test_the_ledger_keeps_every_archived_copy(data_dir: DataDir) -> None:
    cfg = source(replace="file", confirm=["gl.csv"])
    header = (
        "verification_id;line_number;posting_date;invoice_date;invoice_number;"
        "supplier_org_number;supplier_name;account;cost_centre;amount_excl_vat;vat;description\n"
    )
    for n in range(1, 4):  # the same file name delivered again three times
        folder = data_dir.landing_for(cfg.name)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "gl.csv").write_text(
            header
            + f"V{n};1;2024-03-0{n};2024-03-01;F{n};556036-0793;A AB;6410;HSV01;{n}00.00;0;x\n",
            encoding="utf-8",
        )
        load_source(cfg, data_dir, KEY)
    assert q(
        data_dir, "select count(*), count(archived_path) from raw.load_batch where rows_loaded > 0"
    ) == [(3, 3)]
    assert len(list((data_dir.archive / cfg.name).iterdir())) == 3


def test_the_raw_suite_checks_the_register(data_dir: DataDir) -> None:
    from spendkoll.quality.validation import Validator

    ledger = source(replace="file")
    folder = data_dir.landing_for(ledger.name)
    folder.mkdir(parents=True, exist_ok=True)
    # two suppliers with an organisationsnummer: one in the register, one in neither file
    (folder / "gl.csv").write_text(
        "verification_id;line_number;posting_date;invoice_date;invoice_number;"
        "supplier_org_number;supplier_name;account;cost_centre;amount_excl_vat;vat;description\n"
        "V1;1;2024-03-05;2024-03-01;F1;556036-0793;A AB;6410;HSV01;100.00;25.00;x\n"
        "V2;1;2024-03-06;2024-03-01;F2;556677-8808;B AB;6410;HSV01;50.00;12.50;y\n",
        encoding="utf-8",
    )
    load_source(ledger, data_dir, KEY)

    def observed() -> dict[str, tuple[str | None, bool]]:
        report = Validator(data_dir, build_docs=False).validate_raw()
        return {
            o.column or "": (o.observed, o.success)
            for o in report.outcomes
            if o.suite == "raw_dataset" and "register" in (o.column or "")
        }

    # no register loaded: nothing to hold the ledger against
    assert observed()["ledger_suppliers_not_in_register_share"] == ("0", True)
    deliver(data_dir, bv(), BV_FILE)
    load_source(bv(), data_dir, KEY)
    deliver(data_dir, scb(), SCB_FILE)
    load_source(scb(), data_dir, KEY)
    for week in (1, 2):
        deliver(
            data_dir, size(), f"w{week}.csv", f"orgnr;storleksklass\n5560360793;{week}\n".encode()
        )
        load_source(size(), data_dir, KEY)
    clean = observed()
    assert clean["ledger_suppliers_not_in_register_share"] == ("0.5", False)
    assert all(
        ok
        for column, (_, ok) in clean.items()
        if column != "ledger_suppliers_not_in_register_share"
    ), clean
    assert clean["register_snapshot_age_days"] == ("0", True)

    con = duckdb.connect(str(data_dir.warehouse))
    con.execute("insert into raw.register_scb select * from raw.register_scb limit 1")
    con.execute(
        "insert into raw.register_bolagsverket select * from raw.register_bolagsverket limit 2"
    )
    con.execute(
        "update raw.load_batch set status = 'loaded' "
        "where source_name = 'register_size' and status = 'replaced'"
    )
    con.execute(
        "update raw.load_batch set finished_at = finished_at - interval 20 day "
        "where source_name = 'register_scb'"
    )
    con.close()
    broken = observed()
    assert broken["register_scb_duplicate_keys"] == ("1", False)
    assert broken["register_bolagsverket_duplicate_keys"] == ("2", False)
    assert broken["register_sources_with_several_snapshots"] == ("1", False)
    assert broken["register_snapshot_age_days"] == ("20", False)
    assert broken["register_size_duplicate_keys"] == ("0", True)


def test_a_mapped_size_class_column(data_dir: DataDir) -> None:
    cfg = size(columns={"supplier_id": "Orgnr", "size_class": "Stkl"})
    deliver(data_dir, cfg, SIZE_FILE, b"Orgnr;Namn;Stkl\n556036-0793;X AB;4\n")
    [r] = load_source(cfg, data_dir, KEY)
    assert r.rows_loaded == 1
    assert q(data_dir, "select supplier_key, size_class from raw.register_size_class") == [
        ("556036-0793", 4)
    ]
    deliver(data_dir, cfg, "b.csv", b"organisationsnummer;storleksklass\n556036-0793;4\n")
    with pytest.raises(LoadFailed, match="line 1: expected a column Orgnr"):
        load_source(cfg, data_dir, KEY)


# --------------------------------------------------------------------- the demo


def test_the_demo_register_files_load_with_the_planted_rows(data_dir: DataDir) -> None:
    from spendkoll.demo.generator import DemoSpec, generate
    from spendkoll.sources import load_sources

    summary = generate(data_dir.landing, data_dir.demo_answers, DemoSpec(lines=20_000))
    sources = load_sources(ROOT / "include" / "sources" / "demo.toml")
    for name in ("register_bolagsverket", "register_scb", "register_size"):
        [r] = load_source(sources[name], data_dir, KEY)
        assert (r.status, r.rows_quarantined, r.rows_unknown_code) == ("loaded", 0, 0), r
    register = summary["register"]
    assert q(data_dir, "select count(*) from raw.register_bolagsverket") == [
        (register["bolagsverket_rows"],)
    ]
    assert q(data_dir, "select count(*) from raw.register_scb") == [(register["scb_rows"],)]
    with (data_dir.demo_answers / "register_planted.csv").open(encoding="utf-8") as f:
        planted = list(csv.DictReader(f, delimiter=";"))
    kinds = {p["planted"] for p in planted}
    assert kinds >= {
        "deregistered_bankruptcy",
        "deregistered_liquidation",
        "deregistered_merger",
        "deregistered_after_last_posting",
        "winding_up_bankruptcy",
        "winding_up_liquidation",
        "newly_registered",
        "registered_before_window",
        "missing_from_register",
        "sole_trader",
        "two_registrations",
        "industry_mismatch",
    }
    # the ledger's key of each planted supplier, as the ledger loader gives it
    ledger_keys = {
        classify_supplier_id(row["supplier_org_number"], KEY).key
        for path in (data_dir.landing / "ledger").glob("*.csv")
        for row in csv.DictReader(path.open(encoding="utf-8"), delimiter=";")
    }
    for p in planted:
        key = p["supplier_key"]
        assert key and key in ledger_keys, p
        bv_rows = q(
            data_dir,
            "select registration_date, deregistration_date, deregistration_reason, procedures, "
            "name from raw.register_bolagsverket where supplier_key = ? order by "
            "name_protection_no nulls first",
            [key],
        )
        scb_rows = q(
            data_dir,
            "select sni_1, unit_status, is_sole_trader, name from raw.register_scb "
            "where supplier_key = ?",
            [key],
        )
        label = p["planted"]
        if label == "missing_from_register":
            assert bv_rows == [] and scb_rows == [], p
            continue
        assert bv_rows and scb_rows, p
        reg, dereg, reason, procs, name = bv_rows[0]
        assert reg.isoformat() == p["registration_date"], p
        if label.startswith("deregistered"):
            assert (dereg.isoformat(), reason) == (
                p["deregistration_date"],
                p["deregistration_reason"],
            )
            assert scb_rows[0][1] == "9"
            if label != "deregistered_after_last_posting":
                assert int(p["lines_after_event"]) > 0, p
                assert dereg < dt.date.fromisoformat(p["last_posting"])
            else:
                assert p["lines_after_event"] == "0" and dereg > dt.date.fromisoformat(
                    p["last_posting"]
                )
        if label.startswith("winding_up"):
            assert dereg is None and procs == p["procedure"] and int(p["lines_after_event"]) > 0
        if label in ("newly_registered", "registered_before_window"):
            gap = (dt.date.fromisoformat(p["first_posting"]) - reg).days
            assert (gap < 90) == (label == "newly_registered"), p
        if label == "industry_mismatch":
            assert scb_rows[0][0] == p["sni"] == "56100"
        if label in ("sole_trader", "two_registrations"):
            assert key.startswith("PNR-") and name is None and scb_rows[0][2:] == (True, None)
        if label == "two_registrations":
            assert len(bv_rows) == 2
    # no org number of the planted answers is a personnummer
    assert not any(p["org_number"] and p["planted"] == "sole_trader" for p in planted)


# ------------------------------------------------------------------------ the DAG


def test_the_load_dag_of_the_supplier_register(
    data_dir: DataDir, tmp_path: Path, monkeypatch
) -> None:
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / "spendkoll_load_supplier_register.py"))
    assert bag.import_errors == {}
    dag = bag.dags["spendkoll_load_supplier_register"]
    assert "spendkoll" in dag.tags and dag.doc_md and dag.max_active_runs == 1
    assert sorted(t.task_id for t in dag.tasks) == [
        "load_register_bolagsverket",
        "load_register_scb",
        "load_register_size",
    ]
    for task in dag.tasks:
        assert task.pool == "spendkoll_warehouse" and task.owner == "spendkoll"
        assert task.retries >= 1 and task.on_failure_callback
        assert [o.uri for o in task.outlets] == [
            f"spendkoll://warehouse/raw/{task.task_id.removeprefix('load_')}"
        ]
    # each task loads its own source; a sources file without it has nothing to load
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[source]]\nname = "register_scb"\nkind = "supplier_register"\nformat = "scb_je"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SPENDKOLL_SOURCES", str(sources))
    deliver(data_dir, scb(), SCB_FILE)
    done = dag.get_task("load_register_scb").python_callable()
    assert [f["rows_loaded"] for f in done["files"]] == [7]
    assert dag.get_task("load_register_size").python_callable() == {"files": []}
