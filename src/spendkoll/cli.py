"""The ``spendkoll`` command."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from spendkoll.errors import LoadFailed, SpendkollError
from spendkoll.paths import DataDir
from spendkoll.settings import settings


def _data(args: argparse.Namespace) -> DataDir:
    if getattr(args, "data_dir", None):
        os.environ["SPENDKOLL_DATA_DIR"] = str(Path(args.data_dir).resolve())
    return DataDir.from_env().ensure()


def cmd_generate(args: argparse.Namespace) -> int:
    from spendkoll.demo.generator import DemoSpec, generate

    data = _data(args)
    if getattr(args, "organisations", None):
        return _generate_organisations(args, data)
    spec = DemoSpec(lines=args.lines, first_year=args.first_year, years=args.years, seed=args.seed)
    t = time.perf_counter()
    summary = generate(data.landing, data.demo_answers, spec)
    print(
        f"demo region written to {data.landing} in {time.perf_counter() - t:.1f}s: "
        f"{summary['lines']:,} ledger lines, {summary['suppliers']:,} suppliers, "
        f"{summary['contracts']} contracts ({summary['contract_rows']} supplier rows), "
        f"{summary['ecommerce_orders']:,} e-commerce orders; "
        f"{summary['planted_miscodings']} planted mis-codings in "
        f"{data.demo_answers / 'miscoded.csv'}, {summary['malformed_rows']} malformed rows "
        f"for the quarantine in {data.demo_answers / 'quarantine_expected.csv'}"
    )
    return 0


def _generate_organisations(args: argparse.Namespace, base: DataDir) -> int:
    """Each organisation's demo landing files in its own data directory, with the
    seed and size of its ``[organisation.demo]`` table (else the command's)."""
    from spendkoll.demo.generator import DemoSpec, generate
    from spendkoll.organisations import load_organisations

    for org in load_organisations(Path(args.organisations)):
        data = DataDir(org.data_root(base.root)).ensure()
        spec = DemoSpec(
            lines=org.demo.get("lines", args.lines),
            first_year=org.demo.get("first_year", args.first_year),
            years=org.demo.get("years", args.years),
            seed=org.demo.get("seed", args.seed),
        )
        summary = generate(data.landing, data.demo_answers, spec)
        print(
            f"{org.id} ({org.name}): {summary['lines']:,} ledger lines, "
            f"{summary['suppliers']:,} suppliers, {summary['contracts']} contracts, "
            f"{summary['ecommerce_orders']:,} e-commerce orders in {data.landing}"
        )
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from spendkoll.loaders.run import load_source
    from spendkoll.sources import load_sources

    data = _data(args)
    sources = load_sources(Path(args.sources) if args.sources else None)
    names = args.source or list(sources)
    failed = False
    for name in names:
        if name not in sources:
            print(
                f"no source {name!r} in the sources file (have: {', '.join(sources)})",
                file=sys.stderr,
            )
            return 2
        try:
            results = load_source(sources[name], data, confirm=set(args.confirm or ()))
        except LoadFailed as exc:
            results = exc.results  # type: ignore[assignment]
            print(str(exc), file=sys.stderr)
            failed = True
        for r in results:
            if r.status == "ignored":
                print(f"{r.source:<12} {r.file_name:<40} {r.status:<9} {r.message}")
                continue
            print(
                f"{r.source:<12} {r.file_name:<40} {r.status:<9} in {r.rows_in:>9,} "
                f"loaded {r.rows_loaded:>9,} quarantined {r.rows_quarantined:>6,} "
                f"flagged ids {r.rows_flagged:>6,}"
            )
            # a returned exceptions list: each row not taken, with what was expected
            for detail in getattr(r, "rejected_rows", ()):
                print(f"    not loaded: {detail}")
    return 1 if failed else 0


def cmd_status(args: argparse.Namespace) -> int:
    from spendkoll.reporting.load_status import print_load_status

    print_load_status(_data(args))
    return 0


def cmd_transform(args: argparse.Namespace) -> int:
    from spendkoll.transform.night import build_night

    rule_set = args.rule_set or settings().rule_set
    dbt_vars = {"spendkoll_as_of_date": args.as_of} if args.as_of else None
    night = build_night(
        _data(args), rule_set=rule_set, full_refresh=args.full_refresh, dbt_vars=dbt_vars
    )
    print("\n".join(night.lines()))
    return 0 if night.ok else (night.returncode or 1)


def cmd_docs(args: argparse.Namespace) -> int:
    from spendkoll.transform.dbt import generate_docs

    rule_set = args.rule_set or settings().rule_set
    print(f"dbt docs: {generate_docs(_data(args), rule_set)}")
    return 0


def cmd_dq_recall(args: argparse.Namespace) -> int:
    from spendkoll.quality.detection import format_report, measure

    report = measure(_data(args), Path(args.answers) if args.answers else None)
    print(format_report(report))
    return 0


def cmd_dq_eval(args: argparse.Namespace) -> int:
    from spendkoll.quality import evaluation as ev

    path = Path(args.file) if args.file else ev.default_real_file()
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        print(f"--seeds: expected numbers like 1,2,3, got {args.seeds!r}", file=sys.stderr)
        return 2
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not seeds or not variants or set(variants) - set(ev.VARIANTS):
        print(
            f"--seeds needs at least one seed and --variants some of {','.join(ev.VARIANTS)}",
            file=sys.stderr,
        )
        return 2
    if not path.is_file():
        print(
            f"spendkoll: {path}: the real Örebro file is not there (give --file)", file=sys.stderr
        )
        return 2
    print(ev.HEADLINE)
    print(
        f"file: {path}; rule set {ev.RULE_SET}; {args.per_family} planted lines per family; "
        f"seeds {','.join(map(str, seeds))}; variants {','.join(variants)}"
    )
    print(ev.format_eligibility(variants) + "\n", flush=True)
    results = ev.evaluate(
        path,
        seeds,
        variants,
        args.per_family,
        progress=lambda r: print(ev.format_run(r) + "\n", flush=True),
    )
    print(ev.format_summary(results))
    print("\n" + ev.HEADLINE)
    if args.json:
        Path(args.json).write_text(ev.results_json(results, path), encoding="utf-8")
        print(f"results: {args.json}")
    missed = any(not c.ok for checks in ev.summary_checks(results).values() for c in checks)
    return 1 if missed and args.require_targets else 0


def cmd_validate(args: argparse.Namespace) -> int:
    from spendkoll.quality.validation import Validator

    validator = Validator(_data(args), chunk_rows=args.chunk_rows)
    reports = []
    if args.stage in ("raw", "all"):
        reports.append(validator.validate_raw(revalidate=args.revalidate))
    if args.stage in ("marts", "all"):
        reports.append(validator.validate_marts())
    for report in reports:
        print(report.summary())
    if reports and reports[-1].docs_index:
        print(f"GX Data Docs: {reports[-1].docs_index}")
    return 0 if all(r.passed for r in reports) else 1


def cmd_publish(args: argparse.Namespace) -> int:
    from spendkoll.publish import publish

    print(f"published: {publish(_data(args), force=args.force)}")
    return 0


def cmd_dq_report(args: argparse.Namespace) -> int:
    from spendkoll.quality.report import build_report

    report = build_report(_data(args), month=args.month, lang=args.lang)
    print(
        f"controller's report: {report.index} (English: index.en.html; validation for the "
        f"data engineer: {report.validation}) for {report.month or 'no month'}: "
        f"{report.on_list_month:,} exceptions on the list in the month; "
        f"{report.xlsx} ({report.on_list:,} on the list to accounting, all months, of "
        f"{report.flagged:,} flagged lines); {report.csv.name} beside it"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from spendkoll.reporting.monthly import generate_monthly_reports

    reports = generate_monthly_reports(
        _data(args), args.month, lang=args.lang, units=args.unit or None, target_pct=args.target
    )
    for r in reports:
        print(f"{r.period} {r.unit_id:<8} {r.path}")
    return 0


def cmd_kpis(args: argparse.Namespace) -> int:
    from spendkoll.reporting.headline import print_headline

    print_headline(_data(args))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from spendkoll.orchestration.assets import LOAD_SOURCES
    from spendkoll.orchestration.local_airflow import (
        DagRunFailed,
        NightRun,
        airflow_env,
        run_dag,
        run_night,
        setup_airflow,
    )
    from spendkoll.paths import project_root
    from spendkoll.reporting.load_status import print_load_status

    data = _data(args)
    args.first_year, args.years, args.seed = 2024, 2, 2017
    cmd_generate(args)
    env = airflow_env(data, project_root() / "include" / "sources" / "demo.toml")
    # DQ15 (a payment to a deregistered or bankrupt supplier) blocks publication by
    # default; the demo plants such payments, so its night runs the rule as a warning
    from spendkoll.demo.generator import with_demo_dbt_vars

    with_demo_dbt_vars(env)
    print(
        "(the demo runs rule DQ15, payments to deregistered or bankrupt suppliers, as a "
        "warning: its planted cases would otherwise stop the publication, as they should "
        "in production until the controller decides on them)"
    )
    t = time.perf_counter()
    print(f"setting up Airflow (SQLite metadata database in {data.airflow_home}) ...", flush=True)
    setup_airflow(env)
    today = date.today().isoformat()
    failed: list[str] = []
    # the register is a weekly snapshot; the demo's first night loads it too
    dags = [f"spendkoll_load_{s}" for s in LOAD_SOURCES]
    dags += ["spendkoll_load_supplier_register", "spendkoll_transform"]
    print(
        f"the night's DAGs for {today}, one after the other in one Airflow process "
        "(DAG.test, as `airflow dags test` runs each) ...",
        flush=True,
    )

    def show(run: NightRun) -> None:
        print(f"  {run.dag_id}: {run.state} in {run.seconds:.1f} s", flush=True)
        if run.state != "success":
            print(f"  FAILED: {run.dag_id}; see the task logs under {env['AIRFLOW_HOME']}/logs")
            failed.append(run.dag_id)

    started = time.perf_counter()
    try:
        run_night(env, today, dags, on_run=show)
    except RuntimeError as exc:
        print(f"  FAILED: {exc}", file=sys.stderr)
        failed.append("the night's Airflow process")
    night = time.perf_counter() - started  # the loads and the transform, Airflow's start-up too
    reports: list[Path] = []
    if not failed:
        from spendkoll.reporting.monthly import latest_closed_period

        month = latest_closed_period(data)
        print(f"airflow dags test spendkoll_monthly_report {today} (month {month}) ...", flush=True)
        try:
            run_dag(env, "spendkoll_monthly_report", today, {"month": month})
            reports = sorted((data.reports / "monthly" / month).glob("*.html"))
        except DagRunFailed as exc:
            print(f"  FAILED: {exc}", file=sys.stderr)
            failed.append("spendkoll_monthly_report")
    print(
        f"The night (the loads and the transform in one Airflow process, one dbt "
        f"process): {night:.1f} s; "
        f"all Airflow runs done in {time.perf_counter() - t:.0f} s\n"
    )
    print_load_status(data)
    if not failed:
        from spendkoll.publish import parquet_path, published_path
        from spendkoll.quality.report import quality_summary
        from spendkoll.reporting.headline import print_headline
        from spendkoll.transform.dbt import generate_docs

        print_headline(data)
        print()
        from spendkoll.reporting.headline import register_summary

        print(register_summary(data))
        print()
        print(quality_summary(data))
        quality = data.reports / "quality"
        gx_docs = data.root / "gx" / "gx" / "uncommitted" / "data_docs" / "local_site"
        gx_docs = gx_docs / "index.html"
        from spendkoll.quality.report import accounting_list_counts

        counts = accounting_list_counts(data)
        listed = (
            (f" — {counts[0]:,} exceptions on the list to accounting (of {counts[1]:,} flagged)")
            if counts
            else ""
        )
        print(
            f"\nController's report: {quality / 'index.html'}{listed} (English: "
            f"index.en.html; validation for the data engineer: validation.html)"
        )
        print(
            f"Exceptions list: {quality / 'exceptions.xlsx'} (to accounting, decision columns "
            f"to fill in), {quality / 'exceptions.csv'} (every flagged line per rule)"
        )
        print(f"GX Data Docs: {gx_docs}")
        print(f"Published marts snapshot (read-only, for BI tools): {published_path(data)}")
        print(
            "Published Parquet files (a file per mart; fct_spend and dq_invoice_exceptions "
            f"a file per period): {parquet_path(data)}"
        )
        if reports:
            print(
                f"Monthly reports ({len(reports)} files, one per org unit and index.html for "
                f"the organisation): {reports[0].parent}"
            )
            index = reports[0].parent / "index.html"
            print(f"  the organisation: {index}")
        print(f"dbt docs (models, columns and KPI definitions): {generate_docs(data)}")
    return 1 if failed else 0


def cmd_check_deployment(args: argparse.Namespace) -> int:
    from spendkoll.deployment import deployment_problems

    problems = deployment_problems()
    for problem in problems:
        print(f"spendkoll: {problem}", file=sys.stderr)
    if problems:
        print(
            "spendkoll: the deployment settings are not ready; nothing was started", file=sys.stderr
        )
        return 1
    print("deployment settings: ok")
    return 0


def cmd_airflow_standalone(args: argparse.Namespace) -> int:
    from spendkoll.orchestration.local_airflow import airflow_env, setup_airflow
    from spendkoll.paths import project_root

    data = _data(args)
    env = airflow_env(data, project_root() / "include" / "sources" / "demo.toml")
    setup_airflow(env)
    print(
        f"starting `airflow standalone` with AIRFLOW_HOME={env['AIRFLOW_HOME']}: UI on "
        "http://localhost:8080; the admin password is printed below and kept in "
        "simple_auth_manager_passwords.json.generated there"
    )
    airflow_bin = str(Path(sys.executable).with_name("airflow"))
    os.execve(airflow_bin, [airflow_bin, "standalone"], env)


def cmd_airflow_pools(args: argparse.Namespace) -> int:
    from spendkoll.orchestration.local_airflow import set_pools, warehouse_pools

    set_pools(dict(os.environ))
    for name in warehouse_pools():
        print(f"pool {name}: 1 slot")
    return 0


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="spendkoll", description=__doc__)
    p.add_argument(
        "--data-dir", help="runtime data directory (default $SPENDKOLL_DATA_DIR or var/)"
    )
    p.add_argument(
        "--org",
        metavar="ID",
        help="work as this organisation of $SPENDKOLL_ORGANISATIONS: its data directory "
        "<data>/orgs/<id>, sources, rule set, dbt vars, seeds and key",
    )
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write the demo region's landing files")
    g.add_argument("--lines", type=int, default=200_000, help="ledger lines (up to 10 million)")
    g.add_argument("--seed", type=int, default=2017)
    g.add_argument("--first-year", type=int, default=2024)
    g.add_argument("--years", type=int, default=2)
    g.add_argument(
        "--organisations",
        metavar="FILE",
        help="an organisations file: write every organisation's demo files under "
        "<data>/orgs/<id>/ (its [organisation.demo] seed and lines)",
    )
    g.set_defaults(func=cmd_generate)

    ld = sub.add_parser("load", help="load landing files into the warehouse")
    ld.add_argument("source", nargs="*", help="source names (default: all)")
    ld.add_argument("--sources", help="sources file (default $SPENDKOLL_SOURCES or the demo's)")
    ld.add_argument(
        "--confirm",
        action="append",
        metavar="FILE",
        help="load this delivery although it removes or changes more than the "
        "source's max_change_share of what is loaded (taken back from rejected/ "
        "when it was held there); repeatable",
    )
    ld.set_defaults(func=cmd_load)

    st = sub.add_parser("status", help="what has been loaded, per source")
    st.set_defaults(func=cmd_status)

    t = sub.add_parser("transform", help="build the marts and KPIs (dbt build) on the warehouse")
    t.add_argument(
        "--rule-set",
        help="account rule set: demo_region or kommun_bas "
        "(default $SPENDKOLL_RULE_SET or demo_region)",
    )
    t.add_argument(
        "--as-of",
        type=_iso_date,
        help="as-of date of kpi_contract_expiry, YYYY-MM-DD (default: the last posting date)",
    )
    t.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every line and mart instead of what changed since the last build",
    )
    t.set_defaults(func=cmd_transform)

    dc = sub.add_parser("docs", help="generate the dbt docs site (one HTML file)")
    dc.add_argument("--rule-set", help="account rule set (default $SPENDKOLL_RULE_SET)")
    dc.set_defaults(func=cmd_docs)

    dr = sub.add_parser(
        "dq-recall",
        help="precision and recall of the invoice rules against the demo's planted mis-codings",
    )
    dr.add_argument("--answers", help="answer file (default <data>/demo/answers/miscoded.csv)")
    dr.set_defaults(func=cmd_dq_recall)

    de = sub.add_parser(
        "dq-eval",
        help="recall and flag rate of the invoice rules on the REAL "
        "Örebro file with planted mis-codings (not the demo generator)",
    )
    de.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (default 1,2,3)")
    de.add_argument(
        "--variants",
        default="mapped,spec",
        help="mapped (the file as published), spec (leverantörsreskontra 1.1 with "
        "vouchers, dates and VAT); default both",
    )
    de.add_argument(
        "--per-family", type=int, default=40, help="planted lines per family (default 40)"
    )
    de.add_argument(
        "--file",
        help="the real file (default ../shared/data/real/orebro-2016-03/"
        "leverantorsfakturor_2016-03.csv beside the project home)",
    )
    de.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    de.add_argument(
        "--require-targets",
        action="store_true",
        help="exit 1 when a target is missed (default: exit 0 either way)",
    )
    de.set_defaults(func=cmd_dq_eval)

    v = sub.add_parser("validate", help="run the Great Expectations suites")
    v.add_argument("stage", choices=["raw", "marts", "all"], nargs="?", default="all")
    v.add_argument(
        "--revalidate",
        action="store_true",
        help="validate every loaded batch again, not only the new ones",
    )
    v.add_argument(
        "--chunk-rows", type=int, default=250_000, help="rows per validated chunk (bounds memory)"
    )
    v.set_defaults(func=cmd_validate)

    pb = sub.add_parser(
        "publish",
        help="publish the marts as a read-only DuckDB snapshot "
        "(refused after a failed or unfinished build or validation)",
    )
    pb.add_argument(
        "--force",
        action="store_true",
        help="publish even though the last build or validation failed",
    )
    pb.set_defaults(func=cmd_publish)

    q = sub.add_parser(
        "dq-report",
        help="write the controller's report (index.html, "
        "index.en.html, validation.html) and the list to accounting (XLSX)",
    )
    q.add_argument(
        "--month", help="YYYY-MM (default: the latest month with exceptions on the list)"
    )
    q.add_argument(
        "--lang",
        choices=["sv", "en"],
        default="sv",
        help="language of exceptions.xlsx (the HTML is written in both)",
    )
    q.set_defaults(func=cmd_dq_report)

    rp = sub.add_parser(
        "report",
        help="write the monthly reports (one per org unit and one "
        "for the organisation) from the published marts",
    )
    rp.add_argument("--month", help="YYYY-MM (default: the latest month in the marts)")
    rp.add_argument("--lang", choices=["sv", "en"], default="sv")
    rp.add_argument("--unit", action="append", help="only this org unit (repeatable)")
    rp.add_argument(
        "--target",
        type=float,
        help="loyalty target in per cent (default $SPENDKOLL_LOYALTY_TARGET_PCT or 92)",
    )
    rp.set_defaults(func=cmd_report)

    k = sub.add_parser("kpis", help="print the headline KPIs per fiscal year from the marts")
    k.set_defaults(func=cmd_kpis)

    d = sub.add_parser("demo", help="generate the demo region and run the DAGs in Airflow")
    d.add_argument("--lines", type=int, default=200_000)
    d.set_defaults(func=cmd_demo)

    cd = sub.add_parser(
        "check-deployment",
        help="check the deployment's settings (.env): no "
        "placeholder, a valid Fernet key, strong secrets; exit 1 if not",
    )
    cd.set_defaults(func=cmd_check_deployment)

    ap = sub.add_parser(
        "airflow-pools",
        help="create the warehouse pools (one slot per organisation's warehouse) in Airflow",
    )
    ap.set_defaults(func=cmd_airflow_pools)
    a = sub.add_parser("airflow-standalone", help="start Airflow standalone on the data dir")
    a.set_defaults(func=cmd_airflow_standalone)
    return p


def main(argv: list[str] | None = None) -> int:
    from spendkoll.logs import configure

    args = build_parser().parse_args(argv)
    configure()
    try:
        if args.org:
            from spendkoll.organisations import activated, by_id

            base = Path(args.data_dir).resolve() if args.data_dir else DataDir.from_env().root
            args.data_dir = None  # the organisation's own directory, under the base
            with activated(by_id(args.org), base):
                return int(args.func(args))
        return int(args.func(args))
    except SpendkollError as exc:
        print(f"spendkoll: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
