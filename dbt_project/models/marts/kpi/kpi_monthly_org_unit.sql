{#- Spend KPIs per period x org unit, all categories (the monthly report's figures).
    Incremental (delete+insert): a night recomputes only the periods whose
    lines fct_spend changed (macros/kpi.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period',
    on_schema_change='fail',
    post_hook="{{ spendkoll_delete_periods_without_lines('period') }}",
) }}
with {{ spendkoll_kpi_lines('period') }},

aggregated as (
    select
        period,
        fiscal_year,
        org_unit_id,
        org_unit_name,
        {{ spend_kpi_aggregates() }}
    from lines
    group by period, fiscal_year, org_unit_id, org_unit_name
),

final as (
    select
        aggregated.*,
        {{ spend_kpi_ratios('aggregated') }}
    from aggregated
)

select * from final
