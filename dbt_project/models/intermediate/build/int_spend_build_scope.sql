{#- What this build must (re)build of fct_spend. One row with build_all on
    `--full-refresh` (the night runner, spendkoll.transform.night, builds with
    it on a first build, after a night that did not finish, and when the
    project changed); otherwise one row per
      * batch (reason 'batch') that this build's snapshot of the loaded
        batches (ledger_batch_history) saw appear, change or go: a new file, a
        month delivered again and the batch it replaced, a batch removed;
      * supplier (reason 'contracts') whose rows in the contract register
        changed in this build's snapshot (contract_register_history): a
        contract registered after the fact changes the loyalty of past months;
      * invoice (reason 'ecommerce', supplier_key + invoice_number) that
        e-commerce orders started or stopped naming in this build's snapshot
        (ecommerce_invoice_link_history).
    No row: nothing changed. Every input is upstream in the graph: the
    snapshots run before this model in the same build (it refs them), and the
    versions they started or ended at or after the build's start are its
    changes. Docs: _build__docs.md. -#}
{{ config(pre_hook="{{ spendkoll_drop_legacy_state() }}") }}
{%- if flags.FULL_REFRESH %}

    select
        true as build_all,
        '--full-refresh' as reason,
        cast(null as bigint) as batch_id,
        cast(null as varchar) as supplier_key,
        cast(null as varchar) as invoice_number

{%- else %}

    with changed_batches as (
        select distinct history.batch_id
        from {{ ref('ledger_batch_history') }} as history
        where
            history.dbt_valid_from >= {{ spendkoll_build_started_local() }}
            or history.dbt_valid_to >= {{ spendkoll_build_started_local() }}
    ),

    changed_suppliers as (
        select distinct history.supplier_key
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
            false as build_all,
            'batch' as reason,
            batch_id,
            cast(null as varchar) as supplier_key,
            cast(null as varchar) as invoice_number
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

{%- endif %}
