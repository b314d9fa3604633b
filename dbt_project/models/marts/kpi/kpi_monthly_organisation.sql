{#- Spend KPIs per period for the whole organisation (the monthly report's front page).
    Incremental: a nightly build deletes and recomputes the periods in
    int_spend_changes (macros/incremental.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ spendkoll_delete_changed_periods('period') }}",
    post_hook="{{ spendkoll_mark_model_built() }}",
) }}
-- depends_on: {{ ref('int_spend_changes') }}
-- depends_on: {{ ref('int_spend_build_scope') }}
with {{ spendkoll_kpi_lines('period') }},

aggregated as (
    select
        period,
        fiscal_year,
        {{ spend_kpi_aggregates() }}
    from lines
    group by period, fiscal_year
),

final as (
    select
        aggregated.*,
        {{ spend_kpi_ratios('aggregated') }}
    from aggregated
)

select * from final
