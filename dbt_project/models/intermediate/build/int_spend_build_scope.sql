{#- What this build must (re)build of the line marts. One row with build_all
    on a first build, on `--full-refresh`, after a build that did not finish, or
    (a change of rules, reference data, settings or models makes the night runner
    build with --full-refresh: spendkoll.transform.night);
    otherwise one row per
      * batch (reason 'batch') whose lines in raw.ledger_line and fct_spend
        differ in number: new, partly replaced or vanished;
      * supplier (reason 'contracts') whose rows in the contract register
        changed since the last build: a contract registered after the fact
        changes the loyalty of past months;
      * invoice (reason 'ecommerce', supplier_key + invoice_number) that
        e-commerce orders started or stopped naming.
    No row: nothing changed. Docs: _build__docs.md. -#}
-- depends_on: {{ ref('stg_ledger__lines') }}
-- depends_on: {{ ref('stg_ecommerce__orders') }}
-- depends_on: {{ ref('int_contract_categories') }}
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
{%- set built_contracts = adapter.get_relation(database=target.database, schema='intermediate',
                                               identifier='spendkoll_built_contracts') -%}
{%- set built_ecommerce = adapter.get_relation(database=target.database, schema='intermediate',
                                               identifier='spendkoll_built_ecommerce_invoices') -%}
{%- set can_increment = fct is not none and state is not none and done is not none
                        and built_contracts is not none
                        and built_ecommerce is not none and not flags.FULL_REFRESH -%}
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

    contracts_now as (
        select * from {{ ref('int_contract_categories') }}
    ),

    contracts_built as (
        select * from {{ built_contracts }}
    ),

    changed_suppliers as (
        select supplier_key
        from (
            select * from contracts_now
            except
            select * from contracts_built
        ) as a
        union
        select supplier_key
        from (
            select * from contracts_built
            except
            select * from contracts_now
        ) as r
    ),

    ecommerce_now as (
        select distinct
            supplier_key,
            invoice_number
        from {{ ref('stg_ecommerce__orders') }}
        where supplier_key is not null and invoice_number is not null
    ),

    ecommerce_built as (
        select
            supplier_key,
            invoice_number
        from {{ built_ecommerce }}
    ),

    changed_invoices as (
        select * from (
            select * from ecommerce_now
            except
            select * from ecommerce_built
        ) as a
        union
        select * from (
            select * from ecommerce_built
            except
            select * from ecommerce_now
        ) as r
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
