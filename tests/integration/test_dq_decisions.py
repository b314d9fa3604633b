"""The contract controller's decisions fed back as a source (issue 14).

A round trip on the hand-made rule fixture (tests/fixtures/dq): the exceptions
are listed (status new), the controller returns the list as XLSX and CSV with
decisions (good rows load, bad rows are quarantined with file, line, column
and what was expected), the statuses follow (confirmed, dismissed, open), the
same file again changes nothing, a later decision wins, and a corrected ledger
month resolves the confirmed exception, while a line whose content changed is
a new exception. The first build is moved 10 days back in the history (the
snapshot and its run log), as if it had run 10 days before the others, and
the returned list is delivered 5 days ago (its modification time).

The loader-only tests below the round trip need no dbt.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, KEY, ROOT, build_fixture_warehouse, source

from spendkoll.cli import main
from spendkoll.errors import LoadFailed
from spendkoll.loaders.run import load_source
from spendkoll.paths import DataDir
from spendkoll.transform.dbt import run_dbt
from spendkoll.warehouse import writer

DECISIONS = source(name="dq_decisions", kind="dq_decisions", format="dq_decisions")
DEMO_SOURCES = ROOT / "include" / "sources" / "demo.toml"
PNR = "811218-9876"  # a valid personnummer (test data)
SHIFT_DAYS = 10
DELIVERED_DAYS_AGO = 5
XLSX = "undantag_retur.xlsx"
USED = {"Y01", "S02", "X04", "P12", "T03", "X02", "R02", "X01"}


def q(data: DataDir, sql: str, params: list[object] | None = None) -> list[tuple]:
    con = duckdb.connect(str(data.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


STATUS_COLUMNS = (
    "verification_id",
    "exception_id",
    "status",
    "first_seen_on",
    "decided_on",
    "resolved_on",
    "days_to_resolution",
    "decision",
    "decision_comment",
    "decided_by",
    "is_listed",
    "rule_ids",
)


def statuses(data: DataDir) -> dict[str, dict[str, object]]:
    """verification_id -> the row of dq_exception_status of each listed line; an
    exception that left the list is keyed by its id."""
    rows = q(data, f"select {', '.join(STATUS_COLUMNS)} from marts.dq_exception_status")
    out: dict[str, dict[str, object]] = {}
    for row in rows:
        r = dict(zip(STATUS_COLUMNS, row, strict=True))
        key = r["verification_id"] if r["is_listed"] else r["exception_id"]
        assert key not in out, key
        out[key] = r  # type: ignore[index]
    return out


def build(data: DataDir) -> None:
    proc = run_dbt(["build"], data)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def shift_history_back(data: DataDir, days: int) -> None:
    with writer(data.warehouse) as con:
        con.execute(f"""update history.dq_exception_history set
                        dbt_valid_from = dbt_valid_from - interval {days} day,
                        dbt_updated_at = dbt_updated_at - interval {days} day,
                        dbt_valid_to = dbt_valid_to - interval {days} day""")
        con.execute(
            f"update intermediate.int_dq_exception_snapshot_runs "
            f"set logged_at = logged_at - interval {days} day"
        )


def deliver(data: DataDir, path: Path, days_ago: int | None = None) -> Path:
    landing = data.landing_for("dq_decisions")
    landing.mkdir(parents=True, exist_ok=True)
    dest = landing / path.name
    shutil.copy(path, dest)
    if days_ago is not None:
        stamp = (dt.datetime.now() - dt.timedelta(days=days_ago)).timestamp()
        os.utime(dest, (stamp, stamp))
    return dest


def cli(data: DataDir, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["--data-dir", str(data.root), *args])
    return code, out.getvalue()


def write_xlsx(path: Path, ids: dict[str, str]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    summary = wb.active
    summary.title = "Sammanfattning"  # the first sheet; the list is on "Undantag"
    summary.append(["Undantag att åtgärda", 11])
    ws = wb.create_sheet("Undantag")
    ws.append(
        ["exception_id", "Leverantör", "Belopp", "Beslut", "Kommentar", "Signatur", "Beslutsdatum"]
    )
    ws.append(
        [
            ids["Y01"],
            "Rörliga AB",
            100,
            "Bekräftad",
            f"Ska vara 6410; fakturan attesterad av {PNR}",
            "AB",
            None,
        ]
    )  # row 2
    ws.append(
        [ids["S02"], "Skrivbord AB", 900, "falsklarm", "Konsulttjänst, rätt", "ab", None]
    )  # row 3
    ws.append([ids["X04"], "Felnummer AB", 600, "kanske", None, "AB", None])  # row 4
    ws.append([ids["P12"], "Papper AB", 1001, None, "tittar på den", None, None])  # row 5
    ws.append(["E123", "Rörliga AB", 100, "rättad", None, "AB", None])  # row 6
    ws.append([ids["T03"], "Teknikinvest AB", 150000, "CONFIRMED", None, None, None])  # row 7
    wb.save(path)


def write_csv(
    path: Path, header: list[str], rows: list[list[str]], encoding: str, delimiter: str
) -> None:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f, delimiter=delimiter, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)


@pytest.fixture(scope="module")
def trip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Runs the round trip once; each stage's results are kept for the tests."""
    tmp = tmp_path_factory.mktemp("decisions")
    data = DataDir(tmp / "var").ensure()
    out: dict[str, object] = {"data": data}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPENDKOLL_DATA_DIR", str(data.root))
        mp.setenv("SPENDKOLL_PSEUDONYM_KEY", KEY.decode())
        mp.delenv("SPENDKOLL_SOURCES", raising=False)

        # 1. The first build lists the exceptions: all new.
        build_fixture_warehouse(data, "dq")
        out["build1"] = statuses(data)
        shift_history_back(data, SHIFT_DAYS)
        ids = {v: s["exception_id"] for v, s in out["build1"].items()}  # type: ignore[attr-defined]
        # the lines the round trip decides on (tests/fixtures/dq, rules DQ01 DQ03 DQ04
        # DQ07 DQ09 DQ10 DQ11 DQ12)
        assert set(ids) >= USED, f"the dq fixture no longer lists {USED - set(ids)}"
        out["ids"] = ids

        # 2. The controller returns the list: XLSX, and a CSV in CP1252.
        write_xlsx(tmp / XLSX, ids)
        deliver(data, tmp / XLSX, DELIVERED_DAYS_AGO)
        four_days_ago = (dt.date.today() - dt.timedelta(days=4)).isoformat()
        write_csv(
            tmp / "beslut_cd.csv",
            ["exception_id", "Beslut", "Kommentar", "Signatur", "Beslutsdatum"],
            [
                [
                    ids["X02"],
                    "Ej fel",
                    "Utländsk leverantör, momsreg. nr i avtalet",
                    "CD",
                    four_days_ago,
                ],
                [ids["R02"], "Felkonterad", "Momsen är fel, 18 %", "CD", four_days_ago],
                [ids["X04"], "Dismissed", "", "EF", "2024-13-45"],
            ],
            "cp1252",
            ";",
        )
        deliver(data, tmp / "beslut_cd.csv", DELIVERED_DAYS_AGO)
        out["load2"] = cli(data, "load", "dq_decisions", "--sources", str(DEMO_SOURCES))
        out["status2"] = cli(data, "status")
        out["decisions2"] = q(data, "select * from raw.dq_decision order by batch_id, source_line")
        build(data)
        out["build2"] = statuses(data)

        # 3. The same XLSX again changes nothing; a later CSV decides X02 again
        #    (latest wins) and calls Y01 corrected.
        deliver(data, tmp / XLSX, 0)
        three_days_ago = (dt.date.today() - dt.timedelta(days=3)).isoformat()
        write_csv(
            tmp / "beslut_cd_2.csv",
            ["exception_id", "decision", "comment", "initials", "decided_on"],
            [
                [ids["X02"], "Confirmed", "No VAT id after all", "CD", three_days_ago],
                [ids["P12"], "rättad", "Dubbletten krediterad", "AB", three_days_ago],
            ],
            "utf-8",
            ",",
        )
        deliver(data, tmp / "beslut_cd_2.csv")
        out["load3"] = cli(data, "load", "dq_decisions", "--sources", str(DEMO_SOURCES))
        out["decisions3"] = q(data, "select * from raw.dq_decision order by batch_id, source_line")
        build(data)
        out["build3"] = statuses(data)

        # 4. Accounting corrects March: Y01 moved from 9999 to 6410 (DQ01 no longer fires),
        #    X01's amount changed (its content: a new exception).
        lines = (FIXTURES / "dq" / "ledger_2024.csv").read_text(encoding="utf-8").splitlines()
        march = [lines[0]] + [ln for ln in lines[1:] if ln.split(";")[2].startswith("2024-03")]
        corrected = []
        for ln in march:
            cells = ln.split(";")
            if cells[0] == "Y01":
                cells[7] = "6410"
            if cells[0] == "X01":
                cells[9] = "310.00"
            corrected.append(";".join(cells))
        landing = data.landing_for("ledger")
        (landing / "ledger_2024-03.csv").write_text("\n".join(corrected) + "\n", encoding="utf-8")
        out["ledger4"] = load_source(source(), data, KEY)
        build(data)
        out["build4"] = statuses(data)
        out["runs"] = q(
            data,
            "select logged_at from intermediate.int_dq_exception_snapshot_runs order by logged_at",
        )
    return out


@pytest.mark.slow
def test_the_first_build_lists_every_exception_as_new(trip):
    build1 = trip["build1"]
    assert USED | {"S03"} <= set(build1)
    for v, r in build1.items():
        assert r["status"] == "new" and r["is_listed"], v
        assert len(r["exception_id"]) == 17 and r["exception_id"].startswith("E"), v
        assert r["decision"] is None and r["resolved_on"] is None, v
    assert "DQ01" in build1["Y01"]["rule_ids"].split(",")


@pytest.mark.slow
def test_good_rows_load_and_bad_rows_are_quarantined_with_file_line_column(trip):
    data, ids = trip["data"], trip["ids"]
    rejected = q(
        data,
        """select file_name, line, column_name, value, expected, exception_id
                          from raw.dq_decision_rejected order by file_name, line""",
    )
    by_key = {(f, line, c): (v, e, i) for f, line, c, v, e, i in rejected}
    assert set(by_key) == {
        (XLSX, 4, "Beslut"),
        (XLSX, 6, "exception_id"),
        (XLSX, 7, "Signatur"),
        ("beslut_cd.csv", 4, "Beslutsdatum"),
    }
    value, expected, eid = by_key[(XLSX, 4, "Beslut")]
    assert value == "kanske" and eid == ids["X04"]
    assert (
        "expected a decision" in expected
        and "bekräftad" in expected
        and "falsklarm" in expected
        and "rättad" in expected
    )
    value, expected, eid = by_key[(XLSX, 6, "exception_id")]
    assert value == "E123" and "E and 16 hexadecimal digits" in expected and eid is None
    value, expected, eid = by_key[(XLSX, 7, "Signatur")]
    assert value is None and "initials" in expected and eid == ids["T03"]
    value, expected, _ = by_key[("beslut_cd.csv", 4, "Beslutsdatum")]
    assert value == "2024-13-45" and expected.startswith("expected a date")

    # the good rows loaded: two of the XLSX (the row without a decision skipped), two CSV
    got = {(r[2], r[3], r[4]) for r in trip["decisions2"]}
    assert got == {
        (XLSX, 2, ids["Y01"]),
        (XLSX, 3, ids["S02"]),
        ("beslut_cd.csv", 2, ids["X02"]),
        ("beslut_cd.csv", 3, ids["R02"]),
    }
    batches = {
        r[0]: r[1:]
        for r in q(
            data,
            """
        select file_name, rows_in, rows_loaded, rows_quarantined, rows_skipped, status, kind,
               archived_path
        from raw.load_batch where source_name = 'dq_decisions'""",
        )
    }
    assert batches[XLSX][:6] == (6, 2, 3, 1, "loaded", "dq_decisions")
    assert batches["beslut_cd.csv"][:5] == (3, 2, 1, 0, "loaded")
    for name, row in batches.items():
        assert Path(row[6]).is_file() and Path(row[6]).name.endswith(name)  # archived
    assert not any(data.landing_for("dq_decisions").iterdir())


@pytest.mark.slow
def test_decided_on_is_the_delivery_date_by_default_and_comments_are_masked(trip):
    ids = trip["ids"]
    cols = [
        "batch_id",
        "source_name",
        "source_file",
        "source_line",
        "exception_id",
        "decision",
        "decision_as_written",
        "comment",
        "initials",
        "decided_on",
        "decided_on_given",
        "loaded_at",
    ]
    rows = {r[4]: dict(zip(cols, r, strict=True)) for r in trip["decisions2"]}
    delivered = (dt.datetime.now() - dt.timedelta(days=DELIVERED_DAYS_AGO)).date()
    y01 = rows[ids["Y01"]]
    assert (y01["decision"], y01["decision_as_written"], y01["initials"]) == (
        "confirmed",
        "Bekräftad",
        "AB",
    )
    assert y01["decided_on"] == delivered and y01["decided_on_given"] is False
    assert PNR not in y01["comment"] and "811218" not in y01["comment"]
    assert "PNR-" in y01["comment"] and y01["comment"].startswith("Ska vara 6410")
    assert rows[ids["S02"]]["decision"] == "dismissed"
    x02 = rows[ids["X02"]]
    assert (x02["decision"], x02["decided_on_given"]) == ("dismissed", True)
    assert x02["decided_on"] == dt.date.today() - dt.timedelta(days=4)
    assert x02["comment"] == "Utländsk leverantör, momsreg. nr i avtalet"  # CP1252 read right
    assert rows[ids["R02"]]["decision"] == "confirmed"


@pytest.mark.slow
def test_load_and_status_report_the_rows_not_loaded(trip):
    code, text = trip["load2"]
    assert code == 0, text
    assert (
        f"not loaded: {XLSX} line 4, column 'Beslut', value 'kanske': expected a decision" in text
    )
    assert f"not loaded: {XLSX} line 7, column 'Signatur'" in text
    assert "not loaded: beslut_cd.csv line 4, column 'Beslutsdatum', value '2024-13-45'" in text
    code, text = trip["status2"]
    assert code == 0
    assert "Decisions not loaded: 4 value(s)" in text
    assert f"{XLSX} line 6, column 'exception_id', value 'E123': expected an exception id" in text
    assert PNR not in text


@pytest.mark.slow
def test_statuses_follow_the_decisions(trip):
    build2 = trip["build2"]
    assert (build2["Y01"]["status"], build2["Y01"]["decision"]) == ("confirmed", "confirmed")
    assert (build2["S02"]["status"], build2["S02"]["decided_by"]) == ("dismissed", "ab")
    assert build2["X02"]["status"] == "dismissed"
    assert build2["R02"]["status"] == "confirmed"
    assert build2["R02"]["decision_comment"] == "Momsen är fel, 18 %"
    undecided = set(build2) - {"Y01", "S02", "X02", "R02"}
    assert undecided >= {"X04", "P12", "T03", "X01", "S03"}
    for v in undecided:
        # listed in the build before too: open, no longer new
        assert (build2[v]["status"], build2[v]["decision"]) == ("open", None), v
    first = dt.date.today() - dt.timedelta(days=SHIFT_DAYS)
    assert {r["first_seen_on"] for r in build2.values()} == {first}
    assert all(r["resolved_on"] is None for r in build2.values())


@pytest.mark.slow
def test_the_same_file_twice_loads_once_and_the_latest_decision_wins(trip):
    code, text = trip["load3"]
    assert code == 0, text
    assert any(XLSX in line and "unchanged" in line for line in text.splitlines())
    before, after = trip["decisions2"], trip["decisions3"]
    assert after[: len(before)] == before
    assert [r[2] for r in after[len(before) :]] == ["beslut_cd_2.csv", "beslut_cd_2.csv"]
    assert q(
        trip["data"],
        "select count(*) from raw.load_batch where source_name = 'dq_decisions' and file_name = ?",
        [XLSX],
    ) == [(1,)]
    build3 = trip["build3"]
    assert (build3["X02"]["status"], build3["X02"]["decision_comment"]) == (
        "confirmed",
        "No VAT id after all",
    )
    assert build3["Y01"]["status"] == "confirmed" and build3["S02"]["status"] == "dismissed"
    # corrected: resolved on the day of the decision, though still listed
    p12 = build3["P12"]
    decided = dt.date.today() - dt.timedelta(days=3)
    assert (p12["status"], p12["decided_on"], p12["resolved_on"], p12["is_listed"]) == (
        "resolved",
        decided,
        decided,
        True,
    )
    assert p12["days_to_resolution"] == (decided - p12["first_seen_on"]).days == SHIFT_DAYS - 3


@pytest.mark.slow
def test_a_corrected_month_resolves_the_confirmed_exception(trip):
    ids, build4 = trip["ids"], trip["build4"]
    [ledger] = [r for r in trip["ledger4"] if r.file_name == "ledger_2024-03.csv"]
    assert ledger.status == "loaded" and ledger.replaced_batches == []  # April stays
    y01 = build4[ids["Y01"]]  # no longer listed: keyed by its id
    resolved_on = trip["runs"][-1][0].date()
    assert (y01["status"], y01["resolved_on"], y01["decision"], y01["is_listed"]) == (
        "resolved",
        resolved_on,
        "confirmed",
        False,
    )
    assert y01["days_to_resolution"] == (resolved_on - y01["first_seen_on"]).days >= SHIFT_DAYS
    # the corrected line breaks DQ01 no more
    assert "Y01" not in build4 or "DQ01" not in build4["Y01"]["rule_ids"].split(",")
    # the dismissed one stays dismissed, the other decisions stand
    assert (build4["S02"]["exception_id"], build4["S02"]["status"]) == (ids["S02"], "dismissed")
    assert (build4["X02"]["exception_id"], build4["X02"]["status"]) == (ids["X02"], "confirmed")
    assert (build4["R02"]["exception_id"], build4["R02"]["status"]) == (ids["R02"], "confirmed")
    assert (build4["X04"]["exception_id"], build4["X04"]["status"]) == (ids["X04"], "open")
    # X01 changed: a new exception, and the old one left the list (resolved)
    x01 = build4["X01"]
    assert x01["exception_id"] != ids["X01"]
    assert (x01["status"], x01["first_seen_on"]) == ("new", resolved_on)
    old = build4[ids["X01"]]
    assert (old["status"], old["decision"], old["resolved_on"]) == ("resolved", None, resolved_on)
    # unchanged lines keep their id through the re-delivery
    unchanged = {v for v in build4 if v in ids and v not in ("Y01", "X01")}
    assert {"P12", "R02", "S02", "T03", "X02", "X04", "S03"} <= unchanged
    for v in unchanged:
        assert build4[v]["exception_id"] == ids[v], v


@pytest.mark.slow
def test_history_and_rule_precision(trip):
    data, ids = trip["data"], trip["ids"]
    versions = q(
        data,
        "select dbt_valid_to is null from history.dq_exception_history where exception_id = ?",
        [ids["Y01"]],
    )
    assert versions == [(False,)]  # hard_deletes: invalidate
    assert len(trip["runs"]) == 4
    judged = {
        r[0]: r[1:]
        for r in q(
            data,
            "select rule_id, decided, confirmed, corrected, "
            "dismissed, precision "
            "from marts.dq_rule_precision_judged",
        )
    }
    # counted again from the statuses: every rule on a line shares the line's decision
    expected: dict[str, list[int]] = {}
    for r in trip["build4"].values():
        if r["decision"] is None:
            continue
        for rule in r["rule_ids"].split(","):
            counts = expected.setdefault(rule, [0, 0, 0, 0])
            counts[0] += 1
            counts[1 + ("confirmed", "corrected", "dismissed").index(r["decision"])] += 1
    assert sum(c[0] for c in expected.values()) >= 5  # Y01, S02, X02, R02, P12
    for rule, (decided, confirmed, corrected, dismissed) in expected.items():
        assert judged[rule][:4] == (decided, confirmed, corrected, dismissed), rule
        assert judged[rule][4] == pytest.approx((confirmed + corrected) / decided)
    assert judged["DQ01"] == (1, 1, 0, 0, 1.0)
    assert all(judged[r][3] >= 1 for r in trip["build4"]["S02"]["rule_ids"].split(","))
    undecided = set(judged) - set(expected)
    assert undecided and all(judged[r] == (0, 0, 0, 0, None) for r in undecided)


# --- the loader alone -------------------------------------------------------------


def test_a_file_without_an_exception_id_column_is_rejected_whole(data_dir):
    path = data_dir.landing_for("dq_decisions") / "fel_fil.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("id;beslut;signatur\nE0123456789abcdef;bekräftad;AB\n", encoding="utf-8")
    with pytest.raises(LoadFailed) as exc:
        load_source(DECISIONS, data_dir, KEY)
    assert "expected a column 'exception_id'" in str(exc.value)
    assert "found: id, beslut, signatur" in str(exc.value)
    [batch] = q(data_dir, "select status, message from raw.load_batch")
    assert batch[0] == "rejected"
    assert q(data_dir, "select count(*) from raw.dq_decision") == [(0,)]
    rejected = list((data_dir.rejected / "dq_decisions").iterdir())
    assert {p.name.endswith(".reason.txt") for p in rejected} == {True, False}


def test_a_csv_with_a_title_row_comma_cp1252_and_mapped_columns(data_dir):
    cfg = source(
        name="dq_decisions",
        kind="dq_decisions",
        format="dq_decisions",
        columns={"decision": "Åtgärd", "initials": "Sign"},
    )
    path = data_dir.landing_for("dq_decisions") / "retur.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "Returnerad lista,,,,\n"
        "Exception ID,Åtgärd,Kommentar,Sign,Beslut\n"  # "Beslut" is not the decision here
        'E0123456789ABCDEF,Korrigerad,"Rättat, ny verifikation",KL,bekräftad\n'
        "\n"
        "E00000000000000aa,ej fel,,KL,\n"
        "E00000000000000bb,,,,\n"
        "E00000000000000cc,rättat,,KL,\n"
    )
    path.write_bytes(text.encode("cp1252"))
    [result] = load_source(cfg, data_dir, KEY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined, result.rows_skipped) == (
        4,
        2,
        1,
        1,
    )
    rows = q(
        data_dir,
        "select source_line, exception_id, decision, comment, initials "
        "from raw.dq_decision order by source_line",
    )
    assert rows == [
        (3, "E0123456789abcdef", "corrected", "Rättat, ny verifikation", "KL"),
        (5, "E00000000000000aa", "dismissed", None, "KL"),
    ]
    assert q(data_dir, "select line, column_name, value from raw.dq_decision_rejected") == [
        (7, "Åtgärd", "rättat")
    ]
    assert q(data_dir, "select encoding, delimiter from raw.load_batch") == [("cp1252", ",")]
    # the same file again: nothing changes
    path.write_bytes(text.encode("cp1252"))
    [again] = load_source(cfg, data_dir, KEY)
    assert again.status == "unchanged"
    assert q(data_dir, "select count(*) from raw.dq_decision") == [(2,)]


def test_the_source_tables_exist_before_any_decision_is_loaded(data_dir):
    from spendkoll.sources import load_sources

    assert load_sources(DEMO_SOURCES)["dq_decisions"].kind == "dq_decisions"
    with writer(data_dir.warehouse):
        pass
    assert q(
        data_dir,
        "select table_name from information_schema.tables where table_schema "
        "= 'raw' and table_name like 'dq_decision%' order by 1",
    ) == [("dq_decision",), ("dq_decision_rejected",)]


def test_the_load_dag_of_the_decisions():
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / "spendkoll_load_dq_decisions.py"))
    assert bag.import_errors == {}
    dag = bag.dags["spendkoll_load_dq_decisions"]
    assert "spendkoll" in dag.tags and dag.doc_md and dag.max_active_runs == 1
    [task] = dag.tasks
    assert task.pool == "spendkoll_warehouse" and task.owner == "spendkoll"
    assert task.retries >= 1 and task.on_failure_callback
    assert [o.uri for o in task.outlets] == ["spendkoll://warehouse/raw/dq_decisions"]


@pytest.mark.parametrize(
    ("lang", "words"),
    [("sv", ("bekräftad", "falsklarm", "rättad")), ("en", ("confirmed", "dismissed", "corrected"))],
)
def test_the_list_to_accounting_comes_back_through_the_loader(data_dir, lang, words):
    """The XLSX spendkoll sends (quality.accounting_xlsx), filled in in Excel's way
    (openpyxl) and returned, loads as it is, in either language."""
    from openpyxl import load_workbook

    from spendkoll.quality.accounting_xlsx import SOURCE_COLUMNS, write_accounting_list

    ids = ["E00000000000000a1", "E00000000000000a2", "E00000000000000a3", "E00000000000000a4"]
    values = {
        "exception_id": None,
        "org_unit_id": "HSV",
        "org_unit_name": "Hälso- och sjukvård",
        "period": "2024-03",
        "posting_date": dt.date(2024, 3, 11),
        "supplier_name": '=HYPERLINK("x")',
        "verification_id": "P11",
        "invoice_number": "P-11",
        "account": "4110",
        "amount": 2000,
        "rule_ids": "DQ02,DQ14",
        "explanation": "Ovanlig kategori",
        "suggested_account": "6410",
        "suggested_category": "Kontorsmaterial",
        "amount_at_stake": 2000,
        "score": 0.86,
        "status": "new",
    }
    rows = [[eid if c == "exception_id" else values[c] for c in SOURCE_COLUMNS] for eid in ids]
    sent = data_dir.root / f"lista_{lang}.xlsx"
    assert write_accounting_list(rows, sent, lang) == 4
    wb = load_workbook(sent)
    ws = wb.active
    header = [c.value for c in ws[1]]
    col = {name: header.index(name) + 1 for name in header}
    decision, comment, initials, date_col = header[-4:]
    for row, word in zip((2, 3, 4), words, strict=True):
        ws.cell(row, col[decision], word.upper() if row == 3 else word)
        ws.cell(row, col[initials], "AB")
    ws.cell(2, col[comment], "Ska vara 6410")
    ws.cell(4, col[date_col], dt.datetime(2024, 4, 2))
    returned = data_dir.landing_for("dq_decisions") / f"retur_{lang}.xlsx"
    returned.parent.mkdir(parents=True, exist_ok=True)
    wb.save(returned)
    [result] = load_source(DECISIONS, data_dir, KEY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined, result.rows_skipped) == (
        4,
        3,
        0,
        1,
    )
    got = q(
        data_dir,
        "select source_line, exception_id, decision, comment, decided_on, "
        "decided_on_given from raw.dq_decision order by source_line",
    )
    today = dt.date.today()
    assert got == [
        (2, ids[0], "confirmed", "Ska vara 6410", today, False),
        (3, ids[1], "dismissed", None, today, False),
        (4, ids[2], "corrected", None, dt.date(2024, 4, 2), True),
    ]
