"""The night's dbt work in one dbt process: source freshness, then ``dbt build``.

The transform DAG's ``dbt_build`` task and ``spendkoll transform`` both call
:func:`build_night`, so what the benchmark times on the command line is what
Airflow runs. One child process (``python -m spendkoll.transform.night``),
holding the warehouse's writer lock, parses the project once and hands the
parsed manifest to dbt's Python runner for both commands (dbt's documented
"reusing objects" pattern): no second parse, no process per model.

dbt's own line per node (``12 of 84 OK created sql table model ... [OK in
0.52s]``) streams to the caller's output (the Airflow task log), and at the end
the child writes ``<data>/dbt/target/night.json``: the freshness verdicts and,
per node, its status, seconds and rows. :class:`NightBuild` reads it back; its
:meth:`NightBuild.summary` is what the task returns (its XCom) and logs.

**When the night rebuilds everything.** A night is incremental (dbt's
``is_incremental()`` models rebuild what the new deliveries touch) unless the
project changed since the last good build: :func:`state_fingerprint` digests
what dbt itself tracks for its partial parsing and ``state:modified`` (the
checksum of every model, seed and snapshot file and of every macro, each node's
config and columns, the project files with their vars, and the command-line
vars), so a new or changed var, seed, rule or model forces ``--full-refresh``
without anyone listing it; so does a night after one that did not finish
(failed, or was killed at any moment). The fingerprint, and whether that build
finished, is kept in ``<data>/dbt/state/fingerprint.json`` beside dbt's
artifacts.

Source freshness is a warning by default; with
``SPENDKOLL_FRESHNESS_BLOCKING=true`` a stale source stops the night before
``dbt build`` runs, so yesterday's marts stay as they are.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spendkoll.paths import DataDir
from spendkoll.transform.freshness import (
    SourceFreshness,
    failing,
    freshness_is_blocking,
    read_freshness,
)

SUMMARY_FILE = "night.json"


@dataclass(frozen=True)
class NodeResult:
    node: str  # unique id, e.g. model.spendkoll.fct_spend
    kind: str  # model | seed | test | snapshot
    status: str  # success | error | skipped | pass | fail | warn
    seconds: float
    rows: int | None
    message: str

    @property
    def name(self) -> str:
        return self.node.split(".", 2)[-1]


@dataclass
class NightBuild:
    """What one night's dbt process did."""

    returncode: int
    seconds: float
    freshness: list[SourceFreshness] = field(default_factory=list)
    nodes: list[NodeResult] = field(default_factory=list)
    stopped: str = ""  # why ``dbt build`` did not run (blocking freshness), or ""
    full_refresh: str = ""  # why this night rebuilt everything, or "" (incremental)
    output_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.stopped

    def counts(self) -> dict[str, int]:
        return dict(Counter(f"{n.kind} {n.status}" for n in self.nodes))

    def failures(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in ("error", "fail")]

    def lines(self, slowest: int = 10) -> list[str]:
        """A short account for the log: counts, freshness, failures, the slowest nodes."""
        kinds = Counter(n.kind for n in self.nodes)
        out = [
            f"dbt night: {len(self.nodes)} nodes ("
            + ", ".join(f"{v} {k}{'' if v == 1 else 's'}" for k, v in sorted(kinds.items()))
            + f") in {self.seconds:.1f} s, "
            + ("ok" if self.ok else f"FAILED ({self.stopped or 'see the nodes below'})"),
            "  "
            + (
                f"full rebuild: {self.full_refresh}"
                if self.full_refresh
                else "incremental: the project is unchanged since the last good build"
            ),
        ]
        out += [f"  source freshness: {v.line()}" for v in self.freshness]
        out += [f"  {n.status.upper()}: {n.kind} {n.name}: {n.message}" for n in self.failures()]
        for n in sorted(self.nodes, key=lambda n: -n.seconds)[:slowest]:
            rows = "" if n.rows is None else f", {n.rows:,} rows"
            out.append(f"  {n.seconds:7.2f} s  {n.kind} {n.name} ({n.status}{rows})")
        return out

    def summary(self) -> dict[str, Any]:
        """The task's XCom: small, JSON, readable in the Airflow UI."""
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 1),
            "stopped": self.stopped,
            "full_refresh": self.full_refresh,
            "counts": self.counts(),
            "freshness": [v.line() for v in self.freshness],
            "failures": [f"{n.kind} {n.name}: {n.message}" for n in self.failures()],
            "nodes": [
                {
                    "name": n.name,
                    "kind": n.kind,
                    "status": n.status,
                    "seconds": round(n.seconds, 2),
                    "rows": n.rows,
                }
                for n in self.nodes
            ],
        }


def build_night(
    data: DataDir | None = None,
    rule_set: str | None = None,
    full_refresh: bool = False,
    dbt_vars: dict[str, str] | None = None,
    freshness: bool = True,
    stream: bool = True,
) -> NightBuild:
    """Freshness and ``dbt build`` in one dbt process, as the warehouse's single writer."""
    from spendkoll.transform.dbt import run_in_project

    data = (data or DataDir.from_env()).ensure()
    target = data.root / "dbt" / "target"
    target.mkdir(parents=True, exist_ok=True)
    summary_path = target / SUMMARY_FILE
    summary_path.unlink(missing_ok=True)
    from spendkoll.settings import settings

    # the organisation's vars (SPENDKOLL_DBT_VARS), then the caller's
    all_vars = {**settings().dbt_vars, **(dbt_vars or {})}
    if rule_set:
        all_vars["spendkoll_rule_set"] = rule_set
    request = {
        "vars": all_vars,
        "full_refresh": full_refresh,
        "freshness": freshness,
        "freshness_blocking": freshness_is_blocking(),
        "summary": str(summary_path),
        "target": str(target),
        "state": str(data.root / "dbt" / "state"),
    }
    start = time.perf_counter()
    code, tail = run_in_project(
        [sys.executable, "-m", "spendkoll.transform.night", json.dumps(request)],
        data,
        stream=stream,
    )
    seconds = time.perf_counter() - start
    if not summary_path.exists():
        return NightBuild(
            code or 1,
            seconds,
            stopped=f"dbt ended without a result (exit {code})",
            output_tail=tail,
        )
    raw = json.loads(summary_path.read_text(encoding="utf-8"))
    return NightBuild(
        returncode=code,
        seconds=seconds,
        freshness=[SourceFreshness(**v) for v in raw["freshness"]],
        nodes=[NodeResult(**n) for n in raw["nodes"]],
        stopped=raw["stopped"],
        full_refresh=raw.get("full_refresh", ""),
        output_tail=tail,
    )


# ---------------------------------------------------------------------------
# The child process: dbt's Python runner, one parse for both commands.


def _node_results(result: Any) -> list[NodeResult]:
    nodes = []
    for r in getattr(result, "results", None) or []:
        response = r.adapter_response or {}
        rows = response.get("rows_affected") if isinstance(response, dict) else None
        nodes.append(
            NodeResult(
                node=r.node.unique_id,
                kind=str(r.node.resource_type),
                status=str(r.status),
                seconds=float(r.execution_time or 0.0),
                rows=int(rows) if isinstance(rows, int) and rows >= 0 else None,
                message=str(r.message or ""),
            )
        )
    return nodes


def state_fingerprint(manifest: Any) -> str:
    """A digest of what the marts are built from besides the raw rows: every model,
    seed and snapshot (file checksum, config, columns), every macro, the project
    files (``dbt_project.yml`` with its vars) and the command-line vars, all as
    dbt's parsed manifest records them. Nothing is listed by hand."""
    digest = hashlib.sha256()
    state = manifest.state_check
    digest.update(state.vars_hash.checksum.encode())
    for name, file_hash in sorted(state.project_hashes.items()):
        digest.update(f"{name}:{file_hash.checksum}".encode())
    for unique_id, node in sorted(manifest.nodes.items()):
        if str(node.resource_type) not in ("model", "seed", "snapshot"):
            continue
        config = json.dumps(node.config.to_dict(), sort_keys=True, default=str)
        columns = json.dumps(sorted(node.columns), default=str)
        digest.update(f"{unique_id}:{node.checksum.checksum}:{config}:{columns}".encode())
    for unique_id, macro in sorted(manifest.macros.items()):
        sql_digest = hashlib.sha256(macro.macro_sql.encode()).hexdigest()
        digest.update(f"{unique_id}:{sql_digest}".encode())
    return digest.hexdigest()


UNFINISHED = "the previous build did not finish (it failed or was stopped)"


def _full_refresh_reason(request: dict[str, Any], fingerprint: str) -> str:
    if request["full_refresh"]:
        return "asked for (--full-refresh)"
    path = Path(request["state"]) / "fingerprint.json"
    if not path.exists():
        return "no earlier good build recorded"
    record = json.loads(path.read_text(encoding="utf-8"))
    if not record.get("finished", True):
        return UNFINISHED
    if record.get("fingerprint") != fingerprint:
        return "the project changed since the last good build (a model, seed, macro, config or var)"
    return ""


def _record_build(request: dict[str, Any], fingerprint: str, *, finished: bool) -> None:
    """Before ``dbt build`` the record says the build has not finished; only a
    build that succeeded marks it finished. A night that fails, or is killed
    at any moment (its snapshots may already have taken in the changes the
    line marts never saw), thus makes the next night a full rebuild."""
    state = Path(request["state"])
    state.mkdir(parents=True, exist_ok=True)
    tmp = state / "fingerprint.json.tmp"
    tmp.write_text(json.dumps({"fingerprint": fingerprint, "finished": finished}), encoding="utf-8")
    tmp.replace(state / "fingerprint.json")


def _child(request: dict[str, Any]) -> int:
    from dbt.cli.main import dbtRunner

    var_args = ["--vars", json.dumps(request["vars"])] if request["vars"] else []
    summary: dict[str, Any] = {"freshness": [], "nodes": [], "stopped": "", "full_refresh": ""}

    def write() -> None:
        Path(request["summary"]).write_text(json.dumps(summary), encoding="utf-8")

    parsed = dbtRunner().invoke(["parse", *var_args])
    if not parsed.success or parsed.result is None:
        summary["stopped"] = f"dbt parse failed: {parsed.exception or 'see the log above'}"
        write()
        return 2
    from dbt.contracts.graph.manifest import Manifest

    assert isinstance(parsed.result, Manifest)
    runner = dbtRunner(manifest=parsed.result)
    if request["freshness"]:
        out = Path(request["target"]) / "sources.json"  # dbt writes it to its target path
        out.unlink(missing_ok=True)
        runner.invoke(["source", "freshness", *var_args])
        if not out.exists():
            summary["stopped"] = "dbt source freshness wrote no result"
            write()
            return 2
        verdicts = read_freshness(out)
        summary["freshness"] = [asdict(v) for v in verdicts]
        bad = failing(verdicts)
        if bad and request["freshness_blocking"]:
            summary["stopped"] = "stale sources, marts not rebuilt: " + "; ".join(
                v.line() for v in bad
            )
            write()
            return 3
    fingerprint = state_fingerprint(parsed.result)
    summary["full_refresh"] = _full_refresh_reason(request, fingerprint)
    _record_build(request, fingerprint, finished=False)
    built = runner.invoke(
        ["build", *(["--full-refresh"] if summary["full_refresh"] else []), *var_args]
    )
    summary["nodes"] = [asdict(n) for n in _node_results(built.result)]
    if built.exception is not None:
        summary["stopped"] = f"dbt build raised: {built.exception}"
    if built.success:
        _record_build(request, fingerprint, finished=True)
    write()
    return 0 if built.success else 1


if __name__ == "__main__":
    sys.exit(_child(json.loads(sys.argv[1])))
