"""Fault points: named places where the fault-injection tests kill the process.

``fault_point("load.in_transaction")`` does nothing unless the environment
variable ``SPENDKOLL_FAULT_POINT`` names that point; then the process kills
itself with SIGKILL, exactly as ``kill -9`` or the OOM killer would, at a
moment chosen by the test instead of by chance. The tests in
``tests/integration/test_fault_injection.py`` run each point and then check
that a plain rerun recovers: nothing lost, nothing twice, no stale lock, and
the last published marts intact until the next good run.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "SPENDKOLL_FAULT_POINT"


def fault_point(name: str) -> None:
    from spendkoll.settings import settings

    if settings().fault_point == name:
        os.kill(os.getpid(), signal.SIGKILL)
