"""A line per stage, with counts and elapsed time; failures logged and raised."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from spendkoll.logs import progress, stage, timed


def test_stage_logs_counts_and_seconds(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("spendkoll.test")
    with caplog.at_level(logging.INFO, logger="spendkoll"), stage(log, "load x.csv") as done:
        done.rows = 1234567
        done.extra = {"files": 3}
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("load x.csv: 1,234,567 rows, 3 files in ")
    assert record.getMessage().endswith(" s")


def test_a_failed_stage_is_logged_as_an_error_and_raised(caplog) -> None:
    @timed("publish")
    def publish() -> None:
        raise RuntimeError("disk full")

    with caplog.at_level(logging.INFO, logger="tests"), pytest.raises(RuntimeError):
        publish()
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.getMessage().startswith(
        "publish: failed after "
    )


def test_personnummer_never_reaches_a_log_line(caplog) -> None:
    from spendkoll.logs import configure

    configure()
    log = logging.getLogger("spendkoll.test")
    with caplog.at_level(logging.INFO, logger="spendkoll"):
        log.info("rejected %s", "row 7: supplier 19121212-1212 unknown")
    assert "19121212-1212" not in caplog.text and "[personnummer]" in caplog.text


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    files = ["a.csv", "b.csv", "c.csv"]
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    assert list(progress(files, "load ledger")) == files
    assert piped.getvalue() == ""  # a log file or Airflow's task log gets no bar

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    # the command line's set-up (spendkoll.logs.configure): one handler on stderr
    # (Airflow or another test may have configured logging in this process)
    monkeypatch.setattr(logging.getLogger(), "handlers", [logging.StreamHandler(terminal)])
    monkeypatch.setattr(logging.getLogger(), "level", logging.INFO)
    log = logging.getLogger("test_logs.progress")
    seen = []
    for name in progress(files, "load ledger"):
        seen.append(name)
        log.warning("loaded %s", name)
    assert seen == files
    shown = terminal.getvalue()
    assert "load ledger:" in shown and "/3 [" in shown
    # log records are written above the bar, whole
    assert all(f"loaded {n}" in shown for n in files)
