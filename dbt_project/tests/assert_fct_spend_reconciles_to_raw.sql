{#- Blocking (fails the build, so nothing is published): per period, fct_spend has
    exactly the loaded ledger's lines and amount, to the öre. One row per period
    that differs. -#}
with raw_periods as (
    select
        period,
        count(*) as lines,
        sum(amount) as amount
    from {{ source('raw', 'ledger_line') }}
    group by period
),

fct_periods as (
    select
        period,
        count(*) as lines,
        sum(amount) as amount
    from {{ ref('fct_spend') }}
    group by period
)

select
    coalesce(raw_periods.period, fct_periods.period) as period,
    raw_periods.lines as raw_lines,
    fct_periods.lines as fct_lines,
    raw_periods.amount as raw_amount,
    fct_periods.amount as fct_amount
from raw_periods
full outer join fct_periods
    on raw_periods.period = fct_periods.period
where
    raw_periods.lines is distinct from fct_periods.lines
    or raw_periods.amount is distinct from fct_periods.amount
