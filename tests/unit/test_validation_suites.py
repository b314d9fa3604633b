"""The row suites add to the database's own checks instead of repeating them."""

from __future__ import annotations

import duckdb
import pytest

from spendkoll.quality.validation import ROW_SUITES, load_suite_json
from spendkoll.warehouse import RAW_DDL

TABLES = {
    "raw_ledger_line": "ledger_line",
    "raw_contract": "contract",
    "raw_ecommerce_order": "ecommerce_order",
}


@pytest.fixture(scope="module")
def not_null() -> dict[str, set[str]]:
    con = duckdb.connect()
    con.execute(RAW_DDL)
    rows = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'raw' and is_nullable = 'NO'"
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


@pytest.mark.parametrize("suite", sorted(ROW_SUITES))
def test_no_row_check_the_ddl_enforces(suite, not_null) -> None:
    spec = load_suite_json(suite)
    table = TABLES[suite]
    for e in spec["expectations"]:
        kind, column = e["type"], e["kwargs"].get("column")
        # types are the columns' types; the columns are the query's: neither can fail
        assert kind not in (
            "expect_column_values_to_be_in_type_list",
            "expect_column_values_to_be_of_type",
            "expect_table_columns_to_match_set",
        ), (suite, kind)
        if kind == "expect_column_values_to_not_be_null":
            assert column not in not_null[table], (
                f"{suite}: {column} is NOT NULL in raw.{table} already"
            )


@pytest.mark.parametrize("suite", sorted(ROW_SUITES))
def test_the_query_reads_exactly_the_columns_the_suite_checks(suite) -> None:
    spec = load_suite_json(suite)
    needed = {
        v for e in spec["expectations"] for k, v in e["kwargs"].items() if k.startswith("column")
    }
    _, sql = ROW_SUITES[suite]
    con = duckdb.connect()
    con.execute(RAW_DDL)
    columns = {d[0] for d in con.execute(sql, [0]).description}
    assert columns == needed
