{%- set units = var("spendkoll_procurement_units", ["upphandlingsenheten"]) -%}
with contracts as (
    select * from {{ ref('stg_raw__contracts') }}
),

categories as (
    select * from {{ ref('category_tree') }}
),

classified as (
    select
        contract_id,
        supplier_key,
        start_date,
        end_date,
        latest_end_date,
        registered_date,
        contract_category,
        case
            when procured_by is null then null
            when lower(trim(procured_by)) in (
                {%- for u in units %}'{{ u | lower }}'{{ ", " if not loop.last }}{% endfor -%}
            ) then 'procurement_unit'
            else 'business'
        end as procured_by_class
    from contracts
),

final as (
    select
        classified.contract_id,
        classified.supplier_key,
        classified.start_date,
        classified.end_date,
        classified.latest_end_date,
        classified.registered_date,
        classified.procured_by_class,
        categories.category_id
    from classified
    left join categories
        on lower(trim(classified.contract_category)) in (
            lower(categories.category_id),
            lower(categories.level1),
            lower(categories.level2),
            lower(categories.level3)
        )
)

select * from final
