{#- Blocking: per period, kpi_monthly's spend equals the loaded ledger's amount,
    to the öre. One row per period that differs. -#}
with raw_periods as (
    select
        period,
        sum(amount) as amount
    from {{ source('raw', 'ledger_line') }}
    group by period
),

kpi_periods as (
    select
        period,
        sum(spend) as amount
    from {{ ref('kpi_monthly') }}
    group by period
)

select
    coalesce(raw_periods.period, kpi_periods.period) as period,
    raw_periods.amount as raw_amount,
    kpi_periods.amount as kpi_amount
from raw_periods
full outer join kpi_periods
    on raw_periods.period = kpi_periods.period
where raw_periods.amount is distinct from kpi_periods.amount
