"""Failure callbacks: always a log line, e-mail only when an address is configured."""

from __future__ import annotations

from types import SimpleNamespace

from spendkoll.orchestration.alerts import failure_callbacks, log_failure


def test_no_email_without_an_address(monkeypatch):
    monkeypatch.delenv("SPENDKOLL_ALERT_EMAIL", raising=False)
    assert failure_callbacks() == [log_failure]


def test_email_notifier_when_configured(monkeypatch):
    monkeypatch.setenv("SPENDKOLL_ALERT_EMAIL", "controller@example.se, data@example.se")
    monkeypatch.setenv("SPENDKOLL_ALERT_FROM", "spendkoll@example.se")
    callbacks = failure_callbacks()
    assert callbacks[0] is log_failure and len(callbacks) == 2
    notifier = callbacks[1]
    assert type(notifier).__name__ == "SmtpNotifier"
    assert notifier.to == ["controller@example.se", "data@example.se"]
    assert notifier.from_email == "spendkoll@example.se"


def test_log_failure_writes_the_alert_log(tmp_path, monkeypatch):
    monkeypatch.setenv("SPENDKOLL_DATA_DIR", str(tmp_path))
    ti = SimpleNamespace(dag_id="spendkoll_transform", task_id="validate_marts")
    log_failure(
        {"ti": ti, "run_id": "manual__1", "exception": ValueError("reconciliation\nfailed")}
    )
    line = (tmp_path / "alerts.log").read_text(encoding="utf-8")
    assert "FAILED spendkoll_transform.validate_marts run manual__1: reconciliation failed" in line
