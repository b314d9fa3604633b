"""Logging for spendkoll: one line per stage with its row counts and elapsed time.

Library code logs through ``logging.getLogger(__name__)``; in Airflow the task's
log handler takes the records, on the command line :func:`configure` sends them
to stderr (the command's results stay on stdout). Personnummer are masked in
every record (:func:`spendkoll.pii.install_log_masking`).

    with stage(log, "load ledger_2024-01.csv") as done:
        ...
        done.rows = 123_456
    # -> "load ledger_2024-01.csv: 123,456 rows in 4.2 s"
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: int = logging.INFO) -> None:
    """Log to stderr unless something (Airflow, pytest) has configured logging already."""
    from spendkoll.pii import install_log_masking

    install_log_masking()
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))
        root.addHandler(handler)
    logging.getLogger("spendkoll").setLevel(level)


@dataclass
class Stage:
    name: str
    rows: int | None = None
    detail: str = ""
    seconds: float = 0.0
    extra: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        parts = []
        if self.rows is not None:
            parts.append(f"{self.rows:,} rows")
        parts += [f"{v:,} {k}" for k, v in self.extra.items()]
        counts = ", ".join(parts)
        return f"{self.name}: {counts + ' ' if counts else ''}in {self.seconds:.1f} s" + (
            f" ({self.detail})" if self.detail else ""
        )


@contextmanager
def stage(log: logging.Logger, name: str) -> Iterator[Stage]:
    """Log ``name``'s end with what the block set on the yielded :class:`Stage`
    (``rows``, ``extra`` counts, ``detail``) and the elapsed time; a failure is
    logged with its elapsed time too, and raised."""
    current = Stage(name)
    start = time.perf_counter()
    try:
        yield current
    except BaseException:
        current.seconds = time.perf_counter() - start
        log.error("%s: failed after %.1f s", name, current.seconds)
        raise
    current.seconds = time.perf_counter() - start
    log.info("%s", current.line())


P = ParamSpec("P")
R = TypeVar("R")


def timed(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: log the function's end (or failure) with its elapsed time as ``name``."""

    def wrap(func: Callable[P, R]) -> Callable[P, R]:
        log = logging.getLogger(func.__module__)

        @functools.wraps(func)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with stage(log, name):
                return func(*args, **kwargs)

        return run

    return wrap


T = TypeVar("T")


def progress(items: Sequence[T], what: str, unit: str = "file") -> Iterator[T]:
    """``items``, with a progress bar on stderr when stderr is a terminal and
    there is more than one item; elsewhere (Airflow's task log, a pipe, CI)
    just the items, so logs hold lines and no bar. Log records written while
    the bar shows are printed above it."""
    stream = sys.stderr
    if len(items) < 2 or not stream.isatty():
        yield from items
        return
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    with (
        logging_redirect_tqdm(),
        tqdm(items, desc=what, unit=unit, file=stream, leave=False, dynamic_ncols=True) as bar,
    ):
        yield from bar
