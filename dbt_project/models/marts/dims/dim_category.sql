with categories as (
    select * from {{ ref('category_tree') }}
),

final as (
    select
        category_id,
        level1 as category_level1,
        level2 as category_level2,
        level3 as category_level3
    from categories
)

select * from final
