{#- Contracts whose current end date falls within 24 months of the as-of date,
    with the spend on them in the 12 months up to that date.
    As-of date: var spendkoll_as_of_date, else the ledger's last posting date. -#}
{%- set as_of = var('spendkoll_as_of_date') -%}
with spend as (
    select * from {{ ref('fct_spend') }}
),

-- exactly one row: the as-of date (a constant, or the aggregate of the ledger)
as_of as (
    {%- if as_of %}
        select cast('{{ as_of }}' as date) as as_of_date
    {%- else %}
        select coalesce(max(posting_date), current_date) as as_of_date
        from spend
    {%- endif %}
),

windows as (
    select
        as_of_date,
        cast({{ dbt.dateadd('month', 12, 'as_of_date') }} as date) as plus_12_months,
        cast({{ dbt.dateadd('month', 24, 'as_of_date') }} as date) as plus_24_months,
        cast({{ dbt.dateadd('month', -12, 'as_of_date') }} as date) as minus_12_months
    from as_of
),

contracts as (
    select
        contract_id,
        max(title) as title,
        max(contract_category) as contract_category,
        max(contract_type) as contract_type,
        max(procured_by) as procured_by,
        max(procured_by_class) as procured_by_class,
        min(start_date) as start_date,
        max(end_date) as end_date,
        max(latest_end_date) as latest_end_date,
        min(registered_date) as registered_date,
        count(distinct supplier_key) as suppliers,
        max(estimated_annual_value) as estimated_annual_value
    from {{ ref('dim_contract') }}
    group by contract_id
),

contract_spend as (
    select
        spend.matched_contract_id as contract_id,
        sum(spend.amount) as trailing_12m_spend,
        count(*) as trailing_12m_lines
    from spend
    cross join windows
    where
        spend.matched_contract_id is not null
        and spend.posting_date > windows.minus_12_months
        and spend.posting_date <= windows.as_of_date
    group by spend.matched_contract_id
),

final as (
    select
        contracts.contract_id,
        contracts.title,
        contracts.contract_category,
        contracts.contract_type,
        contracts.procured_by,
        contracts.procured_by_class,
        contracts.suppliers,
        contracts.start_date,
        contracts.end_date,
        contracts.latest_end_date,
        contracts.registered_date,
        windows.as_of_date,
        cast({{ dbt.datediff('windows.as_of_date', 'contracts.end_date', 'day') }} as integer)
            as days_to_end,
        contracts.end_date <= windows.plus_12_months as ends_within_12_months,
        contracts.end_date <= windows.plus_24_months as ends_within_24_months,
        case
            when contracts.end_date <= windows.plus_12_months then '0-12'
            else '12-24'
        end as expiry_window,
        coalesce(contracts.latest_end_date > contracts.end_date, false) as can_be_extended,
        {{ money('coalesce(contract_spend.trailing_12m_spend, 0)') }} as trailing_12m_spend,
        coalesce(contract_spend.trailing_12m_lines, 0) as trailing_12m_lines,
        {{ money('contracts.estimated_annual_value') }} as estimated_annual_value
    from contracts
    cross join windows
    left join contract_spend
        on contracts.contract_id = contract_spend.contract_id
    where
        contracts.end_date > windows.as_of_date
        and contracts.end_date <= windows.plus_24_months
)

select * from final
