{#- Spend KPIs per fiscal year for the whole organisation (the headline figures).
    Incremental (delete+insert): a night recomputes only the fiscal years whose
    lines fct_spend changed (macros/kpi.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='fiscal_year',
    on_schema_change='fail',
    post_hook="{{ spendkoll_delete_periods_without_lines('fiscal_year') }}",
) }}
with {{ spendkoll_kpi_lines('fiscal_year') }},

aggregated as (
    select
        fiscal_year,
        {{ spend_kpi_aggregates() }}
    from lines
    group by fiscal_year
),

final as (
    select
        aggregated.*,
        {{ spend_kpi_ratios('aggregated') }}
    from aggregated
)

select * from final
