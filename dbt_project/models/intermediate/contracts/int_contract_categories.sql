{#- Each contract row with the level-3 categories it covers (one row per
    category; a contract whose category is missing or not recognised has one
    row with category_id null) and its procured-by class. The vocabulary is
    resolved in int_contract_vocabulary. -#}
with contracts as (
    select * from {{ ref('stg_contract_register__contracts') }}
),

vocabulary as (
    select * from {{ ref('int_contract_vocabulary') }}
),

categories as (
    select * from {{ ref('category_tree') }}
),

final as (
    select
        contracts.contract_id,
        contracts.supplier_key,
        contracts.start_date,
        contracts.end_date,
        contracts.latest_end_date,
        contracts.registered_date,
        vocabulary.procured_by_class,
        categories.category_id
    from contracts
    inner join vocabulary
        on
            contracts.batch_id = vocabulary.batch_id
            and contracts.source_line = vocabulary.source_line
    left join categories
        on vocabulary.category_node in (
            lower(categories.category_id),
            lower(categories.level1),
            lower(categories.level2),
            lower(categories.level3)
        )
)

select * from final
