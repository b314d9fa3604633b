{#- One row per loaded ledger line. Incremental: a build deletes and re-inserts
    only the lines in int_spend_build_scope (new, changed or vanished batches;
    suppliers whose contracts changed; invoices e-commerce orders started or
    stopped naming), or every line on a full build. What changed in the contract
    register and the e-commerce invoices is kept by the snapshots
    contract_register_history and ecommerce_invoice_link_history.
    Docs: ../../intermediate/build/_build__docs.md. -#}
-- depends_on: {{ ref('int_spend_changes') }}
-- depends_on: {{ ref('int_spend_build_scope') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ spendkoll_delete_build_scope() }}",
    post_hook="{{ spendkoll_mark_model_built() }}",
) }}

with lines as (
    select * from {{ ref('int_ledger_lines_contracted') }}
),

categories as (
    select * from {{ ref('category_tree') }}
),

org_units as (
    select * from {{ ref('org_units') }}
),

final as (
    select
        -- keys
        lines.ledger_line_id,
        lines.batch_id,
        lines.source_name,
        lines.source_line,
        lines.verification_id,
        lines.line_number,
        lines.invoice_number,
        {{ spendkoll_invoice_key('lines') }} as invoice_key,
        -- dates
        lines.posting_date,
        lines.posting_date_derived,
        cast({{ dbt.date_trunc('year', 'lines.posting_date') }} as date) as fiscal_year_start,
        cast(extract(year from lines.posting_date) as integer) as fiscal_year,
        lines.period,
        -- organisation
        lines.cost_centre,
        coalesce(org_units.org_unit_id, lines.cost_centre, 'okänd') as org_unit_id,
        coalesce(org_units.org_unit_name, lines.cost_centre, 'Okänd enhet') as org_unit_name,
        -- supplier (sole traders only by pseudonym)
        lines.supplier_key,
        lines.supplier_id_status,
        lines.supplier_legal_form,
        lines.supplier_name,
        -- coding and classification
        lines.account,
        lines.account_text,
        lines.spend_class,
        lines.category_id,
        coalesce(categories.level1, 'Oklassificerat') as category_level1,
        coalesce(categories.level2, 'Oklassificerat') as category_level2,
        coalesce(categories.level3, 'Oklassificerat') as category_level3,
        lines.classified_by,
        -- contract
        lines.matched_contract_id,
        lines.has_active_contract,
        lines.contract_covers_category,
        lines.contract_registered_after_purchase,
        lines.has_on_time_active_contract,
        lines.contract_procured_by,
        lines.via_ecommerce,
        -- measures
        lines.amount,
        lines.vat,
        -- lineage
        {{ spendkoll_built_at() }} as built_at
    from lines
    left join categories
        on lines.category_id = categories.category_id
    left join org_units
        on lines.cost_centre = org_units.cost_centre
)

select * from final
