{#- kpi_supplier_profile: within each fiscal year, scope and dimension the
    groups add up to the scope's addressable spend and suppliers and there is
    one unknown row; the whole organisation's addressable spend is
    kpi_yearly's. -#}
with profile as (
    select * from {{ ref('kpi_supplier_profile') }}
),

per_dimension as (
    select
        fiscal_year,
        scope,
        scope_id,
        dimension,
        sum(addressable_spend) as spend,
        max(scope_addressable_spend) as scope_spend,
        min(scope_addressable_spend) as scope_spend_min,
        sum(suppliers) as suppliers,
        max(scope_suppliers) as scope_suppliers,
        count(case when value = 'unknown' then 1 end) as unknown_rows
    from profile
    group by fiscal_year, scope, scope_id, dimension
)

select
    'dimension does not add up' as problem,
    cast(fiscal_year as varchar) || ' ' || scope || ' ' || scope_id || ' ' || dimension as item
from per_dimension
where
    spend <> scope_spend
    or scope_spend <> scope_spend_min
    or suppliers <> scope_suppliers
    or unknown_rows <> 1
union all
select
    'overall addressable spend differs from kpi_yearly' as problem,
    cast(profile.fiscal_year as varchar) as item
from profile
inner join {{ ref('kpi_yearly') }} as yearly
    on profile.fiscal_year = yearly.fiscal_year
where
    profile.scope = 'overall'
    and profile.scope_addressable_spend <> yearly.addressable_spend
