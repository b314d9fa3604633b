{#- Supplier concentration per fiscal year, overall and per category level 1,
    on addressable spend. Definitions: _kpi__docs.md. -#}
{%- set overall = 'Alla kategorier' -%}
with spend as (
    select * from {{ ref('fct_spend') }}
    where spend_class = 'addressable'
),

per_supplier as (
    select
        fiscal_year,
        'overall' as scope,
        '{{ overall }}' as category_level1,
        supplier_key,
        sum(amount) as spend
    from spend
    where supplier_key is not null
    group by fiscal_year, supplier_key

    union all

    select
        fiscal_year,
        'category_level1' as scope,
        category_level1,
        supplier_key,
        sum(amount) as spend
    from spend
    where supplier_key is not null
    group by fiscal_year, category_level1, supplier_key
),

without_id as (
    select
        fiscal_year,
        'overall' as scope,
        '{{ overall }}' as category_level1,
        sum(amount) as spend
    from spend
    where supplier_key is null
    group by fiscal_year

    union all

    select
        fiscal_year,
        'category_level1' as scope,
        category_level1,
        sum(amount) as spend
    from spend
    where supplier_key is null
    group by fiscal_year, category_level1
),

ranked as (
    select
        fiscal_year,
        scope,
        category_level1,
        supplier_key,
        spend,
        row_number() over (
            partition by fiscal_year, scope, category_level1
            order by spend desc, supplier_key asc
        ) as rank_desc,
        count(*) over (partition by fiscal_year, scope, category_level1) as n_suppliers,
        sum(spend) over (partition by fiscal_year, scope, category_level1) as total_spend,
        sum(spend) over (
            partition by fiscal_year, scope, category_level1
            order by spend desc, supplier_key asc
            rows between unbounded preceding and current row
        ) as cumulative_spend
    from per_supplier
    where spend > 0
),

flagged as (
    select
        ranked.*,
        -- in the set behind 80 %: the suppliers ranked above it hold less than 80 %
        case
            when ranked.cumulative_spend - ranked.spend < 0.8 * ranked.total_spend then 1 else 0
        end as in_top_80,
        -- among the smallest floor(94 % of n) suppliers
        case
            when
                ranked.rank_desc > ranked.n_suppliers - floor(0.94 * ranked.n_suppliers)
                then 1
            else 0
        end
            as in_smallest_94
    from ranked
),

aggregated as (
    select
        fiscal_year,
        scope,
        category_level1,
        max(n_suppliers) as suppliers,
        sum(spend) as addressable_spend,
        cast(sum(in_top_80) as bigint) as suppliers_behind_80,
        sum(case when in_smallest_94 = 1 then spend else 0 end) as smallest_94_spend,
        sum(case when in_top_80 = 1 then spend else 0 end) as top_80_spend,
        max(spend) as largest_supplier_spend
    from flagged
    group by fiscal_year, scope, category_level1
),

final as (
    select
        aggregated.fiscal_year,
        aggregated.scope,
        aggregated.category_level1,
        aggregated.suppliers,
        {{ money('aggregated.addressable_spend') }} as addressable_spend,
        aggregated.suppliers_behind_80,
        {{ pct('aggregated.suppliers_behind_80', 'aggregated.suppliers') }}
            as suppliers_behind_80_pct,
        {{ money('aggregated.smallest_94_spend') }} as smallest_94_spend,
        {{ pct('aggregated.smallest_94_spend', 'aggregated.addressable_spend') }}
            as spend_share_smallest_94_pct,
        {{ money('aggregated.addressable_spend - aggregated.top_80_spend') }} as tail_spend,
        cast(aggregated.suppliers - aggregated.suppliers_behind_80 as bigint) as tail_suppliers,
        {{ pct('aggregated.largest_supplier_spend', 'aggregated.addressable_spend') }}
            as largest_supplier_share_pct,
        {{ money('coalesce(without_id.spend, 0)') }} as spend_without_supplier_id
    from aggregated
    left join without_id
        on
            aggregated.fiscal_year = without_id.fiscal_year
            and aggregated.scope = without_id.scope
            and aggregated.category_level1 = without_id.category_level1
)

select * from final
