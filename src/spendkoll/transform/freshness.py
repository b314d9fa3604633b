"""dbt source freshness, read back as a short verdict for the transform DAG.

The freshness rules live in ``dbt_project/models/staging/_raw__sources.yml``
(newest posting date in the ledger, newest load batch). A stale source is a
warning by default; with ``SPENDKOLL_FRESHNESS_BLOCKING=true`` an ``error``
status stops the transform, so yesterday's marts stay as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from spendkoll.paths import DataDir
from spendkoll.transform.dbt import run_dbt


@dataclass(frozen=True)
class SourceFreshness:
    source: str
    status: str  # pass | warn | error | runtime error
    max_loaded_at: str | None
    age_hours: float | None

    def line(self) -> str:
        age = "no rows" if self.age_hours is None else f"{self.age_hours / 24:.1f} days old"
        return f"{self.source}: {self.status} (newest {self.max_loaded_at or '-'}, {age})"


def freshness_is_blocking() -> bool:
    from spendkoll.settings import settings

    return settings().freshness_blocking


def check_source_freshness(data: DataDir | None = None) -> list[SourceFreshness]:
    """Run ``dbt source freshness`` and return one verdict per checked source table."""
    data = (data or DataDir.from_env()).ensure()
    out = data.root / "dbt" / "target" / "sources.json"
    out.unlink(missing_ok=True)
    proc = run_dbt(["source", "freshness"], data)  # written to dbt's target path
    if not out.exists():
        raise RuntimeError(
            "dbt source freshness wrote no result:\n"
            + (proc.stdout or "")[-3000:]
            + (proc.stderr or "")[-2000:]
        )
    return read_freshness(out)


def read_freshness(path: Path) -> list[SourceFreshness]:
    """The verdicts of a ``sources.json`` that ``dbt source freshness --output`` wrote."""
    results = json.loads(path.read_text(encoding="utf-8"))["results"]
    verdicts = []
    for r in results:
        age = r.get("max_loaded_at_time_ago_in_s")
        verdicts.append(
            SourceFreshness(
                source=r["unique_id"].removeprefix("source.spendkoll."),
                status=r["status"],
                max_loaded_at=r.get("max_loaded_at"),
                age_hours=None if age is None else float(age) / 3600,
            )
        )
    return sorted(verdicts, key=lambda v: v.source)


def failing(verdicts: list[SourceFreshness]) -> list[SourceFreshness]:
    return [v for v in verdicts if v.status in ("error", "runtime error")]
