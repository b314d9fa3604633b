"""A blocking invoice exception stops publication until the contract controller
decides on it: the marts suite's metric counts only undecided ones."""

from __future__ import annotations

import duckdb

from spendkoll.quality.validation import MARTS_METRICS


def metrics(statuses: dict[str, str]) -> int:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.dq_invoice_exceptions as select * from (values "
        "('E1', 'blocking'), ('E2', 'blocking'), ('E3', 'warning')) t(exception_id, severity)"
    )
    con.execute("create table marts.dq_exception_status (exception_id varchar, status varchar)")
    for exception_id, status in statuses.items():
        con.execute("insert into marts.dq_exception_status values (?, ?)", [exception_id, status])
    con.execute("create table marts.fct_spend (spend_class varchar)")
    row = con.execute(MARTS_METRICS).fetchone()
    assert row is not None
    return int(row[0])


def test_undecided_blocking_exceptions_count() -> None:
    assert metrics({}) == 2
    # listed without a decision: still blocking
    assert metrics({"E1": "new", "E2": "open"}) == 2


def test_a_decision_releases_the_exception() -> None:
    assert metrics({"E1": "dismissed"}) == 1
    assert metrics({"E1": "confirmed", "E2": "resolved"}) == 0
    # a decision on a warning changes nothing
    assert metrics({"E3": "dismissed"}) == 2
