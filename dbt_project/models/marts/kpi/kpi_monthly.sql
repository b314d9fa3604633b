{#- Spend KPIs per period x org unit x category level 1. Definitions: _kpi__docs.md.
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
        org_unit_id,
        org_unit_name,
        category_level1,
        {{ spend_kpi_aggregates() }}
    from lines
    group by period, fiscal_year, org_unit_id, org_unit_name, category_level1
),

final as (
    select
        aggregated.*,
        {{ spend_kpi_ratios('aggregated') }}
    from aggregated
)

select * from final
