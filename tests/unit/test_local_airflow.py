"""A DAG run's duration as Airflow records it, whatever `airflow dags test` put in start_date."""

from __future__ import annotations

import pytest

from spendkoll.orchestration.local_airflow import run_seconds


@pytest.mark.parametrize(
    ("run", "seconds"),
    [
        # `dags test`: start_date is the logical date, hours before the run was made
        (
            {
                "start_date": "2026-11-26T00:00:00+00:00",
                "run_after": "2026-11-26T02:06:24+00:00",
                "end_date": "2026-11-26T02:06:28.5+00:00",
            },
            4.5,
        ),
        # the bench's second night: the logical date is tomorrow
        (
            {
                "start_date": "2026-11-27T00:00:00+00:00",
                "run_after": "2026-11-26T02:10:00+00:00",
                "end_date": "2026-11-26T02:11:00+00:00",
            },
            60.0,
        ),
        # a scheduler's run: queued at run_after, started later
        (
            {
                "start_date": "2026-11-26T02:00:07+00:00",
                "run_after": "2026-11-26T02:00:00+00:00",
                "end_date": "2026-11-26T02:01:07+00:00",
            },
            60.0,
        ),
    ],
)
def test_run_seconds(run: dict[str, str], seconds: float) -> None:
    assert run_seconds(run) == seconds
