{#- One row per loaded ledger line. Incremental (delete+insert on
    ledger_line_id): a build classifies and matches again only the lines in
    int_spend_build_scope (new or changed batches; suppliers whose contracts
    changed; invoices e-commerce orders started or stopped naming), or every
    line on a full build; the post-hook deletes the lines of its batches that
    are no longer loaded. Docs: ../../intermediate/build/_build__docs.md. -#}
-- depends_on: {{ ref('int_spend_build_scope') }}
-- depends_on: {{ ref('int_ledger_batch_digest') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='ledger_line_id',
    on_schema_change='fail',
    post_hook="{{ spendkoll_delete_unloaded_lines() }}",
) }}
{%- if execute and not is_incremental() and not flags.FULL_REFRESH %}
    {#- A first build is whole because every batch is new to the snapshots; a
        fct_spend dropped by hand while they remain would be built from the
        changed lines only. -#}
    {%- set missing = run_query(
        "select count(*) from " ~ ref('int_ledger_batch_digest') ~ " where batch_id not in "
        ~ "(select batch_id from " ~ ref('int_spend_build_scope') ~ " where batch_id is not null)"
    ).columns[0].values()[0] -%}
    {%- if missing > 0 -%}
        {{ exceptions.raise_compiler_error(
            "fct_spend does not exist but the build history (history.ledger_batch_history)"
            " does: build it whole with `dbt build --full-refresh` (spendkoll transform"
            " --full-refresh)") }}
    {%- endif -%}
{%- endif %}

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
),

-- Lines of an invoice that lost lines (in a batch replaced or removed) are not
-- rebuilt, but their invoice's total changed: they are taken over as they are
-- with this build's built_at, so the KPI marts recompute their periods (an
-- invoice's total decides whether it is small or a credit note).
taken_over as (
    {%- if is_incremental() %}
        select
            built.* exclude (built_at),
            {{ spendkoll_built_at() }} as built_at
        from {{ this }} as built
        where
            built.invoice_key in (
                select gone.invoice_key from {{ this }} as gone
                where
                    gone.batch_id in (
                        select scope.batch_id from {{ ref('int_spend_build_scope') }} as scope
                        where scope.reason = 'batch'
                    )
                    and gone.ledger_line_id not in (select final.ledger_line_id from final)
            )
            and built.batch_id not in (
                select scope.batch_id from {{ ref('int_spend_build_scope') }} as scope
                where scope.reason = 'batch'
            )
            and built.ledger_line_id not in (select final.ledger_line_id from final)
    {%- else %}
        select * from final
        where false
    {%- endif %}
)

select * from final
union all
select * from taken_over
