{#- The contract match of the lines this build (re)builds: a view, inlined into
    fct_spend's insert. Rules: _contracts__models.yml. -#}
{{ config(materialized='view') }}
with lines as (
    select * from {{ ref('int_ledger_lines_classified') }}
),

contracts as (
    select * from {{ ref('int_contract_categories') }}
),

ecommerce_invoices as (
    select distinct
        supplier_key,
        invoice_number
    from {{ ref('stg_ecommerce__orders') }}
    where
        supplier_key is not null
        and invoice_number is not null
),

active as (
    -- one row per line and active contract
    select
        lines.ledger_line_id,
        contracts.contract_id,
        max(case when contracts.category_id = lines.category_id then 1 else 0 end) as covers,
        max(case
            when
                contracts.registered_date is not null
                and contracts.registered_date > lines.posting_date then 1
            else 0
        end) as registered_after_purchase,
        max(contracts.procured_by_class) as procured_by_class,
        max(contracts.start_date) as start_date
    from lines
    inner join contracts
        on
            lines.supplier_key = contracts.supplier_key
            and lines.posting_date >= contracts.start_date
            and lines.posting_date <= contracts.end_date
    group by lines.ledger_line_id, contracts.contract_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by ledger_line_id
            order by
                covers desc,
                registered_after_purchase asc,
                case when procured_by_class = 'procurement_unit' then 0 else 1 end,
                start_date desc,
                contract_id asc
        ) as match_rank
    from active
),

per_line as (
    select
        ledger_line_id,
        max(covers) as any_covers,
        min(registered_after_purchase) as best_registered_after
    from active
    group by ledger_line_id
),

final as (
    select
        lines.*,
        per_line.ledger_line_id is not null as has_active_contract,
        coalesce(per_line.any_covers = 1, false) as contract_covers_category,
        ranked.contract_id as matched_contract_id,
        coalesce(ranked.registered_after_purchase = 1, false)
            as contract_registered_after_purchase,
        coalesce(per_line.best_registered_after = 0, false) as has_on_time_active_contract,
        ranked.procured_by_class as contract_procured_by,
        ecommerce_invoices.invoice_number is not null as via_ecommerce
    from lines
    left join per_line
        on lines.ledger_line_id = per_line.ledger_line_id
    left join ranked
        on
            lines.ledger_line_id = ranked.ledger_line_id
            and ranked.match_rank = 1
    left join ecommerce_invoices
        on
            lines.supplier_key = ecommerce_invoices.supplier_key
            and lines.invoice_number = ecommerce_invoices.invoice_number
)

select * from final
