{#- Spend KPIs per fiscal year for the whole organisation (the headline figures).
    Incremental: a nightly build deletes and recomputes the fiscal years in
    int_spend_changes (macros/incremental.sql). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ spendkoll_delete_changed_periods('fiscal_year') }}",
    post_hook="{{ spendkoll_mark_model_built() }}",
) }}
-- depends_on: {{ ref('int_spend_changes') }}
-- depends_on: {{ ref('int_spend_build_scope') }}
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
