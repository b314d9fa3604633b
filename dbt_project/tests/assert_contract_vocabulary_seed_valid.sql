{#- Every row of seed contract_vocabulary maps to something that exists: a
    category row to a category id or level name of category_tree, a
    procured_by row to procurement_unit or business. -#}
with mapping as (
    select * from {{ ref('contract_vocabulary') }}
),

categories as (
    select * from {{ ref('category_tree') }}
)

select mapping.*
from mapping
where not (
    (
        mapping.field_name = 'procured_by'
        and mapping.maps_to in ('procurement_unit', 'business')
    )
    or (
        mapping.field_name = 'category'
        and exists (
            select 1 from categories
            where lower(trim(mapping.maps_to)) in (
                lower(categories.category_id), lower(categories.level1),
                lower(categories.level2), lower(categories.level3)
            )
        )
    )
)
