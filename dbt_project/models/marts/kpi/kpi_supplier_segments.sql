{#- Per fiscal year and category level 1: each supplier's addressable spend,
    share of the category, ABC class, contract coverage, dependence and
    follow-up segment. Definitions: _kpi__docs.md. -#}
{%- set high = var('spendkoll_dependence_high_pct') -%}
{%- set medium = var('spendkoll_dependence_medium_pct') -%}
with spend as (
    select * from {{ ref('fct_spend') }}
    where
        spend_class = 'addressable'
        and supplier_key is not null
),

suppliers as (
    select * from {{ ref('dim_supplier') }}
),

per_supplier as (
    select
        fiscal_year,
        category_level1,
        supplier_key,
        sum(amount) as spend,
        sum(case when contract_covers_category then amount else 0 end) as covered_spend,
        count(*) as lines,
        sum(case when contract_covers_category then 1 else 0 end) as covered_lines
    from spend
    group by fiscal_year, category_level1, supplier_key
),

ranked as (
    select
        per_supplier.*,
        row_number() over (
            partition by per_supplier.fiscal_year, per_supplier.category_level1
            order by per_supplier.spend desc, per_supplier.supplier_key asc
        ) as supplier_rank,
        count(*)
            over (partition by per_supplier.fiscal_year, per_supplier.category_level1)
            as suppliers_in_category,
        sum(per_supplier.spend)
            over (partition by per_supplier.fiscal_year, per_supplier.category_level1)
            as category_spend,
        sum(per_supplier.spend) over (
            partition by per_supplier.fiscal_year, per_supplier.category_level1
            order by per_supplier.spend desc, per_supplier.supplier_key asc
            rows between unbounded preceding and current row
        ) - per_supplier.spend as spend_ranked_above
    from per_supplier
    where per_supplier.spend > 0
),

classified as (
    select
        ranked.*,
        {{ pct('spend', 'category_spend') }} as share_of_category_pct,
        case
            when ranked.spend_ranked_above < 0.80 * ranked.category_spend then 'A'
            when ranked.spend_ranked_above < 0.95 * ranked.category_spend then 'B'
            else 'C'
        end as spend_class_abc,
        case
            when ranked.covered_lines = 0 then 'none'
            when ranked.covered_lines = ranked.lines then 'full'
            else 'partial'
        end as contract_status
    from ranked
),

final as (
    select
        classified.fiscal_year,
        classified.category_level1,
        classified.supplier_key,
        suppliers.supplier_name,
        suppliers.is_sole_trader,
        {{ money('classified.spend') }} as addressable_spend,
        {{ money('classified.category_spend') }} as category_spend,
        classified.suppliers_in_category,
        classified.supplier_rank,
        classified.share_of_category_pct,
        classified.spend_class_abc,
        {{ money('classified.covered_spend') }} as contract_covered_spend,
        {{ pct('classified.covered_spend', 'classified.spend') }} as contract_coverage_pct,
        classified.contract_status,
        case
            when classified.share_of_category_pct >= {{ high }} then 'high'
            when classified.share_of_category_pct >= {{ medium }} then 'medium'
            else 'low'
        end as dependence,
        case
            when classified.spend_class_abc = 'A' and classified.contract_status <> 'none'
                then 'strategic'
            when
                classified.contract_status = 'none'
                and (
                    classified.spend_class_abc = 'A'
                    or classified.share_of_category_pct >= {{ high }}
                )
                then 'at_risk'
            when classified.contract_status <> 'none' then 'routine'
            else 'tail'
        end as segment
    from classified
    left join suppliers
        on classified.supplier_key = suppliers.supplier_key
)

select * from final
