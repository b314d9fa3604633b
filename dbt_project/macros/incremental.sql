{#- The incremental build of the line marts. How it works:
    models/intermediate/build/_build__docs.md. -#}

{#- A change of a seed, var, macro or model (anything but the raw rows) makes
    the night runner (spendkoll.transform.night, behind `spendkoll transform`
    and the transform DAG) build with --full-refresh: it compares a digest of
    dbt's parsed manifest with the last good build's. Nothing is listed here. -#}

{#- True for a line of stg_ledger__lines (aliased `alias`) that this build
    must (re)build: every line on a full build; else the lines of new or
    changed batches, of suppliers whose contracts changed, and of invoices
    e-commerce orders started or stopped naming (a superset is harmless: a
    line rebuilt without need comes out the same). -#}
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

{#- post-hook of fct_spend: delete+insert replaced every line the build
    rebuilt; the lines of the batches in scope that it did not rebuild are no
    longer loaded (a month delivered again, a batch removed). -#}
{% macro spendkoll_delete_unloaded_lines() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as target
    where target.built_at < {{ spendkoll_built_at() }}
      and target.batch_id in (
        select s.batch_id from {{ ref('int_spend_build_scope') }} as s
        where s.reason = 'batch')
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- post-hook of the KPI marts: delete+insert recomputed every period (or
    fiscal year) in scope that still has lines; one with none left goes. -#}
{% macro spendkoll_delete_periods_without_lines(col) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ col }} not in (select distinct {{ col }} from {{ ref('fct_spend') }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- post-hook of int_dq_invoice_postings: an invoice with no line left in
    fct_spend (its batch replaced or removed) has no posting. -#}
{% macro spendkoll_delete_postings_without_lines() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as posting
    where not exists (
        select 1 from {{ ref('fct_spend') }} as spend
        where spend.supplier_key = posting.supplier_key
          and spend.invoice_number = posting.invoice_number)
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- pre-hook of int_spend_build_scope: what older spendkoll versions kept
    beside the graph (build state, the contract register and e-commerce
    invoices of the last build), replaced by the night runner's record and the
    snapshots. -#}
{% macro spendkoll_drop_legacy_state() -%}
    drop table if exists intermediate.spendkoll_build_state;
    drop table if exists intermediate.spendkoll_build_done;
    drop table if exists intermediate.spendkoll_built_contracts;
    drop table if exists intermediate.spendkoll_built_ecommerce_invoices
{%- endmacro %}

{#- The build's start (run_started_at, UTC) in the session's time zone, as
    snapshots stamp their versions (now()::timestamp). -#}
{% macro spendkoll_build_started_local() -%}
    cast(timezone(current_setting('TimeZone'),
                  cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00' as timestamptz))
         as timestamp)
{%- endmacro %}
