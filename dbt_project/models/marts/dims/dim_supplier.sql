{#- One row per supplier key seen in the ledger or the contract register.
    Sole traders appear only by pseudonym and masked name. -#}
with lines as (
    select * from {{ ref('stg_ledger__lines') }}
    where supplier_key is not null
),

contracts as (
    select * from {{ ref('stg_contract_register__contracts') }}
    where supplier_key is not null
),

from_lines as (
    select
        supplier_key,
        max(supplier_name) as supplier_name,
        max(supplier_id_status) as supplier_id_status,
        max(supplier_legal_form) as supplier_legal_form,
        min(posting_date) as first_posting_date,
        max(posting_date) as last_posting_date
    from lines
    group by supplier_key
),

from_contracts as (
    select
        supplier_key,
        max(supplier_name) as supplier_name,
        max(supplier_id_status) as supplier_id_status,
        max(supplier_legal_form) as supplier_legal_form,
        count(distinct contract_id) as contracts
    from contracts
    group by supplier_key
),

final as (
    select
        coalesce(from_lines.supplier_key, from_contracts.supplier_key) as supplier_key,
        coalesce(from_lines.supplier_name, from_contracts.supplier_name) as supplier_name,
        coalesce(from_lines.supplier_id_status, from_contracts.supplier_id_status)
            as supplier_id_status,
        coalesce(from_lines.supplier_legal_form, from_contracts.supplier_legal_form)
            as supplier_legal_form,
        coalesce(from_lines.supplier_legal_form, from_contracts.supplier_legal_form) = 'public'
            as is_public_sector,
        coalesce(from_lines.supplier_id_status, from_contracts.supplier_id_status)
        in ('sole_trader', 'sole_trader_masked') as is_sole_trader,
        from_lines.first_posting_date,
        from_lines.last_posting_date,
        cast(coalesce(from_contracts.contracts, 0) as bigint) as contracts_in_register
    from from_lines
    full outer join from_contracts
        on from_lines.supplier_key = from_contracts.supplier_key
)

select * from final
