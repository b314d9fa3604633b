"""Pieces of the controller's report that need no warehouse: the CSV's guard
against formula injection, the planted-data precision read from dq-eval's JSON,
and the numbers in Swedish and English."""

from __future__ import annotations

import csv
import json

import duckdb

from spendkoll.quality.report import Fmt, _write_csv, read_eval


def test_csv_text_that_looks_like_a_formula_gets_an_apostrophe(tmp_path):
    con = duckdb.connect()
    con.execute("create schema marts; create table marts.x (name varchar, amount decimal(18,2))")
    names = ['=HYPERLINK("http://x","y")', "+1+1", "-2", "@SUM(A1)", "\t=1", "\r=1", "AB 1-2"]
    con.executemany("insert into marts.x values (?, ?)", [(n, -i) for i, n in enumerate(names)])
    path = tmp_path / "x.csv"
    _write_csv(con, ["name", "amount"], path, "marts.x", "amount desc")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert [r["name"] for r in rows] == ["'" + n for n in names[:-1]] + ["AB 1-2"]
    assert rows[2]["amount"] == "-2.00"  # numbers are numbers, negative ones too


def test_planted_precision_from_dq_eval_json(tmp_path):
    path = tmp_path / "dq_eval.json"
    assert read_eval(path)["precision"] == {}  # absent: nothing, no error
    path.write_text(
        json.dumps(
            {
                "measured_on": "Örebro",
                "summary": {
                    "mapped": {
                        "score": {
                            "families": {"wrong_category": {"by_rule": {"DQ02": 3}}},
                            "untouched_by_rule": {"DQ02": 1, "DQ09": 5},
                        }
                    },
                    "spec": {
                        "score": {
                            "families": {"duplicate": {"by_rule": {"DQ07": 2, "DQ02": 1}}},
                            "untouched_by_rule": {"DQ02": 3, "DQ07": 0},
                        }
                    },
                },
            }
        ),
        encoding="utf-8",
    )
    got = read_eval(path)
    assert got["precision"] == {"DQ02": 0.5, "DQ07": 1.0, "DQ09": 0.0}
    assert got["note"] == "Örebro" and not got["error"]
    path.write_text("{not json", encoding="utf-8")
    assert read_eval(path)["error"].startswith("dq_eval.json")


def test_numbers_in_each_language():
    sv, en = Fmt("sv"), Fmt("en")
    assert sv.money(1234567.891, 2) == "1\u202f234\u202f567,89"
    assert en.money(1234567.891, 2) == "1,234,567.89"
    assert sv.pct(0.755) == "75,5\u00a0%" and en.pct(0.755) == "75.5 %"
    assert sv.count(None) == "-" and sv.delta(12, 10) == "+20 %"
