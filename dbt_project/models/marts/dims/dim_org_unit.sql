{#- Every org unit fct_spend can name: the seed's units, and cost centres
    outside the seed as units of their own. -#}
with seeded as (
    select distinct
        org_unit_id,
        org_unit_name,
        parent_unit_id,
        true as from_seed
    from {{ ref('org_units') }}
),

unmapped as (
    select distinct
        coalesce(lines.cost_centre, 'okänd') as org_unit_id,
        coalesce(lines.cost_centre, 'Okänd enhet') as org_unit_name,
        cast(null as varchar) as parent_unit_id,
        false as from_seed
    from {{ ref('stg_ledger__lines') }} as lines
    left join {{ ref('org_units') }} as units
        on lines.cost_centre = units.cost_centre
    where units.cost_centre is null
),

final as (
    select * from seeded
    union all
    select * from unmapped
    where org_unit_id not in (select org_unit_id from seeded)
)

select * from final
