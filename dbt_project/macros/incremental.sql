{#- The incremental build of the line marts. How it works:
    models/intermediate/build/_build__docs.md. -#}

{#- Where the build keeps its state between runs: a table in the schema of the
    build models (intermediate). -#}
{% macro spendkoll_state(name) -%}
    {{ return(api.Relation.create(database=target.database, schema='intermediate', identifier=name)) }}
{%- endmacro %}

{#- A change of a seed, var, macro or model (anything but the raw rows) makes
    the night runner (spendkoll.transform.night, behind `spendkoll transform`
    and the transform DAG) build with --full-refresh: it compares a digest of
    dbt's parsed manifest with the last good build's. Nothing is listed here. -#}

{#- True for a line (of stg_ledger__lines or fct_spend, aliased `alias`)
    that this build must (re)build: every line on a full build; else the lines
    of new, changed or vanished batches, of suppliers whose contracts changed,
    and of invoices e-commerce orders started or stopped naming (a superset
    is harmless: delete and insert use the same predicate). -#}
{% macro spendkoll_in_build_scope(alias) -%}
    (
        exists (select 1 from {{ ref('int_spend_build_scope') }} as s where s.build_all)
        or {{ alias }}.batch_id in (
            select s.batch_id from {{ ref('int_spend_build_scope') }} as s
            where s.reason = 'batch')
        or {{ alias }}.supplier_key in (
            select s.supplier_key from {{ ref('int_spend_build_scope') }} as s
            where s.reason = 'contracts')
        -- (supplier, invoice) pairs, widened to suppliers x invoice numbers: two
        -- plain semi-joins instead of a correlated one over every line; a line
        -- rebuilt without need comes out the same.
        or ({{ alias }}.supplier_key in (
                select s.supplier_key from {{ ref('int_spend_build_scope') }} as s
                where s.reason = 'ecommerce')
            and {{ alias }}.invoice_number in (
                select s.invoice_number from {{ ref('int_spend_build_scope') }} as s
                where s.reason = 'ecommerce'))
    )
{%- endmacro %}

{#- The invoice a line belongs to: the supplier's invoice number, else the
    voucher, else the line itself. -#}
{% macro spendkoll_invoice_key(alias) -%}
    coalesce({{ alias }}.supplier_key, '?') || '|' || coalesce(
        'f:' || {{ alias }}.invoice_number,
        'v:' || {{ alias }}.verification_id,
        'l:' || {{ alias }}.ledger_line_id
    )
{%- endmacro %}

{#- The run's timestamp, stamped on the rows it (re)builds. -#}
{% macro spendkoll_built_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
{%- endmacro %}

{#- pre-hook of fct_spend: delete the lines the build replaces. -#}
{% macro spendkoll_delete_build_scope() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as target where {{ spendkoll_in_build_scope('target') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- pre-hook of the KPI marts: delete the periods (fiscal years) the build recomputes. -#}
{% macro spendkoll_delete_changed_periods(col) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where exists (select 1 from {{ ref('int_spend_build_scope') }} as s where s.build_all)
       or {{ col }} in (
        select {{ col }} from {{ ref('int_spend_changes') }} where kind = 'period')
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The incremental models: a build is finished when each of them was built
    in it. -#}
{% macro spendkoll_incremental_models() -%}
    {{ return(['fct_spend', 'kpi_monthly', 'kpi_monthly_org_unit',
               'kpi_monthly_organisation', 'kpi_yearly']) }}
{%- endmacro %}

{#- post-hook of int_spend_build_scope: a build starts. spendkoll_build_state
    holds its start; each incremental model's post-hook (in
    its transaction) records that it was built in this build in
    spendkoll_build_done. This works whether the build is one `dbt build` or,
    as under Airflow (Cosmos), one dbt run per model. -#}
{% macro spendkoll_mark_build_started() -%}
    {%- set state = spendkoll_state('spendkoll_build_state') -%}
    {%- set done = spendkoll_state('spendkoll_build_done') -%}
    create table if not exists {{ state }} (fingerprint varchar, build_started_at timestamp);
    create table if not exists {{ done }} (model varchar, build_started_at timestamp);
    delete from {{ state }};
    {#- fingerprint: kept for warehouses of older spendkoll versions; the night runner
        decides on full rebuilds now -#}
    insert into {{ state }} select null, {{ spendkoll_built_at() }}
{%- endmacro %}

{#- pre-hook of int_spend_build_scope: an incremental mart whose columns are
    not those its contract now declares (a table from an older spendkoll) is
    dropped, so it is built whole instead of failing on the schema change. -#}
{% macro spendkoll_drop_outdated_marts() -%}
    {%- if execute -%}
        {%- for name in spendkoll_incremental_models() -%}
            {%- set node = graph.nodes['model.spendkoll.' ~ name] -%}
            {%- set rel = adapter.get_relation(database=target.database, schema=node.schema,
                                               identifier=node.alias) -%}
            {%- if rel is not none -%}
                {%- set have = adapter.get_columns_in_relation(rel) | map(attribute='name')
                               | map('lower') | list -%}
                {%- set want = node.columns.keys() | map('lower') | list -%}
                {%- if have | sort != want | sort -%}
                    {#- through the adapter, so dbt's relation cache forgets it too -#}
                    {%- do log('spendkoll: ' ~ rel ~ ' has other columns than its contract; '
                               ~ 'dropped, to be built whole', info=true) -%}
                    {%- do adapter.drop_relation(rel) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {#- what older versions kept beside the graph, replaced by the snapshots
        contract_register_history and ecommerce_invoice_link_history -#}
    drop table if exists intermediate.spendkoll_built_contracts;
    drop table if exists intermediate.spendkoll_built_ecommerce_invoices
{%- endmacro %}

{#- post-hook of each incremental model: built in the current build. -#}
{% macro spendkoll_mark_model_built() -%}
    {%- set done = spendkoll_state('spendkoll_build_done') -%}
    delete from {{ done }} where model = '{{ this.identifier }}';
    insert into {{ done }}
    select '{{ this.identifier }}', build_started_at from {{ spendkoll_state('spendkoll_build_state') }}
{%- endmacro %}

{#- The build's start (run_started_at, UTC) in the session's time zone, as
    snapshots stamp their versions (now()::timestamp). -#}
{% macro spendkoll_build_started_local() -%}
    cast(timezone(current_setting('TimeZone'),
                  cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00' as timestamptz))
         as timestamp)
{%- endmacro %}
