{#- What this build must (re)build of the line marts. One row with build_all
    on a first build, on `--full-refresh`, after a build that did not finish, or
    (a change of rules, reference data, settings or models makes the night runner
    build with --full-refresh: spendkoll.transform.night);
    otherwise one row per
      * batch (reason 'batch') whose lines in raw.ledger_line and fct_spend
        differ in number: new, partly replaced or vanished;
      * supplier (reason 'contracts') whose rows in the contract register
        changed in this build's snapshot (contract_register_history): a
        contract registered after the fact changes the loyalty of past months;
      * invoice (reason 'ecommerce', supplier_key + invoice_number) that
        e-commerce orders started or stopped naming in this build's snapshot
        (ecommerce_invoice_link_history).
    No row: nothing changed. Docs: _build__docs.md. -#}
-- depends_on: {{ ref('stg_ledger__lines') }}
-- depends_on: {{ ref('stg_ecommerce__orders') }}
-- depends_on: {{ ref('contract_register_history') }}
-- depends_on: {{ ref('ecommerce_invoice_link_history') }}
-- depends_on: {{ ref('account_mapping_rules') }}
-- depends_on: {{ ref('supplier_category_overrides') }}
-- depends_on: {{ ref('category_tree') }}
-- depends_on: {{ ref('org_units') }}
-- depends_on: {{ ref('dq_rules') }}
{{ config(pre_hook="{{ spendkoll_drop_outdated_marts() }}",
          post_hook="{{ spendkoll_mark_build_started() }}") }}
{%- set fct = adapter.get_relation(database=target.database, schema='marts', identifier='fct_spend') -%}
{%- set state = adapter.get_relation(database=target.database, schema='intermediate',
                                     identifier='spendkoll_build_state') -%}
{%- set done = adapter.get_relation(database=target.database, schema='intermediate',
                                    identifier='spendkoll_build_done') -%}
{%- set can_increment = fct is not none and state is not none and done is not none
                        and not flags.FULL_REFRESH -%}
{%- if not can_increment %}

    select
        true as build_all,
        '{{ "--full-refresh" if flags.FULL_REFRESH else "first build" }}' as reason,
        cast(null as bigint) as batch_id,
        cast(null as varchar) as supplier_key,
        cast(null as varchar) as invoice_number

{%- else %}

    with finished as (
    -- every incremental model was built in the last build that started
        select count(distinct done.model) = {{ spendkoll_incremental_models() | length }} as value
        from {{ done }} as done
        inner join {{ state }} as state
            on done.build_started_at = state.build_started_at
        where
            done.model in (
                '{{ spendkoll_incremental_models() | join("', '") }}'  -- noqa: LT05
            )
    ),

    full_rebuild as (
        select
            case
                when not (select value from finished) then 'the previous build did not finish'
            end as reason
    ),

    raw_batches as (
        select
            batch_id,
            count(*) as lines
        from {{ ref('stg_ledger__lines') }}
        group by batch_id
    ),

    built_batches as (
        select
            batch_id,
            count(*) as lines
        from {{ fct }}
        group by batch_id
    ),

    changed_batches as (
        select coalesce(raw_batches.batch_id, built_batches.batch_id) as batch_id
        from raw_batches
        full outer join built_batches
            on raw_batches.batch_id = built_batches.batch_id
        where raw_batches.lines is distinct from built_batches.lines
    ),

    -- this build's snapshots ran before this model (it refs them): the versions
    -- they started or ended at or after the build's start are its changes
    changed_suppliers as (
        select history.supplier_key
        from {{ ref('contract_register_history') }} as history
        where
            history.dbt_valid_from >= {{ spendkoll_build_started_local() }}
            or history.dbt_valid_to >= {{ spendkoll_build_started_local() }}
    ),

    changed_invoices as (
        select distinct
            history.supplier_key,
            history.invoice_number
        from {{ ref('ecommerce_invoice_link_history') }} as history
        where
            history.dbt_valid_from >= {{ spendkoll_build_started_local() }}
            or history.dbt_valid_to >= {{ spendkoll_build_started_local() }}
    ),

    scope as (
        select
            true as build_all,
            reason,
            cast(null as bigint) as batch_id,
            cast(null as varchar) as supplier_key,
            cast(null as varchar) as invoice_number
        from full_rebuild
        where reason is not null
        union all
        select
            false,
            'batch',
            batch_id,
            null,
            null
        from changed_batches
        union all
        select
            false,
            'contracts',
            null,
            supplier_key,
            null
        from changed_suppliers
        where supplier_key is not null
        union all
        select
            false,
            'ecommerce',
            null,
            supplier_key,
            invoice_number
        from changed_invoices
    )

    select * from scope
    where build_all or not exists (
        select 1 from full_rebuild
        where reason is not null
    )

{%- endif %}
