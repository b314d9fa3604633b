{#- Each contract row with its category and procured-by texts resolved against
    the accepted vocabulary:
      category: a category id or an exact level 1, 2 or 3 name of seed
        category_tree (case and surrounding blanks ignored), or a source_value
        of seed contract_vocabulary (field_name 'category') mapped to one;
      procured_by: a source_value of seed contract_vocabulary (field_name
        'procured_by', maps_to procurement_unit or business), or one of var
        spendkoll_procurement_units (procurement_unit).
    A missing value is not an unmatched one (the columns are optional); an
    unmatched value covers no category / has no procured-by class, and is
    listed in dq_contract_exceptions. -#}
{%- set units = var("spendkoll_procurement_units") -%}
with contracts as (
    select * from {{ ref('stg_contract_register__contracts') }}
),

categories as (
    select * from {{ ref('category_tree') }}
),

vocabulary as (
    select
        field_name,
        lower(trim(source_value)) as source_key,
        trim(maps_to) as maps_to
    from {{ ref('contract_vocabulary') }}
),

-- every text the tree accepts, lower-cased
category_words as (
    select distinct lower(category_id) as word from categories
    union
    select distinct lower(level1) from categories
    union
    select distinct lower(level2) from categories
    union
    select distinct lower(level3) from categories
),

procured_by_words as (
    select
        source_key,
        maps_to
    from vocabulary
    where field_name = 'procured_by'
    {%- for u in units %}
        union
        select
            '{{ u | lower | replace("'", "''") }}',
            'procurement_unit'
    {%- endfor %}
),

resolved as (
    select
        contracts.batch_id,
        contracts.source_line,
        contracts.contract_id,
        contracts.supplier_key,
        contracts.contract_category,
        contracts.procured_by,
        -- the tree's own words first, then the organisation's mapping
        case
            when direct_category.word is not null then lower(trim(contracts.contract_category))
            else lower(mapped_category.maps_to)
        end as category_node,
        procured.maps_to as procured_by_class
    from contracts
    left join category_words as direct_category
        on direct_category.word = lower(trim(contracts.contract_category))
    left join vocabulary as mapped_category
        on
            mapped_category.field_name = 'category'
            and mapped_category.source_key = lower(trim(contracts.contract_category))
    left join procured_by_words as procured
        on procured.source_key = lower(trim(contracts.procured_by))
),

final as (
    select
        batch_id,
        source_line,
        contract_id,
        supplier_key,
        contract_category,
        category_node,
        nullif(trim(contract_category), '') is null or category_node is not null
            as category_matched,
        procured_by,
        procured_by_class,
        nullif(trim(procured_by), '') is null or procured_by_class is not null
            as procured_by_matched
    from resolved
)

select * from final
